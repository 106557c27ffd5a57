"""The verdict of dopafit.compare on clear simulated cases.

Populations with 40 units, 400 trials each and low noise: a distributional population is
said to reject classical TD and diverse symmetric biases; a classical one is said to reject
neither; a population of diverse symmetric biases rejects classical TD only. The verdict's
threshold is ``alpha`` and its strength words follow the calibrated p-value, whose smallest
attainable value is ``1 / (n_sim + 1)``.
"""

from __future__ import annotations

import numpy as np
import pytest

import dopafit
from dopafit.simulate import simulate_responses

OPTIONS = dict(accounts=("classical", "bias"), n_sim=39, n_splits=10, n_boot=0, mixed=False)


def _clear(kind: str, seed: int):
    return simulate_responses(
        population=kind, n_units=40, n_trials=400, seed=seed, uncued_offset=-1.5, noise=(1.0, 2.5)
    )


def _p(cmp, account: str, statistic: str) -> float:
    return float(cmp["p_calibrated"].sel(account=account, statistic=statistic))


@pytest.mark.parametrize("seed", [1, 2])
def test_distributional_population_rejects_classical_td_and_symmetric_biases(seed):
    cmp = dopafit.compare(_clear("distributional", seed), seed=seed, **OPTIONS)
    # 39 simulations: the observation beyond every one of them gives p = 1/40
    assert _p(cmp, "classical", "combined_diversity") == pytest.approx(1 / 40)
    assert _p(cmp, "bias", "combined_asymmetry") < 0.05
    verdict = cmp.dopafit.verdict
    assert verdict.startswith("The data reject classical TD (calibrated p = 0.025, ")
    assert "and reject diverse symmetric biases (p = " in verdict
    assert "do not reject" not in verdict and "neither" not in verdict
    assert "smallest attainable p = 0.025" in verdict


@pytest.mark.parametrize("seed", [1, 2])
def test_classical_population_rejects_nothing(seed):
    cmp = dopafit.compare(_clear("classical", seed), seed=seed, **OPTIONS)
    assert _p(cmp, "classical", "combined_diversity") >= 0.05
    assert _p(cmp, "bias", "combined_asymmetry") >= 0.05
    assert cmp.dopafit.verdict.startswith("The data reject neither classical TD (calibrated p = ")
    assert "no evidence beyond what noise and the pipeline produce" in cmp.dopafit.verdict


def test_symmetric_bias_population_rejects_classical_td_only():
    # the simulator's default noise (with the low noise above, the classical account's
    # gains absorb much of the diversity)
    ds = simulate_responses(population="bias", n_units=40, n_trials=200, seed=1, uncued_offset=-1.5)
    cmp = dopafit.compare(ds, seed=1, **OPTIONS)
    assert _p(cmp, "classical", "combined_diversity") < 0.05
    assert _p(cmp, "bias", "combined_asymmetry") >= 0.05
    assert cmp.dopafit.verdict.startswith("The data reject classical TD (calibrated p = 0.025, ")
    assert (
        "but do not distinguish distributional TD from diverse symmetric biases"
        in cmp.dopafit.verdict
    )


def test_alpha_below_the_smallest_attainable_p_rejects_nothing():
    """alpha = 0.01 with 39 simulations: p >= 1/40 > alpha, so even a clear distributional
    population cannot be said to reject anything."""
    cmp = dopafit.compare(_clear("distributional", 1), seed=1, alpha=0.01, **OPTIONS)
    assert _p(cmp, "classical", "combined_diversity") == pytest.approx(1 / 40)
    assert cmp.dopafit.verdict.startswith("The data reject neither classical TD")
    assert "(alpha = 0.01; 39 simulations" in cmp.dopafit.verdict


def test_strength_words_follow_the_p_value():
    """999 simulations: the clear population beyond all of them has p = 0.001, 'strongly'."""
    options = {**OPTIONS, "accounts": ("classical",), "n_sim": 999, "n_splits": 2}
    cmp = dopafit.compare(_clear("distributional", 2), seed=2, **options)
    assert _p(cmp, "classical", "combined_diversity") == pytest.approx(1 / 1000)
    assert cmp.dopafit.verdict.startswith(
        "The data strongly reject classical TD (calibrated p = 0.001"
    )
    assert "smallest attainable p = 0.001" in cmp.dopafit.verdict
    assert np.isfinite(
        float(cmp["observed"].sel(account="classical").sel(statistic="r_tau_reversal"))
    )


def test_footnote_states_the_attainable_p_of_each_kind_of_test():
    # the nulls are one-sided (smallest p 1/(n+1)); the accounts that produce the signature
    # are checked two-sided with a Bonferroni correction over the m combined statistics, so
    # their smallest p is 2m/(n+1): with 39 simulations and m = 2 nothing below 0.1
    from dopafit.stats.verdict import fmt_p

    n_sim = 39
    options = {**OPTIONS, "accounts": ("classical", "bias", "distributional"), "n_sim": n_sim}
    cmp = dopafit.compare(_clear("distributional", 1), seed=1, **options)
    ds = cmp  # the comparison Dataset
    combined = [str(s) for s in ds["statistic"].values if str(s).startswith("combined")]
    m = len(combined)
    assert m == 2
    two_sided = 2 * m / (n_sim + 1)
    assert (
        f"smallest attainable p = {fmt_p(1 / (n_sim + 1))} one-sided (the nulls) and "
        f"{fmt_p(two_sided)} for the two-sided checks" in cmp.dopafit.verdict
    )
    p = ds["p_calibrated"].sel(account="distributional", statistic=combined).values
    assert np.all(m * p >= two_sided - 1e-12)
    # with only the nulls requested the footnote names one bound
    cmp = dopafit.compare(_clear("distributional", 1), seed=1, **OPTIONS)
    assert "two-sided checks" not in cmp.dopafit.verdict
