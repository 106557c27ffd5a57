"""One result convention: every analysis returns a Dataset with the ``dopafit`` accessor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import wasserstein_distance

import dopafit
from dopafit import schema
from dopafit.errors import DopafitError, ResultKindError
from dopafit.stats.decode import exact_expectiles

VALUES = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
PROBS = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])


# ---------------------------------------------------------------- one result of every kind
@pytest.fixture(scope="module")
def responses():
    return dopafit.simulate_responses(population="distributional", n_units=12, seed=4)


@pytest.fixture(scope="module")
def expectile_fit(responses):
    return dopafit.fit_expectiles(responses, n_splits=12, n_boot=0, seed=1)


@pytest.fixture(scope="module")
def learning_task():
    return dopafit.simulate_learning("flip", n_units=3, n_trials=300, seed=1)


@pytest.fixture(scope="module")
def learning_fit(learning_task):
    return dopafit.fit_learning(learning_task, ("classical", "asymmetric_both"), n_starts=2, seed=0)


@pytest.fixture(scope="module")
def learning_recovery(learning_task, learning_fit):
    models = ("classical", "asymmetric_both")
    return dopafit.learning_recovery(
        learning_task, learning_fit, models=models, n_starts=2, cv_blocks=0, seed=3
    )


@pytest.fixture(scope="module")
def comparison(responses):
    return dopafit.compare(
        responses, accounts=("classical", "bias"), n_sim=12, n_splits=4, n_boot=20, seed=5
    )


@pytest.fixture(scope="module")
def decoding():
    tau = np.linspace(0.05, 0.95, 15)
    e = exact_expectiles(VALUES, PROBS, tau)
    return dopafit.decode_distribution(
        tau,
        e,
        (0.1, 20.0),
        n_samples=30,
        n_starts=100,
        n_polish=1,
        n_epochs=2,
        true_values=VALUES,
        true_probabilities=PROBS,
    )


@pytest.fixture(scope="module")
def probability_task():
    rng = np.random.default_rng(0)
    n_unit, n_trial = 15, 90
    tau = rng.uniform(0.1, 0.9, n_unit)
    prob = rng.choice([0.1, 0.5, 0.9], size=(n_unit, n_trial))
    mean = tau[:, None] * prob / (tau[:, None] * prob + (1 - tau[:, None]) * (1 - prob))
    resp = 8.0 * mean + 2.0 * rng.standard_normal(prob.shape)
    ds = dopafit.make_responses(resp, np.zeros_like(resp), attrs={"align": "cue"})
    ds = ds.assign_coords(reward_probability=(("unit", "trial"), prob))
    return dopafit.probability_task_stats(ds, "reward_probability")


@pytest.fixture(scope="module")
def discount_fit():
    ds = dopafit.simulate_discounting(population="multi", n_units=10, seed=2)
    return dopafit.fit_discounting(ds, n_splits=8, n_boot=10, seed=1)


@pytest.fixture(scope="module")
def timing_decoding():
    from dopafit.stats.decode_timing import fit_table

    gamma = np.linspace(0.4, 0.95, 12)
    return dopafit.decode_timing(
        fit_table(gamma),
        values=0.5 * gamma + 0.5 * gamma**6,
        time_grid=np.linspace(0.0, 9.0, 19),
        n_boot=5,
        true_delays=[1.0, 6.0],
        true_probabilities=[0.5, 0.5],
    )


KINDS = {
    "expectile_fit": schema.EXPECTILE_FIT,
    "learning_fit": schema.LEARNING_FIT,
    "comparison": schema.COMPARISON,
    "decoding": schema.DECODING,
    "probability_task": schema.PROBABILITY_TASK,
    "learning_recovery": schema.LEARNING_RECOVERY,
    "discount_fit": schema.DISCOUNT_FIT,
    "timing_decoding": schema.TIMING_DECODING,
}


@pytest.fixture(params=list(KINDS))
def result(request):
    return request.param, request.getfixturevalue(request.param)


# ---------------------------------------------------------------- kinds and round trips
def test_kind_constants_are_the_recorded_names():
    assert schema.RESULT_KIND == "dopafit_result"
    assert set(schema.RESULT_KINDS) == set(KINDS.values())
    assert list(KINDS) == list(KINDS.values())


def test_every_result_is_a_dataset_of_its_kind(result):
    name, ds = result
    assert isinstance(ds, xr.Dataset)
    assert ds.attrs[schema.RESULT_KIND] == KINDS[name]
    assert ds.dopafit.kind == KINDS[name]
    assert KINDS[name] in repr(ds.dopafit)
    table = ds.dopafit.to_dataframe()
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    assert isinstance(ds.dopafit.summary(), str)


def test_every_summary_and_table_shows_every_column_and_renders_html(result):
    """Issue 15: at pandas' default options nothing is elided as '...', and a notebook gets
    an HTML table (the summaries that are prose get their text in a <pre> block)."""
    name, ds = result
    table = ds.dopafit.to_dataframe()
    text = repr(table)
    assert "..." not in text or len(table) > pd.get_option("display.max_rows")
    assert all(str(c) in text.splitlines()[0] for c in table.columns)
    assert "<table" in table._repr_html_()
    assert all(f">{c}</th>" in table._repr_html_() for c in table.columns)
    summary = ds.dopafit.summary()
    assert repr(summary) == str(summary)  # prints as itself, not as a quoted string
    page = summary._repr_html_()
    if KINDS[name] in (schema.EXPECTILE_FIT, schema.LEARNING_FIT, schema.COMPARISON):
        assert "<table" in page
    else:
        assert page.startswith("<pre>")


def test_main_tables_have_one_row_per_unit_pair_or_statistic(
    expectile_fit, learning_fit, comparison, decoding, probability_task, learning_recovery
):
    fit_table = expectile_fit.dopafit.to_dataframe()
    assert len(fit_table) == expectile_fit.sizes["unit"]
    np.testing.assert_array_equal(fit_table["tau"], expectile_fit["tau"].values)
    assert {"reversal_point", "alpha_pos", "alpha_neg", "unit_id"} <= set(fit_table)
    learning_table = learning_fit.dopafit.to_dataframe()
    assert len(learning_table) == learning_fit.sizes["model"] * learning_fit.sizes["unit"]
    assert {"model", "unit", "eta_pos", "tau_learning"} <= set(learning_table)
    cmp_table = comparison.dopafit.to_dataframe()
    assert len(cmp_table) == comparison.sizes["account"] * comparison.sizes["statistic"]
    assert list(cmp_table.columns[:5]) == [
        "account",
        "statistic",
        "observed",
        "p_nominal",
        "p_calibrated",
    ]
    pairs = decoding.dopafit.to_dataframe()
    assert len(pairs) == decoding.sizes["pair"]
    np.testing.assert_allclose(pairs["decoded_expectile"], pairs["reversal_point"], atol=1.0)
    rec_table = learning_recovery.dopafit.to_dataframe()
    assert (
        len(rec_table)
        == learning_recovery.sizes["true_model"] * learning_recovery.sizes["parameter"]
    )
    assert {"true_model", "parameter", "recovery_r", "coverage"} <= set(rec_table)
    prob_table = probability_task.dopafit.to_dataframe()
    assert len(prob_table) == probability_task.sizes["unit"]
    assert list(prob_table["label"]) == list(probability_task["label"].values)


def test_netcdf_round_trip_keeps_the_kind_and_the_accessor(result, tmp_path):
    name, ds = result
    path = ds.dopafit.to_netcdf(tmp_path / f"{name}.nc")
    assert path == tmp_path / f"{name}.nc" and path.stat().st_size > 0
    with xr.open_dataset(path, engine="h5netcdf") as handle:
        raw = handle.load()
    assert raw.dopafit.kind == KINDS[name]
    assert raw.dopafit.summary() == ds.dopafit.summary()
    back = dopafit.open_responses(path, validate=False)
    assert back.dopafit.kind == KINDS[name]
    pd.testing.assert_frame_equal(back.dopafit.to_dataframe(), ds.dopafit.to_dataframe())


def test_open_comparison_gives_the_comparison_back(comparison, tmp_path):
    path = comparison.dopafit.to_netcdf(tmp_path / "cmp.nc")
    back = dopafit.open_comparison(path)
    assert back.dopafit.kind == "comparison"
    assert back.dopafit.verdict == comparison.attrs["verdict"]
    assert back.dopafit.accounts == ["classical", "bias"]
    pd.testing.assert_frame_equal(
        back.dopafit.accounts_table(), comparison.dopafit.accounts_table()
    )
    pd.testing.assert_frame_equal(back.dopafit.mixed_tests(), comparison.dopafit.mixed_tests())
    assert back.dopafit.summary() == comparison.dopafit.summary()


def test_open_comparison_refuses_another_kind(decoding, tmp_path):
    path = decoding.dopafit.to_netcdf(tmp_path / "decoding.nc")
    with pytest.raises(ResultKindError, match=r"kind 'comparison' for open_comparison") as info:
        dopafit.open_comparison(path)
    assert "found a result of kind 'decoding'" in str(info.value)
    assert str(path) in str(info.value)


def test_open_comparison_reads_files_written_before_the_kinds(comparison, responses, tmp_path):
    old = comparison.copy()
    del old.attrs[schema.RESULT_KIND]
    path = dopafit.to_netcdf(old, tmp_path / "old.nc")
    assert dopafit.open_comparison(path).dopafit.verdict == comparison.attrs["verdict"]
    other = dopafit.to_netcdf(responses, tmp_path / "responses.nc")
    with pytest.raises(ResultKindError, match="found a Dataset without a dopafit result kind"):
        dopafit.open_comparison(other)


def test_decoding_members_survive_the_round_trip(decoding, tmp_path):
    with xr.open_dataset(decoding.dopafit.to_netcdf(tmp_path / "d.nc"), engine="h5netcdf") as h:
        back = h.load()
    np.testing.assert_array_equal(back.dopafit.samples, decoding.dopafit.samples)
    assert back.dopafit.mean == decoding.dopafit.mean
    pd.testing.assert_series_equal(back.dopafit.distances(), decoding.dopafit.distances())
    np.testing.assert_array_equal(back.dopafit.residuals(), decoding["residual"].values)


# ---------------------------------------------------------------- members of one kind
def test_decoding_members_are_computed_from_the_samples(decoding):
    z = decoding["samples"].values
    acc = decoding.dopafit
    assert acc.mean == float(np.mean(z)) and acc.sd == float(np.std(z))
    assert np.all(np.diff(acc.samples) >= 0) and acc.samples.size == 30
    t, e = decoding["tau"].values, decoding["reversal_point"].values
    w = np.where(z[None, :] <= e[:, None], 1 - t[:, None], t[:, None])
    np.testing.assert_allclose(acc.residuals(), np.mean(w * (z[None, :] - e[:, None]), axis=1))
    assert float(np.mean(acc.residuals() ** 2)) == pytest.approx(decoding.attrs["loss"])
    np.testing.assert_allclose(acc.expectiles(np.array([0.5])), [np.mean(z)])
    assert acc.wasserstein(VALUES, PROBS) == pytest.approx(
        wasserstein_distance(z, VALUES, None, PROBS)
    )
    assert acc.distances()["truth"] == pytest.approx(acc.wasserstein(VALUES, PROBS))


def test_comparison_members(comparison):
    acc = comparison.dopafit
    assert acc.accounts == [str(a) for a in comparison["account"].values]
    assert acc.verdict == comparison.attrs["verdict"] and acc.verdict
    table = acc.accounts_table()
    assert len(table) == comparison.sizes["account"] * comparison.sizes["unit"]
    np.testing.assert_array_equal(
        table.loc[table.account == "bias", "misfit"],
        comparison["account_misfit"].sel(account="bias").values,
    )
    models = acc.mixed_table()
    assert list(models["model"]) == list(comparison["model"].values)
    tests = acc.mixed_tests()
    np.testing.assert_array_equal(tests["lr"], comparison["mixed_lr"].values)


@pytest.mark.parametrize(
    ("member", "kind"),
    [
        ("verdict", "comparison"),
        ("accounts", "comparison"),
        ("accounts_table()", "comparison"),
        ("mixed_table()", "comparison"),
        ("mixed_tests()", "comparison"),
        ("samples", "decoding"),
        ("mean", "decoding"),
        ("sd", "decoding"),
        ("residuals()", "decoding"),
        ("expectiles()", "decoding"),
        ("distances()", "decoding"),
    ],
)
def test_a_member_on_the_wrong_kind_names_the_kind_it_needs(member, kind, request):
    wrong = "decoding" if kind == "comparison" else "expectile_fit"
    ds = request.getfixturevalue(wrong)
    name = member.rstrip("()")
    with pytest.raises(ResultKindError) as info:
        value = getattr(ds.dopafit, name)
        if member.endswith("()"):
            value()
    text = str(info.value)
    assert f"expected a result of kind '{kind}' for {member}" in text
    assert f"found a result of kind '{wrong}'" in text
    assert isinstance(info.value, DopafitError) and isinstance(info.value, TypeError)


def test_wasserstein_on_a_comparison_raises(comparison):
    with pytest.raises(
        ResultKindError,
        match=r"kind 'decoding' for wasserstein\(\); found a result of kind 'comparison'",
    ):
        comparison.dopafit.wasserstein(VALUES)


def test_a_dataset_that_is_no_result_has_no_kind(responses, tmp_path):
    assert responses.dopafit.kind is None
    for call in (
        responses.dopafit.summary,
        responses.dopafit.to_dataframe,
        lambda: responses.dopafit.to_netcdf(tmp_path / "x.nc"),
    ):
        with pytest.raises(ResultKindError, match="without a dopafit result kind"):
            call()
    with pytest.raises(ResultKindError, match="kind 'comparison' for verdict"):
        responses.dopafit.verdict  # noqa: B018
    assert not (tmp_path / "x.nc").exists()


# ---------------------------------------------------------------- summaries and their numbers
def _rows(text: str) -> dict[str, list[str]]:
    """The lines of a printed table, keyed by their first token (the first such line)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line.split()[1:])
    return rows


def test_fit_summary_holds_the_split_statistics(expectile_fit):
    text = expectile_fit.dopafit.summary()
    rows = _rows(text)
    header = text.splitlines()[0].split()
    for stat in ("r_tau_reversal", "r_reliability", "anova_f"):
        values = expectile_fit[stat].values
        cells = dict(zip(header, map(float, rows[stat])))
        assert cells["median"] == pytest.approx(np.nanmedian(values), abs=1e-6)
        assert cells["mean"] == pytest.approx(np.nanmean(values), abs=1e-6)
        assert cells["n_splits"] == np.isfinite(values).sum()


def test_learning_summary_holds_the_counts_per_model(learning_fit):
    text = learning_fit.dopafit.summary()
    rows = _rows(text)
    header = text.splitlines()[0].split()
    for model in learning_fit["model"].values:
        cells = dict(zip(header, rows[str(model)]))
        sel = learning_fit.sel(model=model)
        assert int(cells["n_fitted"]) == int(np.isfinite(sel["loglik"].values).sum())
        assert int(cells["n_identifiable"]) == int(sel["identifiable"].values.sum())
        assert int(cells["n_best"]) == int((learning_fit["best_model"].values == model).sum())


def test_comparison_summary_holds_the_observed_values_and_the_verdict(comparison):
    text = comparison.dopafit.summary()
    assert f"({comparison.sizes['unit']} units," in text
    assert f"{comparison.sizes['sim']} simulations" in text
    rows = _rows(text)
    for stat in ("r_tau_reversal", "reliability", "anova_f"):
        observed = float(comparison["observed"].sel(account="classical", statistic=stat))
        assert float(rows[stat][0]) == pytest.approx(observed, rel=1e-2)
        median = float(comparison["sim_median"].sel(account="bias", statistic=stat))
        assert f"[{median:.3g}]" in " ".join(rows[stat])
        lo, hi = (float(comparison[b].sel(statistic=stat)) for b in ("boot_lo", "boot_hi"))
        assert f"{stat:<20} [{lo:.3g}, {hi:.3g}]" in text  # the neuron-bootstrap interval
    assert text.endswith("Verdict: " + comparison.attrs["verdict"])


def test_decoding_summary_holds_its_numbers(decoding):
    text = decoding.dopafit.summary()
    z = decoding["samples"].values
    w1 = wasserstein_distance(z, VALUES, None, PROBS)
    assert f"decoded {z.size} samples from {decoding.sizes['pair']} pairs" in text
    assert f"mean {np.mean(z):.3f}" in text and f"SD {np.std(z):.3f}" in text
    assert f"W1 to truth {w1:.3f}" in text


def test_probability_summary_holds_the_labels_and_the_dispersion(probability_task):
    text = probability_task.dopafit.summary()
    labels = list(probability_task["label"].values)
    for name in ("optimistic", "pessimistic", "neutral"):
        assert f"{labels.count(name)} {name}" in text
    assert f"{len(labels)} units" in text
    assert f"median optimism {np.nanmedian(probability_task['optimism'].values):.3f}" in text
    assert f"p_spread {float(probability_task['dispersion_p_spread']):.3g}" in text


def test_recovery_summary_holds_the_confusion_matrix(learning_recovery):
    text = learning_recovery.dopafit.summary()
    rows = _rows(text)
    confusion = learning_recovery["confusion"]
    chosen = [str(m) for m in confusion["model"].values]
    for true in confusion["true_model"].values:
        cells = [float(c) for c in rows[str(true)]]
        expected = [float(confusion.sel(true_model=true, model=m)) for m in chosen]
        np.testing.assert_allclose(cells, expected, atol=5e-4)
    assert "Pearson r" in text
