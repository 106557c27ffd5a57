"""Plain-numpy reference of the learning models, written from the formulas.

Independent of :mod:`dopafit.kernels.learning`: the likelihood is a plain Python loop over
trials, and its gradient is computed by another method (reverse mode: adjoints of the
context values propagated backwards through the recorded trajectory) than the kernel's
forward sensitivities. :func:`scipy_fit` is a maximum-likelihood fit with
``scipy.optimize.minimize`` (L-BFGS-B) on this likelihood: the reference of the fitter and
of the benchmark.

Model (natural parameters): per context ``c`` a value ``V_c`` starting at ``v0[c]``; on trial
``t``: ``d = u_t - V_{c_t}``; response mean ``m = b + a_pos d`` if ``d > 0`` else
``b + a_neg d``; update ``V_{c_t} += e_pos d`` (``d > 0``) or ``e_neg d`` when the context
learns. Gaussian: ``y ~ N(m, sigma^2)``; Poisson: ``k ~ Poisson(L softplus(base + m))``.

Parameter vectors follow the kernel's convention only at the interface: a full vector
``[logit eta_pos, logit eta_neg, log alpha_pos, log alpha_neg, baseline, log sigma, v0...]``
and a tie map (free index per full parameter, -1 fixed), built here by :func:`model_tie`.
"""

from __future__ import annotations

import math

import numpy as np

NAMES = ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "baseline", "sigma")
N_FIXED = 6
#: groups of full parameters sharing one free parameter, per model (sigma last)
MODEL_GROUPS = {
    "classical": ((0, 1), (2, 3), (4,), (5,)),
    "asymmetric_learning": ((0,), (1,), (2, 3), (4,), (5,)),
    "asymmetric_scaling": ((0, 1), (2,), (3,), (4,), (5,)),
    "asymmetric_both": ((0,), (1,), (2,), (3,), (4,), (5,)),
}


def model_tie(model: str, n_ctx: int, *, free_v0=None, noise: str = "gaussian") -> np.ndarray:
    """Tie map of a model: free index per full parameter, -1 where fixed.

    ``free_v0``: per context whether its initial value is free (default all).
    """
    tie = np.full(N_FIXED + n_ctx, -1, dtype=np.int64)
    k = 0
    for group in MODEL_GROUPS[model]:
        if group == (5,) and noise != "gaussian":
            continue
        tie[list(group)] = k
        k += 1
    free_v0 = [True] * n_ctx if free_v0 is None else list(free_v0)
    for c in range(n_ctx):
        if free_v0[c]:
            tie[N_FIXED + c] = k
            k += 1
    return tie


def softplus(x: float) -> float:
    return x if x > 30 else math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def nll_natural(
    p: dict,
    v0,
    util,
    ctx,
    resp,
    *,
    learn=None,
    noise: str = "gaussian",
    count=None,
    base=None,
    window: float = 0.4,
    lik: tuple[int, int] | None = None,
    grad: bool = False,
):
    """Negative log-likelihood (and its gradient by reverse mode) on the natural scale.

    Parameters
    ----------
    p : dict
        ``eta_pos``, ``eta_neg``, ``alpha_pos``, ``alpha_neg``, ``baseline``, ``sigma``.
    v0 : sequence of float
        Initial value per context.
    util, ctx, resp : sequences
        One entry per trial, chronological; ``resp`` NaN: no likelihood term.
    learn : sequence of bool, optional
        Per context, whether its value is updated (default all).
    lik : (lo, hi), optional
        Trials entering the likelihood (default all); the recursion runs to ``hi``.
    grad : bool
        Also return the gradient: a dict of the six names plus ``"v0"`` (an array).
    """
    n_ctx = len(v0)
    learn = [True] * n_ctx if learn is None else [bool(v) for v in learn]
    lo, hi = (0, len(util)) if lik is None else lik
    V = [float(v) for v in v0]
    total = 0.0
    tape = []  # (context, delta, positive, dnll/dm or None)
    for t in range(hi):
        c = int(ctx[t])
        d = float(util[t]) - V[c]
        pos = d > 0
        a = p["alpha_pos"] if pos else p["alpha_neg"]
        m = p["baseline"] + a * d
        gm = None
        if t >= lo and not math.isnan(resp[t]):
            if noise == "gaussian":
                s = p["sigma"]
                r = resp[t] - m
                total += 0.5 * math.log(2 * math.pi) + math.log(s) + r * r / (2 * s * s)
                gm = -r / (s * s)
            else:
                z = base[t] + m
                rate = softplus(z)
                floored = rate < 1e-12  # the rate is floored at 1e-12: no gradient there
                mu = window * max(rate, 1e-12)
                k = count[t]
                total += mu - k * math.log(mu) + math.lgamma(k + 1)
                gm = 0.0 if floored else (1 - k / mu) * window * sigmoid(z)
        tape.append((c, d, pos, gm))
        if learn[c]:
            V[c] += (p["eta_pos"] if pos else p["eta_neg"]) * d
    if not grad:
        return total
    g = dict.fromkeys(NAMES, 0.0)
    lam = [0.0] * n_ctx  # dNLL/dV_c after the trial being processed
    for t in range(hi - 1, -1, -1):
        c, d, pos, gm = tape[t]
        eta = p["eta_pos"] if pos else p["eta_neg"]
        dv = lam[c] * (1 - eta) if learn[c] else lam[c]  # dNLL/dV_c before trial t
        if learn[c]:
            g["eta_pos" if pos else "eta_neg"] += lam[c] * d
        if gm is not None:
            a = p["alpha_pos"] if pos else p["alpha_neg"]
            g["alpha_pos" if pos else "alpha_neg"] += gm * d
            g["baseline"] += gm
            dv += -a * gm
            if noise == "gaussian":
                s = p["sigma"]
                r = -gm * s * s
                g["sigma"] += 1 / s - r * r / s**3
        lam[c] = dv
    g["v0"] = np.array(lam)
    return total, g


def free_objective(
    x, tie, fixed, util, ctx, resp, *, learn=None, ratio: float = 0.0, grad: bool = True, **kw
):
    """NLL (and gradient) over a free vector on the transformed scale.

    ``ratio`` > 0 sets ``eta_neg = ratio * eta_pos`` (the free ``eta_neg`` is ignored).
    """
    full = np.array([x[i] if i >= 0 else f for i, f in zip(tie, fixed)], dtype=float)
    n_ctx = full.size - N_FIXED
    p = {
        "eta_pos": sigmoid(full[0]),
        "eta_neg": sigmoid(full[1]),
        "alpha_pos": math.exp(full[2]),
        "alpha_neg": math.exp(full[3]),
        "baseline": full[4],
        "sigma": math.exp(full[5]),
    }
    if ratio > 0:
        p["eta_neg"] = ratio * p["eta_pos"]
    v0 = full[N_FIXED:]
    out = nll_natural(p, v0, util, ctx, resp, learn=learn, grad=grad, **kw)
    if not grad:
        return out
    f, g = out
    dfull = np.zeros(full.size)
    if ratio > 0:
        dfull[0] = (g["eta_pos"] + ratio * g["eta_neg"]) * p["eta_pos"] * (1 - p["eta_pos"])
    else:
        dfull[0] = g["eta_pos"] * p["eta_pos"] * (1 - p["eta_pos"])
        dfull[1] = g["eta_neg"] * p["eta_neg"] * (1 - p["eta_neg"])
    dfull[2] = g["alpha_pos"] * p["alpha_pos"]
    dfull[3] = g["alpha_neg"] * p["alpha_neg"]
    dfull[4] = g["baseline"]
    dfull[5] = g["sigma"] * p["sigma"]
    dfull[N_FIXED : N_FIXED + n_ctx] = g["v0"]
    gx = np.zeros(len(x))
    for j, i in enumerate(tie):
        if i >= 0:
            gx[i] += dfull[j]
    return f, gx


def scipy_fit(tie, fixed, util, ctx, resp, starts, bounds, **kw):
    """Best of ``scipy.optimize.minimize(method="L-BFGS-B")`` over the given starts.

    Returns
    -------
    x : ndarray
        Free vector (transformed scale) at the lowest objective.
    f : float
    """
    from scipy.optimize import minimize

    best = None
    for x0 in starts:
        res = minimize(
            lambda x: free_objective(x, tie, fixed, util, ctx, resp, **kw),
            np.asarray(x0, dtype=float),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-8},
        )
        if best is None or res.fun < best.fun:
            best = res
    return best.x, float(best.fun)


def value_trace(util, ctx, v0, eta_pos, eta_neg, learn=None):
    """Values before each trial's update and prediction errors, for one unit (NaN skipped)."""
    V = [float(v) for v in v0]
    learn = [True] * len(V) if learn is None else list(learn)
    value = np.full(len(util), np.nan)
    for t, u in enumerate(util):
        if math.isnan(u):
            continue
        c = int(ctx[t])
        value[t] = V[c]
        d = u - V[c]
        if learn[c]:
            V[c] += (eta_pos if d > 0 else eta_neg) * d
    return value, np.asarray(util, dtype=float) - value


def population(n: int, seed: int = 3) -> dict:
    """A population of the asymmetric_both model for recovery studies: tau_learning uniform
    in 0.1-0.9, overall learning rate (eta_pos + eta_neg) / 2 in 0.05-0.2, tau_scaling in
    0.2-0.8 with mean slope 1, baseline N(0, 0.5)."""
    rng = np.random.default_rng(seed)
    tl = rng.uniform(0.1, 0.9, n)
    eta = rng.uniform(0.05, 0.2, n)
    ts = rng.uniform(0.2, 0.8, n)
    return {
        "eta_pos": 2 * eta * tl,
        "eta_neg": 2 * eta * (1 - tl),
        "alpha_pos": 2 * ts,
        "alpha_neg": 2 * (1 - ts),
        "baseline": rng.normal(0, 0.5, n),
    }
