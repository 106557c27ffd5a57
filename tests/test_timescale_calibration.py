"""Calibration of compare_timescales on simulated populations with known truth.

False-positive rate of "multi-timescale" (p_multi < 0.05) on single-timescale populations
(40 units, 200 trials, 4 delays) within the two-sided 95% binomial band around 0.05 at the
number of datasets (a test that never rejects fails it: the band's lower end is >= 1), power
on multi-timescale populations above a lower bound, and the exponential-against-hyperbolic
test's power on hyperbolic populations. The numbers are reproduced, larger, by
``benchmarks/eval_timescale_calibration.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import dopafit
from dopafit.stats.timescales import compare_timescales

ALPHA = 0.05


def simulate(population, seed, n_units=40, n_trials=200):
    return dopafit.simulate_discounting(
        population=population, n_units=n_units, n_trials=n_trials, seed=seed
    )


def band(n, alpha=ALPHA, level=0.95):
    """Two-sided binomial band of the number of rejections at rate alpha among n datasets."""
    return (
        int(stats.binom.ppf((1 - level) / 2, n, alpha)),
        int(stats.binom.ppf((1 + level) / 2, n, alpha)),
    )


def p_values(population, n_datasets, n_sim, n_splits, accounts, seed0=1000, n_inner=0):
    """p_multi (reliability, heterogeneity), p_hyperbolic, p_exponential, p_hyperbolic_raw
    per dataset."""
    out = np.full((n_datasets, 5), np.nan)
    for i in range(n_datasets):
        c = compare_timescales(
            simulate(population, seed0 + i),
            n_sim=n_sim,
            n_splits=n_splits,
            accounts=accounts,
            seed=i,
            n_inner=n_inner,
        )
        out[i, :2] = c["p_multi"].values[:2]
        out[i, 2] = float(c["p_hyperbolic"])
        out[i, 3] = float(c["p_exponential"])
        out[i, 4] = float(c["p_hyperbolic_raw"])
    return out


def assert_in_band(p, n, what):
    lo, hi = band(n)
    assert lo >= 1, "the band must exclude a test that never rejects"
    k = int(np.sum(p < ALPHA))
    assert lo <= k <= hi, f"{what}: {k}/{n} rejections outside the 95% band {lo}-{hi}"


def test_band_rejects_a_test_that_never_rejects():
    lo, hi = band(100)
    assert (lo, hi) == (1, 10)
    assert not lo <= 0 <= hi


def test_single_timescale_false_positive_rate_within_the_band():
    # 100 datasets x 49 simulations, 10 split halves (about 10 s)
    n = 100
    p = p_values("single", n, 49, 10, ("single",))
    assert_in_band(p[:, 0], n, "gamma_reliability")
    assert_in_band(p[:, 1], n, "gamma_heterogeneity")


def test_power_on_multi_timescale_populations():
    # benchmarks/eval_timescale_calibration.py (n_sim 199, 20 splits, 100 datasets) measured
    # power 0.91 [0.84, 0.96] (heterogeneity) and 0.53 [0.43, 0.63] (reliability)
    n = 20
    p = p_values("multi", n, 49, 10, ("single",))
    assert np.mean(p[:, 1] < ALPHA) >= 0.8
    assert np.mean(p[:, 0] < ALPHA) >= 0.15
    assert np.mean(np.minimum(p[:, 0], p[:, 1]) < ALPHA) >= np.mean(p[:, 1] < ALPHA)


@pytest.mark.slow
def test_power_of_hyperbolic_on_hyperbolic_populations():
    # 40 datasets x 99 simulations x 39 inner (double bootstrap), a few minutes. The benchmark
    # (the same settings, 60 datasets) measured power 0.40 [0.28, 0.54], exponential wrongly
    # favoured 2/60, the data undecided 34/60 (k in 0.2-2 /s and 4 delays: the trap of few
    # delays). With 49 simulations the power falls to 5/40 (p is coarser).
    n = 40
    p = p_values("hyperbolic", n, 99, 0, ("multi", "hyperbolic"), n_inner=39)
    assert np.mean(p[:, 2] < ALPHA) >= 0.2
    assert np.sum(p[:, 3] < ALPHA) <= band(n)[1]  # exponential (wrongly) favoured


@pytest.mark.slow
def test_hyperbolic_false_positive_rate_on_exponential_populations():
    # the single-level test is anti-conservative on multi-timescale populations (measured
    # 0.10-0.15); the double bootstrap brings it to 0.05 (benchmark: 3/60 on single- and 3/60
    # on multi-timescale populations; only the upper end of the band is asserted, the double
    # bootstrap may be conservative). 100 datasets x 49 x 49, minutes
    n = 100
    p = p_values("multi", n, 49, 0, ("multi",), seed0=3000, n_inner=49)
    k = int(np.sum(p[:, 2] < ALPHA))
    assert k <= band(n)[1], f"{k}/{n} false 'hyperbolic'"
    assert np.sum(p[:, 4] < ALPHA) >= k  # the single level rejects at least as often


@pytest.mark.slow
def test_single_timescale_false_positive_rate_large():
    # 200 datasets x 199 simulations, 20 split halves (several minutes). The benchmark
    # (other seeds) measured 6/200 for each statistic, band 4-16
    n = 200
    p = p_values("single", n, 199, 20, ("single",), seed0=5000)
    assert_in_band(p[:, 0], n, "gamma_reliability")
    assert_in_band(p[:, 1], n, "gamma_heterogeneity")
