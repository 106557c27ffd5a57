"""numba kernels of the calibrated comparison: simulation and the batched fitting pipeline.

Many datasets (the observed one, or thousands simulated under an account) share one trial
layout: the grouped layout of :mod:`dopafit.kernels.expectile` (``start``, ``cnt`` of shape
``(n_unit, n_mag)``), with one row of raw responses per dataset, ``raw[d, j]``. The kernels
here run, on every row, exactly the steps of :func:`dopafit.fit.fit_expectiles`:

1. :func:`prepare_rows` -- pool cued and uncued trials with the scalar offset, optionally
   z-score per unit, compute the axis (the utility axis is re-estimated from each dataset);
2. :func:`fit_rows` -- the all-trial fit of every unit (:func:`~dopafit.kernels.expectile.fit_sample`);
3. :func:`split_rows` -- split halves and folds, drawn exactly as
   :func:`~dopafit.kernels.expectile.split_half` draws them (same streams, same positions),
   plus the held-out statistics of the comparison (sign prediction, asymmetry,
   expectile consistency), all from per-magnitude sufficient statistics.

Population statistics per split (Pearson, Spearman, ANOVA) are then computed by the fitter's
row kernels on the stacked ``(dataset * split, unit)`` arrays.

Randomness: simulation of dataset ``d`` uses the splitmix64 stream
``stream_state(sim_seeds[d], 0)``; split ``k`` of dataset ``d`` uses
``stream_state(split_seeds[d, k], unit)`` like the fitter. Every row is computed serially by
one thread, so results do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dopafit.kernels.expectile import (
    STATUS_OK,
    count_reversal,
    fit_sample,
    fold_tau,
    random_below,
    sample_stats,
    split_unit_sums,
    stream_state,
)

__all__ = [
    "NOISE_GAUSSIAN",
    "NOISE_RESIDUAL",
    "AXIS_FIXED",
    "AXIS_UTILITY",
    "uniform01",
    "standard_normal",
    "simulate_rows",
    "prepare_rows",
    "fit_rows",
    "opposite_sign_rows",
    "discrete_expectile",
    "split_rows",
]

NOISE_GAUSSIAN = 0
NOISE_RESIDUAL = 1
AXIS_FIXED = 0
AXIS_UTILITY = 1

_TWO_53 = 9007199254740992


# --------------------------------------------------------------------------------------------
# random numbers (on the fitter's splitmix64 streams)


@njit(cache=True)
def uniform01(state):
    """Uniform float in the open interval (0, 1) from a splitmix64 stream (advanced in place)."""
    return (random_below(state, _TWO_53) + 0.5) / _TWO_53


@njit(cache=True)
def standard_normal(state):
    """Standard normal draw by the Box-Muller transform (two uniforms per draw)."""
    u1 = uniform01(state)
    u2 = uniform01(state)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


# --------------------------------------------------------------------------------------------
# simulation


@njit(cache=True, parallel=True)
def simulate_rows(mean, scale, pool, pool_start, pool_len, noise_mode, sim_seeds):
    """Simulate raw responses of many datasets in the grouped layout.

    Parameters
    ----------
    mean : ndarray of float64, shape (n_used,)
        Mean raw response of every trial (grouped layout).
    scale : ndarray of float64, shape (n_used,)
        Gaussian SD (``NOISE_GAUSSIAN``) or the factor applied to a drawn residual
        (``NOISE_RESIDUAL``) of every trial.
    pool : ndarray of float64, shape (n_pool,)
        Residuals to resample (``NOISE_RESIDUAL``).
    pool_start, pool_len : ndarray of int64, shape (n_used,)
        The residual pool of every trial: ``pool[pool_start[j] : pool_start[j] + pool_len[j]]``.
        A trial with ``pool_len == 0`` gets Gaussian noise of SD ``scale[j]``.
    noise_mode : int
        ``NOISE_GAUSSIAN`` or ``NOISE_RESIDUAL``.
    sim_seeds : ndarray of uint64, shape (n_sim,)

    Returns
    -------
    ndarray of float64, shape (n_sim, n_used)
        ``mean + noise``.
    """
    n_sim = sim_seeds.shape[0]
    n_used = mean.shape[0]
    out = np.empty((n_sim, n_used))
    for d in prange(n_sim):
        state = stream_state(sim_seeds[d], 0)
        for j in range(n_used):
            if noise_mode == NOISE_RESIDUAL and pool_len[j] > 0:
                eps = pool[pool_start[j] + random_below(state, pool_len[j])]
            else:
                eps = standard_normal(state)
            out[d, j] = mean[j] + scale[j] * eps
    return out


# --------------------------------------------------------------------------------------------
# preparation: pooling, z-scoring, axis


@njit(cache=True, parallel=True)
def prepare_rows(raw, start, cnt, cued, pool, zscore, axis_mode, axis_fixed):
    """Pool, z-score and compute the axis of every dataset, as :func:`dopafit.fit.axes.prepare`.

    Parameters
    ----------
    raw : ndarray of float64, shape (n_data, n_used)
        Raw responses in the grouped layout.
    start, cnt : ndarray of int64, shape (n_unit, n_mag)
    cued : ndarray of bool, shape (n_used,)
        Cue flag of every trial of the layout.
    pool : bool
        Add ``offset = mean(cued cell means) - mean(uncued cell means)`` to uncued responses.
    zscore : bool
        Then z-score every unit (mean and SD with ddof=1 over its trials; a unit with SD 0
        is left unchanged).
    axis_mode : int
        ``AXIS_UTILITY`` (mean over units of the cell means) or ``AXIS_FIXED``.
    axis_fixed : ndarray of float64, shape (n_mag,)
        The axis when ``AXIS_FIXED``.

    Returns
    -------
    vals : ndarray of float64, shape (n_data, n_used)
    axis : ndarray of float64, shape (n_data, n_mag)
    offset : ndarray of float64, shape (n_data,)
    """
    n_data, n_used = raw.shape
    n_unit, n_mag = cnt.shape
    vals = np.empty((n_data, n_used))
    axis = np.empty((n_data, n_mag))
    offset = np.zeros(n_data)
    for d in prange(n_data):
        for j in range(n_used):
            vals[d, j] = raw[d, j]
        if pool:
            sc = 0.0
            nc = 0
            su = 0.0
            nu = 0
            for u in range(n_unit):
                for m in range(n_mag):
                    a = start[u, m]
                    tc = 0.0
                    kc = 0
                    tu = 0.0
                    ku = 0
                    for j in range(a, a + cnt[u, m]):
                        if cued[j]:
                            tc += vals[d, j]
                            kc += 1
                        else:
                            tu += vals[d, j]
                            ku += 1
                    if kc > 0:
                        sc += tc / kc
                        nc += 1
                    if ku > 0:
                        su += tu / ku
                        nu += 1
            if nc > 0 and nu > 0:
                off = sc / nc - su / nu
                offset[d] = off
                for j in range(n_used):
                    if not cued[j]:
                        vals[d, j] += off
        if zscore:
            for u in range(n_unit):
                a = start[u, 0]
                b = start[u, n_mag - 1] + cnt[u, n_mag - 1]
                k = b - a
                if k < 2:
                    continue
                mu = 0.0
                for j in range(a, b):
                    mu += vals[d, j]
                mu /= k
                ss = 0.0
                for j in range(a, b):
                    ss += (vals[d, j] - mu) ** 2
                sd = np.sqrt(ss / (k - 1))
                if sd > 0.0:
                    for j in range(a, b):
                        vals[d, j] = (vals[d, j] - mu) / sd
        for m in range(n_mag):
            if axis_mode == AXIS_UTILITY:
                tot = 0.0
                k = 0
                for u in range(n_unit):
                    c = cnt[u, m]
                    if c == 0:
                        continue
                    a = start[u, m]
                    t = 0.0
                    for j in range(a, a + c):
                        t += vals[d, j]
                    tot += t / c
                    k += 1
                axis[d, m] = tot / k if k > 0 else np.nan
            else:
                axis[d, m] = axis_fixed[m]
    return vals, axis, offset


# --------------------------------------------------------------------------------------------
# all-trial fits


@njit(cache=True, parallel=True)
def fit_rows(vals, start, cnt, axis, method, cap_lo, cap_hi):
    """All-trial fit of every unit of every dataset, as :func:`~dopafit.kernels.expectile.fit_units`.

    Parameters
    ----------
    vals : ndarray of float64, shape (n_data, n_used)
        Prepared responses.
    start, cnt : ndarray of int64, shape (n_unit, n_mag)
    axis : ndarray of float64, shape (n_data, n_mag)
    method : int
        ``METHOD_COUNT`` or ``METHOD_KINK`` of the fitter.
    cap_lo, cap_hi : float

    Returns
    -------
    z, tau : ndarray of float64, shape (n_data, n_unit)
        Reversal point and tau on all trials.
    edge, status : ndarray of int64, shape (n_data, n_unit)
    resid_var : ndarray of float64, shape (n_data, n_unit)
        Pooled within-magnitude variance of the unit's responses (NaN without degrees of
        freedom).
    """
    n_data = vals.shape[0]
    n_unit, n_mag = cnt.shape
    z = np.empty((n_data, n_unit))
    tau = np.empty((n_data, n_unit))
    edge = np.empty((n_data, n_unit), dtype=np.int64)
    status = np.empty((n_data, n_unit), dtype=np.int64)
    rvar = np.empty((n_data, n_unit))
    for d in prange(n_data):
        n = np.zeros(n_mag, dtype=np.int64)
        s = np.zeros(n_mag)
        npos = np.zeros(n_mag, dtype=np.int64)
        nneg = np.zeros(n_mag, dtype=np.int64)
        order = np.argsort(axis[d], kind="mergesort")
        row = vals[d]
        for u in range(n_unit):
            n[:] = 0
            s[:] = 0.0
            npos[:] = 0
            nneg[:] = 0
            ss = 0.0
            df = 0
            for m in range(n_mag):
                a = start[u, m]
                c = cnt[u, m]
                sample_stats(row[a : a + c], n, s, npos, nneg, m)
                if c > 1:
                    mu = s[m] / c
                    for j in range(a, a + c):
                        ss += (row[j] - mu) ** 2
                    df += c - 1
            r = fit_sample(n, s, npos, nneg, axis[d], order, method, cap_lo, cap_hi)
            z[d, u] = r[0]
            edge[d, u] = r[1]
            tau[d, u] = r[4]
            status[d, u] = r[5]
            rvar[d, u] = ss / df if df > 0 else np.nan
    return z, tau, edge, status, rvar


@njit(cache=True, parallel=True)
def opposite_sign_rows(vals, start, cnt, subject, n_subject, t_crit):
    """Pairs of same-subject units with significantly opposite-sign responses per magnitude.

    A unit's mean response at a magnitude is significantly positive (negative) when its
    one-sample t statistic exceeds ``t_crit[n - 1]`` (is below ``-t_crit[n - 1]``), ``n``
    trials. For every subject and magnitude the number of (positive, negative) pairs is
    ``n_pos * n_neg``; the statistic sums them.

    Parameters
    ----------
    vals : ndarray of float64, shape (n_data, n_used)
    start, cnt : ndarray of int64, shape (n_unit, n_mag)
    subject : ndarray of int64, shape (n_unit,)
        Subject index of every unit (0 .. n_subject - 1; -1 unknown: left out).
    n_subject : int
    t_crit : ndarray of float64, shape (max_n,)
        Two-sided critical t value by degrees of freedom (index = df; index 0 unused).

    Returns
    -------
    pairs : ndarray of float64, shape (n_data,)
    """
    n_data = vals.shape[0]
    n_unit, n_mag = cnt.shape
    out = np.zeros(n_data)
    for d in prange(n_data):
        pos = np.zeros((n_subject, n_mag))
        neg = np.zeros((n_subject, n_mag))
        for u in range(n_unit):
            if subject[u] < 0:
                continue
            for m in range(n_mag):
                c = cnt[u, m]
                if c < 2:
                    continue
                a = start[u, m]
                mu = 0.0
                for j in range(a, a + c):
                    mu += vals[d, j]
                mu /= c
                ss = 0.0
                for j in range(a, a + c):
                    ss += (vals[d, j] - mu) ** 2
                sd = np.sqrt(ss / (c - 1))
                if sd <= 0.0:
                    continue
                t = mu / (sd / np.sqrt(c))
                if t > t_crit[c - 1]:
                    pos[subject[u], m] += 1.0
                elif t < -t_crit[c - 1]:
                    neg[subject[u], m] += 1.0
        tot = 0.0
        for g in range(n_subject):
            for m in range(n_mag):
                tot += pos[g, m] * neg[g, m]
        out[d] = tot
    return out


# --------------------------------------------------------------------------------------------
# expectiles of a discrete distribution


@njit(cache=True)
def discrete_expectile(values, probs, order, tau):
    """tau-expectile of the distribution putting ``probs[m]`` on ``values[m]``.

    Parameters
    ----------
    values, probs : ndarray of float64, shape (n,)
    order : ndarray of int64, shape (n,)
        ``argsort(values)``.
    tau : float
        Clipped to [0, 1]; 0 gives the minimum and 1 the maximum of the support.

    Returns
    -------
    float

    Notes
    -----
    Solves ``tau E[(Z - e)+] = (1 - tau) E[(e - Z)+]``. Between consecutive support points
    ``v_k <= e <= v_{k+1}`` it is linear in ``e``:
    ``e = (tau A_U + (1 - tau) A_L) / (tau P_U + (1 - tau) P_L)`` with ``A`` and ``P`` the
    sums of ``p v`` and ``p`` below (``L``) and above (``U``) the segment.
    """
    n = values.shape[0]
    lo = np.inf
    hi = -np.inf
    tot_p = 0.0
    tot_a = 0.0
    for m in range(n):
        if probs[m] > 0.0:
            lo = min(lo, values[m])
            hi = max(hi, values[m])
            tot_p += probs[m]
            tot_a += probs[m] * values[m]
    if tot_p <= 0.0:
        return np.nan
    if tau <= 0.0:
        return lo
    if tau >= 1.0:
        return hi
    pl = 0.0
    al = 0.0
    for i in range(n - 1):
        m = order[i]
        pl += probs[m]
        al += probs[m] * values[m]
        pu = tot_p - pl
        au = tot_a - al
        den = tau * pu + (1.0 - tau) * pl
        if den <= 0.0:
            continue
        e = (tau * au + (1.0 - tau) * al) / den
        v0 = values[m]
        v1 = values[order[i + 1]]
        if v0 <= e <= v1:
            return e
    return tot_a / tot_p if n == 1 else (lo if tau < 0.5 else hi)


# --------------------------------------------------------------------------------------------
# splits


@njit(cache=True)
def _split_one(
    row,
    start,
    cnt,
    axis,
    order,
    method,
    cap_lo,
    cap_hi,
    zf,
    seed,
    n_folds,
    probs,
    weight,
    z_a,
    z_b,
    tau_b,
    tau_fold,
):
    """One split of one dataset; fills ``z_a``, ``z_b``, ``tau_b`` (n_unit) and ``tau_fold``
    (n_folds, n_unit) and returns (sign-prediction gain, asymmetry LLR, expectile misfit)."""
    n_unit, n_mag = cnt.shape
    width = 1
    for u in range(n_unit):
        for m in range(n_mag):
            width = max(width, cnt[u, m])
    buf = np.empty(width, dtype=np.int64)
    na = np.zeros(n_mag, dtype=np.int64)
    sa = np.zeros(n_mag)
    pa = np.zeros(n_mag, dtype=np.int64)
    ga = np.zeros(n_mag, dtype=np.int64)
    nb = np.zeros((n_unit, n_mag), dtype=np.int64)
    sb = np.zeros((n_unit, n_mag))
    pb = np.zeros((n_unit, n_mag), dtype=np.int64)
    gb = np.zeros((n_unit, n_mag), dtype=np.int64)
    pool_n = np.zeros(n_mag, dtype=np.int64)
    pool_p = np.zeros(n_mag, dtype=np.int64)
    pool_g = np.zeros(n_mag, dtype=np.int64)
    nf = np.zeros((max(n_folds, 1), n_mag), dtype=np.int64)
    sf = np.zeros((max(n_folds, 1), n_mag))
    llr = 0.0
    mis = 0.0
    n_mis = 0
    # axis variance under the reward distribution (expectile misfit scale)
    pm = 0.0
    pt = 0.0
    for m in range(n_mag):
        pm += probs[m] * axis[m]
        pt += probs[m]
    pm /= pt
    pv = 0.0
    for m in range(n_mag):
        pv += probs[m] * (axis[m] - pm) ** 2
    pv /= pt
    for u in range(n_unit):
        state = stream_state(seed, u)
        split_unit_sums(
            row,
            start[u],
            cnt[u],
            n_folds,
            buf,
            state,
            na,
            sa,
            pa,
            ga,
            nb[u],
            sb[u],
            pb[u],
            gb[u],
            nf,
            sf,
        )
        ra = fit_sample(na, sa, pa, ga, axis, order, method, cap_lo, cap_hi)
        za = ra[0]
        z_a[u] = za
        rb = fit_sample(nb[u], sb[u], pb[u], gb[u], axis, order, method, cap_lo, cap_hi)
        z_b[u] = rb[0]
        tau_b[u] = rb[4]
        for f in range(n_folds):
            tau_fold[f, u] = fold_tau(nf[f], sf[f], axis, zf[u])
        if np.isnan(za):
            continue
        for m in range(n_mag):
            pool_n[m] += na[m]
            pool_p[m] += pa[m]
            pool_g[m] += ga[m]
        # held-out asymmetry: slopes of half A around z_a, squared error on half B
        if ra[5] == STATUS_OK and weight[u] > 0.0:
            an = ra[2]
            ap = ra[3]
            num = 0.0
            den = 0.0
            for m in range(n_mag):
                x = axis[m] - za
                num += x * sa[m]
                den += x * x * na[m]
            if den > 0.0:
                g = num / den
                gain = 0.0
                for m in range(n_mag):
                    x = axis[m] - za
                    p_sym = g * x
                    p_asy = ap * x if x >= 0.0 else an * x
                    gain += -2.0 * sb[u, m] * (p_sym - p_asy) + nb[u, m] * (
                        p_sym * p_sym - p_asy * p_asy
                    )
                llr += weight[u] * gain
        # expectile consistency: z_a against the expectile at tau_b
        if np.isfinite(tau_b[u]) and pv > 0.0:
            e = discrete_expectile(axis, probs, order, tau_b[u])
            mis += (za - e) ** 2
            n_mis += 1
    # held-out sign prediction: one reversal point per unit vs one shared (pooled half A)
    zs, _e, _k = count_reversal(pool_n, pool_p, pool_g, axis, cap_lo, cap_hi)
    hit_div = 0
    hit_sh = 0
    total = 0
    for u in range(n_unit):
        za = z_a[u]
        if np.isnan(za):
            continue
        for m in range(n_mag):
            if nb[u, m] == 0:
                continue
            x = axis[m]
            total += nb[u, m]
            if x > za:
                hit_div += pb[u, m]
            elif x < za:
                hit_div += gb[u, m]
            if not np.isnan(zs):
                if x > zs:
                    hit_sh += pb[u, m]
                elif x < zs:
                    hit_sh += gb[u, m]
    sign_gain = (hit_div - hit_sh) / total if total > 0 and not np.isnan(zs) else np.nan
    misfit = mis / n_mis / pv if n_mis > 0 else np.nan
    return sign_gain, llr, misfit


@njit(cache=True, parallel=True)
def split_rows(
    vals, start, cnt, axis, method, cap_lo, cap_hi, z_full, split_seeds, n_folds, probs, weight
):
    """Split halves and folds of many datasets (parallel over dataset × split).

    The halves and folds of split ``k`` of dataset ``d`` are drawn exactly as
    :func:`~dopafit.kernels.expectile.split_half` draws split ``k`` with seed
    ``split_seeds[d, k]``, so the observed dataset run through this kernel reproduces the
    fitter's split-half arrays bit for bit.

    Parameters
    ----------
    vals : ndarray of float64, shape (n_data, n_used)
        Prepared responses.
    start, cnt : ndarray of int64, shape (n_unit, n_mag)
    axis : ndarray of float64, shape (n_data, n_mag)
    method : int
    cap_lo, cap_hi : float
    z_full : ndarray of float64, shape (n_data, n_unit)
        All-trial reversal points (fold slopes are centred on them).
    split_seeds : ndarray of uint64, shape (n_data, n_split)
    n_folds : int
    probs : ndarray of float64, shape (n_mag,)
        Reward distribution (trial proportions) for the expectiles.
    weight : ndarray of float64, shape (n_data, n_unit)
        Weight of each unit's held-out squared-error gain, ``1 / (2 sigma^2)`` (0 leaves
        the unit out of the asymmetry statistic).

    Returns
    -------
    z_a, z_b, tau_b : ndarray of float64, shape (n_data, n_split, n_unit)
    tau_fold : ndarray of float64, shape (n_data, n_split, n_folds, n_unit)
    sign_gain : ndarray of float64, shape (n_data, n_split)
        Held-out sign accuracy with one reversal point per unit (half A) minus with one
        shared reversal point (counting rule on the pooled half-A trials of all units).
    asym_llr : ndarray of float64, shape (n_data, n_split)
        ``sum_u weight_u (SSE_sym - SSE_asym)`` on half B, slopes from half A centred on
        ``z_a``: a held-out Gaussian log-likelihood ratio of asymmetric vs symmetric slopes.
    misfit : ndarray of float64, shape (n_data, n_split)
        ``mean_u (z_a - e(tau_b))^2 / Var(axis)``, ``e`` the expectile of the reward
        distribution on the axis (tau_b clipped to [0, 1]).
    """
    n_data = vals.shape[0]
    n_split = split_seeds.shape[1]
    n_unit, n_mag = cnt.shape
    z_a = np.empty((n_data, n_split, n_unit))
    z_b = np.empty((n_data, n_split, n_unit))
    tau_b = np.empty((n_data, n_split, n_unit))
    tau_fold = np.empty((n_data, n_split, n_folds, n_unit))
    sign_gain = np.empty((n_data, n_split))
    asym = np.empty((n_data, n_split))
    misfit = np.empty((n_data, n_split))
    orders = np.empty((n_data, n_mag), dtype=np.int64)
    for d in range(n_data):
        orders[d] = np.argsort(axis[d], kind="mergesort")
    for r in prange(n_data * n_split):
        d = r // n_split
        k = r - d * n_split
        out = _split_one(
            vals[d],
            start,
            cnt,
            axis[d],
            orders[d],
            method,
            cap_lo,
            cap_hi,
            z_full[d],
            split_seeds[d, k],
            n_folds,
            probs,
            weight[d],
            z_a[d, k],
            z_b[d, k],
            tau_b[d, k],
            tau_fold[d, k],
        )
        sign_gain[d, k] = out[0]
        asym[d, k] = out[1]
        misfit[d, k] = out[2]
    return z_a, z_b, tau_b, tau_fold, sign_gain, asym, misfit
