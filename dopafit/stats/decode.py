"""Decoding the reward distribution from (tau, reversal point) pairs by expectile imputation.

Under distributional TD every neuron's reversal point ``e_i`` is the ``tau_i``-expectile of
the reward distribution. Expectile imputation finds ``N`` reward samples ``z`` (bounded to the
reward range) whose expectiles at the neurons' asymmetries match the reversal points, by
minimising the mean squared violation of the expectile first-order condition (Dabney et al.
2020, Methods; loss and gradient in :mod:`dopafit.kernels.decode`).

Examples
--------
Decode the variable-magnitude distribution of Dabney et al. (2020) from its exact expectiles:

>>> import numpy as np
>>> from dopafit.stats.decode import decode_distribution, exact_expectiles
>>> values = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
>>> probs = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])
>>> taus = np.linspace(0.02, 0.98, 40)
>>> e = exact_expectiles(values, probs, taus)
>>> res = decode_distribution(taus, e, (0.1, 20.0), n_starts=200, n_polish=2, n_epochs=2,
...                           true_values=values, true_probabilities=probs)
>>> round(res.dopafit.mean, 1), round(res.dopafit.sd, 1)
(5.2, 5.3)
>>> d = res.dopafit.distances()
>>> bool(d["truth"] < d.drop("truth").min())
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema
from dopafit._progress import check_progress
from dopafit._version import __version__
from dopafit.errors import ConfigError, DopafitWarning, FitError

__all__ = [
    "decode_distribution",
    "classical_control",
    "reference_distributions",
    "exact_expectiles",
    "decoded_mean",
    "decoded_sd",
    "residuals",
    "decoded_expectiles",
    "wasserstein",
    "distances",
    "pair_table",
    "decoding_summary",
    "DEFAULTS",
]

#: Default optimiser settings of :func:`decode_distribution`.
DEFAULTS = {
    "n_samples": 100,
    "n_starts": 2000,
    "n_polish": 5,
    "n_epochs": 3,
    "maxiter": 5000,
}


def exact_expectiles(
    values: np.ndarray, probabilities: np.ndarray | None, tau: np.ndarray | float
) -> np.ndarray:
    """Exact tau-expectiles of a discrete distribution (or of an equally weighted sample).

    Parameters
    ----------
    values : ndarray, shape (K,)
        Support points.
    probabilities : ndarray, shape (K,), optional
        Their probabilities (normalised here). ``None`` gives equal weights.
    tau : float or ndarray, shape (M,)
        Asymmetries in [0, 1].

    Returns
    -------
    ndarray, shape (M,) (or a 0-d array for scalar ``tau``)
        The expectiles ``e`` solving ``tau E[(Z - e)+] = (1 - tau) E[(e - Z)+]``.

    Notes
    -----
    ``F(e) = tau E[(Z-e)+] - (1-tau) E[(e-Z)+]`` is continuous, decreasing and linear between
    consecutive support points, so the root is found exactly: evaluate ``F`` at the sorted
    support points with cumulative sums, locate the sign change and solve the linear piece.
    ``tau = 0`` and ``tau = 1`` give the minimum and the maximum.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.ones_like(v) if probabilities is None else np.asarray(probabilities, np.float64).ravel()
    order = np.argsort(v)
    v, w = v[order], w[order] / w.sum()
    taus = np.asarray(tau, dtype=np.float64)
    flat = np.atleast_1d(taus).ravel()
    cw = np.cumsum(w)  # P(Z <= v_k)
    cwv = np.cumsum(w * v)  # E[Z 1{Z <= v_k}]
    total = cwv[-1]
    out = np.empty(flat.shape)
    for n, t in enumerate(flat):
        # F at each support point: tau*(E[Z;Z>v]-v P(Z>v)) - (1-tau)*(v P(Z<=v) - E[Z;Z<=v])
        above = (total - cwv) - v * (1.0 - cw)
        below = v * cw - cwv
        f = t * above - (1.0 - t) * below
        k = int(np.searchsorted(-f, 0.0, side="left"))  # first index with f <= 0
        if k == 0:
            out[n] = v[0]
            continue
        if k >= v.size:
            out[n] = v[-1]
            continue
        # on (v[k-1], v[k]]: F(e) = t*(A - B e) - (1-t)*(C e - D) with masses below = cw[k-1]
        mass_lo, sum_lo = cw[k - 1], cwv[k - 1]
        a, b = t * (total - sum_lo), t * (1.0 - mass_lo)
        c, d = (1.0 - t) * mass_lo, (1.0 - t) * sum_lo
        out[n] = (a + d) / (b + c)
    return out.reshape(taus.shape)


def reference_distributions(
    values: np.ndarray,
    probabilities: np.ndarray | None,
    bounds: tuple[float, float],
    *,
    shift: float | None = None,
    scale: float = 1.5,
    n_grid: int = 1000,
    transforms: bool = True,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reference distributions to compare a decoded distribution with.

    Parameters
    ----------
    values, probabilities : ndarray, shape (K,)
        A discrete distribution ("the truth"); ``probabilities=None`` means equal weights.
    bounds : (float, float)
        Reward range ``(min, max)`` of the uniform reference.
    shift : float, optional
        Shift of the shifted references; default half the SD of ``values``.
    scale : float, default 1.5
        Factor of the scaled references: values are scaled about the mean by ``scale``
        ("scaled_wide") and by ``1/scale`` ("scaled_narrow").
    n_grid : int, default 1000
        Number of equally weighted points discretising the continuous references.
    transforms : bool, default True
        Include the mirrored, shifted and scaled versions of the distribution; with ``False``
        only the uniform and the Gaussian.

    Returns
    -------
    dict
        name -> ``(values, weights)``: ``uniform`` (midpoints of ``n_grid`` equal cells of the
        bounds), ``gaussian`` (quantiles ``(k + 1/2)/n_grid`` of the normal with the
        distribution's mean and variance, not truncated), ``mirrored`` (``2 mean - v``),
        ``shifted_up`` / ``shifted_down`` (``v ± shift``), ``scaled_wide`` /
        ``scaled_narrow`` (``mean + scale^{±1} (v - mean)``).
    """
    from scipy.special import ndtri

    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.ones_like(v) if probabilities is None else np.asarray(probabilities, np.float64).ravel()
    w = w / w.sum()
    mean = float(np.sum(w * v))
    sd = float(np.sqrt(np.sum(w * (v - mean) ** 2)))
    lo, hi = _check_bounds(bounds)
    grid = (np.arange(n_grid) + 0.5) / n_grid
    flat = np.full(n_grid, 1.0 / n_grid)
    refs = {
        "uniform": (lo + (hi - lo) * grid, flat),
        "gaussian": (mean + sd * ndtri(grid), flat),
    }
    if transforms:
        s = 0.5 * sd if shift is None else float(shift)
        refs["mirrored"] = (2.0 * mean - v, w)
        refs["shifted_up"] = (v + s, w)
        refs["shifted_down"] = (v - s, w)
        refs["scaled_wide"] = (mean + scale * (v - mean), w)
        refs["scaled_narrow"] = (mean + (v - mean) / scale, w)
    return refs


def _result(samples, loss, t, e, bounds, epoch_loss, settings, dropped, truth) -> xr.Dataset:
    """The decoding Dataset (kind ``"decoding"``): samples, pairs, epoch losses, truth."""
    data = {
        "samples": ("sample", samples),
        "tau": ("pair", t),
        "reversal_point": ("pair", e),
        "residual": ("pair", _residuals(samples, t, e)),
        "epoch_loss": ("epoch", epoch_loss),
    }
    values, probabilities = truth
    if values is not None:
        data["true_value"] = ("truth", values)
        if probabilities is not None:
            data["true_probability"] = ("truth", probabilities)
    attrs = {
        schema.RESULT_KIND: schema.DECODING,
        "analysis": "decoding",
        "loss": loss,
        "mean": float(np.mean(samples)),
        "sd": float(np.std(samples)),
        "bounds": list(bounds),
        "n_dropped": int(dropped.size),
        "dropped": dropped.tolist(),
        "method": "expectile imputation (L-BFGS-B polished random starts)",
        **settings,
        "dopafit_version": __version__,
    }
    ds = xr.Dataset(data, attrs=attrs)
    for name, text in _DESCRIPTIONS.items():
        if name in ds:
            ds[name].attrs["description"] = text
    return ds


_DESCRIPTIONS = {
    "samples": "decoded reward samples, sorted, each of weight 1/N",
    "tau": "asymmetry of each pair used",
    "reversal_point": "reversal point of each pair used (the tau-expectile)",
    "residual": "violation mean_j |tau_i - 1{z_j <= e_i}| (z_j - e_i) of each pair",
    "epoch_loss": "best imputation loss after each epoch",
    "true_value": "support of the true distribution",
    "true_probability": "probabilities of the true distribution",
}


def _residuals(samples: np.ndarray, tau: np.ndarray, reversal_point: np.ndarray) -> np.ndarray:
    z = samples[None, :]
    e = reversal_point[:, None]
    w = np.where(z <= e, 1.0 - tau[:, None], tau[:, None])
    return np.mean(w * (z - e), axis=1)


def _samples(ds: xr.Dataset) -> np.ndarray:
    return np.asarray(ds["samples"].values, dtype=np.float64)


def _bounds(ds: xr.Dataset) -> tuple[float, float]:
    lo, hi = (float(b) for b in ds.attrs["bounds"])
    return lo, hi


def _truth(ds: xr.Dataset):
    """The true distribution stored in a decoding, ``(None, None)`` when none was given."""
    if "true_value" not in ds:
        return None, None
    probs = ds["true_probability"].values if "true_probability" in ds else None
    return ds["true_value"].values, probs


def decoded_mean(ds: xr.Dataset) -> float:
    """Mean of the decoded samples of a decoding."""
    return float(np.mean(_samples(ds)))


def decoded_sd(ds: xr.Dataset) -> float:
    """SD of the decoded samples of a decoding as a distribution (``ddof=0``)."""
    return float(np.std(_samples(ds)))


def residuals(ds: xr.Dataset) -> np.ndarray:
    """Per-pair violation ``g_i = mean_j |tau_i - 1{z_j <= e_i}| (z_j - e_i)``, shape (M,)."""
    return _residuals(_samples(ds), ds["tau"].values, ds["reversal_point"].values)


def decoded_expectiles(ds: xr.Dataset, tau: np.ndarray | None = None) -> np.ndarray:
    """Exact expectiles of the decoded samples (default at the pairs' tau), shape (M,)."""
    return exact_expectiles(_samples(ds), None, ds["tau"].values if tau is None else tau)


def wasserstein(
    ds: xr.Dataset, values: np.ndarray, probabilities: np.ndarray | None = None
) -> float:
    """Wasserstein-1 distance from the decoded samples to a discrete distribution."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(_samples(ds), values, None, probabilities))


def distances(
    ds: xr.Dataset,
    true_values: np.ndarray | None = None,
    true_probabilities: np.ndarray | None = None,
    **reference_kwargs,
):
    """Wasserstein-1 distance from a decoding to the truth and to the reference distributions.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`decode_distribution`.
    true_values, true_probabilities : ndarray, optional
        The true distribution; default the one given to :func:`decode_distribution`.
    **reference_kwargs
        Passed to :func:`reference_distributions` (``shift``, ``scale``, ``n_grid``).

    Returns
    -------
    pandas.Series
        Index ``truth``, ``uniform``, ``gaussian``, ``mirrored``, ``shifted_up``,
        ``shifted_down``, ``scaled_wide``, ``scaled_narrow`` when a truth is known (all
        references built from the truth). Without a truth: ``uniform`` and ``gaussian``
        (matched to the decoded samples' mean and variance).
    """
    import pandas as pd

    if true_values is None:
        true_values, true_probabilities = _truth(ds)
    out = {}
    if true_values is not None:
        out["truth"] = wasserstein(ds, true_values, true_probabilities)
        refs = reference_distributions(
            true_values, true_probabilities, _bounds(ds), **reference_kwargs
        )
    else:
        refs = reference_distributions(
            _samples(ds), None, _bounds(ds), transforms=False, **reference_kwargs
        )
    for name, (v, w) in refs.items():
        out[name] = wasserstein(ds, v, w)
    return pd.Series(out, name="wasserstein1")


def pair_table(ds: xr.Dataset):
    """One row per (tau, reversal point) pair of a decoding: ``pair``, ``tau``,
    ``reversal_point``, ``residual`` and ``decoded_expectile`` (the decoded samples'
    expectile at the pair's tau)."""
    df = ds[["tau", "reversal_point", "residual"]].to_dataframe().reset_index()
    df["decoded_expectile"] = decoded_expectiles(ds)
    return df


def decoding_summary(ds: xr.Dataset) -> str:
    """One line: N, M, mean, SD, loss (and W1 to the truth if known)."""
    text = (
        f"decoded {ds.sizes['sample']} samples from {ds.sizes['pair']} pairs: "
        f"mean {decoded_mean(ds):.3f}, SD {decoded_sd(ds):.3f}, "
        f"loss {float(ds.attrs['loss']):.3g}"
    )
    values, probabilities = _truth(ds)
    if values is not None:
        text += f", W1 to truth {wasserstein(ds, values, probabilities):.3f}"
    return text


def _check_bounds(bounds) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError(
            "bounds as a pair (min, max) of numbers", found=repr(bounds), remedy="pass (min, max)"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ConfigError(
            "finite bounds with min < max",
            found=f"({lo}, {hi})",
            remedy="pass the smallest and largest reward",
        )
    return lo, hi


def _positive_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or the :class:`ConfigError` naming it."""
    want = f"{name} a positive integer" if minimum == 1 else f"{name} an integer >= {minimum}"
    try:
        ok = int(value) == value and int(value) >= minimum
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ConfigError(want, found=repr(value))
    return int(value)


def decode_distribution(
    tau: Sequence[float] | np.ndarray,
    reversal_point: Sequence[float] | np.ndarray,
    bounds: tuple[float, float],
    *,
    n_samples: int = DEFAULTS["n_samples"],
    n_starts: int = DEFAULTS["n_starts"],
    n_polish: int = DEFAULTS["n_polish"],
    n_epochs: int = DEFAULTS["n_epochs"],
    maxiter: int = DEFAULTS["maxiter"],
    seed: int = 0,
    true_values: np.ndarray | None = None,
    true_probabilities: np.ndarray | None = None,
    progress: bool | None = None,
) -> xr.Dataset:
    """Decode a reward distribution from neurons' (tau, reversal point) pairs.

    Parameters
    ----------
    tau : array_like, shape (M,)
        Asymmetries ``alpha_pos / (alpha_pos + alpha_neg)``. Pairs with non-finite values or
        ``tau`` outside [0, 1] are dropped (with a :class:`~dopafit.errors.DopafitWarning`).
    reversal_point : array_like, shape (M,)
        Reversal points, read as the tau-expectiles of the reward distribution (same units as
        ``bounds``).
    bounds : (float, float)
        ``(min, max)`` reward: every sample is kept inside.
    n_samples : int, default 100
        Number of decoded samples ``N``.
    n_starts : int, default 2000
        Random candidate vectors (uniform on the bounds) evaluated per epoch.
    n_polish : int, default 5
        Lowest-loss candidates polished with L-BFGS-B per epoch.
    n_epochs : int, default 3
        Number of epochs.
    maxiter : int, default 5000
        Maximum L-BFGS-B iterations per polish.
    seed : int, default 0
        Seed of the candidate draws (an integer >= 0); the result is a deterministic
        function of the inputs and ``seed``.
    true_values, true_probabilities : ndarray, optional
        The true distribution, stored for :func:`distances` (``ds.dopafit.distances()``).
    progress : bool or None, default None
        A progress bar over the epochs' polishes: None shows it in a notebook or when
        standard error is a terminal, True always, False never. The result does not depend
        on it and does not record it.

    Returns
    -------
    xarray.Dataset
        A result of kind ``"decoding"`` (:mod:`dopafit.results`): ``samples(sample)``
        (sorted, each of weight ``1/N``); per pair actually used (after dropping
        non-finite or out-of-range ones) ``tau(pair)``, ``reversal_point(pair)`` and
        ``residual(pair)``; ``epoch_loss(epoch)`` (best loss after each epoch); the true
        distribution as ``true_value(truth)`` and ``true_probability(truth)`` when given.
        attrs: ``loss`` (final imputation loss), ``mean``, ``sd``, ``bounds``,
        ``n_dropped`` and ``dropped`` (indices into the inputs of the dropped pairs),
        ``method``, the optimiser settings (``n_samples``, ``n_starts``, ``n_polish``,
        ``n_epochs``, ``maxiter``) and ``seed``. ``ds.dopafit`` gives ``samples``,
        ``mean``, ``sd``, ``residuals()``, ``expectiles()``, ``wasserstein()``,
        ``distances()``, ``summary()``, ``to_dataframe()`` and ``to_netcdf()``.

    Raises
    ------
    FitError
        If no usable pair remains.
    ConfigError
        If bounds, counts or ``seed`` are invalid, the pairs are not numbers or their
        lengths differ.

    Notes
    -----
    Minimises, over ``z`` in ``[min, max]^N``,

    .. math::

        L(z) = \\frac{1}{M}\\sum_i \\Big[\\frac{1}{N}\\sum_j |\\tau_i - 1\\{z_j \\le e_i\\}|
        (z_j - e_i)\\Big]^2 ,

    which is zero when the equally weighted samples have ``e_i`` as their ``tau_i``-expectile
    for every neuron. Each epoch draws ``n_starts`` vectors uniformly on the bounds (from
    epoch 2 on, the best solution so far is added to them), evaluates ``L`` on all of them,
    polishes the ``n_polish`` lowest with ``scipy.optimize.minimize(method="L-BFGS-B",
    jac=True)`` (analytic gradient, box bounds), and keeps the overall best. The samples are
    returned sorted (``L`` is symmetric in their order). The problem is under-determined
    (``N`` samples, ``M`` conditions); the random starts pick a spread-out solution.

    References
    ----------
    Dabney W, Kurth-Nelson Z, Uchida N, et al. (2020) A distributional code for value in
    dopamine-based reinforcement learning. Nature 577:671-675.

    Examples
    --------
    Decode the reward distribution of Dabney et al. (2020) from 20 of its exact expectiles:

    >>> import numpy as np
    >>> import dopafit
    >>> task = dopafit.get_task("dabney")
    >>> tau = np.linspace(0.05, 0.95, 20)
    >>> reversal_point = dopafit.expectile(task.magnitudes, task.probabilities, tau)
    >>> res = dopafit.decode_distribution(tau, reversal_point, (0.1, 20.0), n_starts=200,
    ...                                   n_polish=2, n_epochs=1, true_values=task.magnitudes,
    ...                                   true_probabilities=task.probabilities)
    >>> print(res.dopafit.summary())
    decoded 100 samples from 20 pairs: mean 5.211, SD 5.253, loss ..., W1 to truth 0.308
    >>> round(task.mean, 3), round(task.sd, 3)
    (5.209, 5.268)
    """
    lo, hi = _check_bounds(bounds)
    counts = {
        "n_samples": _positive_int("n_samples", n_samples),
        "n_starts": _positive_int("n_starts", n_starts),
        "n_polish": _positive_int("n_polish", n_polish),
        "n_epochs": _positive_int("n_epochs", n_epochs),
        "maxiter": _positive_int("maxiter", maxiter, minimum=0),
    }
    seed = _check_seed(seed)
    progress = check_progress(progress)
    t, e, dropped = _usable_pairs(tau, reversal_point, lo, hi)
    best_x, best_f, epoch_loss = _impute(t, e, lo, hi, counts, seed, progress)
    truth = (
        None if true_values is None else np.asarray(true_values, np.float64).ravel(),
        None if true_probabilities is None else np.asarray(true_probabilities, np.float64).ravel(),
    )
    return _result(
        np.sort(best_x),
        best_f,
        t,
        e,
        (lo, hi),
        epoch_loss,
        {**counts, "seed": seed},
        dropped,
        truth,
    )


def _check_seed(seed) -> int:
    """The decoder's seed, an integer >= 0."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed an integer >= 0", found=repr(seed), remedy="pass e.g. seed=0")
    return int(seed)


def _as_floats(values, name: str) -> np.ndarray:
    """``values`` flattened to float64, or the :class:`ConfigError` naming them."""
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"{name} as numbers", found=repr(values)[:80]) from None


def _usable_pairs(tau, reversal_point, lo: float, hi: float):
    """The finite pairs with tau in [0, 1] (the others dropped with a warning) and their
    indices; warns about reversal points outside the bounds."""
    t = _as_floats(tau, "tau")
    e = _as_floats(reversal_point, "reversal_point")
    if t.shape != e.shape:
        raise ConfigError(
            "tau and reversal_point of equal length",
            found=f"lengths {t.size} and {e.size}",
            remedy="pass one (tau, reversal_point) pair per neuron",
        )
    keep = np.isfinite(t) & np.isfinite(e) & (t >= 0.0) & (t <= 1.0)
    dropped = np.flatnonzero(~keep)
    if dropped.size:
        warnings.warn(
            f"dropped {dropped.size} of {t.size} (tau, reversal_point) pairs that are "
            f"non-finite or have tau outside [0, 1] (indices {dropped[:10].tolist()})",
            DopafitWarning,
            stacklevel=3,
        )
    t, e = t[keep], e[keep]
    if t.size == 0:
        raise FitError(
            "at least one finite (tau, reversal_point) pair with tau in [0, 1]",
            found=f"{dropped.size} unusable pair(s)",
            remedy="check the per-neuron estimates (NaN or negative slopes give unusable tau)",
        )
    outside = (e < lo) | (e > hi)
    if outside.any():
        warnings.warn(
            f"{int(outside.sum())} reversal point(s) outside bounds ({lo}, {hi}): their "
            "expectile condition cannot be met exactly",
            DopafitWarning,
            stacklevel=3,
        )
    return t, e, dropped


def _impute(t, e, lo: float, hi: float, counts: dict, seed: int, progress=None):
    """The best samples, their loss and the best loss after each epoch (see Notes above)."""
    from threadpoolctl import threadpool_limits

    from dopafit._progress import progress_bar
    from dopafit.kernels.decode import expectile_loss_batch

    n_samples, n_epochs = counts["n_samples"], counts["n_epochs"]
    rng = np.random.default_rng(seed)
    best_x = None
    best_f = np.inf
    epoch_loss = np.empty(n_epochs)
    # L-BFGS-B takes many tiny dense steps: BLAS threads only spin on them (and stall
    # badly when the cores are busy), so run them single-threaded.
    n_polish = min(counts["n_polish"], counts["n_starts"])
    bar = progress_bar(n_epochs * n_polish, "decode", progress=progress, unit="polish")
    with threadpool_limits(limits=1, user_api="blas"), bar:
        for epoch in range(n_epochs):
            cands = rng.uniform(lo, hi, size=(counts["n_starts"], n_samples))
            if best_x is not None:
                cands = np.vstack([best_x[None, :], cands])
            losses = expectile_loss_batch(cands, t, e)
            for k in np.argsort(losses, kind="stable")[: counts["n_polish"]]:
                x, f = _polish(cands[k], t, e, lo, hi, counts["maxiter"])
                if f < best_f:
                    best_f, best_x = f, x
                bar.update(1)
            epoch_loss[epoch] = best_f
    return best_x, best_f, epoch_loss


def _polish(x0, t, e, lo: float, hi: float, maxiter: int):
    """One L-BFGS-B descent from ``x0`` inside the bounds: the samples and their loss."""
    from scipy.optimize import minimize

    from dopafit.kernels.decode import expectile_loss_grad

    options = {"maxiter": maxiter, "maxfun": 4 * maxiter, "ftol": 1e-16, "gtol": 1e-12}
    res = minimize(
        expectile_loss_grad,
        x0,
        args=(t, e),
        jac=True,
        method="L-BFGS-B",
        bounds=[(lo, hi)] * x0.size,
        options=options,
    )
    x = np.clip(res.x, lo, hi)
    return x, float(expectile_loss_grad(x, t, e)[0])


def classical_control(
    mean: float,
    bounds: tuple[float, float],
    *,
    n_neurons: int = 40,
    tau_sd: float = 0.05,
    reversal_sd: float | None = None,
    seed: int = 0,
    **decode_kwargs,
) -> xr.Dataset:
    """Decode from classical-TD-like pairs: tau near 0.5, reversal points near the mean.

    Parameters
    ----------
    mean : float
        Mean reward (the common reversal point of classical TD).
    bounds : (float, float)
        Reward range, as for :func:`decode_distribution`.
    n_neurons : int, default 40
        Number of pairs.
    tau_sd : float, default 0.05
        SD of the Gaussian noise added to tau = 0.5 (then clipped to [0.01, 0.99]).
    reversal_sd : float, optional
        SD of the Gaussian noise added to the reversal points (then clipped to the bounds);
        default 1% of the reward range (0.199 µl for the Dabney task).
    seed : int, default 0
        Seeds both the pairs' noise and the decoder.
    **decode_kwargs
        Passed to :func:`decode_distribution` (``n_starts``, ``true_values``, ...).

    Returns
    -------
    xarray.Dataset
        The decoding, with ``attrs['control'] = 'classical'`` and the noise levels
        (``tau_sd``, ``reversal_sd``) recorded. The decoded
        distribution collapses around ``mean`` (see docs/explanation/decoding.md for measured SDs).
    """
    lo, hi = _check_bounds(bounds)
    n_neurons = _positive_int("n_neurons", n_neurons)
    rsd = 0.01 * (hi - lo) if reversal_sd is None else float(reversal_sd)
    rng = np.random.default_rng([int(seed), 0xC1A5])
    tau = np.clip(0.5 + tau_sd * rng.standard_normal(n_neurons), 0.01, 0.99)
    rev = np.clip(mean + rsd * rng.standard_normal(n_neurons), lo, hi)
    res = decode_distribution(tau, rev, (lo, hi), seed=seed, **decode_kwargs)
    res.attrs.update(control="classical", tau_sd=float(tau_sd), reversal_sd=rsd)
    return res
