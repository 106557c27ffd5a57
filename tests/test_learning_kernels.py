"""The learning-model kernels against the plain-numpy reference of tests/_learning.py.

Likelihood and gradient (reverse mode in the reference, forward sensitivities in the kernel)
on random problems of every model, both noise models, fixed and learned contexts, partial
likelihood ranges and the tau profile mode; the gradient also against finite differences;
the optimiser against scipy.optimize on the reference likelihood; the Hessian, the profile
ends, the value trace, the simulation kernel and thread-count determinism.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dopafit.kernels import learning as K
from dopafit.kernels import learning_fit as F
from tests import _learning as R

MODELS = tuple(R.MODEL_GROUPS)
EMPTY_SIGNS = np.empty(0, dtype=np.int64)


def _problem(rng, n=120, n_ctx=2, noise="gaussian", nan_frac=0.1):
    util = rng.choice([0.1, 1.2, 5.0, 10.0, 20.0], n)
    ctx = rng.integers(0, n_ctx, n).astype(np.int64)
    resp = rng.normal(1.0, 3.0, n)
    resp[rng.random(n) < nan_frac] = np.nan
    base = rng.uniform(2.0, 8.0, n)
    count = rng.poisson(3.0, n).astype(float)
    return util, ctx, resp, count, base


def _kernel(x, tie, fixed, learn, data, lik, noise, window=0.4, ratio=0.0, grad=True):
    g = np.empty(x.size) if grad else np.empty(0)
    work = np.empty(4 * learn.size + 2 * tie.size)
    code = K.NOISE_POISSON if noise == "poisson" else K.NOISE_GAUSSIAN
    f = K.unit_objective(
        x, (tie, fixed, learn), data, (lik[0], lik[1], code, window, ratio), EMPTY_SIGNS, g, work
    )
    return f, g


def _reference(x, tie, fixed, learn, data, lik, noise, window=0.4, ratio=0.0):
    util, ctx, resp, count, base = data
    return R.free_objective(
        x,
        tie,
        fixed,
        util,
        ctx,
        resp,
        learn=learn,
        ratio=ratio,
        noise=noise,
        count=count,
        base=base,
        window=window,
        lik=lik,
    )


CASES = [
    (model, noise, learn0, free_v0)
    for model in MODELS
    for noise in ("gaussian", "poisson")
    for learn0, free_v0 in ((1, True), (0, True), (1, False))
]


@pytest.mark.parametrize(("model", "noise", "learn0", "free_v0"), CASES)
def test_likelihood_and_gradient_equal_the_reference(model, noise, learn0, free_v0):
    rng = np.random.default_rng(hash((model, noise, learn0, free_v0)) % 2**32)
    n_ctx = 3
    learn = np.array([learn0, 1, 1], dtype=np.int64)
    free = [bool(learn[c]) and free_v0 for c in range(n_ctx)]
    tie = R.model_tie(model, n_ctx, free_v0=free, noise=noise)
    for _ in range(5):
        data = _problem(rng, n_ctx=n_ctx)
        fixed = rng.normal(0, 1, tie.size)
        fixed[R.N_FIXED] = 0.0 if not learn0 else fixed[R.N_FIXED]
        x = rng.normal(0, 0.8, tie.max() + 1)
        lik = (int(rng.integers(0, 30)), int(rng.integers(60, 121)))
        f, g = _kernel(x, tie, fixed, learn, data, lik, noise)
        f_ref, g_ref = _reference(x, tie, fixed, learn, data, lik, noise)
        assert f == pytest.approx(f_ref, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-8 * (1 + abs(f_ref)))
        f_only, _ = _kernel(x, tie, fixed, learn, data, lik, noise, grad=False)
        assert f_only == f


@pytest.mark.parametrize("noise", ["gaussian", "poisson"])
def test_gradient_equals_finite_differences(noise):
    rng = np.random.default_rng(5)
    tie = R.model_tie("asymmetric_both", 2, noise=noise)
    learn = np.ones(2, dtype=np.int64)
    fixed = np.zeros(tie.size)
    for _ in range(5):
        data = _problem(rng)
        x = rng.normal(0, 0.8, tie.max() + 1)
        _, g = _kernel(x, tie, fixed, learn, data, (0, 120), noise)
        num = np.empty_like(g)
        for i in range(x.size):
            h = 1e-6 * max(1.0, abs(x[i]))
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            num[i] = (
                _kernel(xp, tie, fixed, learn, data, (0, 120), noise, grad=False)[0]
                - _kernel(xm, tie, fixed, learn, data, (0, 120), noise, grad=False)[0]
            ) / (2 * h)
        # a finite difference crosses a kink when a trial's error is within h of 0: rare
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)


def test_tau_profile_mode_equals_the_reference():
    rng = np.random.default_rng(8)
    tie = R.model_tie("asymmetric_both", 2)
    learn = np.ones(2, dtype=np.int64)
    fixed = np.zeros(tie.size)
    for ratio in (0.3, 1.0, 2.5):
        data = _problem(rng)
        x = rng.normal(0, 0.8, tie.max() + 1)
        x[0] = -2.0  # eta_pos small enough that ratio * eta_pos < 1
        f, g = _kernel(x, tie, fixed, learn, data, (0, 120), "gaussian", ratio=ratio)
        f_ref, g_ref = _reference(x, tie, fixed, learn, data, (0, 120), "gaussian", ratio=ratio)
        assert f == pytest.approx(f_ref, rel=1e-12)
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-8)
        assert g[1] == 0.0  # the free eta_neg does not enter


def _sim_unit(rng, n=400, eta=(0.15, 0.05), alpha=(1.0, 0.6), sigma=1.0):
    """One unit of the asymmetric_both model on a rich/lean flip task (blocks of 100)."""
    mags = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
    rich = np.array([0.02, 0.03, 0.05, 0.10, 0.20, 0.30, 0.30])
    util = np.concatenate(
        [rng.choice(mags, 100, p=rich if b % 2 == 0 else rich[::-1]) for b in range(n // 100)]
    )
    ctx = rng.integers(0, 2, util.size).astype(np.int64)
    _value, delta = R.value_trace(util, ctx, [0.0, 0.0], *eta)
    resp = np.where(delta > 0, alpha[0], alpha[1]) * delta + rng.normal(0, sigma, util.size)
    return util, ctx, resp, np.full(util.size, np.nan), np.zeros(util.size)


_FULL_BOUNDS = ((-9.21, 9.21), (-9.21, 9.21), (-6.0, 4.0), (-6.0, 4.0), (-50.0, 50.0), (-5.0, 4.0))


def _bounds(tie):
    """Bounds of the free parameters: those of the first full parameter tied to each."""
    lo, hi = [], []
    for i in range(int(tie.max()) + 1):
        j = int(np.nonzero(tie == i)[0][0])
        a, b = _FULL_BOUNDS[j] if j < R.N_FIXED else (-40.0, 60.0)
        lo.append(a)
        hi.append(b)
    return np.array(lo), np.array(hi)


@pytest.mark.parametrize("model", MODELS)
def test_minimiser_reaches_the_scipy_optimum(model):
    rng = np.random.default_rng(MODELS.index(model) + 11)
    learn = np.ones(2, dtype=np.int64)
    tie = R.model_tie(model, 2)
    n_free = int(tie.max()) + 1
    fixed = np.zeros(tie.size)
    lo, hi = _bounds(tie)
    worse = 0
    for _ in range(4):
        data = _sim_unit(rng)
        start = rng.normal(0, 0.5, n_free)
        start[0] -= 2.0  # a learning rate near 0.1
        starts = [np.clip(start, lo, hi)]
        x_ref, f_ref = R.scipy_fit(
            tie, fixed, data[0], data[1], data[2], starts, list(zip(lo, hi)), learn=learn
        )
        x = starts[0].copy()
        work = np.empty(4 * 2 + 2 * tie.size)
        f, _, code = F.minimize_box(
            x,
            lo,
            hi,
            (tie, fixed, learn),
            data,
            (0, data[0].size, K.NOISE_GAUSSIAN, 1.0, 0.0),
            1000,
            1e-6,
            1e-12,
            work,
        )
        assert code in (F.CODE_GRADIENT, F.CODE_DECREASE)
        # the same start reaches the same optimum (or a better one, never a worse one)
        assert f <= f_ref + 1e-6 * abs(f_ref)
        worse += f < f_ref - 1e-3
        if abs(f - f_ref) < 1e-6 * abs(f_ref):
            # the same point, to a small fraction of the statistical uncertainty
            h = F.unit_hessian(
                x,
                (tie, fixed, learn),
                data,
                (0, data[0].size, K.NOISE_GAUSSIAN, 1.0, 0.0),
                work,
            )
            se = np.sqrt(np.diag(np.linalg.inv(h)))
            assert np.all(np.abs(x - x_ref) <= 0.05 * se + 1e-4)
    assert worse <= 1  # scipy, from the same start, rarely stops at a worse point


def test_hessian_equals_the_reference_on_a_smooth_piece():
    rng = np.random.default_rng(21)
    tie = R.model_tie("asymmetric_both", 2)
    learn = np.ones(2, dtype=np.int64)
    fixed = np.zeros(tie.size)
    data = _sim_unit(rng)
    x = np.array([-1.7, -3.0, 0.0, -0.5, 0.0, 0.0, 0.37, -0.41])
    work = np.empty(4 * 2 + 2 * tie.size)
    setting = (0, data[0].size, K.NOISE_GAUSSIAN, 1.0, 0.0)
    h = F.unit_hessian(x, (tie, fixed, learn), data, setting, work)
    # reference: central differences of the reverse-mode gradient, no error near 0 here
    _value, delta = R.value_trace(
        data[0], data[1], x[6:], 1 / (1 + np.exp(1.7)), 1 / (1 + np.exp(3))
    )
    assert np.min(np.abs(delta)) > 1e-3
    ref = np.empty_like(h)
    for i in range(x.size):
        step = 1e-5
        xp, xm = x.copy(), x.copy()
        xp[i] += step
        xm[i] -= step
        gp = R.free_objective(xp, tie, fixed, *data[:3], learn=learn)[1]
        gm = R.free_objective(xm, tie, fixed, *data[:3], learn=learn)[1]
        ref[i] = (gp - gm) / (2 * step)
    ref = 0.5 * (ref + ref.T)
    np.testing.assert_allclose(h, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_branches_freeze_the_smooth_piece():
    rng = np.random.default_rng(3)
    tie = R.model_tie("asymmetric_both", 2)
    learn = np.ones(2, dtype=np.int64)
    fixed = np.zeros(tie.size)
    data = _sim_unit(rng, n=200)
    x = rng.normal(0, 0.5, tie.max() + 1)
    signs = K.branches(x, (tie, fixed, learn), data[0], data[1], 200)
    p = 1 / (1 + np.exp(-x[:2]))
    _, delta = R.value_trace(data[0], data[1], x[6:], p[0], p[1])
    np.testing.assert_array_equal(signs, (delta > 0).astype(np.int64))
    # with the branches given, the objective equals the free one at x
    work = np.empty(4 * 2 + 2 * tie.size)
    setting = (0, 200, K.NOISE_GAUSSIAN, 1.0, 0.0)
    g1, g2 = np.empty(x.size), np.empty(x.size)
    f1 = K.unit_objective(x, (tie, fixed, learn), data, setting, signs, g1, work)
    f2 = K.unit_objective(x, (tie, fixed, learn), data, setting, EMPTY_SIGNS, g2, work)
    assert f1 == f2
    np.testing.assert_array_equal(g1, g2)


def test_profile_end_is_where_the_likelihood_ratio_reaches_the_quantile():
    from scipy.optimize import minimize

    rng = np.random.default_rng(4)
    tie = R.model_tie("asymmetric_both", 2)
    learn = np.ones(2, dtype=np.int64)
    fixed = np.zeros(tie.size)
    data = _sim_unit(rng, n=400, sigma=2.0)
    lo, hi = _bounds(tie)
    x = np.array([-1.7, -3.0, 0.0, -0.5, 0.0, 0.7, 0.0, 0.0])
    work = np.empty(4 * 2 + 2 * tie.size)
    setting = (0, 400, K.NOISE_GAUSSIAN, 1.0, 0.0)
    spec = (tie, fixed, learn)
    f_hat, _, _ = F.minimize_box(x, lo, hi, spec, data, setting, 1000, 1e-8, 1e-14, work)
    q = stats.chi2.ppf(0.95, 1)
    frame, solver = (400, K.NOISE_GAUSSIAN, 1.0), (1000, 1e-8, 1e-14)
    for side, limit in ((0, lo[0]), (1, hi[0])):
        end, at = F.profile_side(
            0, x[0], limit, 0.5, f_hat, q, x, lo, hi, (0, 0), spec, data, frame, solver, work
        )
        assert not at
        assert (end < x[0]) if side == 0 else (end > x[0])

        # the reference profile: scipy minimises the reference NLL with logit eta_pos = end
        def pinned(z, end=end):
            full = np.concatenate([[end], z])
            f, g = R.free_objective(full, tie, fixed, *data[:3], learn=learn)
            return f, g[1:]

        res = minimize(pinned, x[1:], jac=True, method="L-BFGS-B", bounds=list(zip(lo[1:], hi[1:])))
        assert 2 * (res.fun - f_hat) == pytest.approx(q, abs=0.02)


def test_value_trace_equals_the_reference():
    rng = np.random.default_rng(32)
    n_unit, n_trial, n_ctx = 4, 300, 3
    util = rng.normal(2, 3, (n_unit, n_trial))
    util[1, 250:] = np.nan  # padding
    util[2, 100] = np.nan  # a skipped trial inside the sequence
    ctx = rng.integers(0, n_ctx, (n_unit, n_trial)).astype(np.int64)
    lp, ln = rng.uniform(0.01, 0.5, n_unit), rng.uniform(0.01, 0.5, n_unit)
    v0 = rng.normal(0, 1, (n_unit, n_ctx))
    n = np.full(n_unit, n_trial, dtype=np.int64)
    for learn in ([1, 1, 1], [0, 1, 1]):
        learn = np.array(learn, dtype=np.int64)
        values, deltas = K.value_trace(util, ctx, n, lp, ln, v0, learn)
        for i in range(n_unit):
            ref_v, ref_d = R.value_trace(util[i], ctx[i], v0[i], lp[i], ln[i], learn.astype(bool))
            np.testing.assert_allclose(values[i], ref_v, rtol=0, atol=1e-12)
            np.testing.assert_allclose(deltas[i], ref_d, rtol=0, atol=1e-12)


def test_simulated_responses_follow_the_model():
    rng = np.random.default_rng(6)
    n_unit, n = 3, 20000
    delta = rng.normal(0, 4, (n_unit, n))
    delta[0, -10:] = np.nan
    a_pos, a_neg = np.array([1.0, 0.5, 2.0]), np.array([0.5, 1.5, 1.0])
    b, sigma = np.array([0.0, 1.0, -2.0]), np.array([1.0, 2.0, 0.5])
    base = np.full((n_unit, n), 4.0)
    seeds = np.arange(n_unit, dtype=np.uint64) + 7
    resp, count = K.simulate_responses(
        delta, a_pos, a_neg, b, sigma, base, K.NOISE_GAUSSIAN, 1.0, seeds
    )
    assert np.isnan(resp[0, -10:]).all() and np.isnan(count).all()
    mean = b[:, None] + np.where(delta > 0, a_pos[:, None], a_neg[:, None]) * delta
    z = (resp - mean) / sigma[:, None]
    for i in range(n_unit):
        zi = z[i][np.isfinite(z[i])]
        assert stats.kstest(zi, "norm").pvalue > 0.001
    # Poisson counts: the window count has the softplus rate; checked per rate bin
    resp, count = K.simulate_responses(
        delta, a_pos, a_neg, b, sigma, base, K.NOISE_POISSON, 0.4, seeds
    )
    mu = 0.4 * np.vectorize(R.softplus)(np.where(np.isfinite(mean), base + mean, 0.0))
    ok = np.isfinite(count)
    np.testing.assert_allclose(resp[ok], count[ok] / 0.4 - base[ok], atol=1e-12)
    pit = stats.poisson.cdf(count[ok] - 1, mu[ok]) + rng.random(ok.sum()) * stats.poisson.pmf(
        count[ok], mu[ok]
    )  # randomised probability integral transform: uniform if the counts are Poisson(mu)
    assert stats.kstest(pit, "uniform").pvalue > 0.001
    # the same seeds give the same draws
    again, _ = K.simulate_responses(
        delta, a_pos, a_neg, b, sigma, base, K.NOISE_POISSON, 0.4, seeds
    )
    np.testing.assert_array_equal(resp, again)


def test_large_poisson_means_are_exact():
    """Means above the inversion's piece size are sums of pieces: still Poisson."""
    rng = np.random.default_rng(9)
    mu = 55.0
    n = 20000
    delta = np.full((1, n), 1.0)
    _resp, count = K.simulate_responses(
        delta,
        np.array([mu - 1.0]),
        np.array([1.0]),
        np.array([0.0]),
        np.array([1.0]),
        np.ones((1, n)),
        K.NOISE_POISSON,
        1.0,
        np.array([3], dtype=np.uint64),
    )
    k = count[0]
    assert k.mean() == pytest.approx(mu, abs=4 * math.sqrt(mu / n))
    assert k.var() == pytest.approx(mu, rel=0.05)
    pit = stats.poisson.cdf(k - 1, mu) + rng.random(n) * stats.poisson.pmf(k, mu)
    assert stats.kstest(pit, "uniform").pvalue > 0.001


def test_fit_rows_do_not_depend_on_the_thread_count():
    import numba

    import dopafit
    from dopafit.fit import learning as L
    from dopafit.fit.learning_options import LearningOptions

    ds = dopafit.simulate_learning("flip", n_units=6, n_trials=300, seed=3)
    opts = LearningOptions(n_starts=3, cv_blocks=4)
    seq = L.sequences(ds, opts)
    layout = L.parameter_layout(seq, opts, opts.model)
    ok = np.ones(6, dtype=bool)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = L.run_kernel(seq, layout, opts, ok)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = L.run_kernel(seq, layout, opts, ok)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_inverse_of_a_positive_definite_matrix():
    rng = np.random.default_rng(12)
    for n in (1, 3, 8):
        a = rng.normal(size=(n, n))
        h = a @ a.T + n * np.eye(n)
        inv, ok = F.inverse_pd(h)
        assert ok
        np.testing.assert_allclose(inv, np.linalg.inv(h), rtol=1e-10, atol=1e-12)
    inv, ok = F.inverse_pd(np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3 and -1
    assert not ok and np.isnan(inv).all()
