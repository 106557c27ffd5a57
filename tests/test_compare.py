"""dopafit.compare: the calibrated comparison of accounts, end to end."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest

import dopafit
from dopafit.errors import ConfigError
from dopafit.simulate import simulate_responses
from dopafit.stats import accounts as acc
from dopafit.stats import statistics as st
from dopafit.stats.compare import COMBINED, simulate_account
from dopafit.stats.mixed import fit_mixed_models

COLUMNS = ["account", "statistic", "observed", "p_nominal", "p_calibrated"]
SUBJECTS = np.array(["m1"] * 8 + ["m2"] * 8 + ["m3"] * 8 + ["unknown"] * 6, dtype=object)


def _population(kind: str, seed: int, n_units: int = 30, **options):
    ds = simulate_responses(
        population=kind, n_units=n_units, n_trials=180, seed=seed, uncued_offset=-1.5, **options
    )
    if n_units == SUBJECTS.size:
        ds = ds.assign_coords(subject=("unit", SUBJECTS))
    return ds


@pytest.fixture(scope="module")
def small():
    ds = _population("distributional", 1)
    cmp = dopafit.compare(ds, n_sim=40, n_splits=8, n_boot=50, seed=3)
    return ds, cmp


def test_table_columns_and_rows(small):
    _, cmp = small
    df = cmp.dopafit.to_dataframe()
    assert list(df.columns[:5]) == COLUMNS
    n_stat = len(st.STATISTICS) + len(COMBINED)
    assert len(df) == 4 * n_stat
    assert set(df["account"]) == set(acc.ACCOUNTS)
    assert df.groupby("account").size().eq(n_stat).all()
    for col in ("quantile", "sim_median", "sim_lo", "sim_hi", "computable", "reason"):
        assert col in df
    ok = df[df.computable]
    assert ok["p_calibrated"].between(1 / 41, 1).all()
    # the nominal test exists for the correlations and the ANOVA only
    assert ok.loc[ok.statistic == "r_tau_reversal", "p_nominal"].notna().all()
    assert ok.loc[ok.statistic == "asymmetry_llr", "p_nominal"].isna().all()


def test_summary_reports_every_statistic_against_every_account(small):
    _, cmp = small
    text = cmp.dopafit.summary()
    for name in [*st.STATISTICS, *COMBINED]:
        assert name in text
    for account in ("classical", "bias", "distributional"[:13], "sigmoid"):
        assert account in text
    assert "Verdict: " in text and "classical TD" in cmp.dopafit.verdict
    assert "Mixed models" in text


def test_netcdf_roundtrip(small, tmp_path):
    _, cmp = small
    path = cmp.dopafit.to_netcdf(tmp_path / "cmp.nc")
    back = dopafit.open_comparison(path)
    pd.testing.assert_frame_equal(back.dopafit.to_dataframe(), cmp.dopafit.to_dataframe())
    assert back.dopafit.verdict == cmp.dopafit.verdict
    assert back.dopafit.mixed_tests() is not None


def test_observed_statistics_equal_the_fitters(small):
    ds, cmp = small
    fit = dopafit.fit_expectiles(ds, n_splits=8, n_boot=0, seed=3)
    obs = cmp["observed"].sel(account="classical")
    for mine, theirs in (
        ("r_tau_reversal", "r_tau_reversal"),
        ("rho_tau_reversal", "rho_tau_reversal"),
        ("reliability", "r_reliability"),
        ("anova_f", "anova_f"),
    ):
        assert float(obs.sel(statistic=mine)) == pytest.approx(
            float(np.nanmedian(fit[theirs].values)), rel=1e-12
        )
    p = float(cmp["p_nominal"].sel(statistic="r_tau_reversal"))
    assert p == pytest.approx(float(np.nanmedian(fit["p_tau_reversal"].values)), rel=1e-9)


def test_deterministic_whatever_threads_and_chunks():
    ds = _population("bias", 2, n_units=12)
    kw = dict(accounts=("bias", "sigmoid"), n_sim=12, n_splits=5, n_boot=20, mixed=False, seed=7)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = dopafit.compare(ds, chunk_size=5, **kw).dopafit.to_dataframe()
    finally:
        numba.set_num_threads(before)
    many = dopafit.compare(ds, **kw).dopafit.to_dataframe()
    pd.testing.assert_frame_equal(one, many)
    other_seed = dopafit.compare(ds, **{**kw, "seed": 8}).dopafit.to_dataframe()
    assert not np.allclose(other_seed["sim_median"], many["sim_median"], equal_nan=True)
    # an account's simulations do not depend on the other accounts requested
    alone = dopafit.compare(ds, **{**kw, "accounts": ("sigmoid",)}).dopafit.to_dataframe()
    pd.testing.assert_frame_equal(
        alone.reset_index(drop=True),
        many[many.account == "sigmoid"].reset_index(drop=True),
    )


def test_not_computable_statistics_are_reported_and_the_rest_runs():
    # two units, one subject: correlations, ANOVA and leave-one-out cannot be computed
    ds = _population("bias", 3, n_units=2)
    cmp = dopafit.compare(ds, accounts=("classical",), n_sim=10, n_splits=4, n_boot=10)
    df = cmp.dopafit.to_dataframe().set_index("statistic")
    for name in ("reliability", "r_tau_reversal", "rho_tau_reversal", "anova_f"):
        assert not df.loc[name, "computable"]
        assert "3 or more fittable units, found 2" in df.loc[name, "reason"]
        assert np.isnan(df.loc[name, "p_calibrated"])
    assert "known subject" in df.loc["loao_range", "reason"]
    assert df.loc["asymmetry_llr", "computable"]
    assert np.isfinite(df.loc["asymmetry_llr", "p_calibrated"])
    assert "not computable" in cmp.dopafit.summary()


def test_sessions_of_unknown_subjects_compare_without_leave_one_out():
    """Regression: every unit of subject "unknown" (the date-named public cells) once made
    the leave-one-subject-out statistic raise a raw numpy error."""
    ds = _population("bias", 6, n_units=8)
    ds = ds.assign_coords(subject=("unit", ["unknown"] * ds.sizes["unit"]))
    cmp = dopafit.compare(ds, accounts=("classical",), n_sim=10, n_splits=5, n_boot=10)
    df = cmp.dopafit.to_dataframe().set_index("statistic")
    for name in ("loao_range", "loao_min"):
        assert not df.loc[name, "computable"]
        assert "known subject" in df.loc[name, "reason"]
    assert df.loc["r_tau_reversal", "computable"]


def test_too_few_magnitudes():
    ds = _population("bias", 4, n_units=10)
    keep = ds["reward"].isin([5.0, 20.0])
    ds["response"] = ds["response"].where(keep)
    ds = ds.assign_coords(reward=ds["reward"].where(keep))
    cmp = dopafit.compare(
        ds, accounts=("classical", "bias"), n_sim=10, n_splits=4, n_boot=0, mixed=False
    )
    df = cmp.dopafit.to_dataframe().set_index(["account", "statistic"]).loc["bias"]
    assert "3 or more reward magnitudes, found 2" in df.loc["r_tau_reversal", "reason"]
    assert not df.loc["combined_asymmetry", "computable"]
    assert (
        df.loc["opposite_sign_pairs", "computable"] is np.True_
        or df.loc["opposite_sign_pairs", "computable"]
    )


def test_bad_options():
    ds = _population("classical", 5, n_units=4)
    for kw, message in (
        (
            dict(accounts=("nope",)),
            r"expected accounts among classical, .*found unknown account 'nope'",
        ),
        (dict(accounts=()), r"accounts: one or more distinct names .*found \(\)"),
        (
            dict(accounts=("bias", "bias")),
            r"accounts: one or more distinct names .*found \('bias', 'bias'\)",
        ),
        (dict(n_sim=0), "expected n_sim as an integer >= 1; found 0"),
        (dict(n_sim=2.5), "expected n_sim as an integer >= 1; found 2.5"),
        (dict(n_splits=0), "expected n_splits as an integer >= 1; found 0"),
        (dict(n_boot=-1), "expected n_boot as an integer >= 0; found -1"),
        (dict(noise="poisson"), "expected noise one of gaussian, residual; found 'poisson'"),
        (dict(n_folds=1), r"expected n_folds = 0 \(no folds\) or >= 2; found 1"),
        (dict(alpha=1.5), r"expected alpha in \(0, 1\); found 1.5"),
        (dict(level=0.0), r"expected level in \(0, 1\); found 0.0"),
    ):
        with pytest.raises(ConfigError, match=message):
            dopafit.compare(ds, **kw)
    # regression: these were once accepted (an unknown method ran the counting rule)
    for kw, message in (
        (dict(method="kinky"), "method one of count, kink"),
        (dict(cap_low=-1.0), "cap_low and cap_high finite and >= 0"),
        (dict(cap_high=float("nan")), "cap_low and cap_high finite and >= 0"),
        (dict(seed=-3), "seed as an integer >= 0 or None"),
        (dict(pool_cued="both"), "pool_cued one of"),
        (dict(axis="log"), "axis one of utility, reward, zscore"),
    ):
        with pytest.raises(ConfigError, match=message):
            dopafit.compare(ds, **kw)


@pytest.mark.parametrize("kind", ["classical", "bias", "distributional", "sigmoid"])
def test_account_fits_recover_noise_free_truth(kind):
    ds = simulate_responses(population=kind, n_units=15, n_trials=210, seed=6, noise=0.0)
    layout = st.build_layout(ds, axis="reward")
    fit = acc.fit_account(kind, layout)
    ybar = layout.prep.mean_response
    # the accounts use the recording's trial proportions, not the task's nominal probabilities
    scale = np.nanstd(ybar)
    tol = {"classical": 0.05, "bias": 0.01, "distributional": 0.05, "sigmoid": 0.01}[kind]
    assert np.sqrt(np.nanmean((fit.mean - ybar) ** 2)) < tol * scale
    if kind == "classical":
        z0 = np.sum(layout.probs * layout.prep.axis)
        np.testing.assert_allclose(fit.params["reversal_point"], z0)
        np.testing.assert_allclose(fit.params["gain"], ds["true_gain"], rtol=0.03)
    if kind == "bias":
        np.testing.assert_allclose(
            fit.params["reversal_point"], ds["true_reversal_point"], atol=0.03
        )
        np.testing.assert_allclose(fit.params["gain"], ds["true_gain"], rtol=0.01)
    if kind == "distributional":
        np.testing.assert_allclose(fit.params["tau"], ds["true_tau"], atol=0.02)
    # a wrong account fits worse
    if kind != "classical":
        worse = acc.fit_account("classical", layout)
        assert worse.misfit.sum() > 10 * fit.misfit.sum()


def test_noise_model_matches_generating_noise():
    ds = simulate_responses(population="bias", n_units=10, n_trials=600, seed=7, uncued_offset=2.0)
    layout = st.build_layout(ds, axis="reward")
    noise = acc.fit_noise(layout)
    truth = ds["true_noise"].values[:, None]
    assert np.median(np.abs(noise.sd / truth - 1)) < 0.1
    assert np.all(np.abs(noise.cue_diff) < 1.0)  # the offset is removed by pooling
    # simulations reproduce the per-cell SD
    fit = acc.fit_account("bias", layout)
    raw = acc.simulate(layout, fit, noise, np.arange(3, dtype=np.uint64))
    for mode in ("gaussian", "residual"):
        raw = acc.simulate(layout, fit, noise, np.arange(3, dtype=np.uint64), mode)
        vals, _, _ = st.prepare_raw(layout, raw)
        cell = layout.unit_of * 7 + layout.mag_of
        sd = np.array([vals[0][cell == c].std(ddof=1) for c in range(70)]).reshape(10, 7)
        assert np.median(np.abs(sd / truth - 1)) < 0.15


def test_simulations_find_the_recordings_offset_when_the_cue_effect_varies_with_magnitude():
    # uncued responses larger than cued ones by an amount that grows with the magnitude
    ds = simulate_responses(population="bias", n_units=30, seed=8, uncued_offset=1.0)
    extra = np.where(~ds["cued"].values, 0.4 * np.log(ds["reward"].values / 0.1), 0.0)
    ds["response"] = ds["response"] + extra
    layout = st.build_layout(ds, axis="reward")
    noise = acc.fit_noise(layout)
    both = noise.cue_effect != 0
    assert abs(noise.cue_effect[both].mean()) < 1e-9  # centred as the offset is
    spread = noise.cue_effect.mean(axis=0)  # the magnitude effect is recovered
    assert spread[-1] - spread[0] > 0.4 * np.log(200) * 0.7
    sims = simulate_account(ds, "bias", 20, seed=3, axis="reward")
    offsets = [st.build_layout(s, axis="reward").prep.offset for s in sims]
    assert abs(np.mean(offsets) - layout.prep.offset) < 0.07  # 0.14 with one effect per unit


def test_simulate_account_gives_responses_datasets():
    ds = _population("classical", 8, n_units=6)
    sims = simulate_account(ds, "bias", 2, seed=1)
    assert len(sims) == 2
    for sim in sims:
        dopafit.validate_responses(sim)
        np.testing.assert_array_equal(sim["reward"].values, ds["reward"].values)
        np.testing.assert_array_equal(
            np.isnan(sim["response"].values), np.isnan(ds["response"].values)
        )
        assert not np.allclose(sim["response"].values, ds["response"].values, equal_nan=True)
        assert sim.attrs["simulated_account"] == "bias"
    assert not np.allclose(sims[0]["response"], sims[1]["response"], equal_nan=True)


def test_mixed_models_see_diverse_reversal_points():
    ds = _population("bias", 9, n_units=20, spread="uniform")
    layout = st.build_layout(ds)
    models, tests = fit_mixed_models(layout)
    assert list(models["model"]) == ["shared", "diverse", "asymmetric"]
    assert {"llf", "aic", "bic", "converged", "warnings"} <= set(models.columns)
    row = tests.set_index("model").loc["diverse"]
    assert row["p_naive"] < 1e-3 and row["p_mixture"] <= row["p_naive"]


# --------------------------------------------------------------------------------------------
# the 40 public neurons


@pytest.fixture(scope="module")
def dabney(dabney_nwb):
    return dopafit.load_nwb(dabney_nwb, faithful=True)


@pytest.mark.realdata
def test_compare_on_the_public_neurons(dabney):
    cmp = dopafit.compare(dabney, n_sim=50, n_splits=20, n_boot=100, seed=0)
    df = cmp.dopafit.to_dataframe()
    assert df["computable"].all(), df.loc[~df.computable, ["statistic", "reason"]]
    text = cmp.dopafit.summary()
    for name in [*st.STATISTICS, *COMBINED]:
        assert name in text
    # subjects D, L, O are known; the 18 date-named cells are not one animal
    assert list(cmp["subject_left_out"].values) == ["D", "L", "O"]
    fit = dopafit.fit_expectiles(dabney, n_splits=20, n_boot=0, seed=0)
    obs = df[(df.account == "classical")].set_index("statistic")["observed"]
    assert obs["r_tau_reversal"] == pytest.approx(float(np.nanmedian(fit["r_tau_reversal"])))
    # r(tau, reversal) ~ 0.5 is far outside what classical TD with this noise produces
    row = df[(df.account == "classical") & (df.statistic == "r_tau_reversal")].iloc[0]
    assert row["p_calibrated"] == pytest.approx(1 / 51)
    assert "classical TD" in cmp.dopafit.verdict


# --------------------------------------------------------------------------------------------
# the command line on files it cannot use, and a recording with no fittable unit


def _compare_cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "dopafit", "compare", *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_cli_unreadable_file_is_one_named_line(tmp_path):
    bad = tmp_path / "notes.nc"
    bad.write_text("not a netCDF file")
    out = tmp_path / "cmp.nc"
    res = _compare_cli(bad, "--n-sim", 10, "-o", out)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0
    assert str(bad) in res.stderr and "unexpected" not in res.stderr
    assert "netCDF4/HDF5 file written by dopafit" in res.stderr
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_no_fittable_unit_says_why_and_names_the_file(tmp_path):
    ds = _population("classical", 3, n_units=2)
    ds["response"][:] = 0.0  # no slope on either side of any reversal point
    cmp = dopafit.compare(ds, accounts=("classical", "bias"), n_sim=10, n_splits=5)
    verdict_stats = ["combined_diversity", "r_tau_reversal", "reliability", "combined_asymmetry"]
    assert not cmp["computable"].sel(statistic=verdict_stats).values.any()
    assert cmp.dopafit.verdict.startswith(
        "No statistic of the verdict could be computed on these data (needs 3 or more"
    )
    # a responses file saved from memory: errors name the file the user passed
    path = dopafit.to_netcdf(ds.assign(response=ds["response"] * np.nan), tmp_path / "r.nc")
    res = _compare_cli(path, "--n-sim", 10, "-o", tmp_path / "cmp.nc")
    assert res.returncode == 1 and str(path) in res.stderr and "in-memory" not in res.stderr
