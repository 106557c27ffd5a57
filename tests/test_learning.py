"""fit_learning, learning_summary and learning_recovery: recovery with known truth, model
recovery, identifiability, outputs, options and bad input.

The recovery checks simulate the four models on the "flip" schedule of the simulator (a rich
and a lean reward distribution alternating every 100 trials), with Gaussian noise of SD 0.15
of each unit's largest mean response, and 1,000 trials per unit: the high-SNR cell of the
docs' recovery table (docs/explanation/learning.md).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import dopafit
from dopafit.errors import ConfigError, EventTimesError, FitError
from tests._learning import population

MODELS = ("classical", "asymmetric_learning", "asymmetric_scaling", "asymmetric_both")


@pytest.fixture(scope="module")
def flip_template():
    return dopafit.simulate_learning("flip", n_units=200, n_trials=1000, seed=5)


def _band(n, p=0.95, alpha=0.01):
    """Two-sided binomial acceptance band of a coverage fraction over n intervals."""
    lo = stats.binom.ppf(alpha / 2, n, p) / n
    hi = stats.binom.isf(alpha / 2, n, p) / n
    return lo, hi


def test_parameters_are_recovered_with_honest_intervals(flip_template):
    n = flip_template.sizes["unit"]
    rec = dopafit.learning_recovery(
        flip_template,
        params=population(n),
        models="asymmetric_both",
        noise_fraction=0.15,
        cv_blocks=0,
        n_starts=3,
        seed=1,
    )
    r = rec["recovery_r"].sel(true_model="asymmetric_both")
    bias = rec["recovery_bias"].sel(true_model="asymmetric_both")
    rmse = rec["recovery_rmse"].sel(true_model="asymmetric_both")
    cover = rec["coverage"].sel(true_model="asymmetric_both")
    assert float(r.sel(parameter="tau_learning")) >= 0.9
    for p, max_bias, max_rmse in (
        ("eta_pos", 0.01, 0.03),
        ("eta_neg", 0.01, 0.03),
        ("alpha_pos", 0.03, 0.08),
        ("alpha_neg", 0.03, 0.08),
        ("tau_learning", 0.02, 0.05),
    ):
        assert float(r.sel(parameter=p)) >= 0.9, p
        assert abs(float(bias.sel(parameter=p))) <= max_bias, p
        assert float(rmse.sel(parameter=p)) <= max_rmse, p
    # every stated 95% interval covers the truth as often as a 95% interval should; the band
    # (Bonferroni over 5 parameters) fails intervals that are too narrow or too wide
    lo, hi = _band(n, alpha=0.01 / 5)
    for p in ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "tau_learning"):
        assert lo <= float(cover.sel(parameter=p)) <= hi, (p, float(cover.sel(parameter=p)))
    assert float(rec["identifiable_fraction"].sel(true_model="asymmetric_both")) > 0.95


def test_models_are_told_apart(flip_template):
    sub = flip_template.isel(unit=slice(0, 60))
    rec = dopafit.learning_recovery(
        sub, params=population(60), noise_fraction=0.15, cv_blocks=0, n_starts=3, seed=2
    )
    confusion = rec["confusion"].values
    np.testing.assert_allclose(confusion.sum(axis=1), 1.0)
    assert np.all(np.diag(confusion) >= 0.7), confusion
    assert list(rec["confusion"].true_model.values) == list(MODELS)


def test_stationary_task_learning_rates_are_flagged():
    """After training (stationary rewards) values hardly move: the fitter says so."""
    ds = dopafit.simulate_learning(
        "dabney", n_units=30, n_trials=250, seed=4, v0="expectile", noise=(4.0, 6.0)
    )
    fit = dopafit.fit_learning(ds, ("asymmetric_learning", "asymmetric_both"), n_starts=3)
    ident = fit["identifiable"].values
    assert ident.mean() <= 0.2
    # no learning asymmetry is reported where the learning rates are not identifiable
    tl = fit["tau_learning"].values
    assert np.all(np.isnan(tl[~ident]))
    assert np.all(np.isfinite(tl[ident]))
    flagged = fit["fit_status"].values[~ident]
    assert all("not identifiable from this reward sequence" in s for s in flagged)
    # their intervals are wide: most reach a bound of the learning rates
    width = fit["eta_pos_hi"].values - fit["eta_pos_lo"].values
    assert np.median(width[~ident]) > 0.3
    summary = dopafit.learning_summary(fit)
    assert summary.loc["asymmetric_learning", "n_identifiable"] == ident[0].sum()


@pytest.fixture(scope="module")
def small_fit():
    ds = dopafit.simulate_learning(
        "flip", n_units=5, n_trials=400, seed=1, noise=(1.0, 1.0), learning_rate=(0.05, 0.15)
    )
    # a missing response (the reward still counts) and a trial with no reward in the middle
    ds["response"][0, 10] = np.nan
    ds = ds.assign_coords(reward=ds["reward"].where(~((ds.unit == 1) & (ds.trial == 50))))
    ds["response"] = ds["response"].where(np.isfinite(ds["reward"]))
    return ds, dopafit.fit_learning(ds, "all", n_starts=3, cv_blocks=4, seed=2)


def test_output_layout_and_latents(small_fit):
    ds, fit = small_fit
    assert dict(fit.sizes) == {
        "model": 4,
        "unit": 5,
        "trial": ds.sizes["trial"],
        "context": 2,
        "vs_model": 4,
    }
    assert list(fit.context.values) == ["uncued", "cue1"]
    for name in ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "baseline", "sigma"):
        for suffix in ("", "_se", "_lo", "_hi"):
            assert fit[name + suffix].dims == ("model", "unit")
        assert np.all(fit[name + "_lo"] <= fit[name]) and np.all(fit[name] <= fit[name + "_hi"])
    # constraints of the models
    cl = fit.sel(model="classical")
    np.testing.assert_array_equal(cl.eta_pos, cl.eta_neg)
    np.testing.assert_array_equal(cl.alpha_pos, cl.alpha_neg)
    np.testing.assert_allclose(fit.sel(model="asymmetric_scaling").tau_learning, 0.5)
    np.testing.assert_allclose(fit.sel(model="asymmetric_learning").tau_scaling, 0.5)
    # information criteria
    k = fit.n_params.values
    np.testing.assert_allclose(fit.aic, 2 * k - 2 * fit.loglik)
    np.testing.assert_allclose(fit.bic, k * np.log(fit.n_obs.values) - 2 * fit.loglik)
    assert np.all(np.isin(fit.best_model.values, MODELS))
    best = fit.bic.values.argmin(axis=0)
    np.testing.assert_array_equal(fit.best_model.values, np.asarray(MODELS)[best])
    # latents: the value before each update, the error, the expected response
    m = fit.sel(model="asymmetric_both")
    for u in range(5):
        reward = ds.reward.values[u]
        ctx = ds.cue_id.values[u]
        keep = np.isfinite(reward)
        v = np.full(2, np.nan)
        v[:] = m.v0.values[u]
        ep, en = float(m.eta_pos[u]), float(m.eta_neg[u])
        for t in np.nonzero(keep)[0]:
            c = int(ctx[t])
            assert m.value.values[u, t] == pytest.approx(v[c], abs=1e-9)
            d = reward[t] - v[c]
            v[c] += (ep if d > 0 else en) * d
        np.testing.assert_allclose(m.rpe.values[u], fit.utility.values[u] - m.value.values[u])
        assert np.all(np.isnan(m.value.values[u][~keep]))
        slope = np.where(m.rpe.values[u] > 0, float(m.alpha_pos[u]), float(m.alpha_neg[u]))
        np.testing.assert_allclose(
            m.predicted.values[u], float(m.baseline[u]) + slope * m.rpe.values[u]
        )
    # every choice is recorded
    for key in ("axis", "noise", "uncued", "v0", "n_starts", "cv_blocks", "select", "seed",
                "identifiability_rule", "cv_rule", "optimiser", "interval_method"):  # fmt: skip
        assert key in fit.attrs, key


def test_population_tests_and_summary(small_fit):
    _, fit = small_fit
    d = fit.cv_loglik.sel(model="asymmetric_both") - fit.cv_loglik.sel(model="classical")
    assert float(fit.cv_diff_mean.sel(model="asymmetric_both", vs_model="classical")) == (
        pytest.approx(float(d.mean()))
    )
    assert float(fit.cv_diff_p_wilcoxon.sel(model="asymmetric_both", vs_model="classical")) == (
        pytest.approx(stats.wilcoxon(d.values).pvalue)
    )
    assert int(fit.n_best.sum()) == 5
    summary = dopafit.learning_summary(fit)
    assert list(summary.index) == list(MODELS)
    assert summary["n_fitted"].tolist() == [5, 5, 5, 5]


def test_fits_are_reproducible_and_saved(small_fit, tmp_path):
    ds, fit = small_fit
    again = dopafit.fit_learning(ds, "all", n_starts=3, cv_blocks=4, seed=2)
    xr.testing.assert_identical(fit, again)
    path = dopafit.to_netcdf(fit, tmp_path / "learning.nc")
    back = dopafit.open_responses(path, validate=False)
    xr.testing.assert_allclose(back.drop_vars("fit_status"), fit.drop_vars("fit_status"))
    assert back.attrs["options"] == fit.attrs["options"]


def test_single_model_codes_and_options():
    ds = dopafit.simulate_learning("flip", n_units=3, n_trials=300, seed=2)
    fit = dopafit.fit_learning(ds, ["ALSS", "sl-ss"], n_starts=2, cv_blocks=0)
    assert list(fit.model.values) == ["classical", "asymmetric_learning"]
    assert np.all(np.isnan(fit.cv_loglik))
    zero = dopafit.fit_learning(ds, "classical", uncued="zero", v0="first", n_starts=2)
    m = zero.isel(model=0)
    uncued = ~ds.cued.values & np.isfinite(ds.reward.values)
    np.testing.assert_allclose(m.value.values[uncued], 0.0)  # a fixed value of 0
    assert np.isnan(m.v0_se.values).all()  # initial values fixed: no standard error
    z = dopafit.fit_learning(ds, "classical", axis="zscore", n_starts=2, cv_blocks=0)
    assert z.attrs["response_transform"] == "zscore per unit"
    with pytest.raises(ConfigError, match="did you mean 'asymmetric_learning'"):
        dopafit.fit_learning(ds, "asymmetric_learn")
    with pytest.raises(ConfigError, match="cv_blocks >= 2 with select='cv'"):
        dopafit.fit_learning(ds, select="cv", cv_blocks=0)
    with pytest.raises(ConfigError, match="noise one of gaussian, poisson"):
        dopafit.fit_learning(ds, noise="laplace")
    with pytest.raises(ConfigError, match="spike counts for the Poisson model"):
        dopafit.fit_learning(ds, noise="poisson")
    with pytest.raises(ConfigError, match="n_starts as an integer >= 1"):
        dopafit.fit_learning(ds, n_starts=0)


def test_poisson_counts_recover_the_learning_rates():
    from dopafit.fit.learning import unpack
    from dopafit.fit.learning_data import sequences
    from dopafit.fit.learning_options import LearningOptions
    from dopafit.kernels import learning as K

    n = 30
    ds = dopafit.simulate_learning("flip", n_units=n, n_trials=800, seed=9)
    rng = np.random.default_rng(0)
    base = rng.uniform(3, 8, ds.response.shape)
    ds["baseline"] = (("unit", "trial"), base)
    ds["window_count"] = (("unit", "trial"), np.zeros(ds.response.shape))
    ds.attrs["window"] = [0.2, 0.6]
    p = population(n, seed=4)
    p["alpha_pos"] = p["alpha_pos"] * 1.5
    p["alpha_neg"] = p["alpha_neg"] * 1.5
    seq = sequences(ds, LearningOptions(noise="poisson"))
    _, delta = K.value_trace(
        seq.util, seq.ctx, seq.n_trial, p["eta_pos"], p["eta_neg"], np.zeros((n, 2)), seq.learn
    )
    resp, count = K.simulate_responses(
        delta,
        p["alpha_pos"],
        p["alpha_neg"],
        np.full(n, 2.0),
        np.ones(n),
        seq.base,
        K.NOISE_POISSON,
        0.4,
        np.arange(n, dtype=np.uint64),
    )
    ds["window_count"] = (("unit", "trial"), unpack(count, seq, ds.sizes["trial"]))
    ds["response"] = (("unit", "trial"), unpack(resp, seq, ds.sizes["trial"]))
    fit = dopafit.fit_learning(ds, "asymmetric_both", noise="poisson", n_starts=3, cv_blocks=0)
    m = fit.isel(model=0)
    assert np.isnan(m.sigma).all()
    tl = p["eta_pos"] / (p["eta_pos"] + p["eta_neg"])
    est = m.eta_pos / (m.eta_pos + m.eta_neg)
    assert np.corrcoef(tl, est)[0, 1] > 0.9
    assert abs(float(np.median(m.baseline)) - 2.0) < 0.5
    assert fit.attrs["noise"] == "poisson" and fit.attrs["window_seconds"] == pytest.approx(0.4)


def test_bad_units_get_a_reason_and_bad_order_an_error():
    ds = dopafit.simulate_learning("flip", n_units=5, n_trials=200, seed=3)
    resp = ds.response.values.copy()
    reward = ds.reward.values.copy()
    resp[0, 15:] = np.nan  # 15 trials with a response
    resp[1] = np.nan  # none
    reward[2] = 5.0  # one reward value
    resp[3] = 1.0  # constant
    ds = ds.assign(response=(("unit", "trial"), resp)).assign_coords(
        reward=(("unit", "trial"), reward)
    )
    fit = dopafit.fit_learning(ds, "classical", n_starts=2, cv_blocks=0)
    status = fit.fit_status.values[0]
    assert status[0] == "15 trial(s) with a response; need at least 20"
    assert status[1] == "no finite responses"
    assert status[2].startswith("trials at one reward value only")
    assert status[3].startswith("constant responses")
    assert np.isfinite(fit.loglik.values[0, 4]) and np.isnan(fit.loglik.values[0, :4]).all()
    assert not fit.identifiable.values[0, :4].any()
    # trials out of chronological order: a named error naming the unit
    times = ds.event_time.values.copy()
    times[4, [20, 21]] = times[4, [21, 20]]
    bad = ds.assign_coords(event_time=(("unit", "trial"), times))
    with pytest.raises(EventTimesError, match="chronological order") as err:
        dopafit.fit_learning(bad)
    assert "sim-4" in str(err.value) or "4" in str(err.value)
    with pytest.raises(FitError, match="none fittable"):
        dopafit.fit_learning(ds.isel(unit=[0, 1, 2, 3]), "classical")


def test_recovery_from_a_fit_uses_each_models_estimates():
    ds = dopafit.simulate_learning("flip", n_units=6, n_trials=400, seed=6, noise=(1.0, 1.0))
    fit = dopafit.fit_learning(ds, "all", n_starts=2, cv_blocks=0)
    rec = dopafit.learning_recovery(ds, fit, n_rep=2, n_starts=2, cv_blocks=0, seed=3)
    assert rec.attrs["parameters_from"] == "fitted"
    assert rec.sizes["rep"] == 2
    np.testing.assert_allclose(
        rec.true_eta_pos.sel(true_model="asymmetric_both"),
        fit.eta_pos.sel(model="asymmetric_both"),
    )
    assert int(rec.n_confusion.sum()) == 4 * 2 * 6
    with pytest.raises(ConfigError, match="params among"):
        dopafit.learning_recovery(ds, params={"eta": 0.1})


def test_poisson_on_a_loaded_spike_count_session():
    from pathlib import Path

    sample = sorted((Path(__file__).resolve().parents[1] / "data_samples").glob("*.nwb"))[0]
    ds = dopafit.load_nwb(sample)
    fit = dopafit.fit_learning(ds, "classical", noise="poisson", n_starts=2, cv_blocks=0)
    assert np.isfinite(fit.loglik).all() and np.isnan(fit.sigma).all()
    assert fit.attrs["window_seconds"] == pytest.approx(0.4)
    # the expected response is the softplus rate minus the trial's baseline
    m = fit.isel(model=0, unit=0)
    ok = np.isfinite(m.rpe.values)
    rate = np.logaddexp(
        0.0, ds.baseline.values[0] + float(m.baseline) + float(m.alpha_pos) * m.rpe.values
    )
    np.testing.assert_allclose(
        m.predicted.values[ok], (rate - ds.baseline.values[0])[ok], rtol=1e-9
    )
    with pytest.raises(ConfigError, match="faithful"):
        dopafit.fit_learning(dopafit.load_nwb(sample, faithful=True), noise="poisson")


@pytest.mark.parametrize(
    "option",
    [{"n_rep": "two"}, {"n_rep": None}, {"n_rep": 0}, {"n_rep": 1.5}, {"noise_fraction": "high"}],
)
def test_recovery_counts_that_are_not_numbers_are_config_errors(option):
    ds = dopafit.simulate_learning("flip", n_units=2, n_trials=100, seed=0)
    (name,) = option
    with pytest.raises(ConfigError, match=name) as info:
        dopafit.learning_recovery(ds, params={"eta_pos": 0.1}, **option)
    assert repr(option[name]) in str(info.value)


@pytest.mark.parametrize(
    "option", [{"cued_fraction": "half"}, {"cued_fraction": None}, {"cued_fraction": 1.5}]
)
def test_simulated_trial_options_that_are_not_numbers_are_config_errors(option):
    (name,) = option
    with pytest.raises(ConfigError, match=name) as info:
        dopafit.simulate_learning("dabney", n_units=2, seed=0, **option)
    assert repr(option[name]) in str(info.value)


def test_make_trials_checks_its_numbers():
    from dopafit.simulate import make_trials

    for option in ({"n_trials": "many"}, {"pre": "a"}, {"post": None}, {"start": "x"}):
        (name,) = option
        with pytest.raises(ConfigError, match=name):
            make_trials("dabney", **{"n_trials": 3, **option})
    trials = make_trials("dabney", "3", seed=0, start=2)
    assert len(trials) == 3 and trials["start_time"].iloc[0] == 2.0
