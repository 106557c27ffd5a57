"""Kernels of the timing decoding (:mod:`dopafit.stats.decode_timing`): the linear conditions
a timing (or joint magnitude x time) distribution must meet, the curvature penalty, the
constrained regularised least-squares solve and the cross-validation over units.

Arrays in, arrays out. The solve is ``scipy.optimize.nnls`` on a small dense system (units +
penalty rows by grid cells), so there is nothing for numba to add.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "timing_design",
    "curvature_penalty",
    "penalty_scale",
    "solve_timing",
    "cross_validate",
    "SUM_WEIGHT",
]

#: Weight of the sum-to-one row relative to the largest design row.
SUM_WEIGHT = 1e3


def timing_design(
    gamma: np.ndarray,
    value: np.ndarray,
    time: np.ndarray,
    magnitude: np.ndarray | None = None,
    tau: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of the linear conditions ``A p = 0`` that a distribution ``p`` must meet.

    Parameters
    ----------
    gamma, value : ndarray, shape (n_unit,)
        Discount factors and normalised cue values of the units.
    time : ndarray, shape (n_time,)
        Grid of reward times (delay units).
    magnitude : ndarray, shape (n_mag,), optional
        Grid of magnitudes for the joint map; None decodes time alone.
    tau : ndarray, shape (n_unit,), optional
        Asymmetries (needed with ``magnitude``).

    Returns
    -------
    ndarray, shape (n_unit, n_time) or (n_unit, n_mag * n_time)
        Timing: ``a_it = gamma_i ** t - v_i``, so that ``sum_t p_t a_it = 0`` is
        ``v_i = sum_t p_t gamma_i ** t`` when ``sum p = 1``. Joint (cells ordered magnitude
        major, time minor): ``a_ik = 2 |tau_i - 1{x_ik < v_i}| (x_ik - v_i)`` with
        ``x_ik = gamma_i ** t_k * m_k``, the expectile first-order condition (times 2, so that
        ``tau = 0.5`` and one magnitude of 1 give the timing rows).

    Examples
    --------
    >>> import numpy as np
    >>> timing_design(np.array([0.5]), np.array([0.5]), np.array([0.0, 1.0, 2.0]))
    array([[ 0.5 ,  0.  , -0.25]])
    """
    g = np.asarray(gamma, np.float64)[:, None]
    v = np.asarray(value, np.float64)[:, None]
    t = np.asarray(time, np.float64)
    if magnitude is None:
        return g ** t[None, :] - v
    m = np.asarray(magnitude, np.float64)
    x = (m[None, :, None] * g[:, :, None] ** t[None, None, :]).reshape(g.shape[0], -1)
    w = np.abs(np.asarray(tau, np.float64)[:, None] - (x < v))
    return 2.0 * w * (x - v)


def curvature_penalty(n_time: int, n_mag: int) -> np.ndarray:
    """Second differences along time (within each magnitude) and, with three or more
    magnitudes, along magnitude (within each time)."""
    d2t = np.diff(np.eye(n_time), 2, axis=0)
    blocks = [np.kron(np.eye(n_mag), d2t)]
    if n_mag >= 3:
        blocks.append(np.kron(np.diff(np.eye(n_mag), 2, axis=0), np.eye(n_time)))
    return np.vstack(blocks)


def penalty_scale(rows: np.ndarray, penalty: np.ndarray) -> float:
    """``(||A||_F^2 / n_rows) / (||L||_F^2 / n_penalty_rows)``: lambda = 1 weighs an average
    penalty row like an average unit."""
    data = float(np.sum(rows**2)) / rows.shape[0]
    pen = float(np.sum(penalty**2)) / penalty.shape[0]
    return data / pen if data > 0 and pen > 0 else 1.0


def solve_timing(rows: np.ndarray, penalty: np.ndarray, strength: float) -> np.ndarray:
    """The distribution ``p >= 0``, ``sum p = 1`` minimising ``||A p||^2 + s ||L p||^2``.

    Parameters
    ----------
    rows : ndarray, shape (n_unit, n_cell)
        Conditions ``A`` (:func:`timing_design`, already weighted).
    penalty : ndarray, shape (n_pen, n_cell)
        Tikhonov matrix ``L``.
    strength : float
        ``s >= 0`` (absolute, i.e. lambda times the scale of the problem).

    Returns
    -------
    ndarray, shape (n_cell,)
        The distribution (non-negative, summing to 1).

    Notes
    -----
    ``scipy.optimize.nnls`` on the stacked system ``[A; sqrt(s) L; w 1^T] p = [0; 0; w]``
    with ``w`` 1000 times the largest row norm of ``A`` (the sum-to-one constraint as a
    heavily weighted row); the solution is renormalised to sum to exactly 1.

    Examples
    --------
    >>> import numpy as np
    >>> rows = timing_design(np.array([0.5, 0.8]), np.array([0.25, 0.64]), np.arange(4.0))
    >>> solve_timing(rows, curvature_penalty(4, 1), 0.0).round(3).tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    from scipy.optimize import nnls

    n = rows.shape[1]
    norm = float(np.sqrt(np.max(np.sum(rows**2, axis=1)))) if rows.size else 1.0
    w = SUM_WEIGHT * max(norm, 1e-12)
    a = np.vstack([rows, np.sqrt(max(strength, 0.0)) * penalty, np.full((1, n), w)])
    b = np.zeros(a.shape[0])
    b[-1] = w
    p, _ = nnls(a, b, maxiter=50 * n)
    total = p.sum()
    return p / total if total > 0 else np.full(n, 1.0 / n)


def cross_validate(rows, penalty, scale, lambdas, n_folds, rng, bar):
    """Mean (weighted by fold size) and SE over folds of the held-out units' mean squared
    condition, per lambda; ``bar.update(1)`` after each fit."""
    n = rows.shape[0]
    folds = np.array_split(rng.permutation(n), n_folds)
    err = np.empty((len(lambdas), n_folds))
    for f, held in enumerate(folds):
        train = np.setdiff1d(np.arange(n), held)
        for a, lam in enumerate(lambdas):
            p = solve_timing(rows[train], penalty, lam * scale)
            err[a, f] = np.mean((rows[held] @ p) ** 2)
            bar.update(1)
    sizes = np.array([len(f) for f in folds], np.float64)
    mean = err @ sizes / sizes.sum()
    se = np.std(err, axis=1, ddof=1) / np.sqrt(n_folds)
    return mean, se
