"""numba kernels of statistics per row: Pearson, Spearman, one-way ANOVA and percentiles.

For the correlations and the ANOVA each row is one split of the expectile fit and columns
are units; for the percentiles each row is one unit and columns are bootstrap resamples.
Values that are not finite are left out pairwise (correlations), unit-wise (ANOVA) or
value-wise (percentiles). Rows are independent and computed in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["pearson_rows", "spearman_rows", "anova_rows", "percentile_rows"]


@njit(cache=True)
def _pearson(x, y):
    n = 0
    mx = 0.0
    my = 0.0
    for j in range(x.shape[0]):
        if np.isfinite(x[j]) and np.isfinite(y[j]):
            n += 1
            mx += x[j]
            my += y[j]
    if n < 3:
        return np.nan, n
    mx /= n
    my /= n
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for j in range(x.shape[0]):
        if np.isfinite(x[j]) and np.isfinite(y[j]):
            dx = x[j] - mx
            dy = y[j] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
    if sxx <= 0.0 or syy <= 0.0:
        return np.nan, n
    r = sxy / np.sqrt(sxx * syy)
    return min(1.0, max(-1.0, r)), n


@njit(cache=True)
def _average_ranks(v):
    n = v.shape[0]
    idx = np.argsort(v, kind="mergesort")
    ranks = np.empty(n)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and v[idx[j + 1]] == v[idx[i]]:
            j += 1
        r = 0.5 * (i + j) + 1.0
        for k in range(i, j + 1):
            ranks[idx[k]] = r
        i = j + 1
    return ranks


@njit(cache=True, parallel=True)
def pearson_rows(x, y):
    """Pearson r of ``x[i]`` and ``y[i]`` over columns where both are finite, per row.

    Returns
    -------
    r : ndarray of float64, shape (n_row,)
        NaN when fewer than 3 pairs or no variance.
    n : ndarray of int64, shape (n_row,)
        Pairs used.
    """
    n_row = x.shape[0]
    r = np.empty(n_row)
    n = np.empty(n_row, dtype=np.int64)
    for i in prange(n_row):
        r[i], n[i] = _pearson(x[i], y[i])
    return r, n


@njit(cache=True, parallel=True)
def spearman_rows(x, y):
    """Spearman rho (Pearson of average ranks) per row over pairs where both are finite."""
    n_row, n_col = x.shape
    r = np.empty(n_row)
    n = np.empty(n_row, dtype=np.int64)
    for i in prange(n_row):
        keep = np.zeros(n_col, dtype=np.bool_)
        k = 0
        for j in range(n_col):
            if np.isfinite(x[i, j]) and np.isfinite(y[i, j]):
                keep[j] = True
                k += 1
        xs = np.empty(k)
        ys = np.empty(k)
        k = 0
        for j in range(n_col):
            if keep[j]:
                xs[k] = x[i, j]
                ys[k] = y[i, j]
                k += 1
        if k < 3:
            r[i] = np.nan
            n[i] = k
            continue
        r[i], n[i] = _pearson(_average_ranks(xs), _average_ranks(ys))
    return r, n


@njit(cache=True, inline="always")
def _all_folds_finite(tau_fold, i, u):
    for f in range(tau_fold.shape[1]):
        if not np.isfinite(tau_fold[i, f, u]):
            return False
    return True


@njit(cache=True, parallel=True)
def anova_rows(tau_fold):
    """One-way ANOVA of fold taus across units, per split.

    Units (last axis) with any non-finite fold value are left out of that split.

    Parameters
    ----------
    tau_fold : ndarray of float64, shape (n_split, n_folds, n_unit)

    Returns
    -------
    f : ndarray of float64, shape (n_split,)
        ``(SSB / (k - 1)) / (SSW / (k (n_folds - 1)))`` with ``k`` units included; NaN when
        ``k < 2`` or ``SSW == 0``.
    k : ndarray of int64, shape (n_split,)
        Units included (``df1 = k - 1``, ``df2 = k (n_folds - 1)``).
    """
    n_split, n_folds, n_unit = tau_fold.shape
    f_out = np.empty(n_split)
    k_out = np.empty(n_split, dtype=np.int64)
    for i in prange(n_split):
        grand = 0.0
        k = 0
        for u in range(n_unit):
            if _all_folds_finite(tau_fold, i, u):
                k += 1
                for f in range(n_folds):
                    grand += tau_fold[i, f, u]
        k_out[i] = k
        if k < 2 or n_folds < 2:
            f_out[i] = np.nan
            continue
        grand /= k * n_folds
        ssb = 0.0
        ssw = 0.0
        for u in range(n_unit):
            if not _all_folds_finite(tau_fold, i, u):
                continue
            mu = 0.0
            for f in range(n_folds):
                mu += tau_fold[i, f, u]
            mu /= n_folds
            ssb += n_folds * (mu - grand) ** 2
            for f in range(n_folds):
                ssw += (tau_fold[i, f, u] - mu) ** 2
        if ssw <= 0.0:
            f_out[i] = np.nan
        else:
            f_out[i] = (ssb / (k - 1)) / (ssw / (k * (n_folds - 1)))
    return f_out, k_out


@njit(cache=True, parallel=True)
def percentile_rows(values, quantiles):
    """Percentiles of the finite values of each row, as :func:`numpy.percentile` computes them.

    Parameters
    ----------
    values : ndarray of float64, shape (n_row, n_col)
    quantiles : ndarray of float64, shape (n_q,)
        Quantiles in [0, 1] (``numpy.true_divide(q, 100)`` for percentiles ``q``).

    Returns
    -------
    ndarray of float64, shape (n_row, n_q)
        NaN for a row without finite values.

    Notes
    -----
    numpy's default ("linear", Hyndman & Fan type 7) rule, with its arithmetic: on the
    ``n`` sorted finite values ``v``, the virtual index is ``g = (n - 1) p``; at or
    beyond ``n - 1`` the result is ``v[n - 1]``; else with ``i = floor(g)``, ``t = g - i`` and
    ``d = v[i + 1] - v[i]`` it is ``v[i] + d t`` when ``t < 0.5`` and ``v[i + 1] - d (1 - t)``
    otherwise.
    """
    n_row, n_col = values.shape
    n_q = quantiles.shape[0]
    out = np.empty((n_row, n_q))
    for r in prange(n_row):
        finite = np.empty(n_col)
        n = 0
        for j in range(n_col):
            v = values[r, j]
            if np.isfinite(v):
                finite[n] = v
                n += 1
        if n == 0:
            out[r, :] = np.nan
            continue
        # the order statistics needed, placed by one partial sort (not a full sort)
        need = np.empty(2 * n_q, dtype=np.int64)
        for k in range(n_q):
            g = (n - 1) * quantiles[k]
            i = min(int(np.floor(g)), n - 1)
            need[2 * k] = i
            need[2 * k + 1] = min(i + 1, n - 1)
        ordered = np.partition(finite[:n], need)
        for k in range(n_q):
            p = quantiles[k]
            g = (n - 1) * p
            if g >= n - 1:
                out[r, k] = ordered[n - 1]
                continue
            i = int(np.floor(g))
            t = g - i
            a = ordered[i]
            b = ordered[i + 1]
            d = b - a
            out[r, k] = a + d * t if t < 0.5 else b - d * (1.0 - t)
    return out
