"""Degenerate but valid inputs through every public analysis: a result or a DopafitError.

Property tests over tiny Datasets (1-3 units, one subject and session, 1-3 magnitudes, a
handful of trials, all-NaN units, constant responses, every trial cued or none) through
``fit_expectiles`` (both methods, every axis), ``split_summary``, ``compare``,
``decode_distribution``, ``probability_task_stats``, the report and the command line. Any
other exception fails the test; the command line must exit 0, 1 or 2 with one-line messages,
no traceback and no partial output file. The number of examples and calls is written to the
terminal at the end of the module.

Then one plain regression test per fixed failure.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from _degenerate import compare_options, decode_inputs, fit_options, responses_datasets, sessions
from hypothesis import HealthCheck, Phase, given, settings

import dopafit
from dopafit.errors import DopafitError
from dopafit.fit.axes import AXES
from dopafit.fit.expectile import METHODS

#: examples and calls made by the properties of this module (reported at its end)
COUNTS: Counter = Counter()


def examples(n: int) -> settings:
    """Settings of a property: ``n`` examples, no deadline; reproducible (derandomized, no
    shrinking: a failure shows the drawn example at once) unless the ``explore`` profile of
    ``conftest.py`` is loaded, which draws new examples and shrinks failures."""
    derandomize = settings().derandomize  # True under the default "repeatable" profile
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=derandomize,
        database=None,
        phases=(Phase.explicit, Phase.generate) if derandomize else tuple(Phase),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


DECODE = {"n_samples": 5, "n_starts": 20, "n_polish": 1, "n_epochs": 1, "maxiter": 200}


@pytest.fixture(scope="module", autouse=True)
def _warm_and_report(request):
    """Compile the kernels once (outside the timed examples); report the counts at the end."""
    from _fit import synth_responses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dopafit.fit_expectiles(synth_responses(n_units=4, seed=0), n_splits=2, n_boot=2)
    yield
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and COUNTS:
        text = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_degenerate: {text}")


def outcome(name: str, function, *args, **kwargs):
    """``function(*args, **kwargs)``, or None when it raised a DopafitError; counted."""
    COUNTS[f"calls {name}"] += 1
    COUNTS["calls"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)
    except DopafitError as exc:
        assert "\n" not in str(exc), f"{name}: a DopafitError message of several lines"
        COUNTS[f"errors {name}"] += 1
        return None


def _check_fit(fit) -> None:
    ok = fit["fit_ok"].values
    status = fit["fit_status"].values
    assert all((s == "ok") == bool(o) for s, o in zip(status, ok)), status
    assert all(s for s in status), "a unit without a fit status"
    for name in ("reversal_point", "alpha_neg", "alpha_pos", "tau"):
        assert np.isfinite(fit[name].values[ok]).all(), f"fitted unit with non-finite {name}"


# --------------------------------------------------------------------------------------------
# library properties


@examples(25)
@given(ds=responses_datasets(), options=fit_options())
def test_fit_expectiles_and_split_summary(ds, options):
    COUNTS["examples fit"] += 1
    for axis in AXES:
        for method in METHODS:
            fit = outcome(
                "fit_expectiles",
                dopafit.fit_expectiles,
                ds,
                axis=axis,
                method=method,
                seed=1,
                **options,
            )
            if fit is None:
                continue
            _check_fit(fit)
            table = outcome("split_summary", dopafit.split_summary, fit)
            assert (table is not None) == (options["n_splits"] > 0), "split_summary"
            if table is not None:
                undefined = table["n_splits"] == 0
                assert (table["reason"].astype(bool) == undefined).all(), table


@examples(25)
@given(ds=responses_datasets(), options=compare_options())
def test_compare(ds, options):
    COUNTS["examples compare"] += 1
    cmp = outcome("compare", dopafit.compare, ds, n_sim=3, n_splits=2, n_boot=3, seed=2, **options)
    if cmp is None:
        return
    res = cmp
    observed = res["observed"].transpose("account", "statistic").values
    undefined = ~np.isfinite(observed).all(axis=0)
    computable = res["computable"].values.astype(bool)
    reasons = res["reason"].values.astype(str)
    for j in np.flatnonzero(undefined):
        assert not computable[j], f"{res['statistic'].values[j]}: NaN but computable"
        assert reasons[j], f"{res['statistic'].values[j]}: not computable without a reason"
    assert cmp.dopafit.summary()
    assert len(cmp.dopafit.to_dataframe()) == observed.size


@examples(60)
@given(ds=responses_datasets())
def test_probability_task_stats(ds):
    COUNTS["examples probability"] += 1
    out = outcome("probability_task_stats", dopafit.probability_task_stats, ds)
    if out is None:
        return
    assert set(out["label"].values) <= {"optimistic", "pessimistic", "neutral"}
    computed = np.isfinite(out["t"].values) & np.isfinite(out["df"].values)
    assert (out["t_reason"].values.astype(str) == "").tolist() == computed.tolist()
    assert out.sizes["unit"] == ds.sizes["unit"]


@examples(40)
@given(args=decode_inputs())
def test_decode_distribution(args):
    COUNTS["examples decode"] += 1
    tau, rev, bounds = args
    out = outcome("decode_distribution", dopafit.decode_distribution, tau, rev, bounds, **DECODE)
    if out is None:
        return
    assert np.isfinite(out.dopafit.samples).all()
    assert np.all((out.dopafit.samples >= bounds[0]) & (out.dopafit.samples <= bounds[1]))


# --------------------------------------------------------------------------------------------
# files: the command line and the report


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run ``dopafit ARGV`` in this process: exit code, stdout, stderr."""
    from dopafit.cli import main

    COUNTS["calls"] += 1
    COUNTS[f"calls cli {argv[0]}"] += 1
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    COUNTS[f"exit cli {argv[0]} {code}"] += 1
    return code, out.getvalue(), err.getvalue()


def _check_cli(code: int, out: str, err: str, argv) -> None:
    text = out + err
    assert code in (0, 1, 2), f"{argv}: exit {code}\n{text}"
    assert "Traceback" not in text, f"{argv}: traceback\n{text}"
    assert "unexpected" not in err, f"{argv}: a raw exception\n{err}"
    errors = [line for line in err.splitlines() if line.startswith("dopafit: error")]
    assert len(errors) <= 1, f"{argv}: several error lines\n{err}"
    if code != 0:
        assert err.strip(), f"{argv}: exit {code} without a message"


def _no_partial(folder: Path) -> None:
    partial = [p for p in folder.rglob("*") if p.is_file() and ".tmp" in p.name]
    assert not partial, f"partial output files left: {partial}"


@examples(5)
@given(session=sessions())
def test_cli_fit_compare_and_report(session, tmp_path_factory):
    COUNTS["examples cli/report"] += 1
    tmp = tmp_path_factory.mktemp("degenerate")
    nwb = tmp / "s0.nwb"
    dopafit.write_nwb(session, nwb)
    fits = tmp / "fits"
    argv = ("fit", str(nwb), "-o", str(fits), "--n-splits", "3", "--n-boot", "5", "-q")
    code, out, err = run_cli(*argv)
    _check_cli(code, out, err, argv)
    fitted = sorted(fits.glob("sessions/*.nc"))
    assert bool(fitted) == (code == 0), f"{argv}: exit {code}, outputs {fitted}"
    assert (fits / "population.nc").exists() == (code == 0)
    cmp_file = tmp / "nwb.comparison.nc"
    argv = ("compare", str(nwb), "-o", str(cmp_file), "--n-sim", "10", "--n-splits", "2")
    code, out, err = run_cli(*argv)
    _check_cli(code, out, err, argv)
    assert cmp_file.exists() == (code == 0), f"{argv}: exit {code}, output {cmp_file.exists()}"
    if (fits / "population.nc").exists():
        argv = ("compare", str(fits), "--n-sim", "10", "--n-splits", "2", "--accounts", "classical")
        _check_cli(*run_cli(*argv), argv)
        html = tmp / "report.html"
        argv = ("report", str(fits), "-o", str(html), "--no-decode", "--max-units", "3")
        code, out, err = run_cli(*argv)
        _check_cli(code, out, err, argv)
        assert html.exists() == (code == 0), f"{argv}: exit {code}, output {html.exists()}"
    _no_partial(tmp)


@examples(5)
@given(ds=responses_datasets())
def test_write_report(ds, tmp_path_factory):
    COUNTS["examples report"] += 1
    fit = outcome("fit_expectiles", dopafit.fit_expectiles, ds, n_splits=3, n_folds=2, n_boot=5)
    if fit is None:
        return
    cmp = outcome(
        "compare", dopafit.compare, ds, ("classical",), n_sim=3, n_splits=2, n_boot=3, n_folds=2
    )
    path = tmp_path_factory.mktemp("degenerate_report") / "report.html"
    inputs = {"fit": fit, "responses": ds, **({"comparison": cmp} if cmp is not None else {})}
    report = outcome(
        "write_report",
        dopafit.write_report,
        inputs,
        path,
        formats=("png",),
        decode_kwargs=DECODE,
        max_grid_units=3,
    )
    assert (report is not None) == path.exists()
    if report is not None:
        assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


@examples(6)
@given(ds=responses_datasets())
def test_cli_compare_on_responses_file(ds, tmp_path_factory):
    COUNTS["examples cli compare"] += 1
    tmp = tmp_path_factory.mktemp("degenerate_nc")
    path = tmp / "responses.nc"
    dopafit.to_netcdf(ds, path)
    out_file = tmp / "comparison.nc"
    argv = ("compare", str(path), "-o", str(out_file), "--n-sim", "10", "--n-splits", "2")
    code, out, err = run_cli(*argv)
    _check_cli(code, out, err, argv)
    assert out_file.exists() == (code == 0), f"{argv}: exit {code}, output {out_file.exists()}"
    _no_partial(tmp)


def test_counts():
    """The properties ran (the counts printed at the end of the module are not empty)."""
    if not COUNTS:
        pytest.skip("run with the property tests of this module")
    assert COUNTS["calls"] > 0


# --------------------------------------------------------------------------------------------
# regression tests of the failures the properties found


def _two_units(first: np.ndarray) -> object:
    """Two units over rewards 0.1, 1.2 and 5.0; the first responds ``first``."""
    reward = np.tile([0.1, 1.2, 5.0], (2, 4))
    rng = np.random.default_rng(3)
    response = np.vstack([first, reward[1] - 1.0 + rng.normal(0.0, 1.0, reward.shape[1])])
    return dopafit.make_responses(response, reward, subject=["m0", "m0"], session=["s0", "s0"])


def test_mixed_models_leave_out_a_unit_with_constant_responses():
    """A unit whose responses are all equal has no residual spread: the mixed models cannot
    standardise it and leave it out (they raised a patsy error on its NaN rows)."""
    from dopafit.stats.mixed import fit_mixed_models
    from dopafit.stats.statistics import build_layout

    ds = _two_units(np.zeros(12))
    models, tests = fit_mixed_models(build_layout(ds))
    assert (models["n_groups"] == 1).all()
    assert (models["n_obs"] == 12).all()
    assert models["warnings"].str.contains("fewer than 2 units").all()
    assert tests["lr"].isna().all()
    cmp = dopafit.compare(ds, accounts=("classical",), n_sim=3, n_splits=2, n_boot=0, seed=0)
    assert cmp.attrs["mixed_error"] == ""


def test_zscore_axis_without_any_unit_that_can_be_zscored():
    """Units with a single finite response have no SD: on the z-score axis nothing is left,
    which is a FitError naming the cause (compare failed inside the account fits)."""
    from dopafit.errors import FitError

    resp = np.array([[np.nan, -0.9, np.nan, np.nan], [np.nan, np.nan, 1.3, np.nan]])
    reward = np.array([[0.1, 0.0, 1.2, 0.1], [0.0, 0.1, 1.2, 0.1]])
    ds = dopafit.make_responses(resp, reward)
    with pytest.raises(FitError, match="z-scored.*leaving 0 magnitude"):
        dopafit.compare(ds, accounts=("distributional",), n_sim=3, n_splits=2, axis="zscore")
    with pytest.raises(FitError, match="z-scored"):
        dopafit.fit_expectiles(ds, axis="zscore", n_splits=2, n_boot=2)


def test_zscore_axis_drops_units_that_cannot_be_zscored():
    """A unit that cannot be z-scored is left out with its reason; the others are fitted."""
    resp = np.array([[0.0, 1.0, 0.5, 2.0, -0.5, 1.5], [3.0, 3.0, 3.0, 3.0, np.nan, np.nan]])
    reward = np.array([[0.1, 1.2, 0.1, 1.2, 5.0, 5.0], [5.0, 0.1, 1.2, 5.0, np.nan, np.nan]])
    ds = dopafit.make_responses(resp, reward)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = dopafit.fit_expectiles(ds, axis="zscore", n_splits=2, n_boot=2)
        cmp = dopafit.compare(ds, ("distributional",), n_sim=3, n_splits=2, axis="zscore")
    assert fit["fit_ok"].values.tolist() == [True, False]
    assert str(fit["fit_status"].values[1]).startswith("z-score undefined")
    assert not bool(cmp["computable"].sel(statistic="reliability"))


def test_sigmoid_account_with_responses_near_the_float_range():
    """Finite responses whose squares overflow: the sigmoid account keeps its grid estimate
    (the least-squares refinement raised a ValueError on non-finite residuals)."""
    rng = np.random.default_rng(0)
    reward = np.tile(np.arange(6.0), (3, 2))
    ds = dopafit.make_responses(rng.normal(size=reward.shape) * 1e160, reward)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = dopafit.compare(ds, ("sigmoid",), n_sim=3, n_splits=2, n_boot=0, mixed=False)
    threshold = cmp["account_sigmoid_threshold"].values
    assert np.isfinite(threshold).all()


def test_split_summary_says_why_a_statistic_is_undefined():
    """Correlations need 3 fittable units, the fold ANOVA 2: a statistic NaN in every split
    says why."""
    from _fit import synth_responses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit2 = dopafit.fit_expectiles(synth_responses(n_units=2, seed=0), n_splits=3, n_boot=0)
        fit1 = dopafit.fit_expectiles(synth_responses(n_units=1, seed=0), n_splits=3, n_boot=0)
    table = dopafit.split_summary(fit2)
    corr = ["r_tau_reversal", "rho_tau_reversal", "r_reliability"]
    assert (table.loc[corr, "n_splits"] == 0).all()
    assert (table.loc[corr, "reason"] == "needs 3 or more fittable units, found 2").all()
    assert table.loc["anova_f", "n_splits"] == 3
    assert table.loc["anova_f", "reason"] == ""
    table = dopafit.split_summary(fit1)
    assert table.loc["anova_f", "reason"] == "needs 2 or more fittable units, found 1"
    fit = dopafit.fit_expectiles(synth_responses(n_units=6, seed=0), n_splits=3, n_boot=0)
    table = dopafit.split_summary(fit)
    assert (table["n_splits"] == 3).all()
    assert (table["reason"] == "").all()


def test_probability_task_stats_says_why_t_is_undefined():
    """A unit with one response at a cue, or none that vary, has no t: ``t_reason`` says why."""
    reward = np.array([[0.1, 0.5, 0.9, 0.1, 0.5, 0.9]] * 3)
    resp = np.array(
        [[1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [1, 2, 3, np.nan, 2.5, 3.5], [1, 2, 4, 1.5, 2, 3]]
    )
    ds = dopafit.make_responses(resp, reward)
    out = dopafit.probability_task_stats(ds, "reward")
    assert out["t_reason"].values.tolist() == [
        "no response variance at any cue",
        "fewer than 2 responses at cue probability 0.1",
        "",
    ]
    assert np.isnan(out["t"].values[:2]).all() and np.isfinite(out["t"].values[2])
