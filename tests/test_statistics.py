"""The comparison's statistics against independent references written from their definitions.

``calibrated_p`` and ``npc_fisher`` against loops over the simulations and against the exact
distribution of ranks under exchangeability; ``neuron_bootstrap`` against a bootstrap written
here (scipy correlations and ANOVA) and by its coverage on populations with a known
correlation; ``tau_baseline_r`` and the leave-one-subject-out statistics against scipy on the
fitter's own per-unit and per-split estimates.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import dopafit
from dopafit.simulate import simulate_responses
from dopafit.stats.statistics import calibrated_p, neuron_bootstrap, npc_fisher

# --------------------------------------------------------------------------------------------
# calibrated_p


def _ref_calibrated_p(observed, simulated, alternative):
    """``(1 + #{sim at least as extreme}) / (1 + n)`` by an explicit loop over the finite sims."""
    finite = [s for s in simulated if np.isfinite(s)]
    if not np.isfinite(observed) or not finite:
        return np.nan, np.nan, np.nan
    n_ge = sum(1 for s in finite if s >= observed)
    n_le = sum(1 for s in finite if s <= observed)
    p_greater = (1 + n_ge) / (1 + len(finite))
    p_less = (1 + n_le) / (1 + len(finite))
    p = {
        "greater": p_greater,
        "less": p_less,
        "two-sided": min(1.0, 2 * min(p_greater, p_less)),
    }[alternative]
    return p, p_greater, p_less


def test_calibrated_p_hand_example():
    # sims 1, 2, 3, 4 (NaN and inf left out, n = 4); observed 3:
    # #{sim >= 3} = 2 -> p_greater = 3/5; #{sim <= 3} = 3 -> p_less = 4/5; two-sided 1
    sims = np.array([1.0, np.nan, 2.0, 3.0, np.inf, 4.0])
    assert calibrated_p(3.0, sims, "greater") == pytest.approx((0.6, 0.6, 0.8))
    assert calibrated_p(3.0, sims, "less") == pytest.approx((0.8, 0.6, 0.8))
    assert calibrated_p(3.0, sims, "two-sided")[0] == pytest.approx(1.0)
    # above every simulation: the smallest attainable p, 1 / (n + 1)
    assert calibrated_p(9.0, sims, "greater")[0] == pytest.approx(1 / 5)
    assert calibrated_p(9.0, sims, "two-sided")[0] == pytest.approx(2 / 5)
    assert np.isnan(calibrated_p(np.nan, sims, "greater")).all()
    assert np.isnan(calibrated_p(1.0, np.array([np.nan, np.inf]), "greater")).all()


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_calibrated_p_matches_loop_reference(alternative):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        sims = np.round(rng.normal(size=n), 1)  # ties with the observation
        sims[rng.random(n) < 0.1] = np.nan
        observed = float(np.round(rng.normal(), 1))
        got = calibrated_p(observed, sims, alternative)
        np.testing.assert_allclose(got, _ref_calibrated_p(observed, sims, alternative))


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_calibrated_p_is_exact_under_exchangeability(alternative):
    """With the observation at each of the n + 1 ranks in turn (each equally likely under
    the account), P(p <= k / (n + 1)) is exactly k / (n + 1) one-sided and
    2 floor(k / 2) / (n + 1) two-sided."""
    n = 19
    values = np.arange(n + 1, dtype=float)
    p = np.array(
        [calibrated_p(values[r], np.delete(values, r), alternative)[0] for r in range(n + 1)]
    )
    for k in range(1, n + 2):
        level = k / (n + 1)
        size = np.mean(p <= level + 1e-12)
        want = level if alternative != "two-sided" else min(1.0, 2 * (k // 2) / (n + 1))
        assert size == pytest.approx(want), (k, size, want)


# --------------------------------------------------------------------------------------------
# npc_fisher


def _ref_npc_fisher(observed, simulated, directions):
    """Fisher combination written as loops.

    Component c of simulation i: ``p = (1 + #{j != i: s_jc >= s_ic}) / n`` over the finite
    other simulations (n counts the finite ones; a non-finite value gets p = 1). Of the
    observation: ``p = (1 + #{j: s_jc >= o_c}) / (1 + n)``. ``T = -2 sum_c log p``.
    """
    obs = np.asarray(observed, float) * directions
    sim = np.asarray(simulated, float) * directions
    n_sim, k = sim.shape
    t_sim = np.zeros(n_sim)
    t_obs = 0.0
    for c in range(k):
        col = sim[:, c]
        finite = np.isfinite(col)
        n = int(finite.sum())
        for i in range(n_sim):
            if not finite[i]:
                continue  # p = 1
            others = [col[j] for j in range(n_sim) if j != i and finite[j]]
            t_sim[i] += -2 * np.log((1 + sum(o >= col[i] for o in others)) / n)
        if np.isfinite(obs[c]):
            t_obs += -2 * np.log((1 + np.sum(col[finite] >= obs[c])) / (1 + n))
    return t_obs, t_sim


def test_npc_fisher_matches_loop_reference():
    rng = np.random.default_rng(1)
    directions = np.array([1, -1, 1, 1])
    for _ in range(20):
        n_sim = int(rng.integers(5, 40))
        sim = np.round(rng.normal(size=(n_sim, 4)), 1)  # ties
        sim[rng.random(sim.shape) < 0.05] = np.nan
        obs = np.round(rng.normal(size=4), 1)
        if rng.random() < 0.3:
            obs[2] = np.nan
        t_obs, t_sim = npc_fisher(obs, sim, directions)
        r_obs, r_sim = _ref_npc_fisher(obs, sim, directions)
        assert t_obs == pytest.approx(r_obs, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(t_sim, r_sim, rtol=1e-12, atol=1e-12)


def test_npc_fisher_of_one_component_is_the_single_calibrated_test():
    # one component: the combined calibrated p equals the component's own calibrated p
    rng = np.random.default_rng(2)
    for direction, alternative in ((1, "greater"), (-1, "less")):
        for _ in range(50):
            sim = rng.normal(size=(19, 1))
            obs = rng.normal(size=1)
            t_obs, t_sim = npc_fisher(obs, sim, np.array([direction]))
            combined = calibrated_p(t_obs, t_sim, "greater")[0]
            single = calibrated_p(obs[0], sim[:, 0], alternative)[0]
            assert combined == pytest.approx(single)


def test_npc_fisher_combined_p_is_uniform_under_exchangeability():
    """Observation and simulations drawn alike (4 correlated components): the combined
    calibrated p-value is uniform on {1/20, ..., 1}; the count at or below 0.2 must lie in
    the two-sided binomial band at 0.999."""
    rng = np.random.default_rng(3)
    n_sim, reps = 19, 2000
    cov = 0.6 * np.ones((4, 4)) + 0.4 * np.eye(4)
    directions = np.array([1, 1, -1, 1])
    p = np.empty(reps)
    for i in range(reps):
        draws = rng.multivariate_normal(np.zeros(4), cov, size=n_sim + 1)
        t_obs, t_sim = npc_fisher(draws[0], draws[1:], directions)
        p[i] = calibrated_p(t_obs, t_sim, "greater")[0]
    for level in (0.05, 0.2, 0.5):
        lo, hi = stats.binom.interval(0.999, reps, level)
        k = int(np.sum(p <= level + 1e-12))
        assert lo <= k <= hi, f"{k} of {reps} at p <= {level}; band [{lo:.0f}, {hi:.0f}]"


def test_npc_fisher_rewards_evidence_in_the_stated_direction():
    sim = np.random.default_rng(4).normal(size=(99, 2))
    t_high, t_sim = npc_fisher(np.array([3.0, -3.0]), sim, np.array([1, -1]))
    assert calibrated_p(t_high, t_sim, "greater")[0] <= 2 / 100
    t_low, t_sim = npc_fisher(np.array([-3.0, 3.0]), sim, np.array([1, -1]))
    assert calibrated_p(t_low, t_sim, "greater")[0] > 0.5


# --------------------------------------------------------------------------------------------
# neuron bootstrap


def _splits(z_a, z_b, tau_b, tau_fold=None):
    n_split, n_unit = z_a.shape
    if tau_fold is None:
        tau_fold = np.zeros((n_split, 0, n_unit))
    return {"z_a": z_a, "z_b": z_b, "tau_b": tau_b, "tau_fold_masked": tau_fold}


def _population(rng, n_split, n_unit, rho, n_folds=0):
    """Per-split unit values with correlation ``rho`` between tau (B) and reversal (A)."""
    shared = rng.normal(size=n_unit)
    z_a = shared + 0.3 * rng.normal(size=(n_split, n_unit))
    z_b = shared + 0.3 * rng.normal(size=(n_split, n_unit))
    other = rng.normal(size=n_unit)
    tau_b = rho * shared + np.sqrt(1 - rho**2) * other + 0.3 * rng.normal(size=(n_split, n_unit))
    tau_fold = None
    if n_folds:
        tau_fold = 0.5 + 0.1 * shared + 0.2 * rng.normal(size=(n_split, n_folds, n_unit))
    return _splits(z_a, z_b, tau_b, tau_fold)


def _pearson(x, y):
    """Pearson r of every row of ``x`` with the same row of ``y``, from its definition."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    return (xc * yc).sum(-1) / np.sqrt((xc**2).sum(-1) * (yc**2).sum(-1))


def _anova_f(groups):
    """One-way ANOVA F of ``groups`` (..., n_obs, n_groups): between / within mean squares."""
    n, k = groups.shape[-2:]
    means = groups.mean(axis=-2)
    grand = means.mean(axis=-1, keepdims=True)
    between = n * ((means - grand) ** 2).sum(-1) / (k - 1)
    within = ((groups - means[..., None, :]) ** 2).sum((-2, -1)) / (k * (n - 1))
    return between / within


def _ref_bootstrap(splits, n_boot, rng, level):
    """Units resampled with replacement; statistics per split written from their
    definitions (Spearman: Pearson of scipy ranks), median over splits, percentile interval."""
    z_a, z_b, tau_b = splits["z_a"], splits["z_b"], splits["tau_b"]
    tf = splits["tau_fold_masked"]
    n_unit = z_a.shape[1]
    idx = rng.integers(0, n_unit, (n_boot, n_unit))
    a, b, t = z_a[:, idx], z_b[:, idx], tau_b[:, idx]  # (split, boot, unit)
    meds = {
        "reliability": np.median(_pearson(a, b), axis=0),
        "r_tau_reversal": np.median(_pearson(t, a), axis=0),
        "rho_tau_reversal": np.median(
            _pearson(stats.rankdata(t, axis=-1), stats.rankdata(a, axis=-1)), axis=0
        ),
    }
    if tf.shape[1] > 1:
        meds["anova_f"] = np.median(_anova_f(tf[:, :, idx].transpose(0, 2, 1, 3)), axis=0)
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    return {k: tuple(np.percentile(v, q)) for k, v in meds.items()}


def test_anova_reference_matches_scipy():
    groups = np.random.default_rng(0).normal(size=(5, 4))  # 5 observations of 4 groups
    want = stats.f_oneway(*groups.T).statistic
    assert _anova_f(groups) == pytest.approx(want, rel=1e-12)


def test_neuron_bootstrap_matches_reference_bootstrap():
    """Two independent bootstraps of the same population (different random draws, 3000
    resamples each) give the same intervals up to Monte Carlo error."""
    rng = np.random.default_rng(5)
    splits = _population(rng, n_split=3, n_unit=30, rho=0.5, n_folds=4)
    got = neuron_bootstrap(splits, 3000, seed=11, level=0.9)
    want = _ref_bootstrap(splits, 3000, np.random.default_rng(99), 0.9)
    assert (
        set(got)
        == set(want)
        == {
            "reliability",
            "r_tau_reversal",
            "rho_tau_reversal",
            "anova_f",
        }
    )
    for name in want:
        width = want[name][1] - want[name][0]
        np.testing.assert_allclose(got[name], want[name], atol=0.08 * width, err_msg=name)


def test_neuron_bootstrap_level_changes_the_interval():
    rng = np.random.default_rng(6)
    splits = _population(rng, n_split=4, n_unit=40, rho=0.4, n_folds=3)
    wide = neuron_bootstrap(splits, 800, seed=1, level=0.95)
    narrow = neuron_bootstrap(splits, 800, seed=1, level=0.5)
    for name in wide:
        (lo95, hi95), (lo50, hi50) = wide[name], narrow[name]
        assert lo95 < lo50 < hi50 < hi95, name
        # a normal-ish bootstrap distribution: the 50% interval is about 0.67/1.96 of the 95%
        ratio = (hi50 - lo50) / (hi95 - lo95)
        assert 0.25 < ratio < 0.45, (name, ratio)
    assert neuron_bootstrap(splits, 0, seed=1) == {}


def test_neuron_bootstrap_covers_the_population_correlation():
    """Coverage on simulated populations: unit pairs (reversal, tau) bivariate normal with
    correlation 0.5, one split; the 90% interval of r_tau_reversal must cover 0.5 in about 90%
    of 300 populations (percentile intervals of r at n = 40 cover slightly less than nominal:
    the band [0.82, 0.96] allows that and fails an interval of another level)."""
    rng = np.random.default_rng(7)
    rho, n_unit, reps = 0.5, 40, 300
    cov = np.array([[1.0, rho], [rho, 1.0]])
    hits = {0.9: 0, 0.5: 0}
    for _ in range(reps):
        z, t = rng.multivariate_normal([0, 0], cov, size=n_unit).T
        splits = _splits(z[None], z[None] + rng.normal(size=(1, n_unit)), t[None])
        for level in hits:
            lo, hi = neuron_bootstrap(splits, 400, seed=int(rng.integers(2**31)), level=level)[
                "r_tau_reversal"
            ]
            hits[level] += lo <= rho <= hi
    assert 0.82 <= hits[0.9] / reps <= 0.96, hits
    assert 0.38 <= hits[0.5] / reps <= 0.60, hits


# --------------------------------------------------------------------------------------------
# tau_baseline_r and the leave-one-subject-out statistics, on the fitter's own estimates

SUBJECTS = np.array(["m1"] * 9 + ["m2"] * 8 + ["m3"] * 7 + ["unknown"] * 6, dtype=object)


@pytest.fixture(scope="module")
def population():
    ds = simulate_responses(
        population="distributional", n_units=30, n_trials=150, seed=21, uncued_offset=-1.0
    )
    ds = ds.assign_coords(subject=("unit", SUBJECTS))
    # baseline rates related to tau, so that tau_baseline_r is far from 0
    base = 4.0 + 6.0 * ds["true_tau"].values + np.random.default_rng(0).normal(0, 0.5, 30)
    ds = ds.assign_coords(baseline_rate=("unit", base))
    cmp = dopafit.compare(ds, accounts=("classical",), n_sim=9, n_splits=12, n_boot=0, seed=5)
    fit = dopafit.fit_expectiles(ds, n_splits=12, n_boot=0, seed=5)
    return ds, cmp, fit


def _observed(cmp, name):
    return float(cmp["observed"].sel(account="classical", statistic=name))


def test_tau_baseline_r_is_pearson_of_the_fitted_tau_and_the_baseline(population):
    ds, cmp, fit = population
    ok = fit["fit_ok"].values & np.isfinite(fit["tau"].values)
    r, p = stats.pearsonr(fit["tau"].values[ok], ds["baseline_rate"].values[ok])
    assert r > 0.3  # the relation built into the population is seen
    assert _observed(cmp, "tau_baseline_r") == pytest.approx(r, rel=1e-9)
    nominal = float(cmp["p_nominal"].sel(statistic="tau_baseline_r"))
    assert nominal == pytest.approx(p, rel=1e-6)


def test_leave_one_subject_out_statistics_match_scipy(population):
    ds, cmp, fit = population
    z_a = fit["reversal_point_a"].values  # (split, unit)
    tau_b = fit["tau_b"].values
    subjects = ds["subject"].values
    left_out = {}
    for g in ("m1", "m2", "m3"):  # "unknown" is never one animal: never left out as a group
        keep = subjects != g
        rs = []
        for s in range(z_a.shape[0]):
            ok = keep & np.isfinite(z_a[s]) & np.isfinite(tau_b[s])
            rs.append(stats.pearsonr(tau_b[s, ok], z_a[s, ok])[0])
        left_out[g] = float(np.median(rs))
    assert list(cmp["subject_left_out"].values) == ["m1", "m2", "m3"]
    np.testing.assert_allclose(
        cmp["observed_loao"].values, [left_out[g] for g in ("m1", "m2", "m3")], rtol=1e-9
    )
    values = np.array(list(left_out.values()))
    assert _observed(cmp, "loao_min") == pytest.approx(values.min(), rel=1e-9)
    assert _observed(cmp, "loao_range") == pytest.approx(np.ptp(values), rel=1e-9)
    assert _observed(cmp, "loao_range") > 0
