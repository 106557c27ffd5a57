"""numba kernels that fit the learning models: optimiser, Hessian, profile intervals, many units.

The likelihood and its gradient are :func:`dopafit.kernels.learning.unit_objective` (its
docstring describes the model, the parameter vector and the tie maps).

Optimiser
---------
:func:`minimize_box` is a projected limited-memory BFGS (quasi-Newton) with box bounds:
two-loop recursion on the free variables, variables at a bound with the gradient pointing out
of the box held fixed, and a backtracking Armijo search along the projected path.

Randomness
----------
Start ``s`` of unit ``u``, model ``m`` and fold ``f`` draws from the splitmix64 stream
``stream_state(seed, start_key(u, m, f, s))``; every (unit, model) is fitted serially by one
thread, so results do not depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from dopafit.kernels.compare import uniform01
from dopafit.kernels.expectile import stream_state
from dopafit.kernels.learning import (
    N_FIXED,
    P_ALPHA_NEG,
    P_ALPHA_POS,
    P_BASELINE,
    P_ETA_NEG,
    P_ETA_POS,
    P_LOG_SIGMA,
    branches,
    expit,
    fill_full,
    logit,
    unit_objective,
)

__all__ = [
    "CODE_GRADIENT",
    "CODE_DECREASE",
    "CODE_MAX_ITER",
    "CODE_LINE_SEARCH",
    "CODE_BAD_START",
    "start_key",
    "minimize_box",
    "unit_hessian",
    "profile_objective",
    "profile_side",
    "inverse_pd",
    "profile_intervals",
    "fit_rows",
]

CODE_GRADIENT = 0  # projected gradient below tolerance
CODE_DECREASE = 1  # relative decrease of the objective below tolerance
CODE_MAX_ITER = 2  # iteration limit reached
CODE_LINE_SEARCH = 3  # no decrease found along the search direction
CODE_BAD_START = 4  # objective not finite at the start

_MEMORY = 8  # pairs kept by the limited-memory BFGS
_ARMIJO = 1e-4
_MAX_BACKTRACK = 50


@njit(cache=True, inline="always")
def start_key(unit, model, fold, start):
    """Key of the random stream of one optimiser start (see module docstring)."""
    return ((unit * 16 + model) * 64 + fold) * 4096 + start


@njit(cache=True, inline="always")
def _project(x, lo, hi):
    for i in range(x.shape[0]):
        if x[i] < lo[i]:
            x[i] = lo[i]
        elif x[i] > hi[i]:
            x[i] = hi[i]


@njit(cache=True, inline="always")
def _held(x, g, lo, hi, i):
    """Whether variable ``i`` sits at a bound with the gradient pointing out of the box."""
    return (x[i] <= lo[i] and g[i] > 0.0) or (x[i] >= hi[i] and g[i] < 0.0)


@njit(cache=True)
def _direction(d, g, x, lo, hi, s_hist, y_hist, rho, alpha_buf, n_mem, head):
    """Quasi-Newton direction by the two-loop recursion on the variables not held at a bound.

    Returns
    -------
    gd : float
        The directional derivative ``g . d``.
    dmax : float
        The largest component of ``|d|``.
    """
    n = x.shape[0]
    mem = rho.shape[0]
    for i in range(n):
        d[i] = 0.0 if _held(x, g, lo, hi, i) else -g[i]
    for k in range(n_mem):
        j = (head - 1 - k) % mem
        a = 0.0
        for i in range(n):
            a += s_hist[j, i] * d[i]
        a *= rho[j]
        alpha_buf[j] = a
        for i in range(n):
            d[i] -= a * y_hist[j, i]
    if n_mem > 0:
        j = (head - 1) % mem
        yy = 0.0
        sy = 0.0
        for i in range(n):
            yy += y_hist[j, i] * y_hist[j, i]
            sy += s_hist[j, i] * y_hist[j, i]
        gamma = sy / yy
        for i in range(n):
            d[i] *= gamma
    for k in range(n_mem - 1, -1, -1):
        j = (head - 1 - k) % mem
        bcoef = 0.0
        for i in range(n):
            bcoef += y_hist[j, i] * d[i]
        bcoef *= rho[j]
        for i in range(n):
            d[i] += s_hist[j, i] * (alpha_buf[j] - bcoef)
    gd = 0.0
    dmax = 0.0
    for i in range(n):
        if _held(x, g, lo, hi, i):
            d[i] = 0.0
        gd += g[i] * d[i]
        dmax = max(dmax, abs(d[i]))
    return gd, dmax


@njit(cache=True)
def minimize_box(x, lo, hi, spec, data, setting, max_iter, gtol, ftol, work):
    """Minimise :func:`unit_objective` over the free parameters within bounds (in place).

    Parameters
    ----------
    x : ndarray of float64, shape (n_free,)
        Start (projected into the box first); holds the minimiser on return.
    lo, hi : ndarray of float64, shape (n_free,)
        Bounds (transformed scale); ``lo[i] == hi[i]`` holds parameter ``i`` fixed.
    spec, data, setting, work
        As :func:`unit_objective`.
    max_iter : int
        Iteration limit.
    gtol : float
        Stop when every component of the projected gradient is at most ``gtol``.
    ftol : float
        Stop when an iteration lowers the objective by at most
        ``ftol * max(|f|, |f_new|, 1)``.

    Returns
    -------
    f : float
        Objective at the returned ``x``.
    n_iter : int
        Iterations taken.
    code : int
        One of the ``CODE_*`` constants.
    """
    n = x.shape[0]
    mem = _MEMORY
    s_hist = np.zeros((mem, n))
    y_hist = np.zeros((mem, n))
    rho = np.zeros(mem)
    alpha_buf = np.zeros(mem)
    g = np.empty(n)
    g_new = np.empty(n)
    x_new = np.empty(n)
    d = np.empty(n)
    no_signs = np.empty(0, dtype=np.int64)
    _project(x, lo, hi)
    f = unit_objective(x, spec, data, setting, no_signs, g, work)
    if not math.isfinite(f):
        return f, 0, CODE_BAD_START
    n_mem = 0
    head = 0  # next slot to write
    code = CODE_MAX_ITER
    it = 0
    while it < max_iter:
        pg = 0.0
        for i in range(n):
            if not _held(x, g, lo, hi, i) and abs(g[i]) > pg:
                pg = abs(g[i])
        if pg <= gtol:
            code = CODE_GRADIENT
            break
        gd, dmax = _direction(d, g, x, lo, hi, s_hist, y_hist, rho, alpha_buf, n_mem, head)
        if not gd < 0.0:  # not a descent direction: restart from steepest descent
            n_mem = 0
            gd, dmax = _direction(d, g, x, lo, hi, s_hist, y_hist, rho, alpha_buf, 0, head)
        step = 1.0 if n_mem > 0 else min(1.0, 1.0 / dmax)
        accepted = False
        f_new = f
        for _ in range(_MAX_BACKTRACK):
            for i in range(n):
                x_new[i] = x[i] + step * d[i]
            _project(x_new, lo, hi)
            dec = 0.0
            for i in range(n):
                dec += g[i] * (x_new[i] - x[i])
            f_new = unit_objective(x_new, spec, data, setting, no_signs, g_new, work)
            if math.isfinite(f_new) and f_new <= f + _ARMIJO * dec:
                accepted = True
                break
            # quadratic interpolation of the step, kept within [0.1, 0.5] of the last one
            if math.isfinite(f_new):
                denom = 2.0 * (f_new - f - step * gd)
                trial = -gd * step * step / denom if denom > 0.0 else 0.5 * step
                step = min(max(trial, 0.1 * step), 0.5 * step)
            else:
                step *= 0.1
        it += 1
        if not accepted:
            code = CODE_LINE_SEARCH
            break
        sy = 0.0
        yy = 0.0
        for i in range(n):
            si = x_new[i] - x[i]
            yi = g_new[i] - g[i]
            s_hist[head, i] = si
            y_hist[head, i] = yi
            sy += si * yi
            yy += yi * yi
        if sy > 1e-10 * yy:
            rho[head] = 1.0 / sy
            head = (head + 1) % mem
            n_mem = min(n_mem + 1, mem)
        small = (f - f_new) <= ftol * max(abs(f), abs(f_new), 1.0)
        for i in range(n):
            x[i] = x_new[i]
            g[i] = g_new[i]
        f = f_new
        if small:
            code = CODE_DECREASE
            break
    return f, it, code


@njit(cache=True)
def unit_hessian(x, spec, data, setting, work):
    """Hessian of :func:`unit_objective` over the free parameters, on the smooth piece of the
    likelihood that ``x`` lies on.

    The likelihood has kinks where a trial's prediction error crosses 0 (the slope and the
    learning rate switch), and a maximum often lies on one (an early trial's error exactly 0).
    The branch of every trial is therefore frozen at its value at ``x`` (see
    :func:`branches`), and the Hessian of that smooth piece is taken by central differences
    of its exact gradient (step ``1e-5 * max(1, |x_i|)``), symmetrised.

    Returns
    -------
    ndarray of float64, shape (n_free, n_free)
    """
    n = x.shape[0]
    hess = np.empty((n, n))
    xp = x.copy()
    gp = np.empty(n)
    gm = np.empty(n)
    signs = branches(x, spec, data[0], data[1], setting[1])
    for i in range(n):
        h = 1e-5 * max(1.0, abs(x[i]))
        xp[i] = x[i] + h
        unit_objective(xp, spec, data, setting, signs, gp, work)
        xp[i] = x[i] - h
        unit_objective(xp, spec, data, setting, signs, gm, work)
        xp[i] = x[i]
        for j in range(n):
            hess[i, j] = (gp[j] - gm[j]) / (2.0 * h)
    for i in range(n):
        for j in range(i):
            avg = 0.5 * (hess[i, j] + hess[j, i])
            hess[i, j] = avg
            hess[j, i] = avg
    return hess


@njit(cache=True)
def profile_objective(mode, value, x, lo, hi, slots, spec, data, frame, solver, work):
    """The objective minimised with one quantity held at ``value`` (``x``: warm start, updated).

    Parameters
    ----------
    mode : int
        0 holds free parameter ``slots[0]`` at ``value`` (a logit learning rate); 1 holds
        logit tau_learning ``log(eta_pos) - log(eta_neg)`` at ``value``: ``eta_neg =
        exp(-value) * eta_pos`` with ``eta_pos`` the free parameter ``slots[0]``, kept within
        the learning-rate bounds of both (``slots[1]``, the free ``eta_neg``, is ignored).
    value : float
    x, lo, hi : ndarray of float64, shape (n_free,)
        Warm start (overwritten by the minimiser) and bounds.
    slots : tuple (int, int)
        Free indices of ``eta_pos`` and ``eta_neg``.
    spec, data, work
        As :func:`unit_objective`.
    frame : tuple (n, noise, window)
        Trials (all enter the likelihood), noise model and count window.
    solver : tuple (max_iter, gtol, ftol)
        As :func:`minimize_box`.

    Returns
    -------
    float
        The minimum, or inf when ``value`` cannot be reached within the bounds.
    """
    slot_pos, slot_neg = slots
    n, noise, window = frame
    max_iter, gtol, ftol = solver
    lo2 = lo.copy()
    hi2 = hi.copy()
    ratio = 0.0
    if mode == 0:
        x[slot_pos] = value
        lo2[slot_pos] = value
        hi2[slot_pos] = value
    else:
        ratio = math.exp(-value)
        lo2[slot_neg] = x[slot_neg]
        hi2[slot_neg] = x[slot_neg]
        top = min(expit(hi[slot_pos]), expit(hi[slot_neg]) / ratio)
        bottom = max(expit(lo[slot_pos]), expit(lo[slot_neg]) / ratio)
        if not bottom < top:
            return np.inf
        lo2[slot_pos] = logit(bottom)
        hi2[slot_pos] = logit(top)
    setting = (0, n, noise, window, ratio)
    f, _, _ = minimize_box(x, lo2, hi2, spec, data, setting, max_iter, gtol, ftol, work)
    return f


@njit(cache=True)
def profile_side(
    mode, center, limit, step0, f_hat, q, x_hat, lo, hi, slots, spec, data, frame, solver, work
):
    """One end of a profile-likelihood interval.

    Works on the signed root of the likelihood-ratio statistic, ``r(v) = sqrt(2 (f(v) -
    f_hat))`` with ``f`` the profiled objective (:func:`profile_objective`), which is nearly
    linear in the parameter: walks from ``center`` towards ``limit`` (first step ``step0``,
    e.g. the Wald half-width; then doubling) until ``r`` exceeds ``sqrt(q)``, then solves
    ``r = sqrt(q)`` by the Illinois (modified regula falsi) method to 2.5e-4 in ``r`` (about
    1e-3 in the statistic) or 1e-5 in the parameter.

    Returns
    -------
    end : float
        The end point (transformed scale).
    at_limit : bool
        The statistic stayed below ``q`` up to ``limit``: the data do not bound this side.
    """
    x = x_hat.copy()
    root_q = math.sqrt(q)
    direction = 1.0 if limit > center else -1.0
    a = center
    fa = -root_q
    c = center
    fc = -root_q
    step = step0 if (math.isfinite(step0) and step0 > 0.0) else 0.5
    step = min(max(step, 0.02), 4.0)
    found = False
    for _ in range(12):
        c = a + direction * step
        if direction * (c - limit) >= 0.0:
            c = limit
        f = profile_objective(mode, c, x, lo, hi, slots, spec, data, frame, solver, work)
        fc = math.sqrt(max(2.0 * (f - f_hat), 0.0)) - root_q
        if fc >= 0.0:
            found = True
            break
        if c == limit:
            return limit, True
        a = c
        fa = fc
        step *= 2.0
    if not found:
        return c, True
    last = 0
    m = c
    for _ in range(40):
        m = (a * fc - c * fa) / (fc - fa)
        f = profile_objective(mode, m, x, lo, hi, slots, spec, data, frame, solver, work)
        fm = math.sqrt(max(2.0 * (f - f_hat), 0.0)) - root_q
        if abs(fm) < 2.5e-4 or abs(c - a) < 1e-5:
            break
        if fm > 0.0:
            c = m
            fc = fm
            if last == 1:
                fa *= 0.5
            last = 1
        else:
            a = m
            fa = fm
            if last == -1:
                fc *= 0.5
            last = -1
    return m, False


@njit(cache=True)
def inverse_pd(h):
    """Inverse of a symmetric positive-definite matrix by Cholesky; ``ok`` False (and NaN) when
    it is not positive definite.

    Returns
    -------
    inv : ndarray of float64, shape (n, n)
    ok : bool
    """
    n = h.shape[0]
    low = np.zeros((n, n))
    inv = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i + 1):
            acc = h[i, j]
            for k in range(j):
                acc -= low[i, k] * low[j, k]
            if i == j:
                if not acc > 0.0:
                    return inv, False
                low[i, i] = math.sqrt(acc)
            else:
                low[i, j] = acc / low[j, j]
    li = np.zeros((n, n))  # the inverse of the lower factor; then inv = L^-T L^-1
    for i in range(n):
        li[i, i] = 1.0 / low[i, i]
        for j in range(i):
            acc = 0.0
            for k in range(j, i):
                acc -= low[i, k] * li[k, j]
            li[i, j] = acc / low[i, i]
    for i in range(n):
        for j in range(n):
            acc = 0.0
            for k in range(max(i, j), n):
                acc += li[k, i] * li[k, j]
            inv[i, j] = acc
    return inv, True


@njit(cache=True)
def _draw_start(x, first, start, data, n, state):
    """A random start: learning rates logit-uniform in (-4.5, 0.5) (0.011 to 0.62), initial
    values uniform over the unit's utility range; other parameters from ``start`` (then set
    by :func:`_linear_start`)."""
    util = data[0]
    u_lo = np.inf
    u_hi = -np.inf
    for t in range(n):
        u_lo = min(u_lo, util[t])
        u_hi = max(u_hi, util[t])
    for i in range(x.shape[0]):
        j = first[i]
        if j == P_ETA_POS or j == P_ETA_NEG:
            x[i] = -4.5 + 5.0 * uniform01(state)
        elif j >= N_FIXED:
            x[i] = u_lo + (u_hi - u_lo) * uniform01(state)
        else:
            x[i] = start[j]


@njit(cache=True)
def _solve3(a, b, k):
    """Solve the ``k x k`` system ``a y = b`` (k <= 3) by Gaussian elimination with partial
    pivoting, in place; returns False when it is singular."""
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if abs(a[piv, col]) < 1e-12 * max(1.0, abs(a[0, 0])):
            return False
        for c in range(k):
            a[col, c], a[piv, c] = a[piv, c], a[col, c]
        b[col], b[piv] = b[piv], b[col]
        for r in range(col + 1, k):
            f = a[r, col] / a[col, col]
            for c in range(col, k):
                a[r, c] -= f * a[col, c]
            b[r] -= f * b[col]
    for r in range(k - 1, -1, -1):
        acc = b[r]
        for c in range(r + 1, k):
            acc -= a[r, c] * b[c]
        b[r] = acc / a[r, r]
    return True


@njit(cache=True)
def _linear_start(x, lo, hi, spec, data, n):
    """Set the baseline, slopes and sigma of ``x`` to their least-squares values given its
    learning rates and initial values (the response is linear in them along the value trace),
    so that every start lies on the ridge of the likelihood. Slopes stay inside their bounds."""
    tie, fixed, learn = spec
    util, ctx, resp, _, _ = data
    n_ctx = learn.shape[0]
    n_full = tie.shape[0]
    full = np.empty(n_full)
    fill_full(x, tie, fixed, full)
    eta_pos = expit(full[P_ETA_POS])
    eta_neg = expit(full[P_ETA_NEG])
    shared = tie[P_ALPHA_POS] == tie[P_ALPHA_NEG]
    k = 2 if shared else 3
    a = np.zeros((3, 3))
    rhs = np.zeros(3)
    row = np.zeros(3)
    state = full[N_FIXED : N_FIXED + n_ctx].copy()
    count = 0
    yy = 0.0
    for t in range(n):
        c = ctx[t]
        d = util[t] - state[c]
        y = resp[t]
        if not math.isnan(y):
            row[0] = 1.0
            if shared:
                row[1] = d
            else:
                row[1] = d if d > 0.0 else 0.0
                row[2] = 0.0 if d > 0.0 else d
            for p in range(k):
                rhs[p] += row[p] * y
                for q in range(k):
                    a[p, q] += row[p] * row[q]
            yy += y * y
            count += 1
        if learn[c] == 1:
            state[c] += (eta_pos if d > 0.0 else eta_neg) * d
    if count <= k:
        return
    coef = rhs.copy()
    if not _solve3(a.copy(), coef, k):
        return
    slots = (tie[P_ALPHA_POS], tie[P_ALPHA_NEG])
    for side in range(1 if shared else 2):
        i = slots[side]
        if i >= 0:
            value = coef[1 + side]
            floor = math.exp(lo[i] + 2.0)
            x[i] = min(math.log(max(value, floor)), hi[i] - 1.0)
    if tie[P_BASELINE] >= 0:
        x[tie[P_BASELINE]] = coef[0]
    i = tie[P_LOG_SIGMA]
    if i >= 0:
        rss = yy
        for p in range(k):
            rss -= coef[p] * rhs[p]
        var = rss / count
        if var > 0.0:
            x[i] = min(max(0.5 * math.log(var), lo[i]), hi[i])


@njit(cache=True)
def profile_intervals(
    x, f_hat, q, hess, lo, hi, spec, data, frame, solver, work, out_end, out_limit
):
    """Profile-likelihood intervals of logit eta_pos, logit eta_neg and logit tau_learning.

    Rows 0-2 of ``out_end`` / ``out_limit`` (shape (3, 2): lower, upper) receive the ends and
    whether each is the search limit (see :func:`profile_side`). A model with one learning
    rate fills rows 0 and 1 alike and leaves row 2. The first step of each search is the
    Wald half-width from ``hess`` (the Hessian at ``x``) when it is positive definite.
    """
    tie = spec[0]
    sp = tie[P_ETA_POS]
    sn = tie[P_ETA_NEG]
    cov, ok = inverse_pd(hess)
    root_q = math.sqrt(q)
    rows = 1 if sp == sn else 3
    for r in range(rows):
        if r < 2:
            mode = 0
            slot = sp if r == 0 else sn
            center = x[slot]
            limits = (lo[slot], hi[slot])
            slots = (slot, slot)
            var = cov[slot, slot]
        else:  # logit tau_learning = log eta_pos - log eta_neg, profiled with eta_neg tied
            mode = 1
            center = math.log(expit(x[sp])) - math.log(expit(x[sn]))
            span = math.log(expit(hi[sp])) - math.log(expit(lo[sn]))
            limits = (-span, span)
            slots = (sp, sn)
            gp = 1.0 - expit(x[sp])
            gn = -(1.0 - expit(x[sn]))
            var = gp * gp * cov[sp, sp] + gn * gn * cov[sn, sn] + 2.0 * gp * gn * cov[sp, sn]
        step0 = root_q * math.sqrt(max(var, 0.0)) if ok else 0.5
        for side in range(2):
            end, at = profile_side(
                mode,
                center,
                limits[side],
                step0,
                f_hat,
                q,
                x,
                lo,
                hi,
                slots,
                spec,
                data,
                frame,
                solver,
                work,
            )
            out_end[r, side] = end
            out_limit[r, side] = at
    if sp == sn:
        for side in range(2):
            out_end[1, side] = out_end[0, side]
            out_limit[1, side] = out_limit[0, side]


@njit(cache=True, parallel=True)
def fit_rows(
    util,
    ctx,
    resp,
    count,
    base,
    n_trial,
    unit_ok,
    tie,
    n_free,
    fixed,
    start,
    lo,
    hi,
    learn,
    noise,
    window,
    seed,
    n_starts,
    n_blocks,
    first_scored,
    max_iter,
    gtol,
    ftol,
    profile_q,
    unit0=0,
):
    """Fit every model to every unit: best of several starts, Hessian, profile intervals of
    the learning rates, blocked cross-validation.

    Parameters
    ----------
    util, resp, count, base : ndarray of float64, shape (n_unit, n_trial)
    ctx : ndarray of int64, shape (n_unit, n_trial)
        Per unit, its trials in chronological order, left-aligned (see
        :func:`unit_objective`).
    n_trial : ndarray of int64, shape (n_unit,)
        Trials of each unit (the rest of the row is padding).
    unit_ok : ndarray of bool, shape (n_unit,)
        Units to fit (others are left NaN).
    tie : ndarray of int64, shape (n_model, n_unit, P)
        Tie map of each model and unit (a context a unit never sees has a fixed value).
    n_free : ndarray of int64, shape (n_model, n_unit)
    fixed, start, lo, hi : ndarray of float64, shape (n_unit, P)
        Per unit: values of fixed parameters, the deterministic start, and bounds, all on
        the transformed scale.
    learn : ndarray of int64, shape (n_ctx,)
    noise : int
    window : float
    seed : uint64
    n_starts : int
        Optimiser starts per fit (start 0 is the deterministic one).
    n_blocks : int
        Contiguous blocks of the leave-future-out cross-validation (< 2: none). Fold ``k``
        fits trials ``t < b_k`` and scores ``b_k <= t < b_{k+1}``, ``b_k = (k * n) //
        n_blocks``, for ``first_scored <= k < n_blocks``.
    first_scored : int
        First block scored (>= 1; see :func:`dopafit.fit.learning_options.first_scored_block`).
    max_iter : int
    gtol, ftol : float
        Passed to :func:`minimize_box`.
    profile_q : float
        Quantile of chi-square(1) of the profile intervals (3.84 for 95%); <= 0: none.
    unit0 : int, default 0
        Index of row 0 among all units: the streams are keyed by ``unit0 + u``, so a call on
        rows ``u0:u1`` with ``unit0=u0`` gives rows ``u0:u1`` of the whole call (chunks).

    Returns
    -------
    theta : ndarray of float64, shape (n_model, n_unit, P)
        Full parameter vector at the best start (transformed scale).
    nll : ndarray of float64, shape (n_model, n_unit)
    code, n_iter, n_at_best : ndarray of int64, shape (n_model, n_unit)
        Optimiser code and iterations of the best start; starts that reached the best
        objective within ``1e-6 * max(1, |nll|)``.
    hess : ndarray of float64, shape (n_model, n_unit, F, F)
        Hessian over the free parameters (``F = max(n_free)``; unused entries NaN).
    cv : ndarray of float64, shape (n_model, n_unit, n_blocks)
        Held-out log-likelihood of block ``k`` (entry 0 and folds that could not be fitted
        are NaN).
    prof_end : ndarray of float64, shape (n_model, n_unit, 3, 2)
        Profile intervals (lower, upper) of logit eta_pos, logit eta_neg and logit
        tau_learning (NaN when not computed).
    prof_limit : ndarray of bool, shape (n_model, n_unit, 3, 2)
        The end is the search limit: the likelihood does not bound that side.
    """
    n_unit = util.shape[0]
    n_model = tie.shape[0]
    n_full = tie.shape[2]
    n_ctx = learn.shape[0]
    f_max = 0
    for m in range(n_model):
        for u in range(n_unit):
            f_max = max(f_max, n_free[m, u])
    theta = np.full((n_model, n_unit, n_full), np.nan)
    nll = np.full((n_model, n_unit), np.nan)
    code = np.full((n_model, n_unit), -1, dtype=np.int64)
    n_iter = np.zeros((n_model, n_unit), dtype=np.int64)
    n_at_best = np.zeros((n_model, n_unit), dtype=np.int64)
    hess = np.full((n_model, n_unit, f_max, f_max), np.nan)
    cv = np.full((n_model, n_unit, max(n_blocks, 1)), np.nan)
    prof_end = np.full((n_model, n_unit, 3, 2), np.nan)
    prof_limit = np.zeros((n_model, n_unit, 3, 2), dtype=np.bool_)
    n_folds = n_blocks if n_blocks >= 2 else 1
    for task in prange(n_unit * n_model):
        u = task // n_model
        m = task % n_model
        if not unit_ok[u]:
            continue
        n = n_trial[u]
        nf = n_free[m, u]
        spec = (tie[m, u], fixed[u], learn)
        data = (util[u], ctx[u], resp[u], count[u], base[u])
        work = np.empty(4 * n_ctx + 2 * n_full)
        first = np.full(nf, -1, dtype=np.int64)
        lo_f = np.empty(nf)
        hi_f = np.empty(nf)
        for j in range(n_full):
            i = tie[m, u, j]
            if i >= 0 and first[i] < 0:
                first[i] = j
                lo_f[i] = lo[u, j]
                hi_f[i] = hi[u, j]
        x = np.empty(nf)
        best = np.empty(nf)
        empty = np.empty(0)
        no_signs = np.empty(0, dtype=np.int64)
        values = np.empty(n_starts)
        for fold in range(n_folds):
            if 0 < fold < first_scored:
                continue
            fit_hi = n if fold == 0 else (fold * n) // n_blocks
            setting = (0, fit_hi, noise, window, 0.0)
            best_f = np.inf
            best_code = -1
            best_iter = 0
            for s in range(n_starts):
                if s == 0:
                    for i in range(nf):
                        x[i] = start[u, first[i]]
                else:
                    state = stream_state(seed, start_key(unit0 + u, m, fold, s))
                    _draw_start(x, first, start[u], data, fit_hi, state)
                _linear_start(x, lo_f, hi_f, spec, data, fit_hi)
                f, it, c = minimize_box(
                    x, lo_f, hi_f, spec, data, setting, max_iter, gtol, ftol, work
                )
                values[s] = f
                if math.isfinite(f) and f < best_f:
                    best_f = f
                    best_code = c
                    best_iter = it
                    for i in range(nf):
                        best[i] = x[i]
            if not math.isfinite(best_f):
                continue
            if fold > 0:
                test = (fit_hi, ((fold + 1) * n) // n_blocks, noise, window, 0.0)
                cv[m, u, fold] = -unit_objective(best, spec, data, test, no_signs, empty, work)
                continue
            nll[m, u] = best_f
            code[m, u] = best_code
            n_iter[m, u] = best_iter
            tol = 1e-6 * max(1.0, abs(best_f))
            for s in range(n_starts):
                if values[s] <= best_f + tol:
                    n_at_best[m, u] += 1
            for j in range(n_full):
                i = tie[m, u, j]
                theta[m, u, j] = best[i] if i >= 0 else fixed[u, j]
            h = unit_hessian(best, spec, data, setting, work)
            for i in range(nf):
                for j in range(nf):
                    hess[m, u, i, j] = h[i, j]
            if profile_q > 0.0:
                profile_intervals(
                    best,
                    best_f,
                    profile_q,
                    h,
                    lo_f,
                    hi_f,
                    spec,
                    data,
                    (n, noise, window),
                    (max_iter, gtol, ftol),
                    work,
                    prof_end[m, u],
                    prof_limit[m, u],
                )
    return theta, nll, code, n_iter, n_at_best, hess, cv, prof_end, prof_limit
