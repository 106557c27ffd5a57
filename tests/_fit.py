"""Helpers of the fit tests: a small synthetic population generator with known truth.

Independent of :mod:`dopafit.simulate` so that the fitter can be tested on its own. Units
respond ``alpha_neg (u - z)`` below their reversal point ``z`` and ``alpha_pos (u - z)``
above, plus Gaussian noise, where ``u`` is the axis value of the trial's magnitude.
"""

from __future__ import annotations

import numpy as np

import dopafit

MAGS = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
PROBS = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])
#: the empirical utility curve of the public recordings (Hz), Dabney et al. 2020
UTILITY = np.array([-3.577, -3.288, -2.765, -1.759, 0.242, 4.428, 8.324])


def expectile(values: np.ndarray, probs: np.ndarray, tau: float) -> float:
    """tau-expectile of a discrete distribution, by bisection on the first-order condition."""
    values = np.asarray(values, dtype=float)
    probs = np.asarray(probs, dtype=float) / np.sum(probs)
    lo, hi = values.min(), values.max()
    for _ in range(200):
        e = 0.5 * (lo + hi)
        g = tau * np.sum(probs * np.clip(values - e, 0, None)) - (1 - tau) * np.sum(
            probs * np.clip(e - values, 0, None)
        )
        if g > 0:
            lo = e
        else:
            hi = e
    return 0.5 * (lo + hi)


def synth_responses(
    kind: str = "distributional",
    n_units: int = 40,
    seed: int = 0,
    *,
    axis_values: np.ndarray = MAGS,
    noise: tuple[float, float] = (2.5, 7.0),
    gain: tuple[float, float] = (0.6, 1.4),
    n_trials: tuple[int, int] = (135, 303),
    cued_fraction: float = 0.5,
    uncued_shift: float = 0.0,
    tau_range: tuple[float, float] = (0.1, 0.9),
):
    """A responses Dataset with per-unit truth (``true_reversal_point``, ``true_tau``, ...).

    Parameters
    ----------
    kind : {"distributional", "classical"}
        Distributional: ``tau`` uniform in ``tau_range`` and the reversal point the
        tau-expectile of the axis-value distribution. Classical: ``tau = 0.5`` and a common
        reversal point (the mean).
    axis_values : ndarray, shape (7,)
        The axis the truth is defined on (default: the magnitudes, i.e. ``axis="reward"``).
    noise, gain : (low, high)
        Per-unit noise SD and mean slope, uniform in the ranges (gain scaled to the axis
        range so that responses span a similar range whatever the axis).
    n_trials : (low, high)
        Per-unit trial counts (uniform integers), magnitudes drawn with the task's
        probabilities.
    cued_fraction : float
        Fraction of cued trials.
    uncued_shift : float
        Added to every uncued response (what the pooling offset must undo).
    """
    rng = np.random.default_rng(seed)
    axis_values = np.asarray(axis_values, dtype=float)
    scale = 12.0 / (axis_values.max() - axis_values.min())
    if kind == "distributional":
        taus = rng.uniform(*tau_range, n_units)
        z = np.array([expectile(axis_values, PROBS, t) for t in taus])
    elif kind == "classical":
        taus = np.full(n_units, 0.5)
        z = np.full(n_units, float(np.sum(PROBS * axis_values)))
    else:
        raise ValueError(kind)
    g = rng.uniform(*gain, n_units) * scale
    a_pos = 2 * g * taus
    a_neg = 2 * g * (1 - taus)
    sd = rng.uniform(*noise, n_units)
    counts = rng.integers(n_trials[0], n_trials[1] + 1, n_units)
    width = counts.max()
    response = np.full((n_units, width), np.nan)
    reward = np.full((n_units, width), np.nan)
    cued = np.zeros((n_units, width), dtype=bool)
    for i in range(n_units):
        m = rng.choice(len(MAGS), size=counts[i], p=PROBS / PROBS.sum())
        x = axis_values[m] - z[i]
        r = np.where(x > 0, a_pos[i], a_neg[i]) * x + rng.normal(0, sd[i], counts[i])
        c = rng.random(counts[i]) < cued_fraction
        r = np.where(c, r, r + uncued_shift)
        response[i, : counts[i]] = r
        reward[i, : counts[i]] = MAGS[m]
        cued[i, : counts[i]] = c
    return dopafit.make_responses(
        response,
        reward,
        cued=cued,
        unit_id=[f"u{i}" for i in range(n_units)],
        unit_vars={
            "true_reversal_point": z,
            "true_tau": taus,
            "true_alpha_pos": a_pos,
            "true_alpha_neg": a_neg,
            "true_noise": sd,
        },
    )
