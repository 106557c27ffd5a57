"""numba kernels of the discounting fit against plain numpy/scipy references.

The references work on single trials: least squares of ``b + A gamma ** d`` (or
``b + A / (1 + k d)``) by scipy, or the trial-level linear least squares on a dense grid of
the discount parameter, written from the formula; the random draws of the split halves and
the bootstrap are redone with the pure-python splitmix64 stream.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import optimize

from dopafit.kernels import discount as kd
from tests._compare import Stream

DELAYS = np.array([0.5, 1.5, 3.0, 6.0])
GRID = np.linspace(0.01, 1.0, 100)
K_GRID = np.concatenate([[0.0], np.geomspace(1e-3, 50.0, 99)])


def simulate(n_unit, n_trial, gammas, amp, asym, noise, seed=0, delays=DELAYS):
    rng = np.random.default_rng(seed)
    didx = rng.integers(0, delays.size, size=(n_unit, n_trial)).astype(np.int64)
    mean = asym[:, None] + amp[:, None] * gammas[:, None] ** delays[didx]
    resp = mean + rng.normal(0.0, 1.0, size=mean.shape) * noise[:, None]
    return resp, didx


def ref_stats(resp, didx, n_delay):
    n_unit = resp.shape[0]
    count = np.zeros((n_unit, n_delay), dtype=np.int64)
    mean = np.full((n_unit, n_delay), np.nan)
    ss = np.zeros((n_unit, n_delay))
    for u in range(n_unit):
        for j in range(n_delay):
            r = resp[u, (didx[u] == j) & np.isfinite(resp[u])]
            count[u, j] = r.size
            if r.size:
                mean[u, j] = r.mean()
                ss[u, j] = np.sum((r - r.mean()) ** 2)
    return count, mean, ss


def ref_trial_rss(resp, d, x_of, param, fit_asym, b0=0.0):
    """Trial-level linear least squares of resp on x = x_of(param, d): (A, b, rss)."""
    x = x_of(param, d)
    if fit_asym:
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, resp, rcond=None)
        b, a = coef
    else:
        b = b0
        a = np.sum(x * (resp - b0)) / np.sum(x * x)
    return a, b, float(np.sum((resp - b - a * x) ** 2))


def expo(g, d):
    return g**d


def hyper(k, d):
    return 1.0 / (1.0 + k * d)


def ref_dense_fit(resp, d, x_of, lo, hi, fit_asym, b0=0.0, n=20001):
    """The parameter minimising the trial RSS on a dense grid, then bounded scipy refinement."""
    params = np.linspace(lo, hi, n)
    rss = np.array([ref_trial_rss(resp, d, x_of, p, fit_asym, b0)[2] for p in params])
    i = int(np.argmin(rss))
    a_lo, a_hi = params[max(i - 1, 0)], params[min(i + 1, n - 1)]
    res = optimize.minimize_scalar(
        lambda p: ref_trial_rss(resp, d, x_of, p, fit_asym, b0)[2],
        bounds=(a_lo, a_hi),
        method="bounded",
        options={"xatol": 1e-12},
    )
    p = res.x if res.fun < rss[i] else params[i]
    return (p, *ref_trial_rss(resp, d, x_of, p, fit_asym, b0))


def test_delay_stats_and_grouping_match_numpy():
    rng = np.random.default_rng(1)
    resp = rng.normal(size=(5, 60))
    resp[1, ::7] = np.nan
    didx = rng.integers(-1, 4, size=(5, 60)).astype(np.int64)
    didx[3] = 0  # one delay only
    didx[4] = -1  # no trial used
    count, mean, ss = kd.delay_stats(resp, didx, 4)
    rc, rm, rs = ref_stats(resp, np.where(didx < 0, 99, didx), 4)
    np.testing.assert_array_equal(count, rc)
    np.testing.assert_allclose(mean, rm, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ss, rs, rtol=1e-12, atol=1e-12)
    vals, start, cnt = kd.group_trials(resp, didx, 4)
    np.testing.assert_array_equal(cnt, rc)
    for u in range(5):
        for j in range(4):
            used = resp[u, (didx[u] == j) & np.isfinite(resp[u])]
            np.testing.assert_array_equal(vals[start[u, j] : start[u, j] + cnt[u, j]], used)


@pytest.mark.parametrize("fit_asym", [True, False])
def test_fit_exponential_matches_trial_least_squares(fit_asym):
    n = 8
    gammas = np.linspace(0.3, 0.95, n)
    amp = np.linspace(2.0, 6.0, n)
    asym = np.linspace(-0.5, 0.5, n) if fit_asym else np.zeros(n)
    resp, didx = simulate(n, 240, gammas, amp, asym, np.full(n, 0.5), seed=2)
    count, mean, ss = kd.delay_stats(resp, didx, 4)
    g, a, b, rss = kd.fit_exponential(DELAYS, count, mean, ss, fit_asym, 0.0, GRID)
    for u in range(n):
        d = DELAYS[didx[u]]
        rg, ra, rb, rr = ref_dense_fit(resp[u], d, expo, 0.01, 1.0, fit_asym)
        assert rss[u] <= rr * (1 + 1e-9) + 1e-9  # never worse than the reference
        assert rss[u] == pytest.approx(rr, rel=1e-7)
        assert g[u] == pytest.approx(rg, abs=1e-4)
        assert a[u] == pytest.approx(ra, rel=1e-3, abs=1e-3)
        assert b[u] == pytest.approx(rb, abs=1e-3)
        # and scipy's nonlinear least squares from the kernel's neighbourhood agrees
        if fit_asym:
            res = optimize.least_squares(
                lambda p, d=d, r=resp[u]: p[2] + p[1] * p[0] ** d - r,
                x0=[min(g[u] + 0.02, 0.999), a[u] * 0.9, b[u] + 0.1],
                bounds=([0.01, -np.inf, -np.inf], [1.0, np.inf, np.inf]),
                xtol=1e-14,
                ftol=1e-14,
            )
            assert rss[u] <= 2 * res.cost * (1 + 1e-7)
            assert g[u] == pytest.approx(res.x[0], abs=1e-4)


@pytest.mark.parametrize("fit_asym", [True, False])
def test_fit_hyperbolic_matches_curve_fit(fit_asym):
    n = 4
    ks = np.linspace(0.2, 2.0, n)
    amp = np.linspace(2.0, 6.0, n)
    asym = np.linspace(-0.5, 0.5, n) if fit_asym else np.zeros(n)
    rng = np.random.default_rng(3)
    didx = rng.integers(0, 4, size=(n, 240)).astype(np.int64)
    d = DELAYS[didx]
    resp = asym[:, None] + amp[:, None] / (1 + ks[:, None] * d) + rng.normal(0, 0.4, d.shape)
    count, mean, ss = kd.delay_stats(resp, didx, 4)
    k, a, b, rss = kd.fit_hyperbolic(DELAYS, count, mean, ss, fit_asym, 0.0, K_GRID)
    for u in range(n):
        rk, ra, rb, rr = ref_dense_fit(resp[u], d[u], hyper, 0.0, 50.0, fit_asym, n=8001)
        assert rss[u] <= rr * (1 + 1e-9) + 1e-9
        assert rss[u] == pytest.approx(rr, rel=1e-7)
        assert k[u] == pytest.approx(rk, rel=1e-3, abs=1e-4)
        assert a[u] == pytest.approx(ra, rel=1e-3)
        assert b[u] == pytest.approx(rb, abs=1e-3)
        if fit_asym:
            popt, _ = optimize.curve_fit(
                lambda x, kk, aa, bb: bb + aa / (1 + kk * x),
                d[u],
                resp[u],
                p0=[k[u] * 1.1, a[u], b[u]],
                bounds=([0, -np.inf, -np.inf], [50, np.inf, np.inf]),
                xtol=1e-14,
                ftol=1e-14,
            )
            assert k[u] == pytest.approx(popt[0], rel=1e-3)
            assert a[u] == pytest.approx(popt[1], rel=1e-3)
            assert b[u] == pytest.approx(popt[2], abs=1e-3)


def test_rss_profile_and_shared_fit_match_brute_force():
    n = 7
    gammas = np.full(n, 0.7)
    amp = np.linspace(2.0, 6.0, n)
    asym = np.linspace(-0.5, 0.5, n)
    resp, didx = simulate(n, 200, gammas, amp, asym, np.full(n, 1.5), seed=4)
    count, mean, ss = kd.delay_stats(resp, didx, 4)
    probe = np.array([0.05, 0.3, 0.7, 0.99, 1.0])
    for fit_asym in (True, False):
        prof = kd.exponential_rss_profile(DELAYS, count, mean, ss, fit_asym, 0.0, probe)
        for u in range(n):
            d = DELAYS[didx[u]]
            ref = [ref_trial_rss(resp[u], d, expo, p, fit_asym)[2] for p in probe]
            np.testing.assert_allclose(prof[u], ref, rtol=1e-9)
    # shared gamma: the minimum over a dense grid of the summed trial RSS
    g, a, b, rss = kd.fit_shared_exponential(DELAYS, count, mean, ss, True, 0.0, GRID)

    def total(p):
        return sum(ref_trial_rss(resp[u], DELAYS[didx[u]], expo, p, True)[2] for u in range(n))

    dense = np.linspace(0.01, 1.0, 4001)
    tot = np.array([total(p) for p in dense])
    i = int(np.argmin(tot))
    res = optimize.minimize_scalar(total, bounds=(dense[i - 1], dense[i + 1]), method="bounded")
    assert g == pytest.approx(res.x, abs=1e-4)
    assert rss.sum() == pytest.approx(res.fun, rel=1e-8)
    assert rss.sum() <= res.fun * (1 + 1e-9)
    assert abs(g - 0.7) < 0.1  # and near the truth
    for u in range(n):
        ra, rb, _ = ref_trial_rss(resp[u], DELAYS[didx[u]], expo, g, True)
        assert a[u] == pytest.approx(ra, rel=1e-8)
        assert b[u] == pytest.approx(rb, rel=1e-8, abs=1e-10)


def test_degenerate_units_get_status_and_nan_not_crash():
    n_trial = 40
    resp = np.tile(np.linspace(-1, 1, n_trial), (6, 1))
    didx = np.tile(np.arange(n_trial) % 4, (6, 1)).astype(np.int64)
    didx[0] = -1  # no trials
    didx[1] = 2  # one delay
    didx[2] = np.arange(n_trial) % 2  # two delays
    resp[3] = 1.25  # flat: every delay mean equal
    resp[4] = 3.0 + 2.0 * 0.5 ** DELAYS[didx[4]]  # noiseless exponential
    count, mean, ss = kd.delay_stats(resp, didx, 4)
    with np.errstate(all="raise"):
        st_fit = kd.unit_status(count, mean, True, 0.0)
        st_fix = kd.unit_status(count, mean, False, 0.0)
    ok, none, few, flat = kd.STATUS_OK, kd.STATUS_NO_TRIALS, kd.STATUS_FEW_DELAYS, kd.STATUS_FLAT
    assert st_fit.tolist() == [none, few, few, flat, ok, ok]
    assert st_fix.tolist() == [none, few, ok, ok, ok, ok]  # flat at 1.25 != 0: gamma = 1
    g, a, b, rss = kd.fit_exponential(DELAYS, count, mean, ss, True, 0.0, GRID)
    assert np.isnan(g[:4]).all() and np.isnan(a[:3]).all() and np.isnan(rss[:3]).all()
    assert a[3] == 0.0 and b[3] == pytest.approx(1.25) and rss[3] == pytest.approx(0.0, abs=1e-20)
    assert g[4] == pytest.approx(0.5, abs=1e-6) and a[4] == pytest.approx(2.0, rel=1e-5)
    g0, a0, _, _ = kd.fit_exponential(DELAYS, count, mean, ss, False, 0.0, GRID)
    assert g0[3] == 1.0 and a0[3] == pytest.approx(1.25)  # no discounting, identified
    assert np.isfinite(g0[2])
    k, *_ = kd.fit_hyperbolic(DELAYS, count, mean, ss, True, 0.0, K_GRID)
    assert np.isnan(k[:4]).all() and np.isfinite(k[4:]).all()
    prof = kd.exponential_rss_profile(DELAYS, count, mean, ss, True, 0.0, GRID)
    assert np.isnan(prof[:3]).all() and np.isfinite(prof[3:]).all()
    gs, *_ = kd.fit_shared_exponential(DELAYS, count[:3], mean[:3], ss[:3], True, 0.0, GRID)
    assert np.isnan(gs)


def _ref_halves(vals, start, cnt, seeds):
    """Half means per (split, unit, delay) with the pure-python stream (Fisher-Yates)."""
    n_split, (n_unit, n_delay) = len(seeds), cnt.shape
    na = np.zeros((n_split, n_unit, n_delay), dtype=np.int64)
    ya = np.full((n_split, n_unit, n_delay), np.nan)
    yb = np.full((n_split, n_unit, n_delay), np.nan)
    for i, seed in enumerate(seeds):
        for u in range(n_unit):
            s = Stream(int(seed), u)
            for j in range(n_delay):
                n = int(cnt[u, j])
                h = n // 2
                na[i, u, j] = h
                if h == 0:
                    continue
                buf = list(range(n))
                for p in range(min(2 * h, n - 1)):
                    q = p + s.below(n - p)
                    buf[p], buf[q] = buf[q], buf[p]
                trials = vals[start[u, j] : start[u, j] + n]
                ya[i, u, j] = trials[buf[:h]].mean()
                yb[i, u, j] = trials[buf[h : 2 * h]].mean()
    return na, ya, yb


def test_split_halves_match_reference_draw_and_thread_count():
    n = 5
    resp, didx = simulate(
        n, 50, np.linspace(0.4, 0.9, n), np.full(n, 4.0), np.zeros(n), np.full(n, 1.0), seed=5
    )
    didx[4] = np.arange(50) % 2  # a unit with two delays: halves NaN with a fitted asymptote
    resp[0, :3] = np.nan
    vals, start, cnt = kd.group_trials(resp, didx, 4)
    seeds = np.random.SeedSequence(9).generate_state(20, dtype=np.uint64)
    ga, gb = kd.split_half_exponential(vals, start, cnt, DELAYS, True, 0.0, GRID, seeds)
    na, ya, yb = _ref_halves(vals, start, cnt, seeds)
    for i in range(len(seeds)):
        ra = kd.fit_exponential(DELAYS, na[i], ya[i], np.zeros((n, 4)), True, 0.0, GRID)[0]
        rb = kd.fit_exponential(DELAYS, na[i], yb[i], np.zeros((n, 4)), True, 0.0, GRID)[0]
        np.testing.assert_array_equal(ga[i], ra)
        np.testing.assert_array_equal(gb[i], rb)
    assert np.isnan(ga[:, 4]).all() and np.isfinite(ga[:, :4]).all()
    assert not np.array_equal(ga[0], ga[1])  # the splits differ
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        ga1, gb1 = kd.split_half_exponential(vals, start, cnt, DELAYS, True, 0.0, GRID, seeds)
        boot1 = kd.bootstrap_exponential(vals, start, cnt, DELAYS, True, 0.0, GRID, seeds[0], 7)
    finally:
        numba.set_num_threads(before)
    boot = kd.bootstrap_exponential(vals, start, cnt, DELAYS, True, 0.0, GRID, seeds[0], 7)
    np.testing.assert_array_equal(ga1, ga)
    np.testing.assert_array_equal(gb1, gb)
    np.testing.assert_array_equal(boot1, boot)


def test_bootstrap_matches_reference_draw_and_unit_chunks():
    n = 4
    resp, didx = simulate(
        n, 40, np.linspace(0.4, 0.9, n), np.full(n, 4.0), np.zeros(n), np.full(n, 1.0), seed=6
    )
    vals, start, cnt = kd.group_trials(resp, didx, 4)
    seed = np.uint64(123456789)
    boot = kd.bootstrap_exponential(vals, start, cnt, DELAYS, False, 0.0, GRID, seed, 6)
    for u in range(n):
        s = Stream(int(seed), u)
        for b in range(6):
            y = np.empty(4)
            for j in range(4):
                total = 0.0  # in draw order, as the kernel sums
                for _ in range(cnt[u, j]):
                    total += vals[start[u, j] + s.below(int(cnt[u, j]))]
                y[j] = total / cnt[u, j]
            ref = kd.fit_exponential(
                DELAYS, cnt[u : u + 1], y[None], np.zeros((1, 4)), False, 0.0, GRID
            )
            assert boot[u, b] == ref[0][0]
    part = kd.bootstrap_exponential(vals, start[2:], cnt[2:], DELAYS, False, 0.0, GRID, seed, 6, 2)
    np.testing.assert_array_equal(part, boot[2:])
