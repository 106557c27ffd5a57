"""Variable-probability task statistics: expectile helpers, t, labels, dispersion calibration."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from scipy.optimize import brentq

from dopafit.errors import ConfigError, FitError, MissingColumnError, ResponsesError
from dopafit.schema import make_responses
from dopafit.stats.probability import (
    bernoulli_expectile,
    midpoint_t,
    optimism_from_tau,
    probability_task_stats,
    t_dispersion,
    tau_from_optimism,
)

LEVELS = (0.1, 0.5, 0.9)


def simulate(taus, seed, *, n_trials=(60, 120), noise=(1.0, 3.0), gain=(4.0, 10.0)):
    """Cue responses R = b + g e_tau(p) + Gaussian noise; 10% of trials carry no cue (NaN).

    Units differ in trial count, baseline b, gain g and noise SD; units with fewer trials
    are padded with NaN. The cue probability is the (unit, trial) coordinate
    ``reward_probability``.
    """
    rng = np.random.default_rng(seed)
    n_unit, n_max = len(taus), n_trials[1]
    resp = np.full((n_unit, n_max), np.nan)
    reward = np.full((n_unit, n_max), np.nan)
    prob = np.full((n_unit, n_max), np.nan)
    for u, tau in enumerate(taus):
        n = int(rng.integers(n_trials[0], n_trials[1] + 1))
        p = rng.choice([0.1, 0.5, 0.9, np.nan], size=n, p=[0.3, 0.3, 0.3, 0.1])
        b, g, s = rng.uniform(-2, 2), rng.uniform(*gain), rng.uniform(*noise)
        mean = b + g * bernoulli_expectile(tau, np.nan_to_num(p, nan=0.0))
        resp[u, :n] = mean + s * rng.standard_normal(n)
        prob[u, :n] = p
        reward[u, :n] = (rng.random(n) < np.nan_to_num(p)).astype(float)
    ds = make_responses(
        resp, reward, attrs={"align": "cue"}, unit_vars={"true_tau": np.asarray(taus)}
    )
    return ds.assign_coords(reward_probability=(("unit", "trial"), prob))


def brute_bernoulli_expectile(tau, p):
    f = lambda e: tau * p * (1 - e) - (1 - tau) * (1 - p) * e  # noqa: E731
    return brentq(f, 0.0, 1.0, xtol=1e-14)


# ---------------------------------------------------------------- expectile helpers
def test_bernoulli_expectile_solves_the_expectile_condition():
    rng = np.random.default_rng(0)
    for tau, p in rng.uniform(0.01, 0.99, (50, 2)):
        assert bernoulli_expectile(tau, p) == pytest.approx(brute_bernoulli_expectile(tau, p))
    np.testing.assert_allclose(bernoulli_expectile(0.5, np.array(LEVELS)), LEVELS)
    # broadcasting: (3, 1) taus x (4,) probabilities
    assert bernoulli_expectile(np.array([[0.2], [0.5], [0.8]]), np.linspace(0.1, 0.9, 4)).shape == (
        3,
        4,
    )


def test_optimism_index_limits_monotonicity_and_inverse():
    tau = np.linspace(0.001, 0.999, 999)
    index = optimism_from_tau(tau)
    assert np.all(np.diff(index) > 0)
    assert optimism_from_tau(0.5) == pytest.approx(0.5)
    assert index[0] == pytest.approx(0.1, abs=1e-2) and index[-1] == pytest.approx(0.9, abs=1e-2)
    np.testing.assert_allclose(tau_from_optimism(index), tau, atol=1e-9)
    # outside the range the expectile model can produce: NaN
    assert np.isnan(tau_from_optimism([0.05, 0.95, np.nan, -1.0])).all()
    # other levels: neutral index is (p_mid - p_lo) / (p_hi - p_lo)
    assert optimism_from_tau(0.5, (0.2, 0.3, 0.7)) == pytest.approx(0.2)
    assert float(tau_from_optimism(optimism_from_tau(0.7, (0.2, 0.3, 0.7)), (0.2, 0.3, 0.7))) == (
        pytest.approx(0.7)
    )
    with pytest.raises(ConfigError):
        optimism_from_tau(0.5, (0.9, 0.5, 0.1))


# ---------------------------------------------------------------- the t-statistic
def test_midpoint_t_reduces_to_known_tests():
    rng = np.random.default_rng(1)
    low, mid, high = rng.normal(0, 1, 20), rng.normal(1, 2, 25), rng.normal(3, 1.5, 30)
    # neutral point taken as known: a one-sample t test against it
    t, df = midpoint_t(low, mid, high, include_midpoint_variance=False)
    ref = stats.ttest_1samp(mid, (low.mean() + high.mean()) / 2)
    assert t == pytest.approx(ref.statistic) and df == 24
    # weight 0 (neutral point = mean of the low cue): Welch's two-sample t, same df
    t, df = midpoint_t(low, mid, high, weight=0.0)
    ref = stats.ttest_ind(mid, low, equal_var=False)
    assert t == pytest.approx(ref.statistic) and df == pytest.approx(ref.df)
    # constant low/high groups: the midpoint has no variance, back to the one-sample t
    t, df = midpoint_t(np.full(5, 1.0), mid, np.full(7, 3.0))
    ref = stats.ttest_1samp(mid, 2.0)
    assert t == pytest.approx(ref.statistic) and df == pytest.approx(24)
    assert np.isnan(midpoint_t(low[:1], mid, high)[0])


def test_t_dispersion_detects_spread_not_shift():
    rng = np.random.default_rng(2)
    df = rng.uniform(20, 60, 400)
    null = t_dispersion(stats.t.rvs(df, random_state=rng), df)
    assert null["ratio"] == pytest.approx(1.0, abs=0.2) and not null["wider"]
    wide = t_dispersion(2.0 * stats.t.rvs(df, random_state=rng), df)
    assert wide["wider"] and wide["ratio"] > 3 and wide["p_ks"] < 1e-3
    shifted = t_dispersion(stats.t.rvs(df, random_state=rng) + 3.0, df)
    assert not shifted["wider"] and shifted["p_ks"] < 1e-3  # KS sees the shift, spread test not
    assert t_dispersion([1.0, np.nan], [10.0, 10.0])["n"] == 1


# ---------------------------------------------------------------- per-unit statistics
def test_noise_free_optimism_recovers_the_expectile_value():
    taus = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    rng = np.random.default_rng(3)
    n = 30
    prob = np.tile(np.repeat(LEVELS, n), (taus.size, 1))
    base, gain = rng.uniform(-2, 2, (taus.size, 1)), rng.uniform(1, 10, (taus.size, 1))
    resp = base + gain * bernoulli_expectile(taus[:, None], prob)
    ds = make_responses(resp, np.zeros_like(resp))
    out = probability_task_stats(ds, xr.DataArray(prob, dims=("unit", "trial")))
    np.testing.assert_allclose(out.optimism, optimism_from_tau(taus), atol=1e-12)
    np.testing.assert_allclose(out.tau_implied, taus, atol=1e-9)
    np.testing.assert_array_equal(out.n_trials, n)
    # without noise the middle cue differs significantly from both others: "neutral" (between)
    assert (out.label == "neutral").all()
    assert (out.p_above_low < 1e-6).all() and (out.p_below_high < 1e-6).all()


def test_labels_follow_the_two_mann_whitney_tests():
    rng = np.random.default_rng(8)
    n = 30
    low, high = rng.normal(0, 1, (3, n)), rng.normal(5, 1, (3, n))
    mid = np.stack([rng.normal(5, 1, n), rng.normal(0, 1, n), rng.normal(2.5, 1, n)])
    resp = np.concatenate([low, mid, high], axis=1)
    prob = np.tile(np.repeat(LEVELS, n), (3, 1))
    out = probability_task_stats(make_responses(resp, np.zeros_like(resp)), prob)
    assert out.label.values.tolist() == ["optimistic", "pessimistic", "neutral"]
    for u in range(3):
        ref_low = stats.mannwhitneyu(mid[u], low[u], alternative="greater").pvalue
        ref_high = stats.mannwhitneyu(mid[u], high[u], alternative="less").pvalue
        assert float(out.p_above_low[u]) == pytest.approx(ref_low)
        assert float(out.p_below_high[u]) == pytest.approx(ref_high)


def test_null_population_dispersion_test_is_calibrated():
    # every neuron neutral (tau = 0.5): rejection rate at alpha = 0.05 over 200 datasets
    n_sets, alpha = 200, 0.05
    p = np.array(
        [
            float(probability_task_stats(simulate(np.full(40, 0.5), seed)).dispersion_p_spread)
            for seed in range(n_sets)
        ]
    )
    rejections = int(np.sum(p < alpha))
    lo, hi = stats.binom.ppf([0.005, 0.995], n_sets, alpha)
    assert lo <= rejections <= hi, rejections
    # p-values roughly uniform
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_ignoring_the_midpoint_variance_overdisperses_the_null():
    rej = [
        bool(
            probability_task_stats(
                simulate(np.full(40, 0.5), seed), include_midpoint_variance=False
            ).dispersion_wider
        )
        for seed in range(30)
    ]
    assert np.mean(rej) > 0.25  # nominal 0.05


def test_diverse_population_has_optimists_and_pessimists():
    taus = np.random.default_rng(4).uniform(0.1, 0.9, 40)
    out = probability_task_stats(simulate(taus, 5))
    labels = out.label.values
    assert (labels == "optimistic").sum() >= 1 and (labels == "pessimistic").sum() >= 1
    assert bool(out.dispersion_wider) and float(out.dispersion_ratio) > 2
    assert taus[labels == "optimistic"].mean() > 0.5 > taus[labels == "pessimistic"].mean()
    # the observed index tracks the expectile-model index (r: median 0.85, 5% 0.70, 100 seeds)
    assert np.corrcoef(out.optimism, optimism_from_tau(taus))[0, 1] > 0.5
    assert out.t.dims == ("unit",) and out.mean_response.dims == ("unit", "level")
    assert out.unit_id.values.tolist() == [str(i) for i in range(40)]


def test_probability_inputs_are_equivalent():
    ds = simulate(np.full(8, 0.5), 6)
    by_name = probability_task_stats(ds)
    by_array = probability_task_stats(ds, ds["reward_probability"].values)
    cue_id = xr.where(np.isfinite(ds.reward_probability), ds.reward_probability * 10, 0)
    by_ids = probability_task_stats(
        ds.assign_coords(cue_id=cue_id), "cue_id", mapping={1: 0.1, 5: 0.5, 9: 0.9}
    )
    for other in (by_array, by_ids):
        for name in ("t", "df", "optimism", "p_above_low", "p_below_high"):
            np.testing.assert_array_equal(by_name[name], other[name])
    assert by_ids.attrs["mapping"] == {"1": 0.1, "5": 0.5, "9": 0.9}


def test_errors_are_named():
    ds = simulate(np.full(3, 0.5), 7)
    with pytest.raises(MissingColumnError, match="cue_prob"):
        probability_task_stats(ds, "cue_prob")
    with pytest.raises(FitError, match="cue probability 10"):
        probability_task_stats(ds, levels=(10, 50, 90))
    with pytest.raises(ConfigError, match="shape"):
        probability_task_stats(ds, np.zeros(3))
    with pytest.raises(ConfigError, match="increasing"):
        probability_task_stats(ds, levels=(0.5, 0.1, 0.9))


def test_degenerate_inputs_raise_named_errors():
    ds = simulate(np.full(3, 0.5), 8)
    no_cue = ds.assign_coords(reward_probability=ds.reward_probability * np.nan)
    with pytest.raises(FitError, match="no trial with a finite cue probability"):
        probability_task_stats(no_cue)
    one_level = ds.assign_coords(reward_probability=xr.full_like(ds.reward_probability, 0.5))
    with pytest.raises(FitError, match="cue probability 0.1.*found probability values 0.5"):
        probability_task_stats(one_level)
    with pytest.raises(FitError, match="no trial with a finite cue probability"):
        probability_task_stats(ds.isel(unit=slice(0, 0)))
    with pytest.raises(ResponsesError, match=r"dims \(unit, trial\)"):
        probability_task_stats(ds.isel(unit=0))
    with pytest.raises(ConfigError, match="mapping from numbers"):
        probability_task_stats(ds, mapping={"low": 0.1})
    with pytest.raises(ConfigError, match="mapping from numbers"):
        probability_task_stats(ds, mapping={0.1: "low"})
    with pytest.raises(ConfigError, match="as numbers"):
        probability_task_stats(ds, np.full((3, ds.sizes["trial"]), "a"))
    for alpha in ("x", 0.0, 2.0, np.nan):
        with pytest.raises(ConfigError, match=r"alpha a number in \(0, 1\)"):
            probability_task_stats(ds, alpha=alpha)


def test_a_single_unit_keeps_its_dimension():
    ds = simulate(np.linspace(0.2, 0.8, 4), 9)
    one = probability_task_stats(ds.isel(unit=[2]))
    full = probability_task_stats(ds)
    assert one.sizes["unit"] == 1 and one.dispersion_n.item() == 1
    np.testing.assert_array_equal(one.t.values, full.t.values[[2]])
    assert not one.dispersion_wider.item()
