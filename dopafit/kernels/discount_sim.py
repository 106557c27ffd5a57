"""numba kernels of the calibrated timescale comparison: discount fits, split halves and the
simulation of whole datasets under an account.

Data layout
-----------
Trials are grouped by unit and delay level in one flat array ``vals`` (float64, finite
responses only); the trials of unit ``u`` at delay index ``k`` are
``vals[start[u, k] : start[u, k] + cnt[u, k]]`` (``start``, ``cnt`` int64, shape
``(n_unit, n_delay)``), ``delays[k]`` the delay of level ``k`` (increasing). Since the
design depends only on the delay, a sample (all trials of a unit or one half) is summarised
by per-delay counts ``n``, means ``m`` and within-delay sums of squares ``ss``.

Fits
----
Per unit ``R(d) = b + A * x(d)`` by least squares on the trials, with
``x(d) = gamma ** d`` (exponential, ``gamma`` in (0, 1]) or ``x(d) = 1 / (1 + k d)``
(hyperbolic, ``k > 0``). For a fixed curve parameter the fit is linear in ``(b, A)`` (or in
``A`` alone when the asymptote ``b`` is fixed) and its residual sum of squares is closed form;
the curve parameter is found on a grid (``coords``: gamma for the exponential, ``log k`` for
the hyperbolic; the curves of the grid are precomputed in a table ``(n_grid, n_delay)``) and
refined by a golden-section search between the best grid point's two neighbours.
The shared (single-timescale) fit minimises the sum over units of the same profiles.

Statistics of a dataset (:data:`N_STAT` of them, in this order):

0. ``gamma_reliability``: median over split halves of Pearson r(gamma of half A,
   gamma of half B) across units (halves drawn within unit and delay);
1. ``gamma_heterogeneity``: ``sum_u n_u log(rss_shared_u / rss_exponential_u)``, the
   likelihood-ratio statistic of per-unit gamma against one shared gamma with every unit's
   own Gaussian noise variance;
2. ``discount_shape``: ``sum_u n_u log(rss_hyperbolic_u / rss_exponential_u)``, the sum of
   per-unit delta AIC (hyperbolic minus exponential; both curves have the same number of
   parameters): > 0 favours exponential.

Randomness
----------
Every draw comes from a splitmix64 stream (:mod:`dopafit.kernels.expectile`) keyed by
integers: the noise of unit ``u`` in simulated dataset ``s`` by ``s * n_unit + u`` under the
account's simulation seed; the halves of unit ``u`` in split ``j`` of dataset ``s`` by the
unit's key (its index among all units of the recording) under the split's own seed
(:func:`split_seeds`: the account's split seed mixed with ``s * n_splits + j``), the draw of
:func:`dopafit.kernels.discount.split_half_exponential`. Results do not depend on the number
of threads, on the chunking of the datasets or on the other units.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dopafit.kernels.expectile import _GOLDEN, _INV_2_53, _below, _mix64, _stream_start

__all__ = [
    "KIND_EXPONENTIAL",
    "KIND_HYPERBOLIC",
    "N_STAT",
    "NOISE_GAUSSIAN",
    "NOISE_RESIDUAL",
    "curve_table",
    "delay_stats",
    "line_fit",
    "fit_curve",
    "fit_units",
    "split_seeds",
    "split_reliability",
    "dataset_statistics",
    "simulate_values",
    "simulate_statistics",
    "shape_statistic",
    "shape_inner_p",
]

KIND_EXPONENTIAL = 0
KIND_HYPERBOLIC = 1
N_STAT = 3
_PHI = 0.6180339887498949  # golden-section ratio
_GOLDEN_ITERS = 40  # as the fitter: the bracket of two grid steps shrinks to 0.618 ** 40
NOISE_GAUSSIAN = 0
NOISE_RESIDUAL = 1


# --------------------------------------------------------------------------------------------
# curves and single fits


@njit(cache=True, inline="always")
def _curve(kind, coord, d):
    if kind == KIND_EXPONENTIAL:
        return coord**d
    return 1.0 / (1.0 + np.exp(coord) * d)


@njit(cache=True)
def curve_table(kind, coords, delays):
    """``x`` of every grid coordinate at every delay, shape ``(n_grid, n_delay)``.

    ``coords`` are gammas (exponential) or ``log k`` (hyperbolic).
    """
    out = np.empty((coords.size, delays.size))
    for j in range(coords.size):
        for k in range(delays.size):
            out[j, k] = _curve(kind, coords[j], delays[k])
    return out


@njit(cache=True)
def delay_stats(vals, start, cnt):
    """Per-delay count, mean and within-delay sum of squares, each ``(n_unit, n_delay)``."""
    n_unit, n_delay = cnt.shape
    n = cnt.astype(np.float64)
    m = np.full((n_unit, n_delay), np.nan)
    ss = np.zeros((n_unit, n_delay))
    for u in range(n_unit):
        for k in range(n_delay):
            c = cnt[u, k]
            if c == 0:
                continue
            s = 0.0
            for i in range(start[u, k], start[u, k] + c):
                s += vals[i]
            mu = s / c
            q = 0.0
            for i in range(start[u, k], start[u, k] + c):
                q += (vals[i] - mu) ** 2
            m[u, k] = mu
            ss[u, k] = q
    return n, m, ss


@njit(cache=True)
def line_fit(n, m, x, fit_b, b0):
    """Weighted least squares of the means ``m`` on ``b + A x`` (weights ``n``).

    Returns ``(A, b, rss of the means)``; with ``fit_b`` False, ``b = b0`` is fixed. Delays
    with ``n == 0`` are ignored; ``A = 0`` when ``x`` does not vary (gamma = 1).
    """
    if fit_b:
        w = 0.0
        sx = 0.0
        sy = 0.0
        for k in range(n.size):
            if n[k] > 0:
                w += n[k]
                sx += n[k] * x[k]
                sy += n[k] * m[k]
        if w == 0.0:
            return np.nan, np.nan, np.nan
        xm = sx / w
        ym = sy / w
        sxx = 0.0
        sxy = 0.0
        syy = 0.0
        for k in range(n.size):
            if n[k] > 0:
                dx = x[k] - xm
                dy = m[k] - ym
                sxx += n[k] * dx * dx
                sxy += n[k] * dx * dy
                syy += n[k] * dy * dy
        if sxx > 1e-14 * w:
            a = sxy / sxx
            r = syy - a * sxy
        else:
            a = 0.0
            r = syy
        return a, ym - a * xm, max(r, 0.0)
    sxx = 0.0
    sxy = 0.0
    syy = 0.0
    for k in range(n.size):
        if n[k] > 0:
            y = m[k] - b0
            sxx += n[k] * x[k] * x[k]
            sxy += n[k] * x[k] * y
            syy += n[k] * y * y
    a = sxy / sxx if sxx > 0.0 else 0.0
    return a, b0, max(syy - a * sxy, 0.0)


@njit(cache=True, inline="always")
def _rss_means(w, y, syy, x, fit_b):
    # rss of the means for curve x, from the prepared weights w (0 where absent), the
    # responses y (centred on their weighted mean when fit_b, else minus b0; 0 where absent)
    # and syy = sum w y^2: one pass over the delays
    sx = 0.0
    sxx = 0.0
    sxy = 0.0
    for k in range(x.size):
        sx += w[k] * x[k]
        sxx += w[k] * x[k] * x[k]
        sxy += w[k] * x[k] * y[k]
    if fit_b:
        wt = 0.0
        for k in range(x.size):
            wt += w[k]
        sxx -= sx * sx / wt
        if sxx <= 1e-14 * wt:
            return syy
    elif sxx <= 0.0:
        return syy
    return max(syy - sxy * sxy / sxx, 0.0)


@njit(cache=True)
def fit_curve(n, m, ss_total, delays, table, coords, kind, fit_b, b0, prof):
    """Least-squares fit of one sample: grid of ``coords`` then a golden-section refinement.

    ``prof`` (``n_grid``,) receives the rss of the means at every grid point. Returns
    ``(coord, A, b, rss)`` with ``rss`` including the within-delay ``ss_total``.
    """
    g = coords.size
    nd = n.size
    w = np.zeros(nd)
    y = np.zeros(nd)
    wt = 0.0
    sy = 0.0
    for k in range(nd):
        if n[k] > 0:
            w[k] = n[k]
            wt += n[k]
            sy += n[k] * m[k]
    if wt == 0.0:
        return np.nan, np.nan, np.nan, np.nan
    ref = sy / wt if fit_b else b0
    syy = 0.0
    for k in range(nd):
        if n[k] > 0:
            y[k] = m[k] - ref
            syy += w[k] * y[k] * y[k]
    best = np.inf
    jb = -1
    for j in range(g):
        r = _rss_means(w, y, syy, table[j], fit_b)
        prof[j] = r
        if r < best:
            best = r
            jb = j
    if jb < 0:
        return np.nan, np.nan, np.nan, np.nan
    lo = coords[max(jb - 1, 0)]
    hi = coords[min(jb + 1, g - 1)]
    x = np.empty(delays.size)
    c = hi - _PHI * (hi - lo)
    d = lo + _PHI * (hi - lo)
    for k in range(delays.size):
        x[k] = _curve(kind, c, delays[k])
    fc = _rss_means(w, y, syy, x, fit_b)
    for k in range(delays.size):
        x[k] = _curve(kind, d, delays[k])
    fd = _rss_means(w, y, syy, x, fit_b)
    for _ in range(_GOLDEN_ITERS):
        if fc < fd:
            hi = d
            d = c
            fd = fc
            c = hi - _PHI * (hi - lo)
            for k in range(delays.size):
                x[k] = _curve(kind, c, delays[k])
            fc = _rss_means(w, y, syy, x, fit_b)
        else:
            lo = c
            c = d
            fc = fd
            d = lo + _PHI * (hi - lo)
            for k in range(delays.size):
                x[k] = _curve(kind, d, delays[k])
            fd = _rss_means(w, y, syy, x, fit_b)
    t = coords[jb]
    if min(fc, fd) < best:
        t = c if fc < fd else d
    x = np.empty(delays.size)
    for k in range(delays.size):
        x[k] = _curve(kind, t, delays[k])
    a, b, r = line_fit(n, m, x, fit_b, b0)
    return t, a, b, r + ss_total


@njit(cache=True)
def _shared_total(n, m, delays, gamma, fit_b, b0):
    # sum over units of the rss of the means at one shared gamma
    x = np.empty(delays.size)
    for k in range(delays.size):
        x[k] = gamma ** delays[k]
    tot = 0.0
    for u in range(n.shape[0]):
        tot += line_fit(n[u], m[u], x, fit_b, b0)[2]
    return tot


@njit(cache=True)
def fit_units(n, m, ss, delays, te, xe, th, xh, fit_b, b0):
    """Exponential, hyperbolic and shared-gamma fits of every unit.

    Returns
    -------
    exp : ndarray (4, n_unit)
        gamma, amplitude, asymptote, rss per unit.
    hyp : ndarray (4, n_unit)
        log k, amplitude, asymptote, rss per unit.
    shared : ndarray (3, n_unit)
        amplitude, asymptote, rss per unit at the shared gamma.
    shared_gamma : float
    """
    n_unit = n.shape[0]
    ge = te.size
    exp = np.empty((4, n_unit))
    hyp = np.empty((4, n_unit))
    shared = np.empty((3, n_unit))
    prof = np.empty((n_unit, ge))
    profh = np.empty(th.size)
    total = np.zeros(ge)
    for u in range(n_unit):
        sst = ss[u].sum()
        t, a, b, r = fit_curve(
            n[u], m[u], sst, delays, xe, te, KIND_EXPONENTIAL, fit_b, b0, prof[u]
        )
        exp[0, u] = t
        exp[1, u] = a
        exp[2, u] = b
        exp[3, u] = r
        t, a, b, r = fit_curve(n[u], m[u], sst, delays, xh, th, KIND_HYPERBOLIC, fit_b, b0, profh)
        hyp[0, u] = t
        hyp[1, u] = a
        hyp[2, u] = b
        hyp[3, u] = r
        for j in range(ge):
            total[j] += prof[u, j]
    jb = 0
    for j in range(1, ge):
        if total[j] < total[jb]:
            jb = j
    lo = te[max(jb - 1, 0)]
    hi = te[min(jb + 1, ge - 1)]
    c = hi - _PHI * (hi - lo)
    d = lo + _PHI * (hi - lo)
    fc = _shared_total(n, m, delays, c, fit_b, b0)
    fd = _shared_total(n, m, delays, d, fit_b, b0)
    for _ in range(_GOLDEN_ITERS):
        if fc < fd:
            hi = d
            d = c
            fd = fc
            c = hi - _PHI * (hi - lo)
            fc = _shared_total(n, m, delays, c, fit_b, b0)
        else:
            lo = c
            c = d
            fc = fd
            d = lo + _PHI * (hi - lo)
            fd = _shared_total(n, m, delays, d, fit_b, b0)
    gs = te[jb]
    if min(fc, fd) < total[jb]:
        gs = c if fc < fd else d
    x = np.empty(delays.size)
    for k in range(delays.size):
        x[k] = gs ** delays[k]
    for u in range(n_unit):
        a, b, r = line_fit(n[u], m[u], x, fit_b, b0)
        shared[0, u] = a
        shared[1, u] = b
        shared[2, u] = r + ss[u].sum()
    return exp, hyp, shared, gs


# --------------------------------------------------------------------------------------------
# split halves


@njit(cache=True, inline="always")
def _pearson(a, b, n):
    # Pearson r over the finite pairs of a[:n], b[:n]; NaN with < 3 pairs or no spread
    c = 0
    sa = 0.0
    sb = 0.0
    for i in range(n):
        if np.isfinite(a[i]) and np.isfinite(b[i]):
            c += 1
            sa += a[i]
            sb += b[i]
    if c < 3:
        return np.nan
    ma = sa / c
    mb = sb / c
    saa = 0.0
    sbb = 0.0
    sab = 0.0
    for i in range(n):
        if np.isfinite(a[i]) and np.isfinite(b[i]):
            da = a[i] - ma
            db = b[i] - mb
            saa += da * da
            sbb += db * db
            sab += da * db
    if saa <= 0.0 or sbb <= 0.0:
        return np.nan
    return sab / np.sqrt(saa * sbb)


@njit(cache=True)
def _half_gammas(vals, start, cnt, delays, te, xe, fit_b, b0, min_delays, seed, unit_key, ga, gb):
    # gamma of half A and half B of every unit for one split (stream (seed, unit_key[u]))
    n_unit, n_delay = cnt.shape
    na = np.zeros(n_delay)
    nb = np.zeros(n_delay)
    ma = np.zeros(n_delay)
    mb = np.zeros(n_delay)
    qa = np.zeros(n_delay)
    qb = np.zeros(n_delay)
    prof = np.empty(te.size)
    cmax = 0
    for u in range(n_unit):
        for k in range(n_delay):
            cmax = max(cmax, cnt[u, k])
    buf = np.empty(max(cmax, 1), dtype=np.int64)
    for u in range(n_unit):
        st = _stream_start(seed, unit_key[u])
        usable = 0
        for k in range(n_delay):
            c = cnt[u, k]
            h = c // 2
            na[k] = h
            nb[k] = h
            ma[k] = 0.0
            mb[k] = 0.0
            qa[k] = 0.0
            qb[k] = 0.0
            if h == 0:
                continue
            usable += 1
            for i in range(c):
                buf[i] = i
            for i in range(min(2 * h, c - 1)):
                st += _GOLDEN
                j = i + _below(_mix64(st), c - i)
                tmp = buf[i]
                buf[i] = buf[j]
                buf[j] = tmp
            s0 = start[u, k]
            sa = 0.0
            sb = 0.0
            for i in range(h):
                sa += vals[s0 + buf[i]]
                sb += vals[s0 + buf[h + i]]
            ma[k] = sa / h
            mb[k] = sb / h
            for i in range(h):
                qa[k] += (vals[s0 + buf[i]] - ma[k]) ** 2
                qb[k] += (vals[s0 + buf[h + i]] - mb[k]) ** 2
        if usable < min_delays:
            ga[u] = np.nan
            gb[u] = np.nan
            continue
        ga[u] = fit_curve(na, ma, qa.sum(), delays, xe, te, KIND_EXPONENTIAL, fit_b, b0, prof)[0]
        gb[u] = fit_curve(nb, mb, qb.sum(), delays, xe, te, KIND_EXPONENTIAL, fit_b, b0, prof)[0]


@njit(cache=True)
def split_seeds(split_seed, sim, n_splits):
    """The seeds of the ``n_splits`` split halves of simulated dataset ``sim``:
    ``stream_start(split_seed, sim * n_splits + j)``, uint64 (n_splits,)."""
    out = np.empty(n_splits, dtype=np.uint64)
    for j in range(n_splits):
        out[j] = _stream_start(split_seed, sim * n_splits + j)
    return out


@njit(cache=True)
def split_reliability(vals, start, cnt, delays, te, xe, fit_b, b0, min_delays, seeds, unit_key):
    """Split halves of one dataset: r per split and the gammas of both halves.

    In split ``j`` the trials of unit ``u`` at each delay are shuffled by the stream
    ``(seeds[j], unit_key[u])`` (the draw of :func:`dopafit.kernels.discount.split_half_exponential`,
    so that with the fitter's seeds and unit indices the halves are the fitter's); the first
    ``c // 2`` form half A, the next ``c // 2`` half B (an odd trial out). A unit needs
    ``min_delays`` delays with 2 trials or more, else NaN.

    Returns
    -------
    r : ndarray (n_splits,)
    gamma_a, gamma_b : ndarray (n_splits, n_unit)
    """
    n_unit = cnt.shape[0]
    n_splits = seeds.size
    r = np.empty(n_splits)
    ga = np.empty((n_splits, n_unit))
    gb = np.empty((n_splits, n_unit))
    for j in range(n_splits):
        _half_gammas(
            vals,
            start,
            cnt,
            delays,
            te,
            xe,
            fit_b,
            b0,
            min_delays,
            seeds[j],
            unit_key,
            ga[j],
            gb[j],
        )
        r[j] = _pearson(ga[j], gb[j], n_unit)
    return r, ga, gb


@njit(cache=True, inline="always")
def _median_finite(x):
    y = x[np.isfinite(x)]
    if y.size == 0:
        return np.nan
    return np.median(y)


@njit(cache=True)
def dataset_statistics(
    vals, start, cnt, delays, te, xe, th, xh, fit_b, b0, min_delays, seeds, unit_key
):
    """The :data:`N_STAT` statistics of one dataset (split halves with ``seeds``, see
    :func:`split_reliability`; none when ``seeds`` is empty)."""
    n, m, ss = delay_stats(vals, start, cnt)
    exp, hyp, shared, _ = fit_units(n, m, ss, delays, te, xe, th, xh, fit_b, b0)
    out = np.full(N_STAT, np.nan)
    if seeds.size > 0:
        r = split_reliability(
            vals, start, cnt, delays, te, xe, fit_b, b0, min_delays, seeds, unit_key
        )[0]
        out[0] = _median_finite(r)
    het = 0.0
    shape = 0.0
    for u in range(cnt.shape[0]):
        nu = n[u].sum()
        re = max(exp[3, u], 1e-300)
        het += nu * np.log(max(shared[2, u], 1e-300) / re)
        shape += nu * np.log(max(hyp[3, u], 1e-300) / re)
    out[1] = het
    out[2] = shape
    return out


# --------------------------------------------------------------------------------------------
# simulation


@njit(cache=True, inline="always")
def _normal(st):
    # one standard normal (Box-Muller, cosine branch) and the advanced state
    st += _GOLDEN
    u1 = (np.float64(np.int64(_mix64(st) >> np.uint64(11))) + 1.0) * _INV_2_53
    st += _GOLDEN
    u2 = np.float64(np.int64(_mix64(st) >> np.uint64(11))) * _INV_2_53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2), st


@njit(cache=True)
def simulate_values(mu, sd, pool, pool_start, pool_cnt, noise_mode, start, cnt, seed, sim, out):
    """Fill ``out`` (the flat trial layout) with one simulated dataset.

    The trial of unit ``u`` at delay ``k`` is ``mu[u, k]`` plus noise: ``sd[u]`` times a
    standard normal (``noise_mode`` :data:`NOISE_GAUSSIAN`) or a residual drawn with
    replacement from ``pool[pool_start[u] : pool_start[u] + pool_cnt[u]]``
    (:data:`NOISE_RESIDUAL`); the unit's draws come from stream ``sim * n_unit + u``.
    """
    n_unit, n_delay = cnt.shape
    for u in range(n_unit):
        st = _stream_start(seed, sim * n_unit + u)
        for k in range(n_delay):
            for i in range(start[u, k], start[u, k] + cnt[u, k]):
                if noise_mode == NOISE_GAUSSIAN:
                    z, st = _normal(st)
                    out[i] = mu[u, k] + sd[u] * z
                else:
                    st += _GOLDEN
                    out[i] = mu[u, k] + pool[pool_start[u] + _below(_mix64(st), pool_cnt[u])]


@njit(cache=True, parallel=True)
def simulate_statistics(
    mu, sd, pool, pool_start, pool_cnt, noise_mode, start, cnt, delays, te, xe, th, xh,
    fit_b, b0, min_delays, unit_key, sim_seed, split_seed, sim0, n_sim, n_splits,
):  # fmt: skip
    """Statistics of ``n_sim`` datasets simulated from the means ``mu`` (datasets in parallel).

    Dataset ``s`` (global index ``sim0 + s``) is :func:`simulate_values` under ``sim_seed``,
    then :func:`dataset_statistics` with the split seeds :func:`split_seeds` of
    ``(split_seed, sim0 + s, n_splits)``.

    Returns
    -------
    ndarray (n_sim, N_STAT)
    """
    n_val = 0
    for u in range(cnt.shape[0]):
        for k in range(cnt.shape[1]):
            n_val = max(n_val, start[u, k] + cnt[u, k])
    out = np.empty((n_sim, N_STAT))
    for s in prange(n_sim):
        vals = np.empty(n_val)
        simulate_values(
            mu, sd, pool, pool_start, pool_cnt, noise_mode, start, cnt, sim_seed, sim0 + s, vals
        )
        out[s] = dataset_statistics(
            vals,
            start,
            cnt,
            delays,
            te,
            xe,
            th,
            xh,
            fit_b,
            b0,
            min_delays,
            split_seeds(split_seed, sim0 + s, n_splits),
            unit_key,
        )
    return out


# --------------------------------------------------------------------------------------------
# double bootstrap of the exponential-against-hyperbolic test


@njit(cache=True)
def shape_statistic(vals, start, cnt, delays, te, xe, th, xh, fit_b, b0, kind, mu_out, sd_out):
    """``discount_shape`` of one dataset, and the means and noise SD of its refitted account.

    ``mu_out`` (n_unit, n_delay) receives every unit's fitted curve of ``kind``
    (:data:`KIND_EXPONENTIAL` or :data:`KIND_HYPERBOLIC`), ``sd_out`` (n_unit,) its
    within-delay residual SD.
    """
    n, m, ss = delay_stats(vals, start, cnt)
    n_unit, n_delay = cnt.shape
    prof = np.empty(max(te.size, th.size))
    total = 0.0
    for u in range(n_unit):
        sst = ss[u].sum()
        ge, ae, be, re = fit_curve(
            n[u], m[u], sst, delays, xe, te, KIND_EXPONENTIAL, fit_b, b0, prof
        )
        gh, ah, bh, rh = fit_curve(
            n[u], m[u], sst, delays, xh, th, KIND_HYPERBOLIC, fit_b, b0, prof
        )
        total += n[u].sum() * np.log(max(rh, 1e-300) / max(re, 1e-300))
        for k in range(n_delay):
            if kind == KIND_EXPONENTIAL:
                mu_out[u, k] = be + ae * ge ** delays[k]
            else:
                mu_out[u, k] = bh + ah / (1.0 + np.exp(gh) * delays[k])
        dof = n[u].sum()
        for k in range(n_delay):
            if n[u, k] > 0:
                dof -= 1.0
        sd_out[u] = np.sqrt(sst / dof) if dof > 0 else 0.0
    return total


@njit(cache=True, parallel=True)
def shape_inner_p(
    mu, sd, pool, pool_start, pool_cnt, noise_mode, start, cnt, delays, te, xe, th, xh,
    fit_b, b0, kind, upper, sim_seed, inner_seed, n_sim, n_inner,
):  # fmt: skip
    """Second level of the double bootstrap of ``discount_shape`` under one account.

    Outer dataset ``s`` is :func:`simulate_values` of ``mu`` under ``sim_seed`` (the same
    datasets as :func:`simulate_statistics`); its account (``kind``: the per-unit exponential
    or hyperbolic fits) is refitted, ``n_inner`` datasets are simulated from the refit (its
    own within-delay SD for Gaussian noise, the original residual pool otherwise; stream
    ``(s * n_inner + j) * n_unit + u`` under ``inner_seed``), and the outer value's add-one p
    among them is returned (upper tail if ``upper`` else lower).

    Returns
    -------
    ndarray (n_sim,)
    """
    n_unit, n_delay = cnt.shape
    n_val = 0
    for u in range(n_unit):
        for k in range(n_delay):
            n_val = max(n_val, start[u, k] + cnt[u, k])
    out = np.empty(n_sim)
    for s in prange(n_sim):
        vals = np.empty(n_val)
        simulate_values(
            mu, sd, pool, pool_start, pool_cnt, noise_mode, start, cnt, sim_seed, s, vals
        )
        mu2 = np.empty((n_unit, n_delay))
        sd2 = np.empty(n_unit)
        outer = shape_statistic(vals, start, cnt, delays, te, xe, th, xh, fit_b, b0, kind, mu2, sd2)
        mu3 = np.empty((n_unit, n_delay))
        sd3 = np.empty(n_unit)
        hits = 0
        for j in range(n_inner):
            simulate_values(
                mu2,
                sd2,
                pool,
                pool_start,
                pool_cnt,
                noise_mode,
                start,
                cnt,
                inner_seed,
                s * n_inner + j,
                vals,
            )
            v = shape_statistic(vals, start, cnt, delays, te, xe, th, xh, fit_b, b0, kind, mu3, sd3)
            if (upper and v >= outer) or ((not upper) and v <= outer):
                hits += 1
        out[s] = (1.0 + hits) / (1.0 + n_inner)
    return out
