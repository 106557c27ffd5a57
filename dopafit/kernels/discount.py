"""numba kernels of the discounting fit: exponential and hyperbolic profiles, splits, bootstrap.

Model
-----
Per unit, the response to a cue predicting reward after a delay ``d`` is
``R(d) = b + A * gamma ** d`` (exponential, ``gamma`` in ``[gamma_min, 1]``) or
``R(d) = b + A / (1 + k d)`` (hyperbolic, ``k`` in ``[0, k_max]``). The asymptote ``b`` is
fitted (``fit_asymptote=True``) or fixed at ``asymptote_value``.

Least squares on the trials. The design depends on the trial only through its delay, so the
per-delay ``count`` ``n_d``, ``mean`` ``m_d`` and within-delay sum of squares ``ss_d`` are
sufficient statistics: with ``x_d = gamma ** d`` (or ``1 / (1 + k d)``),
``RSS = sum_d ss_d + sum_d n_d (m_d - b - A x_d) ** 2``. For a fixed ``gamma`` the model is
linear in ``(A, b)``: closed-form weighted least squares on the means with the counts as
weights (the *profile*). ``gamma`` (or ``k``) minimises the profile: the minimum over a grid
(the caller's, sorted increasing), then golden-section refinement between the grid
neighbours of that minimum (never worse than the grid minimum).

Statuses (:func:`unit_status`): a unit needs trials at 2 delays (3 with a fitted asymptote);
a unit whose delay means are all equal (all equal to the fixed asymptote) is *flat*: the
amplitude is 0 and ``gamma``/``k`` are not identified (NaN, amplitude 0, asymptote the mean).

Data layout of the split and bootstrap kernels
----------------------------------------------
As in :mod:`dopafit.kernels.expectile`: the finite responses grouped by unit and delay in one
flat array ``vals``; unit ``u`` at delay index ``j`` is ``vals[start[u, j]:][:cnt[u, j]]``
(:func:`group_trials`). Every random draw comes from a splitmix64 stream keyed by
(split seed, unit) or (bootstrap seed, unit): the numbers do not depend on the thread count.

Examples
--------
>>> import numpy as np
>>> from dopafit.kernels import discount as kd
>>> delays = np.array([0.5, 1.5, 3.0, 6.0])
>>> count = np.full((1, 4), 50)
>>> mean = (0.2 + 4.0 * 0.8 ** delays)[None, :]
>>> ss = np.zeros((1, 4))
>>> grid = np.linspace(0.01, 1.0, 100)
>>> gamma, amplitude, asymptote, rss = kd.fit_exponential(delays, count, mean, ss, True, 0.0, grid)
>>> [round(float(v[0]), 6) for v in (gamma, amplitude, asymptote)]
[0.8, 4.0, 0.2]
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dopafit.kernels.expectile import _GOLDEN, _below, _mix64, _shuffle, _stream_start

__all__ = [
    "STATUS_OK",
    "STATUS_NO_TRIALS",
    "STATUS_FEW_DELAYS",
    "STATUS_FLAT",
    "KIND_EXPONENTIAL",
    "KIND_HYPERBOLIC",
    "KIND_HYPERBOLIC_LOG_K",
    "delay_stats",
    "group_trials",
    "unit_status",
    "design_table",
    "profile_fit",
    "fit_exponential",
    "fit_hyperbolic",
    "exponential_rss_profile",
    "fit_shared_exponential",
    "split_half_exponential",
    "bootstrap_exponential",
]

STATUS_OK = 0
STATUS_NO_TRIALS = 1  # no used trial
STATUS_FEW_DELAYS = 2  # trials at fewer than 2 delays (3 with a fitted asymptote)
STATUS_FLAT = 3  # the delay means are all equal: amplitude 0, gamma / k not identified

KIND_EXPONENTIAL = 0
KIND_HYPERBOLIC = 1
KIND_HYPERBOLIC_LOG_K = 2  # hyperbolic with the parameter log k (the comparison's grid)

_GOLDEN_ITERS = 32  # golden-section iterations (the bracket shrinks by 0.618 each)
_INV_PHI = 0.6180339887498949
_FLAT_REL = 1e-14  # between-delay SS below this fraction of the total SS: flat
_SPLIT_BLOCK = 16  # splits computed together, unit by unit, in split_half_exponential


# --------------------------------------------------------------------------------------------
# sufficient statistics


@njit(cache=True, parallel=True)
def delay_stats(response, delay_index, n_delay):
    """Per unit and delay: trials, mean response and within-delay sum of squares.

    Parameters
    ----------
    response : ndarray of float64, shape (n_unit, n_trial)
        Responses; non-finite ones are left out.
    delay_index : ndarray of int64, shape (n_unit, n_trial)
        Index of the trial's delay in ``[0, n_delay)``; a negative index leaves it out.
    n_delay : int
        Number of delays.

    Returns
    -------
    count : ndarray of int64, shape (n_unit, n_delay)
    mean : ndarray of float64, shape (n_unit, n_delay)
        NaN where ``count`` is 0.
    ss : ndarray of float64, shape (n_unit, n_delay)
        ``sum (r - mean) ** 2`` over the trials (two passes); 0 where ``count`` is 0.
    """
    n_unit, n_trial = response.shape
    count = np.zeros((n_unit, n_delay), dtype=np.int64)
    mean = np.zeros((n_unit, n_delay))
    ss = np.zeros((n_unit, n_delay))
    for u in prange(n_unit):
        for t in range(n_trial):
            j = delay_index[u, t]
            r = response[u, t]
            if j >= 0 and j < n_delay and np.isfinite(r):
                count[u, j] += 1
                mean[u, j] += r
        for j in range(n_delay):
            mean[u, j] = mean[u, j] / count[u, j] if count[u, j] > 0 else np.nan
        for t in range(n_trial):
            j = delay_index[u, t]
            r = response[u, t]
            if j >= 0 and j < n_delay and np.isfinite(r):
                dv = r - mean[u, j]
                ss[u, j] += dv * dv
    return count, mean, ss


@njit(cache=True)
def group_trials(response, delay_index, n_delay):
    """The used trials grouped by unit and delay (the layout of the split and bootstrap kernels).

    Parameters
    ----------
    response, delay_index, n_delay : as in :func:`delay_stats`

    Returns
    -------
    vals : ndarray of float64, shape (n_used,)
        Used responses, unit by unit, delay by delay, in trial order within a delay.
    start, cnt : ndarray of int64, shape (n_unit, n_delay)
        First index in ``vals`` and number of trials of each unit and delay.
    """
    n_unit, n_trial = response.shape
    cnt = np.zeros((n_unit, n_delay), dtype=np.int64)
    for u in range(n_unit):
        for t in range(n_trial):
            j = delay_index[u, t]
            if j >= 0 and j < n_delay and np.isfinite(response[u, t]):
                cnt[u, j] += 1
    start = np.zeros((n_unit, n_delay), dtype=np.int64)
    pos = 0
    for u in range(n_unit):
        for j in range(n_delay):
            start[u, j] = pos
            pos += cnt[u, j]
    vals = np.empty(pos)
    fill = start.copy()
    for u in range(n_unit):
        for t in range(n_trial):
            j = delay_index[u, t]
            if j >= 0 and j < n_delay and np.isfinite(response[u, t]):
                vals[fill[u, j]] = response[u, t]
                fill[u, j] += 1
    return vals, start, cnt


# --------------------------------------------------------------------------------------------
# one sample


@njit(cache=True, inline="always")
def _design(kind, param, delays, x):
    if kind == KIND_EXPONENTIAL:
        if param > 0.0:
            lg = np.log(param)  # exp(d log gamma): one log for the delays, cheaper than pow
            for j in range(delays.shape[0]):
                x[j] = np.exp(delays[j] * lg)
        else:
            for j in range(delays.shape[0]):
                x[j] = param ** delays[j]
    else:
        k = np.exp(param) if kind == KIND_HYPERBOLIC_LOG_K else param
        for j in range(delays.shape[0]):
            x[j] = 1.0 / (1.0 + k * delays[j])


@njit(cache=True)
def _wls(n, y, x, fit_asym, b0):
    """Weighted least squares of ``y`` on ``x`` (weights ``n``): ``(A, b, sum n (y - b - A x)^2)``.

    With a fitted asymptote a design without spread (``x`` constant over the present delays)
    is the flat model: ``A = 0``, ``b`` the weighted mean.
    """
    sw = 0.0
    sx = 0.0
    sy = 0.0
    for j in range(n.shape[0]):
        if n[j] > 0:
            w = float(n[j])
            sw += w
            sx += w * x[j]
            sy += w * y[j]
    if sw == 0.0:
        return np.nan, np.nan, np.nan
    if fit_asym:
        xm = sx / sw
        ym = sy / sw
        sxx = 0.0
        sxy = 0.0
        for j in range(n.shape[0]):
            if n[j] > 0:
                w = float(n[j])
                dx = x[j] - xm
                sxx += w * dx * dx
                sxy += w * dx * (y[j] - ym)
        if sxx <= 1e-24 * sw:
            a = 0.0
            b = ym
        else:
            a = sxy / sxx
            b = ym - a * xm
    else:
        b = b0
        sxx = 0.0
        sxy = 0.0
        for j in range(n.shape[0]):
            if n[j] > 0:
                w = float(n[j])
                sxx += w * x[j] * x[j]
                sxy += w * x[j] * (y[j] - b0)
        a = sxy / sxx if sxx > 0.0 else 0.0
    rss = 0.0
    for j in range(n.shape[0]):
        if n[j] > 0:
            e = y[j] - b - a * x[j]
            rss += float(n[j]) * e * e
    return a, b, rss


@njit(cache=True)
def _status(n, y, fit_asym, b0):
    n_tot = 0
    present = 0
    sw = 0.0
    sy = 0.0
    for j in range(n.shape[0]):
        if n[j] > 0:
            n_tot += n[j]
            present += 1
            sw += n[j]
            sy += n[j] * y[j]
    if n_tot == 0:
        return STATUS_NO_TRIALS
    if present < (3 if fit_asym else 2):
        return STATUS_FEW_DELAYS
    centre = sy / sw if fit_asym else b0
    between = 0.0
    total = 0.0
    for j in range(n.shape[0]):
        if n[j] > 0:
            e = y[j] - centre
            between += n[j] * e * e
            total += n[j] * y[j] * y[j]
    if between <= _FLAT_REL * total:
        return STATUS_FLAT
    return STATUS_OK


@njit(cache=True)
def unit_status(count, mean, fit_asymptote, asymptote_value):
    """Whether each unit can be fitted.

    Parameters
    ----------
    count, mean : ndarray, shape (n_unit, n_delay)
        As :func:`delay_stats` returns them.
    fit_asymptote : bool
    asymptote_value : float
        The fixed asymptote (used when ``fit_asymptote`` is False).

    Returns
    -------
    ndarray of int64, shape (n_unit,)
        ``STATUS_OK``, ``STATUS_NO_TRIALS``, ``STATUS_FEW_DELAYS`` (trials at fewer than 2
        delays, 3 with a fitted asymptote) or ``STATUS_FLAT`` (all delay means equal, or all
        equal to the fixed asymptote: the amplitude is 0 and the discount not identified).
    """
    n_unit = count.shape[0]
    out = np.empty(n_unit, dtype=np.int64)
    for u in range(n_unit):
        out[u] = _status(count[u], mean[u], fit_asymptote, asymptote_value)
    return out


@njit(cache=True)
def _golden(kind, delays, n, y, fit_asym, b0, lo, hi, x):
    c = hi - _INV_PHI * (hi - lo)
    d = lo + _INV_PHI * (hi - lo)
    _design(kind, c, delays, x)
    fc = _wls(n, y, x, fit_asym, b0)[2]
    _design(kind, d, delays, x)
    fd = _wls(n, y, x, fit_asym, b0)[2]
    for _ in range(_GOLDEN_ITERS):
        if fc <= fd:
            hi = d
            d = c
            fd = fc
            c = hi - _INV_PHI * (hi - lo)
            _design(kind, c, delays, x)
            fc = _wls(n, y, x, fit_asym, b0)[2]
        else:
            lo = c
            c = d
            fc = fd
            d = lo + _INV_PHI * (hi - lo)
            _design(kind, d, delays, x)
            fd = _wls(n, y, x, fit_asym, b0)[2]
    return (c, fc) if fc <= fd else (d, fd)


@njit(cache=True)
def design_table(kind, grid, delays):
    """``x[g, j]`` = ``grid[g] ** delays[j]`` (exponential) or ``1 / (1 + grid[g] delays[j])``.

    Returns
    -------
    ndarray of float64, shape (n_grid, n_delay)
    """
    table = np.empty((grid.shape[0], delays.shape[0]))
    for g in range(grid.shape[0]):
        _design(kind, grid[g], delays, table[g])
    return table


@njit(cache=True)
def _grid_argmin(n, y, table, fit_asym, b0):
    """Index of the grid point with the least profile RSS (first of ties).

    The RSS of every grid point from the sample's sums (``sum w x``, ``sum w x^2``,
    ``sum w x y``): a few operations per delay, no power; the refinement and the estimates
    use the direct residuals of :func:`_wls`.
    """
    n_delay = n.shape[0]
    # the present delays' weights and responses, absent ones weighted 0 (branch-free below)
    wt = np.empty(n_delay)
    vt = np.empty(n_delay)
    sw = 0.0
    sy = 0.0
    syy = 0.0
    for j in range(n_delay):
        if n[j] > 0:
            wt[j] = float(n[j])
            vt[j] = y[j] - (0.0 if fit_asym else b0)
        else:
            wt[j] = 0.0
            vt[j] = 0.0
        sw += wt[j]
        sy += wt[j] * vt[j]
        syy += wt[j] * vt[j] * vt[j]
    best = 0
    best_rss = np.inf
    for g in range(table.shape[0]):
        sx = 0.0
        sxx = 0.0
        sxy = 0.0
        for j in range(n_delay):
            wx = wt[j] * table[g, j]
            sx += wx
            sxx += wx * table[g, j]
            sxy += wx * vt[j]
        if fit_asym:
            cxx = sxx - sx * sx / sw
            cxy = sxy - sx * sy / sw
            cyy = syy - sy * sy / sw
            rss = cyy if cxx <= 1e-12 * sxx else cyy - cxy * cxy / cxx
        else:
            rss = syy if sxx <= 0.0 else syy - sxy * sxy / sxx
        if rss < best_rss:
            best_rss = rss
            best = g
    return best


@njit(cache=True)
def profile_fit(kind, delays, n, y, fit_asym, b0, grid, table, x):
    """Least-squares discount of one sample (no status check).

    Parameters
    ----------
    kind : int
        ``KIND_EXPONENTIAL`` (parameter gamma) or ``KIND_HYPERBOLIC`` (parameter k).
    delays : ndarray of float64, shape (n_delay,)
    n, y : ndarray, shape (n_delay,)
        Trials and mean response per delay (delays with ``n == 0`` are absent).
    fit_asym : bool
    b0 : float
        The fixed asymptote.
    grid : ndarray of float64, shape (n_grid,)
        Parameter values searched (sorted increasing); the estimate lies in
        ``[grid[0], grid[-1]]``.
    table : ndarray of float64, shape (n_grid, n_delay)
        :func:`design_table` of ``kind``, ``grid`` and ``delays``.
    x : ndarray of float64, shape (n_delay,)
        Scratch space.

    Returns
    -------
    param, amplitude, asymptote, rss_between : float
        ``rss_between = sum n (y - b - A x) ** 2`` (add the within-delay SS for the RSS).
    """
    n_grid = grid.shape[0]
    best = _grid_argmin(n, y, table, fit_asym, b0)
    param = grid[best]
    best_rss = _wls(n, y, table[best], fit_asym, b0)[2]
    if n_grid > 1:
        lo = grid[max(best - 1, 0)]
        hi = grid[min(best + 1, n_grid - 1)]
        p, f = _golden(kind, delays, n, y, fit_asym, b0, lo, hi, x)
        if f < best_rss:
            param = p
    _design(kind, param, delays, x)
    a, b, rss = _wls(n, y, x, fit_asym, b0)
    return param, a, b, rss


def _args(delays, count, mean, ss, fit_asymptote, asymptote_value, grid):
    """The arguments of the fit kernels with numba's types."""
    return (
        np.ascontiguousarray(delays, dtype=np.float64),
        np.ascontiguousarray(count, dtype=np.int64),
        np.ascontiguousarray(mean, dtype=np.float64),
        np.ascontiguousarray(ss, dtype=np.float64),
        bool(fit_asymptote),
        float(asymptote_value),
        np.ascontiguousarray(grid, dtype=np.float64),
    )


@njit(cache=True, parallel=True)
def _fit_units(kind, delays, count, mean, ss, fit_asymptote, asymptote_value, grid):
    n_unit, n_delay = count.shape
    param = np.empty(n_unit)
    amp = np.empty(n_unit)
    asym = np.empty(n_unit)
    rss = np.empty(n_unit)
    table = design_table(kind, grid, delays)
    for u in prange(n_unit):
        x = np.empty(n_delay)
        st = _status(count[u], mean[u], fit_asymptote, asymptote_value)
        within = 0.0
        for j in range(n_delay):
            if count[u, j] > 0:
                within += ss[u, j]
        if st == STATUS_OK:
            p, a, b, r = profile_fit(
                kind, delays, count[u], mean[u], fit_asymptote, asymptote_value, grid, table, x
            )
            param[u] = p
            amp[u] = a
            asym[u] = b
            rss[u] = within + r
        elif st == STATUS_FLAT:
            for j in range(n_delay):
                x[j] = 1.0
            a, b, r = _wls(count[u], mean[u], x, True, 0.0)
            param[u] = np.nan
            amp[u] = 0.0
            asym[u] = b if fit_asymptote else asymptote_value
            rss[u] = within + r
        else:
            param[u] = np.nan
            amp[u] = np.nan
            asym[u] = np.nan
            rss[u] = np.nan
    return param, amp, asym, rss


def fit_exponential(delays, count, mean, ss, fit_asymptote, asymptote_value, grid):
    """Least-squares exponential discount ``b + A gamma ** d`` per unit (parallel over units).

    Parameters
    ----------
    delays : ndarray of float64, shape (n_delay,)
        The delays (>= 0), in the delay unit gamma is per.
    count, mean, ss : ndarray, shape (n_unit, n_delay)
        As :func:`delay_stats` returns them.
    fit_asymptote : bool
        Fit ``b`` (True) or fix it at ``asymptote_value``.
    asymptote_value : float
    grid : ndarray of float64, shape (n_grid,)
        gamma values searched, sorted increasing in ``(0, 1]``; the estimate lies in
        ``[grid[0], grid[-1]]``.

    Returns
    -------
    gamma, amplitude, asymptote, rss : ndarray of float64, shape (n_unit,)
        ``rss`` is the residual sum of squares over the trials. A unit that is not
        ``STATUS_OK`` (:func:`unit_status`) has NaN gamma; a flat unit has amplitude 0,
        its mean (or the fixed value) as asymptote and the flat model's rss; the others NaN.
    """
    return _fit_units(
        KIND_EXPONENTIAL, *_args(delays, count, mean, ss, fit_asymptote, asymptote_value, grid)
    )


def fit_hyperbolic(delays, count, mean, ss, fit_asymptote, asymptote_value, grid):
    """Least-squares hyperbolic discount ``b + A / (1 + k d)`` per unit (parallel over units).

    As :func:`fit_exponential` with ``grid`` the k values searched (sorted increasing in
    ``[0, k_max]``).

    Returns
    -------
    k, amplitude, asymptote, rss : ndarray of float64, shape (n_unit,)
    """
    return _fit_units(
        KIND_HYPERBOLIC, *_args(delays, count, mean, ss, fit_asymptote, asymptote_value, grid)
    )


@njit(cache=True, parallel=True)
def exponential_rss_profile(delays, count, mean, ss, fit_asymptote, asymptote_value, gammas):
    """The exponential RSS of every unit at every gamma (amplitude and asymptote profiled).

    Parameters
    ----------
    delays, count, mean, ss, fit_asymptote, asymptote_value : as in :func:`fit_exponential`
    gammas : ndarray of float64, shape (n_gamma,)

    Returns
    -------
    ndarray of float64, shape (n_unit, n_gamma)
        NaN rows for units without trials or with too few delays (a flat unit's row is its
        flat RSS wherever the amplitude is 0).
    """
    n_unit, n_delay = count.shape
    n_g = gammas.shape[0]
    out = np.empty((n_unit, n_g))
    for u in prange(n_unit):
        x = np.empty(n_delay)
        st = _status(count[u], mean[u], fit_asymptote, asymptote_value)
        if st == STATUS_NO_TRIALS or st == STATUS_FEW_DELAYS:
            out[u, :] = np.nan
            continue
        within = 0.0
        for j in range(n_delay):
            if count[u, j] > 0:
                within += ss[u, j]
        for g in range(n_g):
            _design(KIND_EXPONENTIAL, gammas[g], delays, x)
            out[u, g] = within + _wls(count[u], mean[u], x, fit_asymptote, asymptote_value)[2]
    return out


@njit(cache=True)
def _shared_rss(delays, count, mean, use, fit_asym, b0, gamma, x):
    _design(KIND_EXPONENTIAL, gamma, delays, x)
    total = 0.0
    for u in range(count.shape[0]):
        if use[u]:
            total += _wls(count[u], mean[u], x, fit_asym, b0)[2]
    return total


@njit(cache=True)
def fit_shared_exponential(delays, count, mean, ss, fit_asymptote, asymptote_value, grid):
    """One gamma for every unit (the single-timescale account), amplitude and asymptote per unit.

    Minimises the summed RSS of the units that have enough delays (:func:`unit_status` OK or
    flat) over the grid, then by golden section between the grid neighbours of the minimum.

    Parameters
    ----------
    delays, count, mean, ss, fit_asymptote, asymptote_value, grid : as in :func:`fit_exponential`

    Returns
    -------
    gamma : float
        NaN when no unit has enough delays.
    amplitude, asymptote, rss : ndarray of float64, shape (n_unit,)
        At the shared gamma; NaN for units left out.
    """
    n_unit, n_delay = count.shape
    use = np.zeros(n_unit, dtype=np.bool_)
    for u in range(n_unit):
        st = _status(count[u], mean[u], fit_asymptote, asymptote_value)
        use[u] = st == STATUS_OK or st == STATUS_FLAT
    amp = np.full(n_unit, np.nan)
    asym = np.full(n_unit, np.nan)
    rss = np.full(n_unit, np.nan)
    if not use.any():
        return np.nan, amp, asym, rss
    x = np.empty(n_delay)
    n_grid = grid.shape[0]
    best = 0
    best_rss = np.inf
    for g in range(n_grid):
        r = _shared_rss(delays, count, mean, use, fit_asymptote, asymptote_value, grid[g], x)
        if r < best_rss:
            best_rss = r
            best = g
    gamma = grid[best]
    if n_grid > 1:
        lo = grid[max(best - 1, 0)]
        hi = grid[min(best + 1, n_grid - 1)]
        c = hi - _INV_PHI * (hi - lo)
        d = lo + _INV_PHI * (hi - lo)
        fc = _shared_rss(delays, count, mean, use, fit_asymptote, asymptote_value, c, x)
        fd = _shared_rss(delays, count, mean, use, fit_asymptote, asymptote_value, d, x)
        for _ in range(_GOLDEN_ITERS):
            if fc <= fd:
                hi = d
                d = c
                fd = fc
                c = hi - _INV_PHI * (hi - lo)
                fc = _shared_rss(delays, count, mean, use, fit_asymptote, asymptote_value, c, x)
            else:
                lo = c
                c = d
                fc = fd
                d = lo + _INV_PHI * (hi - lo)
                fd = _shared_rss(delays, count, mean, use, fit_asymptote, asymptote_value, d, x)
        p, f = (c, fc) if fc <= fd else (d, fd)
        if f < best_rss:
            gamma = p
    _design(KIND_EXPONENTIAL, gamma, delays, x)
    for u in range(n_unit):
        if use[u]:
            a, b, r = _wls(count[u], mean[u], x, fit_asymptote, asymptote_value)
            within = 0.0
            for j in range(n_delay):
                if count[u, j] > 0:
                    within += ss[u, j]
            amp[u] = a
            asym[u] = b
            rss[u] = within + r
    return gamma, amp, asym, rss


# --------------------------------------------------------------------------------------------
# split halves and bootstrap


@njit(cache=True)
def _sample_gamma(delays, n, y, fit_asym, b0, grid, table, x):
    """gamma of one sample; NaN unless its status is OK."""
    if _status(n, y, fit_asym, b0) != STATUS_OK:
        return np.nan
    return profile_fit(KIND_EXPONENTIAL, delays, n, y, fit_asym, b0, grid, table, x)[0]


@njit(cache=True, inline="always")
def _split_means(vals, start, cnt, u, st, buf, na, ya, yb):
    """Per-delay trials ``na`` and means ``ya``, ``yb`` of the two halves of unit ``u``.

    At every delay the ``n`` trials are permuted by the stream state ``st``; positions
    ``[0, h)`` form half A and ``[h, 2h)`` half B, ``h = n // 2`` (NaN means where ``h`` is 0).
    ``buf`` (int64, at least the unit's largest count) is scratch space.
    """
    for j in range(cnt.shape[1]):
        n = cnt[u, j]
        h = n // 2
        na[j] = h
        if h == 0:
            ya[j] = np.nan
            yb[j] = np.nan
            continue
        st = _shuffle(buf, n, 2 * h, st)
        base = start[u, j]
        sa = 0.0
        sb = 0.0
        for k in range(h):
            sa += vals[base + buf[k]]
            sb += vals[base + buf[h + k]]
        ya[j] = sa / h
        yb[j] = sb / h


@njit(cache=True, parallel=True)
def split_half_exponential(vals, start, cnt, delays, fit_asymptote, asymptote_value, grid, seeds):
    """gamma from each half of random split halves (parallel over blocks of splits).

    For split ``i`` and unit ``u`` the ``n`` trials at every delay are permuted with the
    stream of ``(seeds[i], u)`` (the draw of :mod:`dopafit.kernels.expectile`): positions
    ``[0, h)`` form half A and ``[h, 2h)`` half B, ``h = n // 2`` (an odd trial out). Each
    half is fitted like :func:`fit_exponential`.

    Parameters
    ----------
    vals, start, cnt : as :func:`group_trials` returns them
    delays, fit_asymptote, asymptote_value, grid : as in :func:`fit_exponential`
    seeds : ndarray of uint64, shape (n_split,)

    Returns
    -------
    gamma_a, gamma_b : ndarray of float64, shape (n_split, n_unit)
        NaN where the half cannot be fitted (too few delays, flat).
    """
    n_unit, n_delay = cnt.shape
    n_split = seeds.shape[0]
    width = max(1, cnt.max())
    gamma_a = np.empty((n_split, n_unit))
    gamma_b = np.empty((n_split, n_unit))
    n_block = (n_split + _SPLIT_BLOCK - 1) // _SPLIT_BLOCK
    table = design_table(KIND_EXPONENTIAL, grid, delays)
    for ib in prange(n_block):
        buf = np.empty(width, dtype=np.int64)
        na = np.zeros(n_delay, dtype=np.int64)
        ya = np.zeros(n_delay)
        yb = np.zeros(n_delay)
        x = np.empty(n_delay)
        for u in range(n_unit):
            for i in range(ib * _SPLIT_BLOCK, min(n_split, (ib + 1) * _SPLIT_BLOCK)):
                _split_means(vals, start, cnt, u, _stream_start(seeds[i], u), buf, na, ya, yb)
                gamma_a[i, u] = _sample_gamma(
                    delays, na, ya, fit_asymptote, asymptote_value, grid, table, x
                )
                gamma_b[i, u] = _sample_gamma(
                    delays, na, yb, fit_asymptote, asymptote_value, grid, table, x
                )
    return gamma_a, gamma_b


@njit(cache=True, parallel=True)
def bootstrap_exponential(
    vals, start, cnt, delays, fit_asymptote, asymptote_value, grid, seed, n_boot, unit0=0
):
    """gamma from trial-level bootstrap resamples within delay (parallel over units).

    Resample ``cnt[u, j]`` trials with replacement at every delay and refit. Unit ``u``
    draws from the stream of ``(seed, unit0 + u)``: rows ``u0:u1`` with ``unit0=u0`` give
    exactly those rows of the whole call.

    Parameters
    ----------
    vals, start, cnt : as :func:`group_trials` returns them
    delays, fit_asymptote, asymptote_value, grid : as in :func:`fit_exponential`
    seed : uint64
    n_boot : int
    unit0 : int, default 0

    Returns
    -------
    ndarray of float64, shape (n_unit, n_boot)
        NaN for resamples that cannot be fitted.
    """
    n_unit, n_delay = cnt.shape
    out = np.empty((n_unit, n_boot))
    table = design_table(KIND_EXPONENTIAL, grid, delays)
    for u in prange(n_unit):
        st = _stream_start(seed, unit0 + u)
        y = np.zeros(n_delay)
        x = np.empty(n_delay)
        for b in range(n_boot):
            for j in range(n_delay):
                k = cnt[u, j]
                base = start[u, j]
                s = 0.0
                for _ in range(k):
                    st += _GOLDEN
                    s += vals[base + _below(_mix64(st), k)]
                y[j] = s / k if k > 0 else np.nan
            out[u, b] = _sample_gamma(
                delays, cnt[u], y, fit_asymptote, asymptote_value, grid, table, x
            )
    return out
