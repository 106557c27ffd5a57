"""numba kernels of the expectile fit against plain-numpy references written from the spec.

The references work on single trials (not on sufficient statistics), loop in Python and
follow the wording of the analysis specification; the kernels must agree with them exactly
(to float rounding) on random inputs, including ragged counts, absent magnitudes, zero
responses and ties.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from dopafit.kernels import expectile as K
from tests._compare import Stream  # the splitmix64 stream in pure python

# ------------------------------------------------------------------------------------------
# references


def ref_count_reversal(resp, midx, axis, cap_lo=0.01, cap_hi=0.1):
    """Counting rule on single trials: C(k) over split positions between present magnitudes."""
    present = np.unique(midx)
    if present.size < 2:
        return np.nan, 0
    a = axis[present]
    rank = np.searchsorted(present, midx)  # 0..P-1
    p = present.size
    c = np.array(
        [np.sum((rank >= k) & (resp > 0)) + np.sum((rank < k) & (resp < 0)) for k in range(p + 1)]
    )
    tied = np.flatnonzero(c == c.max())
    if tied[0] == 0:
        return a[0] + cap_lo, -1
    if tied[-1] == p:
        return a[-1] - cap_hi, 1
    k = tied[(len(tied) - 1) // 2]
    d_lo = c[k] - c[k - 1]
    d_hi = c[k] - c[k + 1]
    if d_lo == 0 and d_hi == 0:
        return 0.5 * (a[k - 1] + a[k]), 0
    w_lo = d_hi / (d_lo + d_hi)  # = (1/d_lo) / (1/d_lo + 1/d_hi) when both > 0
    return w_lo * a[k - 1] + (1 - w_lo) * a[k], 0


def ref_slopes(resp, midx, axis, z):
    """Least-squares slopes through the origin of -r on -x below and r on x above."""
    x = axis[midx] - z
    below, above = x <= 0, x >= 0

    def slope(xs, ys):
        if np.sum(xs**2) == 0:
            return np.nan
        return np.linalg.lstsq(xs[:, None], ys, rcond=None)[0][0]

    return slope(-x[below], -resp[below]), slope(x[above], resp[above])


def ref_fit(resp, midx, axis, cap_lo=0.01, cap_hi=0.1):
    z, edge = ref_count_reversal(resp, midx, axis, cap_lo, cap_hi)
    if np.isnan(z):
        return np.nan, 0, np.nan, np.nan, np.nan
    a_neg, a_pos = ref_slopes(resp, midx, axis, z)
    tau = a_pos / (a_pos + a_neg) if a_pos + a_neg != 0 else np.nan
    return z, edge, a_neg, a_pos, tau


def ref_kink_sse(resp, midx, axis, z):
    x = axis[midx] - z
    design = np.column_stack([np.minimum(x, 0), np.maximum(x, 0)])
    coef = np.linalg.lstsq(design, resp, rcond=None)[0]
    return float(np.sum((resp - design @ coef) ** 2))


# ------------------------------------------------------------------------------------------
# generators


def random_layout(rng, n_unit, n_mag, max_n=12, p_zero=0.15, integer=False):
    """Grouped layout with ragged counts (some zero) and responses with exact zeros and ties.

    ``integer=True`` draws integer responses (many ties; sums can cancel exactly);
    otherwise continuous responses with 10% exact zeros and 10% repeated values.
    """
    cnt = rng.integers(0, max_n + 1, (n_unit, n_mag))
    cnt[rng.random((n_unit, n_mag)) < p_zero] = 0
    vals = rng.normal(0.3, 2.0, int(cnt.sum()))
    if integer:
        vals = np.round(vals, 0)
    elif vals.size:
        vals[rng.random(vals.size) < 0.1] = 0.0
        dup = rng.random(vals.size) < 0.1
        vals[dup] = rng.choice(vals, int(dup.sum()))
    start = (np.cumsum(cnt.ravel()) - cnt.ravel()).reshape(cnt.shape).astype(np.int64)
    return vals.astype(np.float64), start, cnt.astype(np.int64)


def group(vals, start, cnt, u, idx_per_mag=None):
    """Trials (resp, midx) of unit u, optionally a subset of local indices per magnitude."""
    resp, midx = [], []
    for m in range(cnt.shape[1]):
        local = np.arange(cnt[u, m]) if idx_per_mag is None else idx_per_mag[m]
        resp.append(vals[start[u, m] + np.asarray(local, dtype=int)])
        midx.append(np.full(len(local), m))
    return np.concatenate(resp), np.concatenate(midx).astype(int)


def stats_of(resp, midx, n_mag):
    n = np.zeros(n_mag, np.int64)
    s = np.zeros(n_mag)
    npos = np.zeros(n_mag, np.int64)
    nneg = np.zeros(n_mag, np.int64)
    for m in range(n_mag):
        K.sample_stats(resp[midx == m], n, s, npos, nneg, m)
    return n, s, npos, nneg


def random_axis(rng, n_mag):
    return np.sort(rng.uniform(-5, 10, n_mag)) + np.arange(n_mag) * 1e-3


# ------------------------------------------------------------------------------------------
# random numbers


def test_stream_matches_splitmix64_reference():
    for seed, key in [(0, 0), (12345, 7), (2**63 + 11, 39)]:
        state = K.stream_state(np.uint64(seed), key)
        ref = Stream(seed, key)
        assert int(state[0]) == ref.state
        for k in (1, 2, 7, 1000, 2**31):
            assert K.random_below(state, k) == ref.below(k)


def test_random_below_is_uniform():
    state = K.stream_state(np.uint64(2024), 3)
    draws = np.array([K.random_below(state, 7) for _ in range(70_000)])
    counts = np.bincount(draws, minlength=7)
    assert counts.size == 7
    assert stats.chisquare(counts).pvalue > 1e-3


def test_partial_shuffle_gives_uniform_permutations():
    state = K.stream_state(np.uint64(9), 0)
    buf = np.empty(4, np.int64)
    seen = {}
    for _ in range(24_000):
        K.partial_shuffle(buf, 4, 4, state)
        key = tuple(buf)
        seen[key] = seen.get(key, 0) + 1
    assert len(seen) == 24 and all(sorted(k) == [0, 1, 2, 3] for k in seen)
    assert stats.chisquare(list(seen.values())).pvalue > 1e-3


def ref_draw_permutations(cnt, seed, n_folds):
    """The within-magnitude orders of one split, in pure python: unit u draws from the
    splitmix64 stream (seed, u); at each magnitude with n trials a Fisher-Yates shuffle of
    0..n-1 fixes its first need = max(2 (n // 2), n_folds (n // n_folds)) positions
    (position i swaps with i + below(n - i), for i < min(need, n - 1)); the rest is -1."""
    n_unit, n_mag = cnt.shape
    width = max(1, int(cnt.max()))
    perm = np.full((n_unit, n_mag, width), -1, dtype=np.int64)
    for u in range(n_unit):
        stream = Stream(int(seed), u)
        for m in range(n_mag):
            n = int(cnt[u, m])
            if n == 0:
                continue
            need = max(2 * (n // 2), n_folds * (n // n_folds) if n_folds > 0 else 0)
            order = list(range(n))
            for i in range(min(need, n - 1)):
                j = i + stream.below(n - i)
                order[i], order[j] = order[j], order[i]
            perm[u, m, :need] = order[:need]
    return perm


@pytest.mark.parametrize("n_folds", [0, 3, 7])
def test_draw_permutations_match_python_reference(n_folds):
    rng = np.random.default_rng(n_folds)
    _, _, cnt = random_layout(rng, 6, 5, max_n=23)
    cnt[0, 0], cnt[0, 1] = 1, 7  # one trial (nothing drawn) and exactly n_folds trials
    for seed in (np.uint64(77), np.uint64(2**63 + 5)):
        got = K.draw_permutations(cnt, seed, n_folds)
        np.testing.assert_array_equal(got, ref_draw_permutations(cnt, seed, n_folds))


def test_draw_permutations_are_permutations_and_reproducible():
    rng = np.random.default_rng(0)
    _, _, cnt = random_layout(rng, 5, 6, max_n=20)
    a = K.draw_permutations(cnt, np.uint64(77), 7)
    b = K.draw_permutations(cnt, np.uint64(77), 7)
    c = K.draw_permutations(cnt, np.uint64(78), 7)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for u in range(5):
        for m in range(6):
            n = cnt[u, m]
            need = max(2 * (n // 2), 7 * (n // 7))
            drawn = a[u, m, :need]
            assert len(set(drawn.tolist())) == need and (drawn < n).all() and (drawn >= 0).all()


# ------------------------------------------------------------------------------------------
# one sample


def test_count_rule_hand_examples():
    axis = np.array([0.0, 1.0, 2.0, 3.0])
    cases = [
        # responses per magnitude -> expected (z, edge). C(k) = #{positive at rank >= k} +
        # #{negative at rank < k}, k = 0..4; maximiser k, drops d_lo = C(k) - C(k-1) and
        # d_hi = C(k) - C(k+1); z = (d_hi a[k-1] + d_lo a[k]) / (d_lo + d_hi).
        # 4 positive (ranks 2, 3), 4 negative (ranks 0, 1): C = [4, 6, 8, 6, 4]; k = 2,
        # d_lo = d_hi = 2: midpoint of axis 1 and 2
        ([[-1, -1], [-1, -1], [1, 1], [1, 1]], (1.5, 0)),
        # positive: 1 at rank 2, 3 at rank 3; negative: 2, 2, 2, 1 at ranks 0..3:
        # C = [4, 6, 8, 9, 7]; k = 3, d_lo = 1, d_hi = 2: z = (2 * 2 + 1 * 3) / 3 = 7/3
        ([[-1, -1], [-1, -1], [-1, 1, -1], [1, 1, 1, -1]], (7 / 3, 0)),
        # positive: 1 at rank 1, 2 at rank 3; negative: 2, 1, 2 at ranks 0..2:
        # C = [3, 5, 5, 7, 5] (a tie at 5 below the maximum); k = 3, d_lo = d_hi = 2:
        # midpoint of axis 2 and 3
        ([[-1, -1], [1, -1], [-1, -1], [1, 1]], (2.5, 0)),
        # all negative: C = [0, 1, 2, 3, 4], maximum at the top position -> capped above
        ([[-1], [-1], [-1], [-1]], (3.0 - 0.1, 1)),
        # all positive: C = [4, 3, 2, 1, 0] -> capped below
        ([[1], [1], [1], [1]], (0.0 + 0.01, -1)),
        # all zero: C = 0 everywhere, every position ties, position 0 wins -> capped below
        ([[0], [0], [0], [0]], (0.01, -1)),
    ]
    for per_mag, expected in cases:
        resp = np.concatenate([np.asarray(r, float) for r in per_mag])
        midx = np.concatenate([np.full(len(r), m) for m, r in enumerate(per_mag)])
        n, _s, npos, nneg = stats_of(resp, midx, 4)
        z, edge, _ = K.count_reversal(n, npos, nneg, axis, 0.01, 0.1)
        ref = ref_count_reversal(resp, midx, axis)
        assert z == pytest.approx(ref[0]) and edge == ref[1]
        assert (z, edge) == pytest.approx(expected)


def test_count_rule_interpolation_weights():
    # the lower magnitude is more clearly negative than the upper is positive: z leans up
    axis = np.array([0.0, 10.0, 20.0])
    resp = np.array([-1, -1, -1, -1, -1, 1, 1, 1, -1.0])
    midx = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    n, _s, npos, nneg = stats_of(resp, midx, 3)
    z, edge, k = K.count_reversal(n, npos, nneg, axis, 0.01, 0.1)
    # C(0)=3, C(1)=5, C(2)=8, C(3)=6 -> k*=2, d_lo=3, d_hi=2; weights 1/3 (lower), 1/2 (upper)
    assert k == 2 and edge == 0
    w_lo = (1 / 3) / (1 / 3 + 1 / 2)
    assert z == pytest.approx(w_lo * 10 + (1 - w_lo) * 20)
    assert z == pytest.approx((2 * 10 + 3 * 20) / 5)


def test_balanced_magnitude_gives_its_axis_value():
    # magnitude 2 has as many positive as negative responses: tie of length 2 -> axis[2]
    axis = np.array([0.0, 1.0, 5.0, 9.0, 12.0])
    resp = np.array([-2, -1, -1, -3, 1, -1, 2, 3, 1.0])
    midx = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    n, _s, npos, nneg = stats_of(resp, midx, 5)
    z, edge, _ = K.count_reversal(n, npos, nneg, axis, 0.01, 0.1)
    assert z == 5.0 and edge == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_mag=st.integers(2, 9),
    max_n=st.integers(1, 15),
)
@example(seed=41335097, n_mag=7, max_n=9)  # a slope of 0 against -3e-12 (rounding)
def test_fit_sample_matches_reference(seed, n_mag, max_n):
    rng = np.random.default_rng(seed)
    vals, start, cnt = random_layout(rng, 1, n_mag, max_n=max_n, p_zero=0.3, integer=True)
    axis = random_axis(rng, n_mag)
    resp, midx = group(vals, start, cnt, 0)
    n, s, npos, nneg = stats_of(resp, midx, n_mag)
    order = np.argsort(axis)
    z, edge, a_neg, a_pos, tau, status = K.fit_sample(
        n, s, npos, nneg, axis, order, K.METHOD_COUNT, 0.01, 0.1
    )
    rz, redge, ra_neg, ra_pos, rtau = ref_fit(resp, midx, axis)
    np.testing.assert_allclose([z, a_neg, a_pos], [rz, ra_neg, ra_pos], rtol=1e-9, atol=1e-12)
    assert edge == redge
    if abs(ra_pos + ra_neg) < 1e-9:
        # 0/0: both slopes vanish (integer responses cancel); the reference's tau is noise
        assert status == K.STATUS_TAU_UNDEFINED or abs(a_pos + a_neg) < 1e-9
    else:
        np.testing.assert_allclose(tau, rtau, rtol=1e-9, atol=1e-9)  # tau is O(1): rounding
    if np.unique(midx).size < 2:
        assert status in (K.STATUS_NO_TRIALS, K.STATUS_ONE_MAGNITUDE)
    elif abs(ra_pos + ra_neg) < 1e-9:
        pass
    elif np.isnan(rtau):
        assert status in (K.STATUS_SLOPE_UNDEFINED, K.STATUS_TAU_UNDEFINED)
    else:
        assert status == K.STATUS_OK


def test_origin_slopes_match_lstsq_off_grid():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n_mag = rng.integers(3, 8)
        axis = random_axis(rng, n_mag)
        midx = rng.integers(0, n_mag, 60)
        resp = rng.normal(0, 3, 60)
        z = rng.uniform(axis[0], axis[-1])
        n, s, _, _ = stats_of(resp, midx, n_mag)
        got = K.origin_slopes(n, s, axis, z)
        np.testing.assert_allclose(got, ref_slopes(resp, midx, axis, z), rtol=1e-10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_mag=st.integers(3, 8))
def test_kink_reaches_bruteforce_minimum(seed, n_mag):
    rng = np.random.default_rng(seed)
    axis = random_axis(rng, n_mag)
    if rng.random() < 0.3:  # a non-monotone axis: the kink lives on sorted axis values
        axis = rng.permutation(axis)
    midx = rng.integers(0, n_mag, 80)
    z_true = rng.uniform(axis.min(), axis.max())
    x = axis[midx] - z_true
    resp = np.where(x > 0, rng.uniform(0.2, 2), rng.uniform(0.2, 2)) * x + rng.normal(0, 1, 80)
    n, s, _, _ = stats_of(resp, midx, n_mag)
    order = np.argsort(axis)
    z, edge = K.kink_reversal(n, s, axis, order, 0.01, 0.1)
    present = np.unique(midx)
    lo, hi = axis[present].min() + 0.01, axis[present].max() - 0.1
    grid = np.concatenate([np.linspace(lo, hi, 4001), axis[present][(axis[present] >= lo)]])
    grid = grid[grid <= hi]
    sse = np.array([ref_kink_sse(resp, midx, axis, g) for g in grid])
    got = ref_kink_sse(resp, midx, axis, z)
    assert lo - 1e-12 <= z <= hi + 1e-12
    assert got <= sse.min() + 1e-9 * (1 + sse.min())
    # objective of the kernel = total SS - SSE
    assert K.kink_objective(n, s, axis, z) == pytest.approx(np.sum(resp**2) - got, rel=1e-9)
    assert edge == (-1 if z <= lo else 1 if z >= hi else 0)
    assert edge == 0 or z in (lo, hi)


def test_kink_recovers_a_clean_kink():
    axis = np.linspace(0, 10, 11)
    midx = np.repeat(np.arange(11), 5)
    resp = np.where(axis[midx] > 3.3, 2.0, 0.5) * (axis[midx] - 3.3)
    n, s, _, _ = stats_of(resp, midx, 11)
    z, edge = K.kink_reversal(n, s, axis, np.arange(11), 0.01, 0.1)
    assert z == pytest.approx(3.3, abs=1e-7) and edge == 0
    assert K.origin_slopes(n, s, axis, z) == pytest.approx((0.5, 2.0), rel=1e-6)


def test_status_codes():
    axis = np.array([0.0, 1.0, 2.0])
    order = np.arange(3)
    zero = np.zeros(3, np.int64)
    r = K.fit_sample(zero, np.zeros(3), zero, zero, axis, order, 0, 0.01, 0.1)
    assert r[-1] == K.STATUS_NO_TRIALS and np.isnan(r[0])
    n = np.array([4, 0, 0])
    r = K.fit_sample(n, np.ones(3), n, zero, axis, order, 0, 0.01, 0.1)
    assert r[-1] == K.STATUS_ONE_MAGNITUDE and np.isnan(r[4])
    # every position ties -> lower cap; with cap_low = 0 it sits on the lowest magnitude, so
    # the side below has no spread
    n = np.array([2, 2, 2])
    ones = np.array([1, 1, 1])
    r = K.fit_sample(n, np.zeros(3), ones, ones, axis, order, 0, 0.0, 0.0)
    assert r[1] == -1 and r[0] == 0.0
    assert r[-1] == K.STATUS_SLOPE_UNDEFINED and np.isnan(r[4])
    # magnitude 1 balanced (z = 1), slope -1 above and +1 below: alpha_pos + alpha_neg = 0
    resp = np.array([-1.0, 1.0, -1.0, 2.0, 2.0, -7.0])
    midx = np.array([0, 1, 1, 2, 2, 2])
    n, s, npos, nneg = stats_of(resp, midx, 3)
    r = K.fit_sample(n, s, npos, nneg, axis, order, 0, 0.01, 0.1)
    assert r[0] == 1.0 and r[2] == pytest.approx(1.0) and r[3] == pytest.approx(-1.0)
    assert r[-1] == K.STATUS_TAU_UNDEFINED and np.isnan(r[4])


# ------------------------------------------------------------------------------------------
# all units, splits, folds, bootstrap


def test_fit_units_matches_reference():
    rng = np.random.default_rng(11)
    vals, start, cnt = random_layout(rng, 25, 7, max_n=20)
    axis = random_axis(rng, 7)
    z, a_neg, a_pos, tau, edge, _status = K.fit_units(
        vals, start, cnt, axis, np.argsort(axis), K.METHOD_COUNT, 0.01, 0.1
    )
    for u in range(25):
        resp, midx = group(vals, start, cnt, u)
        rz, redge, ran, rap, rtau = ref_fit(resp, midx, axis)
        np.testing.assert_allclose([z[u], a_neg[u], a_pos[u], tau[u]], [rz, ran, rap, rtau])
        assert edge[u] == redge


@pytest.mark.parametrize("method", [K.METHOD_COUNT, K.METHOD_KINK])
def test_split_half_matches_reference(method):
    rng = np.random.default_rng(5)
    n_unit, n_mag, n_folds = 9, 6, 7
    vals, start, cnt = random_layout(rng, n_unit, n_mag, max_n=25)
    axis = random_axis(rng, n_mag)
    order = np.argsort(axis)
    z_full = K.fit_units(vals, start, cnt, axis, order, method, 0.01, 0.1)[0]
    seeds = np.random.SeedSequence(1).generate_state(6, dtype=np.uint64)
    out = K.split_half(vals, start, cnt, axis, order, method, 0.01, 0.1, z_full, seeds, n_folds)
    z_a, z_b, a_neg_b, a_pos_b, tau_b, edge_a, edge_b, tau_fold = out
    for i, seed in enumerate(seeds):
        perm = ref_draw_permutations(cnt, seed, n_folds)
        for u in range(n_unit):
            half_a, half_b = [], []
            folds = [[] for _ in range(n_folds)]
            for m in range(n_mag):
                n = cnt[u, m]
                h, q = n // 2, n // n_folds
                half_a.append(perm[u, m, :h])
                half_b.append(perm[u, m, h : 2 * h])
                for f in range(n_folds):
                    folds[f].append(perm[u, m, f * q : (f + 1) * q])
            ra, ma = group(vals, start, cnt, u, half_a)
            rb, mb = group(vals, start, cnt, u, half_b)
            if method == K.METHOD_COUNT:
                za_ref, ea_ref = ref_count_reversal(ra, ma, axis)
                zb_ref, eb_ref = ref_count_reversal(rb, mb, axis)
                np.testing.assert_allclose([z_a[i, u], z_b[i, u]], [za_ref, zb_ref])
                assert (edge_a[i, u], edge_b[i, u]) == (ea_ref, eb_ref)
            else:  # the half's reversal point minimises the kink SSE (brute-force grid)
                for z_half, r_half, m_half in ((z_a[i, u], ra, ma), (z_b[i, u], rb, mb)):
                    present = axis[np.unique(m_half)]
                    if present.size < 2:
                        assert np.isnan(z_half)
                        continue
                    lo, hi = present.min() + 0.01, present.max() - 0.1
                    grid = np.concatenate([np.linspace(lo, hi, 801), present])
                    grid = grid[(grid >= lo) & (grid <= hi)]
                    best = min(ref_kink_sse(r_half, m_half, axis, g) for g in grid)
                    assert lo - 1e-12 <= z_half <= hi + 1e-12
                    assert ref_kink_sse(r_half, m_half, axis, z_half) <= best + 1e-9 * (1 + best)
                zb_ref = z_b[i, u]
            if np.isfinite(zb_ref):
                an, ap = ref_slopes(rb, mb, axis, zb_ref)
                np.testing.assert_allclose([a_neg_b[i, u], a_pos_b[i, u]], [an, ap])
                np.testing.assert_allclose(tau_b[i, u], ap / (ap + an))
            for f in range(n_folds):
                rf, mf = group(vals, start, cnt, u, folds[f])
                if np.isnan(z_full[u]) or rf.size == 0:
                    assert np.isnan(tau_fold[i, f, u])
                    continue
                an, ap = ref_slopes(rf, mf, axis, z_full[u])
                np.testing.assert_allclose(tau_fold[i, f, u], ap / (ap + an), equal_nan=True)


def test_bootstrap_matches_reference():
    rng = np.random.default_rng(8)
    vals, start, cnt = random_layout(rng, 4, 5, max_n=10)
    axis = random_axis(rng, 5)
    n_boot, seed = 30, 4242
    z, a_neg, a_pos, tau = K.bootstrap_units(
        vals, start, cnt, axis, np.argsort(axis), K.METHOD_COUNT, 0.01, 0.1, np.uint64(seed), n_boot
    )
    for u in range(4):
        stream = Stream(seed, u)
        for b in range(n_boot):
            idx = [[stream.below(cnt[u, m]) for _ in range(cnt[u, m])] for m in range(5)]
            resp, midx = group(vals, start, cnt, u, idx)
            rz, _, ran, rap, rtau = ref_fit(resp, midx, axis)
            np.testing.assert_allclose(
                [z[u, b], a_neg[u, b], a_pos[u, b], tau[u, b]], [rz, ran, rap, rtau]
            )


# ------------------------------------------------------------------------------------------
# population statistics


def test_correlation_rows_match_scipy():
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=(40, 30)), 1)  # ties
    y = x * rng.uniform(-1, 1, (40, 1)) + rng.normal(size=(40, 30))
    x[rng.random(x.shape) < 0.1] = np.nan
    y[rng.random(y.shape) < 0.1] = np.inf
    r, n = K.pearson_rows(x, y)
    rho, n_rho = K.spearman_rows(x, y)
    for i in range(40):
        ok = np.isfinite(x[i]) & np.isfinite(y[i])
        assert n[i] == n_rho[i] == ok.sum()
        assert r[i] == pytest.approx(stats.pearsonr(x[i, ok], y[i, ok])[0], abs=1e-12)
        assert rho[i] == pytest.approx(stats.spearmanr(x[i, ok], y[i, ok])[0], abs=1e-12)
    r, n = K.pearson_rows(np.ones((1, 5)), np.arange(5.0)[None])
    assert np.isnan(r[0]) and n[0] == 5


def test_anova_rows_match_scipy_with_exclusion():
    rng = np.random.default_rng(4)
    tf = rng.normal(0.5, 0.2, (20, 7, 40)) + rng.normal(0, 0.1, (20, 1, 40))
    tf[3, 2, 5] = np.nan
    tf[3, 6, 9] = np.inf
    f, k = K.anova_rows(tf)
    for i in range(20):
        ok = np.isfinite(tf[i]).all(axis=0)
        assert k[i] == ok.sum()
        ref = stats.f_oneway(*[tf[i, :, u] for u in np.flatnonzero(ok)])
        assert f[i] == pytest.approx(ref.statistic, rel=1e-10)
    assert k[3] == 38


@pytest.mark.parametrize("n_boot", [1, 7])
def test_bootstrap_odd_count_matches_reference_and_prefix(n_boot):
    # resamples are computed two at a time: an odd count leaves one alone, and resample b
    # must not depend on how many follow it
    rng = np.random.default_rng(21)
    vals, start, cnt = random_layout(rng, 5, 6, max_n=14)
    axis = random_axis(rng, 6)
    args = (vals, start, cnt, axis, np.argsort(axis), K.METHOD_COUNT, 0.01, 0.1, np.uint64(99))
    z, a_neg, a_pos, tau = K.bootstrap_units(*args, n_boot)
    longer = K.bootstrap_units(*args, n_boot + 5)
    for got, more in zip((z, a_neg, a_pos, tau), longer):
        np.testing.assert_array_equal(got, more[:, :n_boot])
    for u in range(5):
        stream = Stream(99, u)
        for b in range(n_boot):
            idx = [[stream.below(cnt[u, m]) for _ in range(cnt[u, m])] for m in range(6)]
            resp, midx = group(vals, start, cnt, u, idx)
            rz, _, ran, rap, rtau = ref_fit(resp, midx, axis)
            np.testing.assert_allclose(
                [z[u, b], a_neg[u, b], a_pos[u, b], tau[u, b]], [rz, ran, rap, rtau]
            )


@pytest.mark.parametrize("n_folds", [0, 3, 7])
def test_split_unit_sums_same_with_either_buffer(n_folds):
    # a scratch buffer of 2 max(cnt) draws before swapping; max(cnt) swaps as it draws:
    # the same permutation, and sums equal to the reference sums over draw_permutations
    rng = np.random.default_rng(3)
    vals, start, cnt = random_layout(rng, 6, 5, max_n=30)
    seed = np.uint64(2024)
    perm = K.draw_permutations(cnt, seed, n_folds)
    width = int(cnt.max())
    for u in range(6):
        outs = []
        for size in (width, 2 * width):
            na, pa, ga, nb, pb, gb = (np.zeros(5, np.int64) for _ in range(6))
            sa, sb = np.zeros(5), np.zeros(5)
            nf = np.zeros((max(n_folds, 1), 5), np.int64)
            sf = np.zeros((max(n_folds, 1), 5))
            state = K.stream_state(seed, u)
            buf = np.empty(size, np.int64)
            K.split_unit_sums(
                vals, start[u], cnt[u], n_folds, buf, state, na, sa, pa, ga, nb, sb, pb, gb, nf, sf
            )
            outs.append((sa, pa, ga, sb, pb, gb, sf[:n_folds], state[0]))
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b)
        sa, pa, ga, sb, pb, gb, sf, _ = outs[0]
        for m in range(5):
            n = cnt[u, m]
            h = n // 2
            row = vals[start[u, m] : start[u, m] + n]
            half_a, half_b = row[perm[u, m, :h]], row[perm[u, m, h : 2 * h]]
            assert sa[m] == pytest.approx(half_a.sum(), abs=1e-12)
            assert sb[m] == pytest.approx(half_b.sum(), abs=1e-12)
            assert (pa[m], ga[m]) == ((half_a > 0).sum(), (half_a < 0).sum())
            assert (pb[m], gb[m]) == ((half_b > 0).sum(), (half_b < 0).sum())
            if n_folds:
                q = n // n_folds
                ref = [row[perm[u, m, f * q : (f + 1) * q]].sum() for f in range(n_folds)]
                np.testing.assert_allclose(sf[:, m], ref, atol=1e-12)


def test_percentile_rows_equal_numpy():
    rng = np.random.default_rng(6)
    values = np.round(rng.normal(size=(60, 41)), 2)  # ties
    values[rng.random(values.shape) < 0.2] = np.nan
    values[rng.random(values.shape) < 0.05] = np.inf
    values[0] = np.nan  # no finite value
    values[1, 1:] = np.nan  # one
    values[2, 2:] = -np.inf  # two
    for q in (np.array([2.5, 97.5]), np.array([0.0, 50.0, 100.0]), 100.0 * rng.random(5)):
        got = K.percentile_rows(values, np.true_divide(q, 100))
        assert got.shape == (60, q.size)
        assert np.isnan(got[0]).all()
        for r in range(1, 60):
            finite = values[r][np.isfinite(values[r])]
            np.testing.assert_array_equal(got[r], np.percentile(finite, q))
