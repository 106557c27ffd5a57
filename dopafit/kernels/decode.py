"""numba kernels of expectile decoding: the imputation loss and its gradient.

For reward samples ``z`` (length N) and neuron pairs ``(tau_i, e_i)`` (length M) the loss is

.. math::

    g_i(z) = \\frac{1}{N} \\sum_j |\\tau_i - 1\\{z_j \\le e_i\\}| (z_j - e_i), \\qquad
    L(z) = \\frac{1}{M} \\sum_i g_i(z)^2,

the mean squared violation of the expectile first-order condition
``tau E[(Z - e)+] = (1 - tau) E[(e - Z)+]``. ``L`` is continuous and piecewise quadratic in
``z``; its gradient, taken with the indicator held fixed (the one-sided derivative from the
left at a kink ``z_j = e_i``), is

.. math::

    \\frac{\\partial L}{\\partial z_j} = \\frac{2}{M N} \\sum_i g_i(z)\\,
    |\\tau_i - 1\\{z_j \\le e_i\\}|.

Kernels take float64 arrays and return arrays or floats; no xarray, pandas or I/O.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["expectile_loss", "expectile_loss_grad", "expectile_loss_batch"]


@njit(cache=True, inline="always")
def _violation(z, t, ei):
    """``g_i(z)`` of the module docstring for one neuron (asymmetry ``t``, expectile ``ei``)."""
    n = z.shape[0]
    g = 0.0
    for j in range(n):
        d = z[j] - ei
        if d <= 0.0:
            g += (1.0 - t) * d
        else:
            g += t * d
    return g / n


@njit(cache=True)
def expectile_loss(z, tau, e):
    """Imputation loss of one sample vector.

    Parameters
    ----------
    z : ndarray, shape (N,)
        Reward samples.
    tau, e : ndarray, shape (M,)
        Asymmetries and reversal points (expectiles) of the neurons.

    Returns
    -------
    float
        ``L(z)`` (see module docstring).
    """
    m = tau.shape[0]
    total = 0.0
    for i in range(m):
        g = _violation(z, tau[i], e[i])
        total += g * g
    return total / m


@njit(cache=True)
def expectile_loss_grad(z, tau, e):
    """Imputation loss and its gradient with respect to the samples.

    Parameters
    ----------
    z : ndarray, shape (N,)
        Reward samples.
    tau, e : ndarray, shape (M,)
        Asymmetries and reversal points of the neurons.

    Returns
    -------
    loss : float
        ``L(z)``.
    grad : ndarray, shape (N,)
        ``dL/dz`` (indicator ``1{z_j <= e_i}`` held fixed).
    """
    n = z.shape[0]
    m = tau.shape[0]
    g = np.empty(m)
    total = 0.0
    for i in range(m):
        acc = _violation(z, tau[i], e[i])
        g[i] = acc
        total += acc * acc
    grad = np.zeros(n)
    scale = 2.0 / (m * n)
    for j in range(n):
        zj = z[j]
        acc = 0.0
        for i in range(m):
            if zj <= e[i]:
                acc += g[i] * (1.0 - tau[i])
            else:
                acc += g[i] * tau[i]
        grad[j] = acc * scale
    return total / m, grad


@njit(cache=True)
def expectile_loss_batch(zs, tau, e):
    """Imputation loss of many candidate sample vectors.

    Parameters
    ----------
    zs : ndarray, shape (K, N)
        K candidate sample vectors.
    tau, e : ndarray, shape (M,)
        Asymmetries and reversal points of the neurons.

    Returns
    -------
    ndarray, shape (K,)
        ``L(zs[k])`` for every candidate.
    """
    k = zs.shape[0]
    out = np.empty(k)
    for c in range(k):
        out[c] = expectile_loss(zs[c], tau, e)
    return out
