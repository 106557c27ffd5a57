"""Expectile decoding of the reward distribution: kernels, exact expectiles, recovery, controls."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import brentq

from dopafit.errors import ConfigError, DopafitWarning, FitError
from dopafit.kernels.decode import expectile_loss, expectile_loss_batch, expectile_loss_grad
from dopafit.stats.decode import (
    DEFAULTS,
    classical_control,
    decode_distribution,
    exact_expectiles,
    reference_distributions,
)

# the variable-magnitude task of Dabney et al. (2020)
VALUES = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
PROBS = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])
BOUNDS = (0.1, 20.0)
TAUS = np.linspace(0.02, 0.98, 40)  # 40 neurons, evenly spaced, both ends included
# faster than DEFAULTS (2000 starts, 5 polished, 3 epochs); the docs give both sets of numbers
FAST = {"n_starts": 500, "n_polish": 2, "n_epochs": 2}


def brute_expectile(values, probs, tau):
    """Reference tau-expectile: root of tau E[(Z-e)+] - (1-tau) E[(e-Z)+] by bisection."""
    v = np.asarray(values, float)
    p = np.asarray(probs, float) / np.sum(probs)

    def f(e):
        return tau * np.sum(p * np.clip(v - e, 0, None)) - (1 - tau) * np.sum(
            p * np.clip(e - v, 0, None)
        )

    if tau <= 0:
        return v.min()
    if tau >= 1:
        return v.max()
    return brentq(f, v.min(), v.max(), xtol=1e-13)


def true_moments():
    p = PROBS / PROBS.sum()
    mean = np.sum(p * VALUES)
    return mean, np.sqrt(np.sum(p * (VALUES - mean) ** 2))


# ---------------------------------------------------------------- kernels vs numpy reference
def np_loss_grad(z, tau, e):
    w = np.where(z[None, :] <= e[:, None], 1.0 - tau[:, None], tau[:, None])  # (M, N)
    g = np.mean(w * (z[None, :] - e[:, None]), axis=1)
    loss = np.mean(g**2)
    grad = 2.0 / (tau.size * z.size) * (g[:, None] * w).sum(axis=0)
    return loss, grad


@pytest.mark.parametrize("seed", range(6))
def test_kernel_matches_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 150), rng.integers(1, 60)
    z = rng.uniform(-3, 12, n)
    tau = rng.uniform(0, 1, m)
    e = rng.uniform(-2, 10, m)
    z[: min(n, m) // 3] = e[: min(n, m) // 3]  # exact ties z == e take the "<=" branch
    loss, grad = expectile_loss_grad(z, tau, e)
    ref_loss, ref_grad = np_loss_grad(z, tau, e)
    assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-11, atol=1e-15)
    assert expectile_loss(z, tau, e) == pytest.approx(ref_loss, rel=1e-12, abs=1e-300)
    zs = rng.uniform(-3, 12, (7, n))
    batch = expectile_loss_batch(zs, tau, e)
    np.testing.assert_allclose(batch, [np_loss_grad(r, tau, e)[0] for r in zs], rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_gradient_matches_finite_differences_away_from_kinks(seed):
    rng = np.random.default_rng(100 + seed)
    tau = rng.uniform(0.05, 0.95, 25)
    e = np.sort(rng.uniform(0, 10, 25))
    z = rng.uniform(0, 10, 60)
    h = 1e-6
    # move samples at least 10 h away from every kink z_j = e_i
    near = np.min(np.abs(z[:, None] - e[None, :]), axis=1) < 1e-4
    z[near] += 2e-4
    _, grad = expectile_loss_grad(z, tau, e)
    fd = np.empty_like(z)
    for j in range(z.size):
        up, dn = z.copy(), z.copy()
        up[j] += h
        dn[j] -= h
        fd[j] = (expectile_loss(up, tau, e) - expectile_loss(dn, tau, e)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-10)


def test_loss_is_zero_at_a_consistent_sample():
    # the pairs are exactly the expectiles of the sample itself
    rng = np.random.default_rng(3)
    z = rng.gamma(2.0, 2.0, 50)
    tau = rng.uniform(0.05, 0.95, 30)
    e = exact_expectiles(z, None, tau)
    assert expectile_loss(z, tau, e) < 1e-25
    assert expectile_loss(z + 0.5, tau, e) > 1e-3


# ---------------------------------------------------------------- exact expectiles
def test_exact_expectiles_match_bisection():
    rng = np.random.default_rng(0)
    for _ in range(5):
        v = rng.normal(0, 3, rng.integers(1, 12))
        p = rng.dirichlet(np.ones(v.size))
        taus = np.concatenate([[0.0, 1.0, 0.5], rng.uniform(0, 1, 20)])
        ours = exact_expectiles(v, p, taus)
        ref = [brute_expectile(v, p, t) for t in taus]
        np.testing.assert_allclose(ours, ref, atol=1e-10)
    # tau = 0.5 gives the mean; scalar in, 0-d out
    assert float(exact_expectiles(VALUES, PROBS, 0.5)) == pytest.approx(true_moments()[0])


def test_exact_expectiles_agree_with_the_simulator_when_present():
    from dopafit import simulate

    ours = exact_expectiles(VALUES, PROBS, TAUS)
    theirs = np.asarray(simulate.expectile(VALUES, PROBS, TAUS), dtype=float)
    np.testing.assert_allclose(theirs, ours, atol=1e-8)


# ---------------------------------------------------------------- decoding: recovery
@pytest.fixture(scope="module")
def dabney_decodes():
    e = np.array([brute_expectile(VALUES, PROBS, t) for t in TAUS])
    return [
        decode_distribution(
            TAUS, e, BOUNDS, seed=s, true_values=VALUES, true_probabilities=PROBS, **FAST
        )
        for s in range(3)
    ]


def test_decoding_exact_expectiles_recovers_mean_and_sd(dabney_decodes):
    mean, sd = true_moments()
    for res in dabney_decodes:
        assert abs(res.dopafit.mean - mean) < 0.1
        assert abs(res.dopafit.sd - sd) < 0.3
        assert res.dopafit.samples.shape == (100,)
        assert np.all(np.diff(res.dopafit.samples) >= 0)
        assert res.dopafit.samples.min() >= BOUNDS[0] and res.dopafit.samples.max() <= BOUNDS[1]
        # the decoded samples' own expectiles reproduce the reversal points
        np.testing.assert_allclose(res.dopafit.expectiles(), res["reversal_point"].values, atol=0.5)
        assert res.attrs["loss"] < 1e-3


def test_decoded_is_closer_to_the_truth_than_to_every_reference(dabney_decodes):
    for res in dabney_decodes:
        d = res.dopafit.distances()
        assert set(d.index) == {
            "truth",
            "uniform",
            "gaussian",
            "mirrored",
            "shifted_up",
            "shifted_down",
            "scaled_wide",
            "scaled_narrow",
        }
        assert d["truth"] < d.drop("truth").min()


def test_decoding_recovers_an_asymmetric_bimodal_distribution():
    values, probs = np.array([1.0, 9.0]), np.array([0.7, 0.3])
    e = np.array([brute_expectile(values, probs, t) for t in TAUS])
    res = decode_distribution(TAUS, e, (0.0, 10.0), true_values=values, true_probabilities=probs)
    assert abs(res.dopafit.mean - 3.4) < 0.05
    assert abs(res.dopafit.sd - np.sqrt(0.21) * 8) < 0.3
    d = res.dopafit.distances()
    assert d["truth"] < d.drop("truth").min()
    # bimodal: almost no mass between the modes
    assert np.mean((res.dopafit.samples > 3) & (res.dopafit.samples < 7)) < 0.05


def test_decoding_is_deterministic_for_a_seed():
    e = exact_expectiles(VALUES, PROBS, TAUS)
    a = decode_distribution(TAUS, e, BOUNDS, seed=7, n_starts=100, n_polish=1, n_epochs=1)
    b = decode_distribution(TAUS, e, BOUNDS, seed=7, n_starts=100, n_polish=1, n_epochs=1)
    c = decode_distribution(TAUS, e, BOUNDS, seed=8, n_starts=100, n_polish=1, n_epochs=1)
    np.testing.assert_array_equal(a.dopafit.samples, b.dopafit.samples)
    assert a.attrs["loss"] == b.attrs["loss"]
    assert not np.array_equal(a.dopafit.samples, c.dopafit.samples)


# ---------------------------------------------------------------- classical control
def test_classical_control_collapses_around_the_mean(dabney_decodes):
    mean, sd = true_moments()
    assert sd == pytest.approx(5.2685, abs=1e-3)
    best_w1 = max(r.dopafit.distances()["truth"] for r in dabney_decodes)
    for seed in range(5):
        res = classical_control(
            mean, BOUNDS, seed=seed, true_values=VALUES, true_probabilities=PROBS, **FAST
        )
        assert res.attrs["control"] == "classical"
        assert abs(res.dopafit.mean - mean) < 0.3
        assert res.dopafit.sd < 1.5 < 0.3 * sd  # collapsed: under 30% of the true SD
        assert res.dopafit.distances()["truth"] > 10 * best_w1


def test_without_tau_spread_only_the_mean_is_pinned():
    # all tau exactly 0.5 at the mean: any distribution with that mean has zero loss, so the
    # collapse of the classical control comes from tau noise uncorrelated with reversal points
    mean, _ = true_moments()
    res = classical_control(mean, BOUNDS, tau_sd=0.0, reversal_sd=0.0, **FAST)
    assert res.attrs["loss"] < 1e-20
    assert res.dopafit.mean == pytest.approx(mean, abs=1e-6)
    assert res.dopafit.sd > 2.0


# ---------------------------------------------------------------- references, outputs, errors
def test_reference_distributions_have_the_stated_moments():
    refs = reference_distributions(VALUES, PROBS, BOUNDS)
    mean, sd = true_moments()

    def moments(v, w):
        m = np.sum(w * v) / np.sum(w)
        return m, np.sqrt(np.sum(w * (v - m) ** 2) / np.sum(w))

    assert moments(*refs["gaussian"]) == pytest.approx((mean, sd), rel=5e-3)
    assert moments(*refs["uniform"]) == pytest.approx((10.05, 19.9 / np.sqrt(12)), rel=1e-3)
    assert moments(*refs["mirrored"]) == pytest.approx((mean, sd))
    assert moments(*refs["shifted_up"])[0] == pytest.approx(mean + sd / 2)
    assert moments(*refs["scaled_wide"]) == pytest.approx((mean, 1.5 * sd))
    assert moments(*refs["scaled_narrow"]) == pytest.approx((mean, sd / 1.5))


def test_distances_without_truth_and_dataset_output():
    e = exact_expectiles(VALUES, PROBS, TAUS)
    res = decode_distribution(TAUS, e, BOUNDS, n_starts=100, n_polish=1, n_epochs=2)
    d = res.dopafit.distances()
    assert list(d.index) == ["uniform", "gaussian"]
    assert dict(res.sizes) == {"sample": 100, "pair": 40, "epoch": 2}
    assert "true_value" not in res  # no truth given
    assert res.attrs["n_starts"] == 100 and res.attrs["seed"] == 0
    assert res.attrs["mean"] == pytest.approx(res.dopafit.mean)
    np.testing.assert_array_equal(res["residual"].values, res.dopafit.residuals())
    assert "SD" in res.dopafit.summary() and res.dopafit.kind == "decoding"
    assert set(DEFAULTS) == {"n_samples", "n_starts", "n_polish", "n_epochs", "maxiter"}
    # epoch losses never increase (the best so far is kept)
    assert np.all(np.diff(res["epoch_loss"].values) <= 0)


def test_unusable_pairs_are_dropped_with_a_warning():
    e = exact_expectiles(VALUES, PROBS, TAUS)
    tau = TAUS.copy()
    tau[0], tau[1] = np.nan, 1.3
    with pytest.warns(DopafitWarning, match="dropped 2 of 40"):
        res = decode_distribution(tau, e, BOUNDS, n_starts=50, n_polish=1, n_epochs=1)
    assert res.attrs["dropped"] == [0, 1] and res.attrs["n_dropped"] == 2
    assert res.sizes["pair"] == 38


def test_errors_are_named():
    with pytest.raises(ConfigError, match="min < max"):
        decode_distribution([0.5], [1.0], (2.0, 1.0))
    with pytest.raises(ConfigError, match="equal length"):
        decode_distribution([0.5, 0.6], [1.0], BOUNDS)
    with pytest.raises(ConfigError, match="positive integer"):
        decode_distribution([0.5], [1.0], BOUNDS, n_starts=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DopafitWarning)
        with pytest.raises(FitError, match="at least one finite"):
            decode_distribution([np.nan], [1.0], BOUNDS)


def test_malformed_counts_seeds_and_pairs_raise_config_errors():
    for bad in ("a", None, 0, 2.5):
        with pytest.raises(ConfigError, match="n_starts a positive integer"):
            decode_distribution([0.5], [1.0], BOUNDS, n_starts=bad)
    with pytest.raises(ConfigError, match="maxiter an integer >= 0"):
        decode_distribution([0.5], [1.0], BOUNDS, maxiter=-1)
    for bad in (-1, None, 1.5, "0"):
        with pytest.raises(ConfigError, match="seed an integer >= 0"):
            decode_distribution([0.5], [1.0], BOUNDS, seed=bad)
    with pytest.raises(ConfigError, match="tau as numbers"):
        decode_distribution(["a"], [1.0], BOUNDS)
    with pytest.raises(ConfigError, match="reversal_point as numbers"):
        decode_distribution([0.5], [object()], BOUNDS)


def test_one_usable_pair_meets_its_expectile_condition():
    # a single neuron pins one expectile: the decoded samples have it exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error", DopafitWarning)
        res = decode_distribution([0.3], [4.0], BOUNDS, n_samples=5, n_starts=20, n_polish=2)
    assert res["tau"].values.tolist() == [0.3] and res.dopafit.samples.size == 5
    assert res.attrs["loss"] < 1e-20
    np.testing.assert_allclose(res.dopafit.expectiles(), [4.0], atol=1e-8)


def test_warnings_point_at_the_caller():
    e = exact_expectiles(VALUES, PROBS, TAUS)
    with pytest.warns(DopafitWarning, match="outside bounds") as record:
        decode_distribution(TAUS, e + 30.0, BOUNDS, n_starts=10, n_polish=1, n_epochs=1)
    assert {w.filename for w in record} == {__file__}
