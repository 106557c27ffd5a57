"""Estimates of the learning-model fit: covariance, natural-scale values, intervals, status.

From the kernel's output (:func:`dopafit.kernels.learning_fit.fit_rows`) to what
:func:`dopafit.fit_learning` reports: the covariance of the parameters from the Hessian, the
natural-scale estimates with delta-method standard errors and Wald intervals, the profile
intervals of the learning rates, and per unit and model a status and whether the learning
rates are identifiable.
"""

from __future__ import annotations

import numpy as np

from dopafit.fit.learning_data import ETA_BOUNDS, Sequences
from dopafit.fit.learning_options import MODEL_LEARNING, MODEL_SCALING, LearningOptions
from dopafit.kernels.learning import (
    N_FIXED,
    P_ALPHA_NEG,
    P_ALPHA_POS,
    P_BASELINE,
    P_ETA_NEG,
    P_ETA_POS,
    P_LOG_SIGMA,
)

__all__ = [
    "MAX_SE_LOGIT",
    "IDENTIFIABILITY_RULE",
    "covariance",
    "estimates",
    "apply_profiles",
    "status",
]

#: Widest interval (logit scale) of a learning rate, or of tau_learning, that still counts as
#: pinned by the data: that of a Wald interval with standard error 1 (a factor of about 7 in
#: odds either side of the estimate at 95%).
MAX_SE_LOGIT = 1.0
IDENTIFIABILITY_RULE = (
    "learning rates are identifiable when the fit converged, the Hessian of the negative "
    "log-likelihood over the free parameters is positive definite, the interval of every "
    "learning rate and (asymmetric learning) of tau_learning is bounded on both sides by the "
    f"data (profile intervals: the likelihood falls within the bounds {list(ETA_BOUNDS)}; "
    "Wald intervals: the estimate lies more than 1e-3 (logit scale) inside them), and each of "
    f"these intervals is at most 2 z {MAX_SE_LOGIT} wide on the logit scale (z the normal "
    "quantile of the level); tau_learning and its interval are NaN otherwise"
)
_AT_BOUND = 1e-3  # (Wald intervals) a learning rate this close to a bound (logit) is "at" it


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def covariance(hess: np.ndarray, tie: np.ndarray, n_free: np.ndarray):
    """Covariance of the full transformed parameters from the free-parameter Hessians.

    Parameters
    ----------
    hess : ndarray, shape (n_model, n_unit, F, F)
    tie : ndarray of int64, shape (n_model, n_unit, P)
    n_free : ndarray of int64, shape (n_model, n_unit)

    Returns
    -------
    cov : ndarray, shape (n_model, n_unit, P, P)
        ``cov[j, k]`` of full parameters ``j, k`` (0 where either is fixed; NaN where the
        Hessian is not positive definite or missing).
    pd : ndarray of bool, shape (n_model, n_unit)
    """
    n_model, n_unit, n_full = tie.shape
    cov = np.full((n_model, n_unit, n_full, n_full), np.nan)
    pd = np.zeros((n_model, n_unit), dtype=bool)
    for k in np.unique(n_free):
        sel = (n_free == k) & np.isfinite(hess[..., 0, 0])
        if k == 0 or not sel.any():
            continue
        h = hess[sel][:, :k, :k]
        h = 0.5 * (h + np.swapaxes(h, 1, 2))
        ok = np.all(np.isfinite(h), axis=(1, 2))
        w, v = np.linalg.eigh(np.where(ok[:, None, None], h, np.eye(k)))
        good = ok & (w[:, 0] > 1e-10 * np.maximum(np.abs(w[:, -1]), 1e-300))
        inv = np.einsum("nij,nj,nkj->nik", v, 1.0 / np.where(good[:, None], w, 1.0), v)
        t = tie[sel]  # (n_sel, P)
        idx = np.clip(t, 0, None)
        free = t >= 0
        full = np.take_along_axis(
            np.take_along_axis(inv, idx[:, :, None].repeat(k, axis=2), axis=1),
            idx[:, None, :].repeat(n_full, axis=1),
            axis=2,
        )
        full = np.where(free[:, :, None] & free[:, None, :], full, 0.0)
        full[~good] = np.nan
        cov[sel] = full
        pd[sel] = good
    return cov, pd


def estimates(theta, cov, tie, models, level: float) -> dict:
    """Natural-scale estimates, standard errors and intervals of every parameter.

    ``tie`` (n_model, n_unit, P): parameters with ``tie < 0`` are fixed (no standard error
    or interval; ``sigma`` of the Poisson model is NaN).

    Returns
    -------
    dict of name -> (value, se, lo, hi)
        Arrays of shape (n_model, n_unit) (``v0``: (n_model, n_unit, n_ctx)).
    """
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(over="ignore"):
        return _estimates(theta, cov, tie < 0, models, z)


def _estimates(theta, cov, fixed, models, z) -> dict:
    var = np.diagonal(cov, axis1=2, axis2=3)
    with np.errstate(invalid="ignore"):
        se_t = np.sqrt(var)
    out = {}

    def put(name, x, se, fixed_j, back, dback):
        se_nat = np.where(fixed_j, np.nan, dback(x) * se)
        lo = np.where(fixed_j, np.nan, back(x - z * se))
        hi = np.where(fixed_j, np.nan, back(x + z * se))
        out[name] = (back(x), se_nat, lo, hi)

    ident = (lambda x: x, lambda x: np.ones_like(x))
    logit = (_expit, lambda x: _expit(x) * (1 - _expit(x)))
    log = (np.exp, np.exp)
    for name, j, (back, dback) in (
        ("eta_pos", P_ETA_POS, logit),
        ("eta_neg", P_ETA_NEG, logit),
        ("alpha_pos", P_ALPHA_POS, log),
        ("alpha_neg", P_ALPHA_NEG, log),
        ("baseline", P_BASELINE, ident),
        ("sigma", P_LOG_SIGMA, log),
    ):
        put(name, theta[..., j], se_t[..., j], fixed[..., j], back, dback)
    put("v0", theta[..., N_FIXED:], se_t[..., N_FIXED:], fixed[..., N_FIXED:], *ident)
    out["sigma"] = tuple(np.where(fixed[..., P_LOG_SIGMA], np.nan, a) for a in out["sigma"])

    eta_p, eta_n = out["eta_pos"][0], out["eta_neg"][0]
    for name, flags, a, b, ga, gb in (
        ("tau_learning", MODEL_LEARNING, P_ETA_POS, P_ETA_NEG, 1 - eta_p, -(1 - eta_n)),
        ("tau_scaling", MODEL_SCALING, P_ALPHA_POS, P_ALPHA_NEG, 1.0, -1.0),
    ):
        asym = np.array([flags[m] for m in models])[:, None]
        if name == "tau_learning":
            logit_tau = np.log(eta_p) - np.log(eta_n)
        else:
            logit_tau = theta[..., a] - theta[..., b]
        v = ga**2 * cov[..., a, a] + gb**2 * cov[..., b, b] + 2 * ga * gb * cov[..., a, b]
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.maximum(v, 0.0)) * np.where(np.isfinite(v), 1.0, np.nan)
        tau = _expit(logit_tau)
        vals = (
            np.where(asym, tau, 0.5),
            np.where(asym, tau * (1 - tau) * se, 0.0),
            np.where(asym, _expit(logit_tau - z * se), 0.5),
            np.where(asym, _expit(logit_tau + z * se), 0.5),
        )
        out[name] = tuple(np.where(np.isfinite(theta[..., a]), x, np.nan) for x in vals)
        out[f"{name}_se_logit"] = np.where(asym, se, 0.0)
    out["eta_se_logit"] = (se_t[..., P_ETA_POS], se_t[..., P_ETA_NEG])
    return out


def apply_profiles(est: dict, prof_end: np.ndarray, models) -> None:
    """Replace the Wald intervals of eta_pos, eta_neg and tau_learning by profile ones."""
    ends = _expit(prof_end)  # (n_model, n_unit, 3, 2)
    asym = np.array([MODEL_LEARNING[m] for m in models])[:, None]
    for row, name in enumerate(("eta_pos", "eta_neg", "tau_learning")):
        value, se, lo, hi = est[name]
        if name == "tau_learning":
            lo = np.where(asym, ends[..., row, 0], lo)
            hi = np.where(asym, ends[..., row, 1], hi)
        else:
            lo, hi = ends[..., row, 0], ends[..., row, 1]
        est[name] = (value, se, lo, hi)


def _width_and_open(m, u, est, raw, theta, profile: bool, z: float, asym: bool):
    """Widest logit interval of the learning quantities, and the names the data leave open."""
    names = ("eta_pos", "eta_neg", "tau_learning")
    rows = (0, 1, 2) if asym else (0,)
    if profile:
        prof_end, prof_limit = raw[7], raw[8]
        opened = [names[r] for r in rows if prof_limit[m, u, r].any()]
        width = max(prof_end[m, u, r, 1] - prof_end[m, u, r, 0] for r in rows)
        return width, opened
    lo_eta, hi_eta = (float(np.log(p) - np.log1p(-p)) for p in ETA_BOUNDS)
    opened = [
        name
        for name, j in (("eta_pos", P_ETA_POS), ("eta_neg", P_ETA_NEG))
        if min(theta[m, u, j] - lo_eta, hi_eta - theta[m, u, j]) < _AT_BOUND
    ]
    se_p, se_n = est["eta_se_logit"]
    worst = max(se_p[m, u], se_n[m, u], est["tau_learning_se_logit"][m, u] if asym else 0.0)
    return 2 * z * worst, opened


def status(raw, est, pd, theta, seq: Sequences, opts: LearningOptions):
    """Per (model, unit): the status text and whether the learning rates are identifiable."""
    from scipy import stats

    from dopafit.kernels import learning_fit as F

    nll, code = raw[1], raw[2]
    z = float(stats.norm.ppf(0.5 + opts.level / 2))
    limit = 2 * z * MAX_SE_LOGIT
    profile = opts.intervals == "profile"
    n_model, n_unit = nll.shape
    text = np.empty((n_model, n_unit), dtype=object)
    ok = np.zeros((n_model, n_unit), dtype=bool)
    flat = "learning rates not identifiable from this reward sequence"
    for m, model in enumerate(opts.model):
        for u in range(n_unit):
            if seq.unit_reason[u]:
                text[m, u] = seq.unit_reason[u]
                continue
            if not np.isfinite(nll[m, u]):
                text[m, u] = "no finite likelihood at any start"
                continue
            if code[m, u] == F.CODE_MAX_ITER:
                text[m, u] = "not converged: iteration limit reached"
                continue
            if code[m, u] == F.CODE_LINE_SEARCH:
                text[m, u] = "not converged: no decrease along the search direction"
                continue
            if not pd[m, u]:
                text[m, u] = f"flat likelihood (Hessian not positive definite): {flat}"
                continue
            width, opened = _width_and_open(
                m, u, est, raw, theta, profile, z, MODEL_LEARNING[model]
            )
            if opened:
                where = "flat to a bound" if profile else "at a bound"
                text[m, u] = f"{' and '.join(opened)} not bounded by the data ({where}): {flat}"
                continue
            if not width <= limit:
                text[m, u] = (
                    f"learning-rate interval {width:.2f} wide on the logit scale (identifiable "
                    f"up to {limit:.2f}): {flat}"
                )
                continue
            text[m, u] = "ok"
            ok[m, u] = True
    return text, ok
