"""numba kernels of the simulator: Poisson spike times.

The kernel is deterministic: all randomness is drawn beforehand with numpy (the caller's
``numpy.random.Generator``), so results do not depend on threads or compilation.

Spike times by time rescaling
-----------------------------
For a piecewise-constant rate :math:`\\lambda(t) = \\lambda_k` on :math:`[t_k, t_{k+1})`, the
cumulative intensity :math:`\\Lambda(t) = \\int_{t_0}^t \\lambda` is piecewise linear. If
:math:`u_1 \\le \\dots \\le u_n` are the points of a unit-rate Poisson process on
:math:`[0, \\Lambda(t_K)]` (``n ~ Poisson(Λ(t_K))`` sorted uniforms), then
:math:`t_j = \\Lambda^{-1}(u_j)` is a Poisson process of rate :math:`\\lambda(t)`.
:func:`rescaled_to_times` computes :math:`\\Lambda^{-1}` by one merged pass over the sorted
points and the segments.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["rescaled_to_times"]


@njit(cache=True)
def rescaled_to_times(points, edges, cum):
    """Map sorted points of a unit-rate process through the inverse cumulative intensity.

    Parameters
    ----------
    points : ndarray, shape (n,)
        Sorted points in rescaled time, each in ``[0, cum[-1]]``.
    edges : ndarray, shape (K + 1,)
        Segment boundaries (s), increasing.
    cum : ndarray, shape (K + 1,)
        Cumulative intensity at ``edges`` (``cum[0] = 0``, non-decreasing).

    Returns
    -------
    ndarray, shape (n,)
        Spike times (s), sorted, in ``[edges[0], edges[-1]]``.

    Notes
    -----
    A point ``u`` with ``cum[k] <= u < cum[k + 1]`` maps to
    ``edges[k] + (u - cum[k]) / (cum[k + 1] - cum[k]) * (edges[k + 1] - edges[k])``;
    zero-rate segments (``cum[k + 1] == cum[k]``) receive no points.
    """
    n = points.shape[0]
    n_seg = edges.shape[0] - 1
    out = np.empty(n, dtype=np.float64)
    k = 0
    for j in range(n):
        u = points[j]
        while k < n_seg - 1 and u >= cum[k + 1]:
            k += 1
        width = cum[k + 1] - cum[k]
        if width > 0.0:
            frac = (u - cum[k]) / width
            if frac > 1.0:
                frac = 1.0
            out[j] = edges[k] + frac * (edges[k + 1] - edges[k])
        else:
            out[j] = edges[k + 1]
    return out
