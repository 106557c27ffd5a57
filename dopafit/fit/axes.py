"""Preparing responses for the expectile fit: magnitudes, cued/uncued pooling, axes, grouping.

Everything here is plain numpy on the ``(unit, trial)`` arrays of a responses Dataset; the
result (:class:`Prepared`) holds the flat grouped layout the kernels in
:mod:`dopafit.kernels.expectile` consume.

Notes
-----
Magnitudes are the distinct finite ``reward`` values (rounded to 1e-9 to merge float noise)
of trials with a finite response. Axes (one value per magnitude):

``"utility"``
    The empirical population tuning curve, ``U(m) = mean_u [mean_t r_{u,t} : m_t = m]``, over
    the units with trials at ``m`` (after pooling cued and uncued trials). This is the axis of
    Dabney et al. (2020); its values are in response units (Hz).
``"reward"``
    The magnitudes themselves (``reward_units``).
``"zscore"``
    Responses are z-scored per unit, ``r' = (r - mean_u) / sd_u`` (mean and SD, ddof=1, over
    all of the unit's used trials after pooling), and the axis is the reward magnitudes. A
    reversal point is then where the response crosses the unit's mean rather than its
    baseline (Muller et al. 2024).
callable
    ``f(magnitudes) -> values``, applied to the 1-D array of magnitudes.
array-like
    One finite value per magnitude, in increasing-magnitude order.

Cued and uncued trials are pooled by adding one scalar to every uncued response:
``offset = mean_{u,m} cued_mean(u, m) - mean_{u,m} uncued_mean(u, m)``, each grand mean over
the (unit, magnitude) cells that have such trials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError, FitError

__all__ = [
    "AXES",
    "POOL_MODES",
    "Prepared",
    "magnitude_grid",
    "uncued_offset",
    "axis_values",
    "prepare",
    "response_arrays",
]

AXES = ("utility", "reward", "zscore")
POOL_MODES = ("auto", "offset", "none", "cued", "uncued")


@dataclass
class Prepared:
    """Responses in the grouped layout of the kernels, with everything needed to describe them.

    Attributes
    ----------
    vals : ndarray of float64, shape (n_used,)
        Used responses grouped by unit then magnitude (chronological within a group).
    start, cnt : ndarray of int64, shape (n_unit, n_mag)
        Offset and length of each (unit, magnitude) group in ``vals``.
    magnitudes, axis, order : ndarray, shape (n_mag,)
        Magnitudes (increasing), axis values, and ``argsort(axis)``.
    axis_name : str
    pool_mode : str
        The pooling actually applied (``offset``, ``none``, ``cued``, ``uncued``).
    offset : float
        The scalar added to uncued responses (0 when none was added).
    unit_reason : list of str
        Per unit, "" or why the unit cannot be fitted before any estimate is tried.
    mean_response : ndarray of float64, shape (n_unit, n_mag)
        Mean used response per unit and magnitude (NaN where absent).
    """

    vals: np.ndarray
    start: np.ndarray
    cnt: np.ndarray
    magnitudes: np.ndarray
    axis: np.ndarray
    order: np.ndarray
    axis_name: str
    pool_mode: str
    offset: float
    unit_reason: list[str] = field(default_factory=list)
    mean_response: np.ndarray | None = None


def magnitude_grid(reward: np.ndarray, used: np.ndarray, decimals: int = 9):
    """Distinct magnitudes and the magnitude index of every trial.

    Parameters
    ----------
    reward : ndarray of float64, shape (n_unit, n_trial)
    used : ndarray of bool, shape (n_unit, n_trial)
        Trials that enter the fit.
    decimals : int, default 9
        Rounding applied before taking unique values.

    Returns
    -------
    magnitudes : ndarray of float64, shape (n_mag,)
    midx : ndarray of int64, shape (n_unit, n_trial)
        Index into ``magnitudes``; -1 for unused trials.
    """
    rounded = np.round(np.where(used, reward, np.nan), decimals)
    magnitudes = np.unique(rounded[used])
    midx = np.full(reward.shape, -1, dtype=np.int64)
    midx[used] = np.searchsorted(magnitudes, rounded[used])
    return magnitudes, midx


def _cell_means(resp: np.ndarray, midx: np.ndarray, mask: np.ndarray, n_mag: int) -> np.ndarray:
    """Per (unit, magnitude) mean of ``resp`` over trials in ``mask``; NaN where none."""
    n_unit = resp.shape[0]
    flat = (np.arange(n_unit)[:, None] * n_mag + midx)[mask]
    sums = np.bincount(flat, weights=resp[mask], minlength=n_unit * n_mag)
    counts = np.bincount(flat, minlength=n_unit * n_mag)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    means[counts == 0] = np.nan
    return means.reshape(n_unit, n_mag)


def uncued_offset(resp: np.ndarray, midx: np.ndarray, cued: np.ndarray, used: np.ndarray) -> float:
    """The scalar that puts uncued responses on the cued level (see module Notes).

    Returns
    -------
    float
        ``mean(cued cell means) - mean(uncued cell means)``; NaN if either kind is absent.
    """
    n_mag = int(midx.max()) + 1 if used.any() else 0
    if n_mag == 0:
        return float("nan")
    cued_means = _cell_means(resp, midx, used & cued, n_mag)
    uncued_means = _cell_means(resp, midx, used & ~cued, n_mag)
    if np.isnan(cued_means).all() or np.isnan(uncued_means).all():
        return float("nan")
    return float(np.nanmean(cued_means) - np.nanmean(uncued_means))


def axis_values(axis, magnitudes: np.ndarray, mean_response: np.ndarray) -> tuple[np.ndarray, str]:
    """Axis value per magnitude and the axis name recorded in attrs.

    Parameters
    ----------
    axis : {"utility", "reward", "zscore"}, callable or array-like
    magnitudes : ndarray, shape (n_mag,)
    mean_response : ndarray, shape (n_unit, n_mag)
        Per-unit mean (pooled, possibly z-scored) response per magnitude; NaN where absent.

    Returns
    -------
    values : ndarray of float64, shape (n_mag,)
    name : str
    """
    n_mag = magnitudes.size
    if isinstance(axis, str):
        if axis == "utility":
            with np.errstate(invalid="ignore"):
                counts = np.isfinite(mean_response).sum(axis=0)
                values = np.nansum(mean_response, axis=0) / counts
            return values, "utility"
        if axis in ("reward", "zscore"):
            return magnitudes.astype(np.float64), axis
        raise ConfigError(
            f"axis one of {', '.join(AXES)}, a callable or one value per magnitude",
            found=repr(axis),
        )
    if callable(axis):
        name = f"callable:{getattr(axis, '__name__', type(axis).__name__)}"
        try:
            values = np.asarray(axis(magnitudes.copy()), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                "an axis callable mapping an array of magnitudes to an array of values",
                found=f"{exc.__class__.__name__}: {exc}",
                remedy="make it vectorised, e.g. lambda m: np.log(m)",
            ) from None
    else:
        name = "values"
        values = np.asarray(axis, dtype=np.float64)
    if values.shape != (n_mag,) or not np.all(np.isfinite(values)):
        raise ConfigError(
            f"one finite axis value per magnitude ({n_mag}: {magnitudes.tolist()})",
            found=f"{values.ravel()[:10].tolist()} (shape {values.shape})",
        )
    return values, name


def response_arrays(responses: xr.Dataset, pool_cued: str = "auto"):
    """The (unit, trial) arrays the fitters use and the cells they keep.

    Parameters
    ----------
    responses : xarray.Dataset
        A responses Dataset.
    pool_cued : str, default "auto"
        ``"cued"`` / ``"uncued"`` keep one kind of trial; other modes keep both.

    Returns
    -------
    resp, reward : ndarray of float64, shape (n_unit, n_trial)
    cued : ndarray of bool, shape (n_unit, n_trial)
    used : ndarray of bool, shape (n_unit, n_trial)
        Finite response and reward, and the kind of trial ``pool_cued`` keeps.
    """
    resp = responses[schema.RESPONSE].transpose(schema.UNIT, schema.TRIAL).values.astype(float)
    reward = responses[schema.REWARD].transpose(schema.UNIT, schema.TRIAL).values.astype(float)
    cued = responses[schema.CUED].transpose(schema.UNIT, schema.TRIAL).values.astype(bool)
    used = np.isfinite(resp) & np.isfinite(reward)
    if pool_cued == "cued":
        used &= cued
    elif pool_cued == "uncued":
        used &= ~cued
    return resp, reward, cued, used


def prepare(
    responses: xr.Dataset,
    *,
    axis: str | Callable | np.ndarray = "utility",
    pool_cued: str = "auto",
) -> Prepared:
    """Validate, pool, choose the axis and group trials for the kernels.

    Parameters
    ----------
    responses : xarray.Dataset
        A responses Dataset (see :mod:`dopafit.schema`).
    axis : str, callable or array-like, default "utility"
        See module Notes.
    pool_cued : {"auto", "offset", "none", "cued", "uncued"}, default "auto"
        ``"offset"`` and ``"auto"`` add :func:`uncued_offset` to uncued responses when both
        cued and uncued trials are present (otherwise the responses are used as they are).
        The rule is idempotent: on responses a loader has already pooled the same way the
        computed offset is 0 (to rounding), so it is never applied twice. ``"none"`` uses
        the responses as they are; ``"cued"`` / ``"uncued"`` keep one kind only.

    Returns
    -------
    Prepared

    Raises
    ------
    ResponsesError
        The Dataset does not follow the data model.
    ConfigError
        Unknown ``axis`` or ``pool_cued``.
    FitError
        Fewer than 2 magnitudes with a finite response in the whole Dataset.
    """
    schema.validate_responses(responses)
    if pool_cued not in POOL_MODES:
        raise ConfigError(f"pool_cued one of {', '.join(POOL_MODES)}", found=repr(pool_cued))
    source = responses.attrs.get("source")
    file = source if isinstance(source, str) else None
    resp, reward, cued, used = response_arrays(responses, pool_cued)
    magnitudes, midx = magnitude_grid(reward, used)
    _check_magnitudes(magnitudes, used, pool_cued, file)
    resp, mode, offset = _pool(resp, midx, cued, used, pool_cued)
    n_unit, n_mag = resp.shape[0], magnitudes.size
    reasons = [""] * n_unit
    if isinstance(axis, str) and axis == "zscore":
        resp, used = _zscore(resp, used, reasons)
        _check_zscored(used, midx, magnitudes, reasons, file)
    mean_response = _cell_means(resp, np.where(used, midx, 0), used, n_mag)
    values, name = _finite_axis(axis, magnitudes, mean_response, file)
    vals, start, cnt = _group_trials(resp, used, midx, n_mag)
    _magnitude_reasons(reasons, cnt, magnitudes)
    return Prepared(
        vals=vals,
        start=start,
        cnt=cnt,
        magnitudes=magnitudes,
        axis=values.astype(np.float64),
        order=np.argsort(values, kind="stable").astype(np.int64),
        axis_name=name,
        pool_mode=mode,
        offset=offset,
        unit_reason=reasons,
        mean_response=mean_response,
    )


def _check_magnitudes(magnitudes: np.ndarray, used: np.ndarray, pool_cued: str, file) -> None:
    """Raise unless the usable trials span 2 or more reward magnitudes."""
    if magnitudes.size < 2:
        raise FitError(
            "trials with a finite response at 2 or more reward magnitudes",
            found=f"{magnitudes.size} magnitude(s) {magnitudes.tolist()} "
            f"({int(used.sum())} usable trials, pool_cued={pool_cued!r})",
            remedy="check the reward coordinate and the trial selection",
            file=file,
        )


def _pool(resp, midx, cued, used, pool_cued: str) -> tuple[np.ndarray, str, float]:
    """Offset the uncued responses onto the cued ones when both are present and asked for."""
    mode, offset = pool_cued, 0.0
    has_cued = bool((used & cued).any())
    has_uncued = bool((used & ~cued).any())
    if pool_cued in ("auto", "offset"):
        if has_cued and has_uncued:
            # idempotent: on responses already pooled this way the offset is 0
            offset = uncued_offset(resp, midx, cued, used)
            resp = np.where(used & ~cued, resp + offset, resp)
            mode = "offset"
        else:
            mode = "none"
    return resp, mode, offset


def _zscore(resp: np.ndarray, used: np.ndarray, reasons: list) -> tuple[np.ndarray, np.ndarray]:
    """Z-score each unit's used responses; units with SD 0 get a reason and no trials."""
    n_unit = resp.shape[0]
    count = used.sum(axis=1)
    masked = np.where(used, resp, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(masked, axis=1) if used.any() else np.full(n_unit, np.nan)
        sd = np.sqrt(np.nansum((masked - mean[:, None]) ** 2, axis=1) / (count - 1))
    bad = (count >= 1) & ~(sd > 0)
    for u in np.nonzero(bad)[0]:
        reasons[u] = f"z-score undefined: {int(count[u])} trial(s) with response SD 0"
    resp = np.where(used, (resp - mean[:, None]) / np.where(bad, 1.0, sd)[:, None], resp)
    used &= ~bad[:, None]
    return resp, used


def _check_zscored(used, midx, magnitudes, reasons: list, file) -> None:
    """Raise unless the units that can be z-scored still span 2 or more magnitudes."""
    left = np.unique(midx[used])
    if left.size < 2:
        n_bad = sum(r.startswith("z-score undefined") for r in reasons)
        raise FitError(
            "trials with a finite response at 2 or more reward magnitudes in units that "
            "can be z-scored (2 or more trials with different responses)",
            found=f"{n_bad} of {len(reasons)} unit(s) with response SD 0 or a single "
            f"trial, leaving {left.size} magnitude(s) {magnitudes[left].tolist()}",
            remedy="use axis='reward' or axis='utility', or units with varying responses",
            file=file,
        )


def _finite_axis(axis, magnitudes, mean_response, file) -> tuple[np.ndarray, str]:
    """The axis values of the magnitudes; raise when one is not finite."""
    values, name = axis_values(axis, magnitudes, mean_response)
    if not np.all(np.isfinite(values)):
        raise FitError(
            "a finite axis value for every magnitude",
            found=f"axis {name} = {values.tolist()}",
            remedy="give an explicit axis (axis='reward' or one value per magnitude)",
            file=file,
        )
    return values, name


def _group_trials(resp, used, midx, n_mag: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Used responses sorted by (unit, magnitude), with the start and count of each cell."""
    n_unit = resp.shape[0]
    unit_of = np.broadcast_to(np.arange(n_unit)[:, None], resp.shape)
    key = (unit_of * n_mag + midx)[used]
    order_flat = np.argsort(key, kind="stable")
    vals = resp[used][order_flat].astype(np.float64)
    cnt = np.bincount(key, minlength=n_unit * n_mag).astype(np.int64).reshape(n_unit, n_mag)
    start = (np.cumsum(cnt.ravel()) - cnt.ravel()).reshape(n_unit, n_mag).astype(np.int64)
    return vals, start, cnt


def _magnitude_reasons(reasons: list, cnt: np.ndarray, magnitudes: np.ndarray) -> None:
    """Give a reason to each unit, not already excluded, with trials at fewer than 2 magnitudes."""
    for u in range(cnt.shape[0]):
        if reasons[u]:
            continue
        present = int((cnt[u] > 0).sum())
        if present == 0:
            reasons[u] = "no finite responses"
        elif present < 2:
            mags = magnitudes[cnt[u] > 0].tolist()
            reasons[u] = f"trials at {present} magnitude ({mags}); need 2 or more"
