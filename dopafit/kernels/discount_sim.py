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
(hyperbolic, ``k > 0``), found on a grid of the curve parameter (``coords``: gamma for the
exponential, ``log k`` for the hyperbolic; the curves of the grid precomputed in a table
``(n_grid, n_delay)``) and refined by golden section between the best grid point's two
neighbours. Every step is the fitter's (:mod:`dopafit.kernels.discount`: the weighted least
squares, the grid and golden-section search, the shared-gamma fit, the split halves), so the
observed per-unit and split-half gammas are :func:`dopafit.fit_discounting`'s.

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

from dopafit.kernels.discount import (
    KIND_EXPONENTIAL,
    KIND_HYPERBOLIC_LOG_K,
    _sample_gamma,
    _split_means,
    _wls,
    design_table,
    fit_shared_exponential,
    profile_fit,
)
from dopafit.kernels.expectile import _GOLDEN, _INV_2_53, _below, _mix64, _stream_start
from dopafit.kernels.fit_stats import _pearson

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

KIND_HYPERBOLIC = KIND_HYPERBOLIC_LOG_K  # the hyperbolic curve with the coordinate log k
N_STAT = 3
NOISE_GAUSSIAN = 0
NOISE_RESIDUAL = 1


# --------------------------------------------------------------------------------------------
# curves and single fits


@njit(cache=True)
def curve_table(kind, coords, delays):
    """``x`` of every grid coordinate at every delay, shape ``(n_grid, n_delay)``.

    ``coords`` are gammas (exponential) or ``log k`` (hyperbolic):
    :func:`dopafit.kernels.discount.design_table`.
    """
    return design_table(kind, coords, delays)


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
    with ``n == 0`` are ignored; ``A = 0`` when ``x`` does not vary (gamma = 1). The fitter's
    :func:`dopafit.kernels.discount._wls`.
    """
    return _wls(n, m, x, fit_b, b0)


@njit(cache=True)
def fit_curve(n, m, ss_total, delays, table, coords, kind, fit_b, b0, prof=None):
    """Least-squares fit of one sample: :func:`dopafit.kernels.discount.profile_fit`.

    ``prof`` (``n_grid``,), when given, receives the rss of the means at every grid point.
    Returns ``(coord, A, b, rss)`` with ``rss`` including the within-delay ``ss_total``; NaN
    for a sample without trials.
    """
    if prof is not None:
        for j in range(coords.size):
            prof[j] = _wls(n, m, table[j], fit_b, b0)[2]
    if n.sum() == 0:
        return np.nan, np.nan, np.nan, np.nan
    x = np.empty(delays.size)
    t, a, b, r = profile_fit(kind, delays, n, m, fit_b, b0, coords, table, x)
    return t, a, b, r + ss_total


@njit(cache=True)
def fit_units(n, m, ss, delays, te, xe, th, xh, fit_b, b0):
    """Exponential, hyperbolic and shared-gamma fits of every unit.

    The shared gamma is :func:`dopafit.kernels.discount.fit_shared_exponential`'s.

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
    exp = np.empty((4, n_unit))
    hyp = np.empty((4, n_unit))
    shared = np.empty((3, n_unit))
    for u in range(n_unit):
        sst = ss[u].sum()
        exp[0, u], exp[1, u], exp[2, u], exp[3, u] = fit_curve(
            n[u], m[u], sst, delays, xe, te, KIND_EXPONENTIAL, fit_b, b0
        )
        hyp[0, u], hyp[1, u], hyp[2, u], hyp[3, u] = fit_curve(
            n[u], m[u], sst, delays, xh, th, KIND_HYPERBOLIC, fit_b, b0
        )
    gs, shared[0], shared[1], shared[2] = fit_shared_exponential(delays, n, m, ss, fit_b, b0, te)
    return exp, hyp, shared, gs


# --------------------------------------------------------------------------------------------
# split halves


@njit(cache=True)
def _half_gammas(vals, start, cnt, delays, te, xe, fit_b, b0, min_delays, seed, unit_key, ga, gb):
    # gamma of half A and half B of every unit for one split (stream (seed, unit_key[u])):
    # the halves and fits of dopafit.kernels.discount.split_half_exponential
    n_unit, n_delay = cnt.shape
    na = np.zeros(n_delay, dtype=np.int64)
    ma = np.zeros(n_delay)
    mb = np.zeros(n_delay)
    x = np.empty(n_delay)
    cmax = 0
    for u in range(n_unit):
        for k in range(n_delay):
            cmax = max(cmax, cnt[u, k])
    buf = np.empty(max(cmax, 1), dtype=np.int64)
    for u in range(n_unit):
        _split_means(vals, start, cnt, u, _stream_start(seed, unit_key[u]), buf, na, ma, mb)
        if (na > 0).sum() < min_delays:
            ga[u] = np.nan
            gb[u] = np.nan
            continue
        ga[u] = _sample_gamma(delays, na, ma, fit_b, b0, te, xe, x)
        gb[u] = _sample_gamma(delays, na, mb, fit_b, b0, te, xe, x)


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
        r[j] = _pearson(ga[j], gb[j])[0]  # the fitter's gamma_reliability
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
    total = 0.0
    for u in range(n_unit):
        sst = ss[u].sum()
        ge, ae, be, re = fit_curve(n[u], m[u], sst, delays, xe, te, KIND_EXPONENTIAL, fit_b, b0)
        gh, ah, bh, rh = fit_curve(n[u], m[u], sst, delays, xh, th, KIND_HYPERBOLIC, fit_b, b0)
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
