"""Size of the calibrated tests under the null accounts, with binomial bands.

Datasets are simulated from a null account (classical TD, diverse symmetric biases) and each
is compared with that account by :func:`dopafit.compare`. A calibrated p-value is a multiple
of ``1 / (n_sim + 1)``, so the test "p < alpha" has the attainable size

- one-sided: ``#{k >= 1: k / (n_sim + 1) < alpha} / (n_sim + 1)``,
- two-sided (``p = min(1, 2 min(p_greater, p_less))``): twice ``#{k >= 1: 2 k / (n_sim + 1)
  < alpha} / (n_sim + 1)``,

exactly when the observation is exchangeable with the simulations, approximately when the
account is re-fitted to each dataset (as :func:`compare` does). The number of rejections
over ``D`` datasets must then lie in the two-sided binomial(D, size) band at 0.999: too many
rejections (a liberal test) and too few (a conservative test, or one that never rejects)
both fail. The band check is shown to fail on mis-calibrated p-values (the nominal ones, and
a test that never rejects).

Default suite: D = 200 datasets per account, ``n_sim = 19`` and ``alpha = 0.25`` (attainable
size 4/20 = 0.20; at ``alpha = 0.05`` nothing can reject with 19 simulations, and a band at
a size of a few percent cannot see a test that never rejects). The ``slow`` tests repeat the
check at the scale of the public recordings (40 units, their trial counts, ``n_sim = 99``) at
``alpha = 0.05`` and ``0.25``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dopafit
from dopafit.simulate import simulate_responses
from dopafit.stats.statistics import calibrated_p

CONFIDENCE = 0.999
#: the statistics the verdict reads for each null account, in the order it reads them
VERDICT_STATISTICS = {
    "classical": ("combined_diversity", "r_tau_reversal", "reliability"),
    "bias": ("combined_asymmetry", "r_tau_reversal"),
}


def attainable_size(alpha: float, n_sim: int, alternative: str = "greater") -> float:
    """P(p < alpha) for an exact calibrated p-value with ``n_sim`` simulations."""
    m = n_sim + 1
    if alternative == "two-sided":
        per_tail = sum(1 for k in range(1, m + 1) if 2 * k / m < alpha)
        return min(m, 2 * per_tail) / m
    return sum(1 for k in range(1, m + 1) if k / m < alpha) / m


def binomial_band(n_datasets: int, size: float, confidence: float = CONFIDENCE):
    """Two-sided central binomial(n_datasets, size) interval of the rejection count."""
    lo, hi = stats.binom.interval(confidence, n_datasets, size)
    return int(lo), int(hi)


def check_size(p: np.ndarray, alpha: float, size: float, label: str) -> str:
    """ "" when the count of ``p < alpha`` lies in the band at ``size``, else the problem."""
    p = np.asarray(p, dtype=float)
    k = int(np.sum(p < alpha))
    lo, hi = binomial_band(p.size, size)
    if lo <= k <= hi:
        return ""
    return (
        f"{label}: {k} of {p.size} datasets rejected at alpha = {alpha}, outside the "
        f"binomial({p.size}, {size:.4g}) band [{lo}, {hi}] at {CONFIDENCE}"
    )


def assert_sizes(p_table: pd.DataFrame, alpha: float, size: float, label: str) -> None:
    """Every column of ``p_table`` (one p-value per dataset) holds the size."""
    problems = [check_size(p_table[c], alpha, size, f"{label} {c}") for c in p_table.columns]
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_attainable_size_matches_enumeration_of_ranks():
    """The size formula against calibrated_p itself, enumerating the n + 1 equally likely
    ranks of an exchangeable observation."""
    for n_sim in (19, 39, 59, 99):
        values = np.arange(n_sim + 1, dtype=float)
        for alternative in ("greater", "two-sided"):
            p = np.array(
                [
                    calibrated_p(values[r], np.delete(values, r), alternative)[0]
                    for r in range(n_sim + 1)
                ]
            )
            for alpha in (0.05, 0.1, 0.25, 0.5):
                want = attainable_size(alpha, n_sim, alternative)
                assert np.mean(p < alpha) == pytest.approx(want), (n_sim, alternative, alpha)
    # the sizes the tests below use
    assert attainable_size(0.25, 19) == attainable_size(0.25, 19, "two-sided") == 0.2
    assert attainable_size(0.05, 19) == 0.0  # 19 simulations cannot reject at 0.05
    assert attainable_size(0.05, 99) == 0.04
    assert attainable_size(0.05, 99, "two-sided") == 0.04
    assert attainable_size(0.05, 59) == pytest.approx(2 / 60)


def test_band_rejects_conservative_and_liberal_counts():
    lo, hi = binomial_band(200, 0.2)
    assert 0 < lo < 40 < hi < 200
    never = np.ones(200)
    assert "outside" in check_size(never, 0.25, 0.2, "never rejects")
    always = np.zeros(200)
    assert "outside" in check_size(always, 0.25, 0.2, "always rejects")
    exact = (np.arange(200) % 20 + 1) / 20  # 40 of 200 below 0.25
    assert check_size(exact, 0.25, 0.2, "exact") == ""


# --------------------------------------------------------------------------------------------
# default suite: datasets from the account fitted to a population, compare's own simulator

N_DATASETS = 200
SMALL = dict(n_sim=19, n_splits=5, n_boot=0, mixed=False)
ALPHA = 0.25


def _p_values(account: str, datasets, **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibrated and nominal p-values (one row per dataset) of ``account``."""
    calibrated, nominal = [], []
    for i, ds in enumerate(datasets):
        df = dopafit.compare(
            ds, accounts=(account,), seed=1000 + i, **options
        ).dopafit.to_dataframe()
        df = df.set_index("statistic")
        calibrated.append(df["p_calibrated"])
        nominal.append(df["p_nominal"])
    return pd.DataFrame(calibrated), pd.DataFrame(nominal)


def _null_datasets(account: str, n: int):
    base = simulate_responses(
        population=account, n_units=30, n_trials=150, seed=0, uncued_offset=-1.5
    )
    return dopafit.simulate_account(base, account, n, seed=11)


@pytest.mark.parametrize("account", ["classical", "bias"])
def test_calibrated_size_under_the_null_accounts(account):
    size = attainable_size(ALPHA, SMALL["n_sim"])
    assert size == 0.2
    calibrated, nominal = _p_values(account, _null_datasets(account, N_DATASETS), **SMALL)
    # p-values are the attainable multiples of 1 / (n_sim + 1)
    m = SMALL["n_sim"] + 1
    used = calibrated[list(VERDICT_STATISTICS[account])].to_numpy()
    np.testing.assert_allclose(used * m, np.round(used * m), atol=1e-9)
    assert_sizes(calibrated[list(VERDICT_STATISTICS[account])], ALPHA, size, account)

    # the band sees a mis-calibrated test: one that never rejects ...
    never = calibrated[list(VERDICT_STATISTICS[account])] * 0 + 1.0
    with pytest.raises(AssertionError, match="outside the binomial"):
        assert_sizes(never, ALPHA, size, account)
    # ... and one that rejects too often: the nominal p-values (median over splits of the
    # textbook p) under the bias account, where diverse reversal points are reliable and the
    # pipeline correlates tau with them; they are continuous, so their size is alpha itself
    if account == "bias":
        for name in ("reliability", "r_tau_reversal"):
            with pytest.raises(AssertionError, match=f"{name}: .* outside the binomial"):
                assert_sizes(nominal[[name]], ALPHA, ALPHA, account)


# --------------------------------------------------------------------------------------------
# slow: the scale of the public recordings, the package's own generative populations

#: trials per neuron of the public recordings
DABNEY_TRIALS = [150, 162, 135, 198, 198, 198, 188, 193, 193, 168, 213, 213, 207, 187, 187, 250, 250, 221, 139, 164, 146, 285, 284, 289, 281, 281, 281, 228, 228, 303, 303, 291, 291, 294, 205, 148, 212, 179, 270, 264]  # fmt: skip
N_FULL = 500
FULL = dict(n_sim=99, n_splits=20, n_boot=0, mixed=False)


def _dabney_like(kind: str, n: int, first_seed: int = 100):
    for i in range(n):
        yield simulate_responses(
            population=kind,
            n_units=40,
            n_trials=DABNEY_TRIALS,
            seed=first_seed + i,
            cued_fraction=0.51,
            uncued_offset=-1.5,
            response_range=13.0,
            noise=(2.2, 6.4),
        )


@pytest.mark.slow
@pytest.mark.parametrize("account", ["classical", "bias"])
def test_full_scale_calibrated_size_under_the_null_accounts(account):
    """500 Dabney-like populations of the account (simulate_responses), n_sim = 99: the
    rejection counts at alpha = 0.05 (size 4/100) and 0.25 (size 24/100) lie in their bands."""
    calibrated, _ = _p_values(account, _dabney_like(account, N_FULL), **FULL)
    used = calibrated[list(VERDICT_STATISTICS[account])]
    for alpha in (0.05, 0.25):
        assert_sizes(used, alpha, attainable_size(alpha, FULL["n_sim"]), account)


@pytest.mark.slow
def test_calibrated_tests_have_power_on_distributional_data():
    """Distributional Dabney-like populations: the verdict's tests against classical TD and
    diverse symmetric biases reject at 0.05 in at least 75% of 40 datasets (30 of 40 has
    probability < 0.01 when the true power is 0.62 or less)."""
    options = dict(n_sim=59, n_splits=20, n_boot=0, mixed=False)
    rejections = {("classical", "r_tau_reversal"): 0, ("bias", "combined_asymmetry"): 0}
    for i, ds in enumerate(_dabney_like("distributional", 40)):
        df = dopafit.compare(ds, accounts=("classical", "bias"), seed=i, **options)
        df = df.dopafit.to_dataframe().set_index(["account", "statistic"])
        for key in rejections:
            rejections[key] += int(df.loc[key, "p_calibrated"] < 0.05)
    assert min(rejections.values()) >= 30, rejections
