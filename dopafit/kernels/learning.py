"""numba kernels of the trial-by-trial learning models: likelihood and exact gradient, values, simulation.

Model
-----
A unit keeps one value per context ``c``. On trial ``t`` (chronological order) with utility
``u_t`` in context ``c_t``:

.. math::

    \\delta_t = u_t - V_{c_t}, \\qquad
    m_t = b + \\alpha^{\\pm} \\delta_t, \\qquad
    V_{c_t} \\leftarrow V_{c_t} + \\eta^{\\pm} \\delta_t

with the ``+`` parameters when :math:`\\delta_t > 0` and the ``-`` ones otherwise. A context
whose ``learn`` flag is 0 keeps its initial value (uncued trials valued 0). The response
``y_t`` is Gaussian, :math:`y_t \\sim N(m_t, \\sigma^2)`, or (spike counts) the window count
:math:`k_t \\sim \\mathrm{Poisson}(L\\,\\lambda_t)` with
:math:`\\lambda_t = \\mathrm{softplus}(\\beta_t + m_t)`, ``beta_t`` the trial's baseline rate and
``L`` the window length (s). A trial with a NaN response still updates the value; it only
contributes no likelihood term.

Parameters
----------
One full vector of length ``P = N_FIXED + n_ctx`` per unit, on the transformed
(unconstrained) scale: ``P_ETA_POS``/``P_ETA_NEG`` logit learning rates, ``P_ALPHA_POS``/
``P_ALPHA_NEG`` log slopes, ``P_BASELINE`` the offset ``b``, ``P_LOG_SIGMA`` log σ, and
``N_FIXED + c`` the initial value of context ``c``. A model maps the full vector onto its free
parameters: ``tie[j]`` is the free index of full parameter ``j`` (two full parameters sharing
one free index are equal, e.g. ``eta_neg = eta_pos``) or -1 when the parameter is fixed at
``fixed[j]``. Gradients with respect to free parameters sum those of the full parameters tied
to them.

The gradient is exact: the sensitivities of every context value to ``eta_pos``, ``eta_neg``
and its own initial value are carried forward through the recursion (forward mode).

The optimiser, the Hessian, profile intervals and the fits of many units are in
:mod:`dopafit.kernels.learning_fit`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from dopafit.kernels.compare import standard_normal, uniform01
from dopafit.kernels.expectile import stream_state

__all__ = [
    "P_ETA_POS",
    "P_ETA_NEG",
    "P_ALPHA_POS",
    "P_ALPHA_NEG",
    "P_BASELINE",
    "P_LOG_SIGMA",
    "N_FIXED",
    "NOISE_GAUSSIAN",
    "NOISE_POISSON",
    "SOFTPLUS_SCALE",
    "MIN_RATE",
    "expit",
    "logit",
    "softplus",
    "fill_full",
    "unit_objective",
    "branches",
    "value_trace",
    "simulate_responses",
]

P_ETA_POS = 0
P_ETA_NEG = 1
P_ALPHA_POS = 2
P_ALPHA_NEG = 3
P_BASELINE = 4
P_LOG_SIGMA = 5
N_FIXED = 6

NOISE_GAUSSIAN = 0
NOISE_POISSON = 1


#: softness of the rate rectification of the Poisson model (response units, spikes/s)
SOFTPLUS_SCALE = 1.0

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
MIN_RATE = 1e-12  # floor of the Poisson rate (spikes/s)


@njit(cache=True, inline="always")
def expit(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def logit(p):
    return math.log(p) - math.log1p(-p)


@njit(cache=True, inline="always")
def softplus(x):
    """``s log(1 + exp(x / s))`` with ``s = SOFTPLUS_SCALE``, computed without overflow."""
    z = x / SOFTPLUS_SCALE
    if z > 30.0:
        return x
    return SOFTPLUS_SCALE * math.log1p(math.exp(z))


@njit(cache=True, inline="always")
def fill_full(x, tie, fixed, full):
    """The full parameter vector from the free one: ``x[tie[j]]``, or ``fixed[j]``."""
    for j in range(tie.shape[0]):
        full[j] = x[tie[j]] if tie[j] >= 0 else fixed[j]


@njit(cache=True)
def unit_objective(x, spec, data, setting, signs, grad, work):
    """Negative log-likelihood of one unit and (optionally) its exact gradient.

    Parameters
    ----------
    x : ndarray of float64, shape (n_free,)
        Free parameters (transformed scale).
    spec : tuple (tie, fixed, learn)
        ``tie`` int64 (P,): free index of each full parameter or -1 (fixed); ``fixed``
        float64 (P,): values of the fixed full parameters (transformed scale); ``learn``
        int64 (n_ctx,): 1 where the context's value is learned, 0 where it stays at its
        initial value.
    data : tuple (util, ctx, resp, count, base)
        Per trial, chronological: utility (float64), context index (int64), response
        (float64; NaN: no likelihood term), window spike count and baseline rate (float64,
        ``NOISE_POISSON`` only).
    setting : tuple (lik_lo, lik_hi, noise, window, ratio)
        Trials ``lik_lo <= t < lik_hi`` enter the likelihood (the recursion runs over
        ``t < lik_hi``); ``NOISE_GAUSSIAN`` or ``NOISE_POISSON``; the window length (s) of
        the counts; ``ratio`` > 0 sets ``eta_neg = ratio * eta_pos`` (the free ``eta_neg``
        is then ignored: the profile of tau_learning), 0 leaves it free.
    signs : ndarray of int64, shape (n_trial,) or (0,)
        Empty: each trial takes the ``+`` branch when its prediction error is > 0. Otherwise
        trial ``t`` takes the ``+`` branch when ``signs[t] > 0``, whatever its error: the
        smooth piece of the likelihood on which a point lies (see :func:`unit_hessian`).
    grad : ndarray of float64, shape (n_free,) or (0,)
        Receives the gradient; an empty array skips the gradient.
    work : ndarray of float64, shape (4 * n_ctx + 2 * P,)
        Scratch space.

    Returns
    -------
    float
        The negative log-likelihood (including the constant terms).
    """
    tie, fixed, learn = spec
    util, ctx, resp, count, base = data
    lik_lo, lik_hi, noise, window, ratio = setting
    n_ctx = learn.shape[0]
    n_full = tie.shape[0]
    want = grad.shape[0] > 0
    forced = signs.shape[0] > 0
    full = work[:n_full]
    gfull = work[n_full : 2 * n_full]
    state = work[2 * n_full : 2 * n_full + n_ctx]
    s_pos = work[2 * n_full + n_ctx : 2 * n_full + 2 * n_ctx]
    s_neg = work[2 * n_full + 2 * n_ctx : 2 * n_full + 3 * n_ctx]
    s_v0 = work[2 * n_full + 3 * n_ctx : 2 * n_full + 4 * n_ctx]
    fill_full(x, tie, fixed, full)
    for j in range(n_full):
        gfull[j] = 0.0
    eta_pos = expit(full[P_ETA_POS])
    eta_neg = ratio * eta_pos if ratio > 0.0 else expit(full[P_ETA_NEG])
    alpha_pos = math.exp(full[P_ALPHA_POS])
    alpha_neg = math.exp(full[P_ALPHA_NEG])
    b = full[P_BASELINE]
    log_sigma = full[P_LOG_SIGMA]
    inv_var = math.exp(-2.0 * log_sigma)
    for c in range(n_ctx):
        state[c] = full[N_FIXED + c]
        s_pos[c] = 0.0
        s_neg[c] = 0.0
        s_v0[c] = 1.0
    nll = 0.0
    g_ep = 0.0
    g_en = 0.0
    g_ap = 0.0
    g_an = 0.0
    g_b = 0.0
    g_ls = 0.0
    for t in range(lik_hi):
        c = ctx[t]
        v = state[c]
        d = util[t] - v
        pos = signs[t] > 0 if forced else d > 0.0
        a = alpha_pos if pos else alpha_neg
        y = resp[t]
        if t >= lik_lo and not math.isnan(y):
            m = b + a * d
            if noise == NOISE_GAUSSIAN:
                r = y - m
                nll += _LOG_SQRT_2PI + log_sigma + 0.5 * r * r * inv_var
                gm = -r * inv_var
                g_ls += 1.0 - r * r * inv_var
            else:
                z = base[t] + m
                lam = softplus(z)
                slope = expit(z / SOFTPLUS_SCALE)
                if lam < MIN_RATE:  # floored rate: constant, no gradient
                    lam = MIN_RATE
                    slope = 0.0
                mu = window * lam
                k = count[t]
                nll += mu - k * math.log(mu) + math.lgamma(k + 1.0)
                gm = (1.0 - k / mu) * window * slope
            if want:
                if pos:
                    g_ap += gm * d
                else:
                    g_an += gm * d
                g_b += gm
                gv = -a * gm
                g_ep += gv * s_pos[c]
                g_en += gv * s_neg[c]
                gfull[N_FIXED + c] += gv * s_v0[c]
        if learn[c] == 1:
            eta = eta_pos if pos else eta_neg
            state[c] = v + eta * d
            if want:
                keep = 1.0 - eta
                s_pos[c] = keep * s_pos[c] + (d if pos else 0.0)
                s_neg[c] = keep * s_neg[c] + (0.0 if pos else d)
                s_v0[c] = keep * s_v0[c]
    if want:
        if ratio > 0.0:
            gfull[P_ETA_POS] = (g_ep + ratio * g_en) * eta_pos * (1.0 - eta_pos)
            gfull[P_ETA_NEG] = 0.0
        else:
            gfull[P_ETA_POS] = g_ep * eta_pos * (1.0 - eta_pos)
            gfull[P_ETA_NEG] = g_en * eta_neg * (1.0 - eta_neg)
        gfull[P_ALPHA_POS] = g_ap * alpha_pos
        gfull[P_ALPHA_NEG] = g_an * alpha_neg
        gfull[P_BASELINE] = g_b
        gfull[P_LOG_SIGMA] = g_ls if noise == NOISE_GAUSSIAN else 0.0
        for i in range(grad.shape[0]):
            grad[i] = 0.0
        for j in range(n_full):
            if tie[j] >= 0:
                grad[tie[j]] += gfull[j]
    return nll


@njit(cache=True)
def branches(x, spec, util, ctx, n):
    """The branch of each of the first ``n`` trials at ``x``: 1 where the prediction error is
    > 0 (``+`` parameters), 0 otherwise.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    tie, fixed, learn = spec
    n_ctx = learn.shape[0]
    n_full = tie.shape[0]
    full = np.empty(n_full)
    fill_full(x, tie, fixed, full)
    eta_pos = expit(full[P_ETA_POS])
    eta_neg = expit(full[P_ETA_NEG])
    state = full[N_FIXED : N_FIXED + n_ctx].copy()
    out = np.zeros(n, dtype=np.int64)
    for t in range(n):
        c = ctx[t]
        d = util[t] - state[c]
        if d > 0.0:
            out[t] = 1
        if learn[c] == 1:
            state[c] += (eta_pos if d > 0.0 else eta_neg) * d
    return out


@njit(cache=True, parallel=True)
def value_trace(util, ctx, n_trial, eta_pos, eta_neg, v0, learn):
    """Values and prediction errors of every trial under given learning parameters.

    Parameters
    ----------
    util : ndarray of float64, shape (n_unit, n_trial)
        Utilities, chronological and left-aligned (NaN: skipped, value unchanged).
    ctx : ndarray of int64, shape (n_unit, n_trial)
    n_trial : ndarray of int64, shape (n_unit,)
        Trials of each unit (the rest of the row is not read).
    eta_pos, eta_neg : ndarray of float64, shape (n_unit,)
        Learning rates (natural scale).
    v0 : ndarray of float64, shape (n_unit, n_ctx)
        Initial values.
    learn : ndarray of int64, shape (n_ctx,)
        1 where the context's value is learned.

    Returns
    -------
    value, delta : ndarray of float64, shape (n_unit, n_trial)
        The value of the trial's context before its update, and ``util - value`` (NaN where
        not computed).
    """
    n_unit, width = util.shape
    n_ctx = learn.shape[0]
    value = np.full((n_unit, width), np.nan)
    delta = np.full((n_unit, width), np.nan)
    for u in prange(n_unit):
        state = np.empty(n_ctx)
        for c in range(n_ctx):
            state[c] = v0[u, c]
        for t in range(min(n_trial[u], width)):
            r = util[u, t]
            if math.isnan(r):
                continue
            c = ctx[u, t]
            v = state[c]
            d = r - v
            value[u, t] = v
            delta[u, t] = d
            if learn[c] == 1:
                state[c] = v + (eta_pos[u] if d > 0.0 else eta_neg[u]) * d
    return value, delta


@njit(cache=True, parallel=True)
def simulate_responses(delta, alpha_pos, alpha_neg, baseline, sigma, base, noise, window, seeds):
    """Responses of the learning model given prediction errors (one stream per unit).

    Parameters
    ----------
    delta : ndarray of float64, shape (n_unit, n_trial)
        Prediction errors (NaN: no trial).
    alpha_pos, alpha_neg, baseline, sigma : ndarray of float64, shape (n_unit,)
    base : ndarray of float64, shape (n_unit, n_trial)
        Baseline rate of each trial (``NOISE_POISSON``).
    noise : int
    window : float
    seeds : ndarray of uint64, shape (n_unit,)

    Returns
    -------
    response, count : ndarray of float64, shape (n_unit, n_trial)
        Gaussian: ``m + sigma * N(0, 1)`` and NaN counts. Poisson: the window count drawn with
        mean ``window * softplus(base + m)`` and the response ``count / window - base``.
    """
    n_unit, width = delta.shape
    response = np.full((n_unit, width), np.nan)
    count = np.full((n_unit, width), np.nan)
    for u in prange(n_unit):
        state = stream_state(seeds[u], 0)
        for t in range(width):
            d = delta[u, t]
            if math.isnan(d):
                continue
            m = baseline[u] + (alpha_pos[u] if d > 0.0 else alpha_neg[u]) * d
            if noise == NOISE_GAUSSIAN:
                response[u, t] = m + sigma[u] * standard_normal(state)
            else:
                mu = window * max(softplus(base[u, t] + m), MIN_RATE)
                k = _poisson(mu, state)
                count[u, t] = k
                response[u, t] = k / window - base[u, t]
    return response, count


@njit(cache=True)
def _poisson(mu, state):
    """Exact Poisson draw: sequential-search inversion on pieces of mean at most 20 (a sum of
    independent Poisson counts is Poisson with the summed mean)."""
    total = 0
    rest = mu
    while rest > 0.0:
        piece = min(rest, 20.0)
        rest -= piece
        p = math.exp(-piece)
        cdf = p
        u = uniform01(state)
        k = 0
        while u > cdf and k < 200:
            k += 1
            p *= piece / k
            cdf += p
        total += k
    return float(total)
