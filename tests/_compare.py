"""Helpers of the comparison tests: plain-python/numpy references of the compare kernels."""

from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def np_count_reversal(n, pos, neg, axis, cap_lo=0.01, cap_hi=0.1):
    """Counting rule from per-magnitude counts of trials, positive and negative responses.

    With the present magnitudes ``a_0 < ... < a_{K-1}``, the score of a cut before ``a_k`` is
    ``c_k = sum_j pos_j + sum_{j<k} (neg_j - pos_j)`` (the trials whose sign the cut
    explains). The middle maximiser ``k`` gives ``a_0 + cap_lo`` (``k = 0``),
    ``a_{K-1} - cap_hi`` (``k = K``), else the point between ``a_{k-1}`` and ``a_k``
    weighted by the inverse drops ``1 / (c_k - c_{k-1})`` and ``1 / (c_k - c_{k+1})``.
    NaN with fewer than two magnitudes present.
    """
    present = n > 0
    a = axis[present]
    if a.size < 2:
        return np.nan
    c = pos[present].sum() + np.concatenate([[0.0], np.cumsum(neg[present] - pos[present])])
    tied = np.flatnonzero(c == c.max())
    if tied[0] == 0:
        return a[0] + cap_lo
    if tied[-1] == a.size:
        return a[-1] - cap_hi
    k = tied[(tied.size - 1) // 2]
    d_lo, d_hi = c[k] - c[k - 1], c[k] - c[k + 1]
    if d_lo + d_hi == 0:
        return 0.5 * (a[k - 1] + a[k])
    return (d_hi * a[k - 1] + d_lo * a[k]) / (d_lo + d_hi)


def np_expectile(values, probs, tau):
    """The ``tau``-expectile of a discrete distribution: the root of
    ``tau E[(X - e)+] = (1 - tau) E[(e - X)+]`` by 60 halvings of ``[min, max]``."""
    lo, hi = values.min(), values.max()
    for _ in range(60):
        e = 0.5 * (lo + hi)
        g = tau * np.sum(probs * np.clip(values - e, 0, None)) - (1 - tau) * np.sum(
            probs * np.clip(e - values, 0, None)
        )
        lo, hi = (e, hi) if g > 0 else (lo, e)
    return 0.5 * (lo + hi)


class Stream:
    """The splitmix64 stream of dopafit.kernels.expectile, in pure python."""

    def __init__(self, seed: int, key: int):
        self.state = _mix64(int(seed) ^ _mix64((key * GOLDEN + 1) & MASK))

    def below(self, k: int) -> int:
        self.state = (self.state + GOLDEN) & MASK
        u = float(_mix64(self.state) >> 11) * (1.0 / 9007199254740992.0)
        j = int(u * k)
        return j if j < k else k - 1

    def uniform(self) -> float:
        return (self.below(9007199254740992) + 0.5) / 9007199254740992.0

    def normal(self) -> float:
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def ref_simulate(mean, scale, pool, pool_start, pool_len, residual: bool, seeds):
    out = np.empty((len(seeds), mean.size))
    for d, seed in enumerate(seeds):
        s = Stream(int(seed), 0)
        for j in range(mean.size):
            if residual and pool_len[j] > 0:
                eps = pool[pool_start[j] + s.below(int(pool_len[j]))]
            else:
                eps = s.normal()
            out[d, j] = mean[j] + scale[j] * eps
    return out


def ref_split_extras(
    vals, start, cnt, axis, perm, z_a, tau_b, probs, weight, cap_lo=0.01, cap_hi=0.1
):
    """Sign-prediction gain, asymmetry LLR and expectile misfit of one split, in numpy.

    ``perm`` is the fitter's :func:`draw_permutations` for the split; ``z_a`` and ``tau_b``
    the split's half-A reversal points and half-B taus.
    """
    n_unit, n_mag = cnt.shape
    halves = []
    for u in range(n_unit):
        ra, ma, rb, mb = [], [], [], []
        for m in range(n_mag):
            n = cnt[u, m]
            h = n // 2
            cell = vals[start[u, m] : start[u, m] + n]
            ra.append(cell[perm[u, m, :h]])
            ma.append(np.full(h, m))
            rb.append(cell[perm[u, m, h : 2 * h]])
            mb.append(np.full(h, m))
        halves.append(tuple(np.concatenate(x) for x in (ra, ma, rb, mb)))
    ok = np.isfinite(z_a)
    pool_r = np.concatenate([halves[u][0] for u in range(n_unit) if ok[u]])
    pool_m = np.concatenate([halves[u][1] for u in range(n_unit) if ok[u]]).astype(int)
    n = np.bincount(pool_m, minlength=n_mag)
    z_sh = np_count_reversal(
        n,
        np.bincount(pool_m, weights=pool_r > 0, minlength=n_mag),
        np.bincount(pool_m, weights=pool_r < 0, minlength=n_mag),
        axis,
        cap_lo,
        cap_hi,
    )
    hits_div = hits_sh = total = 0
    llr = 0.0
    mis = []
    var_axis = np.sum(probs * (axis - np.sum(probs * axis)) ** 2) / np.sum(probs)
    for u in range(n_unit):
        if not ok[u]:
            continue
        ra, ma, rb, mb = halves[u]
        xb = axis[mb.astype(int)]
        hits_div += np.sum(((xb > z_a[u]) & (rb > 0)) | ((xb < z_a[u]) & (rb < 0)))
        hits_sh += np.sum(((xb > z_sh) & (rb > 0)) | ((xb < z_sh) & (rb < 0)))
        total += rb.size
        xa = axis[ma.astype(int)] - z_a[u]
        with np.errstate(invalid="ignore", divide="ignore"):
            a_neg = np.sum(xa[xa <= 0] * ra[xa <= 0]) / np.sum(xa[xa <= 0] ** 2)
            a_pos = np.sum(xa[xa >= 0] * ra[xa >= 0]) / np.sum(xa[xa >= 0] ** 2)
            g = np.sum(xa * ra) / np.sum(xa**2)
        if weight[u] > 0 and np.isfinite(a_neg) and np.isfinite(a_pos) and a_neg + a_pos != 0:
            xc = xb - z_a[u]
            p_sym = g * xc
            p_asy = np.where(xc >= 0, a_pos * xc, a_neg * xc)
            llr += weight[u] * (np.sum((rb - p_sym) ** 2) - np.sum((rb - p_asy) ** 2))
        if np.isfinite(tau_b[u]):
            mis.append((z_a[u] - np_expectile(axis, probs, np.clip(tau_b[u], 0, 1))) ** 2)
    sign = (hits_div - hits_sh) / total
    return sign, llr, np.mean(mis) / var_axis
