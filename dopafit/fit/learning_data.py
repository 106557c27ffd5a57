"""Preparing responses for the learning models: chronological sequences and parameter layout.

:func:`sequences` turns a responses Dataset into per-unit chronological arrays (utility,
context, response; counts and baselines for the Poisson model), packed to the left with the
trial positions kept so results can be put back on the Dataset's ``trial`` dim.
:func:`parameter_layout` gives every (model, unit) its tie map, fixed values, deterministic
start and bounds on the transformed scale of :mod:`dopafit.kernels.learning`.

Notes
-----
Trials: every trial with a finite ``reward`` updates its context value, in the order of the
``trial`` dim; only trials with a finite response enter the likelihood. ``event_time`` (where
finite) must not decrease along ``trial``. Contexts: uncued trials are context ``uncued``; a
cued trial is context ``cue<k>`` for its ``cue_id`` coordinate when the Dataset has one (a
finite id > 0), else ``cue1``.

Utility: ``"reward"`` and ``"zscore"`` use the reward itself (``"zscore"`` also z-scores each
unit's responses over its trials with a response); ``"utility"``, a callable or an array give
one value per magnitude exactly as :func:`dopafit.fit_expectiles` computes it (the utility axis
pools cued and uncued trials with the same offset), and a reward between magnitudes is
interpolated linearly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError, DopafitWarning, EventTimesError
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

__all__ = ["Sequences", "Layout", "sequences", "parameter_layout", "ETA_BOUNDS"]

#: Learning rates are searched within these bounds (natural scale).
ETA_BOUNDS = (1e-4, 1.0 - 1e-4)


def _logit(p):
    return np.log(p) - np.log1p(-p)


@dataclass
class Sequences:
    """Per-unit chronological trial arrays, packed left (see module Notes).

    Attributes
    ----------
    util, resp, count, base : ndarray of float64, shape (n_unit, width)
    ctx : ndarray of int64, shape (n_unit, width)
    position : ndarray of int64, shape (n_unit, width)
        Index on the Dataset's ``trial`` dim of each packed trial (-1: padding).
    n_trial : ndarray of int64, shape (n_unit,)
        Trials (finite reward) per unit.
    n_obs : ndarray of int64, shape (n_unit,)
        Of those, trials with a finite response.
    contexts : list of str
        Context labels (``uncued``, ``cue1``, ...).
    learn : ndarray of int64, shape (n_ctx,)
    window : float
        Response window length (s), for the Poisson model.
    axis_name : str
    magnitudes, axis_values : ndarray
        The utility of each magnitude (``axis_values`` equals ``magnitudes`` for the reward
        axis).
    unit_reason : list of str
        "" or why a unit is not fitted.
    """

    util: np.ndarray
    resp: np.ndarray
    count: np.ndarray
    base: np.ndarray
    ctx: np.ndarray
    position: np.ndarray
    n_trial: np.ndarray
    n_obs: np.ndarray
    contexts: list[str]
    learn: np.ndarray
    window: float
    axis_name: str
    magnitudes: np.ndarray
    axis_values: np.ndarray
    unit_reason: list[str] = field(default_factory=list)

    def seen(self) -> np.ndarray:
        """Whether each unit has trials of each context, shape (n_unit, n_ctx)."""
        valid = np.arange(self.util.shape[1])[None, :] < self.n_trial[:, None]
        return np.stack(
            [((self.ctx == c) & valid).any(axis=1) for c in range(len(self.contexts))], axis=1
        )


def _array(responses: xr.Dataset, name: str, dtype) -> np.ndarray:
    return responses[name].transpose(schema.UNIT, schema.TRIAL).values.astype(dtype)


def check_order(responses: xr.Dataset) -> None:
    """Raise :class:`EventTimesError` when ``event_time`` decreases along ``trial``."""
    if schema.EVENT_TIME not in responses.variables:
        return
    times = _array(responses, schema.EVENT_TIME, np.float64)
    times = np.where(np.isfinite(_array(responses, schema.REWARD, np.float64)), times, np.nan)
    bad = []
    for u in range(times.shape[0]):
        t = times[u][np.isfinite(times[u])]
        if t.size > 1 and np.any(np.diff(t) < 0):
            first = int(np.nonzero(np.diff(t) < 0)[0][0])
            bad.append(
                f"{responses[schema.UNIT_ID].values[u]} (t={t[first]:g} s then {t[first + 1]:g} s)"
            )
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        source = responses.attrs.get("source")
        raise EventTimesError(
            "trials in chronological order along the trial dim (event_time not decreasing)",
            found=f"earlier trials after later ones in unit(s) {', '.join(bad[:3])}{more}",
            remedy="sort each unit's trials by time (e.g. ds.isel(trial=order)) before fitting "
            "learning models",
            file=source if isinstance(source, str) else None,
        )


def _contexts(responses: xr.Dataset, valid: np.ndarray) -> tuple[np.ndarray, list[str]]:
    cued = _array(responses, schema.CUED, bool)
    ids = np.where(cued, 1.0, 0.0)
    if "cue_id" in responses.variables and set(responses["cue_id"].dims) == {
        schema.UNIT,
        schema.TRIAL,
    }:
        raw = _array(responses, "cue_id", np.float64)
        ids = np.where(cued & np.isfinite(raw) & (raw > 0), raw, ids)
    present = np.unique(ids[valid & cued]).astype(np.int64)
    labels = ["uncued", *[f"cue{int(c)}" for c in present]]
    index = np.zeros(ids.shape, dtype=np.int64)
    for k, c in enumerate(present, start=1):
        index[cued & (ids == c)] = k
    return index, labels


def _utility(responses, opts: LearningOptions, reward, valid):
    axis = opts.axis
    if isinstance(axis, str) and axis in ("reward", "zscore"):
        mags = np.unique(np.round(reward[valid], 9))
        return np.where(valid, reward, np.nan), axis, mags, mags.copy()
    from dopafit.fit.axes import prepare

    prep = prepare(responses, axis=axis, pool_cued="auto")
    order = np.argsort(prep.magnitudes)
    util = np.interp(reward, prep.magnitudes[order], prep.axis[order])
    return np.where(valid, util, np.nan), prep.axis_name, prep.magnitudes, prep.axis


def _warn_dropped(responses: xr.Dataset) -> None:
    dropped = responses.attrs.get("n_trials_dropped")
    if isinstance(dropped, dict):
        lost = {k: int(v) for k, v in dropped.items() if k in ("cap", "selection") and v}
        if lost:
            warnings.warn(
                f"trials were dropped at loading ({lost}): the value recursion does not see "
                "their rewards; load with max_trials_per_type=None and no selection to fit "
                "learning models on the full sequence",
                DopafitWarning,
                stacklevel=3,
            )


def sequences(responses: xr.Dataset, opts: LearningOptions) -> Sequences:
    """Chronological per-unit arrays for the kernels (see module Notes).

    Raises
    ------
    ResponsesError
        The Dataset does not follow the data model.
    EventTimesError
        Trials out of chronological order.
    ConfigError
        Poisson noise without spike counts.
    """
    schema.validate_responses(responses)
    check_order(responses)
    _warn_dropped(responses)
    reward = _array(responses, schema.REWARD, np.float64)
    resp = _array(responses, schema.RESPONSE, np.float64)
    valid = np.isfinite(reward)
    ctx, labels = _contexts(responses, valid)
    util, axis_name, mags, axis_values = _utility(responses, opts, reward, valid)
    count = np.full(resp.shape, np.nan)
    base = np.zeros(resp.shape)
    window = float("nan")
    if opts.noise == "poisson":
        count, base, window = _counts(responses)
        resp = np.where(np.isfinite(count) & np.isfinite(base), resp, np.nan)
    observed = valid & np.isfinite(resp)
    if isinstance(opts.axis, str) and opts.axis == "zscore":
        resp = _zscore(resp, observed)
    source = {"util": util, "resp": resp, "count": count, "base": base, "ctx": ctx}
    n_trial = valid.sum(axis=1).astype(np.int64)
    learn = np.ones(len(labels), dtype=np.int64)
    if opts.uncued == "zero":
        learn[0] = 0
    seq = Sequences(
        **_pack(source, valid, n_trial),
        n_trial=n_trial,
        n_obs=observed.sum(axis=1).astype(np.int64),
        contexts=labels,
        learn=learn,
        window=window,
        axis_name=axis_name,
        magnitudes=np.asarray(mags, dtype=np.float64),
        axis_values=np.asarray(axis_values, dtype=np.float64),
    )
    seq.unit_reason = _unit_reasons(seq, opts)
    return seq


def _zscore(resp: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Z-score each unit's observed responses (units with fewer than 2 or SD 0 unchanged)."""
    n = observed.sum(axis=1)
    masked = np.where(observed, resp, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(masked, axis=1)
        sd = np.nanstd(masked, axis=1, ddof=1)
    ok = (n > 1) & (sd > 0)
    return np.where(ok[:, None], (resp - mean[:, None]) / np.where(ok, sd, 1.0)[:, None], resp)


def _pack(source: dict, valid: np.ndarray, n_trial: np.ndarray) -> dict:
    """Each (unit, trial) array with the unit's valid trials first, and their positions."""
    n_unit = valid.shape[0]
    width = max(int(n_trial.max()), 1)
    packed = {
        "util": np.full((n_unit, width), np.nan),
        "resp": np.full((n_unit, width), np.nan),
        "count": np.full((n_unit, width), np.nan),
        "base": np.zeros((n_unit, width)),
        "ctx": np.zeros((n_unit, width), dtype=np.int64),
        "position": np.full((n_unit, width), -1, dtype=np.int64),
    }
    for u in range(n_unit):
        pos = np.nonzero(valid[u])[0]
        k = pos.size
        packed["position"][u, :k] = pos
        for name, arr in source.items():
            packed[name][u, :k] = arr[u, pos]
    return packed


def _counts(responses: xr.Dataset):
    missing = [n for n in ("window_count", "baseline") if n not in responses.variables]
    if missing:
        raise ConfigError(
            "spike counts for the Poisson model (variables window_count and baseline of a "
            "spike-count Dataset)",
            found=f"no {', '.join(missing)}",
            remedy="load spike units with dopafit.load_nwb (not photometry or a hand-built "
            "Dataset), or use noise='gaussian'",
        )
    if responses.attrs.get("faithful"):
        raise ConfigError(
            "spike-count responses for the Poisson model",
            found="faithful smoothed-PSTH responses",
            remedy="load without faithful=True, or use noise='gaussian'",
        )
    window = responses.attrs.get("window")
    try:
        length = float(window[1]) - float(window[0])
    except (TypeError, IndexError, ValueError):
        length = float("nan")
    if not length > 0:
        raise ConfigError("attrs['window'] as (start, stop) seconds", found=repr(window))
    count = _array(responses, "window_count", np.float64)
    finite = count[np.isfinite(count)]
    if np.any(finite < 0) or np.any(finite != np.round(finite)):
        raise ConfigError(
            "window_count holding whole spike counts >= 0", found="negative or fractional values"
        )
    return count, _array(responses, "baseline", np.float64), length


def _unit_reasons(seq: Sequences, opts: LearningOptions) -> list[str]:
    reasons = []
    for u in range(seq.n_trial.size):
        k = seq.n_trial[u]
        obs = seq.resp[u, :k]
        obs = obs[np.isfinite(obs)]
        rewards = np.unique(np.round(seq.util[u, :k], 9))
        if obs.size == 0:
            reasons.append("no finite responses")
        elif obs.size < opts.min_trials:
            reasons.append(f"{obs.size} trial(s) with a response; need at least {opts.min_trials}")
        elif rewards.size < 2:
            reasons.append(
                "trials at one reward value only: learning rates and slopes cannot be told apart"
            )
        elif np.ptp(obs) == 0:
            reasons.append("constant responses: no prediction-error signal to fit")
        else:
            reasons.append("")
    return reasons


@dataclass
class Layout:
    """Per (model, unit) parameter maps on the transformed scale (see
    :mod:`dopafit.kernels.learning`).

    Attributes
    ----------
    tie : ndarray of int64, shape (n_model, n_unit, P)
    n_free : ndarray of int64, shape (n_model, n_unit)
    fixed, start, lo, hi : ndarray of float64, shape (n_unit, P)
    """

    tie: np.ndarray
    n_free: np.ndarray
    fixed: np.ndarray
    start: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _first_means(seq: Sequences, n_first: int, fallback: np.ndarray) -> np.ndarray:
    """Mean utility of the first ``n_first`` trials of each context, per unit."""
    n_unit, n_ctx = seq.n_trial.size, len(seq.contexts)
    out = np.repeat(fallback[:, None], n_ctx, axis=1)
    for u in range(n_unit):
        k = seq.n_trial[u]
        for c in range(n_ctx):
            vals = seq.util[u, :k][seq.ctx[u, :k] == c][:n_first]
            if vals.size:
                out[u, c] = vals.mean()
    return out


def parameter_layout(seq: Sequences, opts: LearningOptions, models) -> Layout:
    """Tie maps, fixed values, starts and bounds of every model and unit."""
    n_full = N_FIXED + len(seq.contexts)
    start, lo, hi = _starts_and_bounds(seq, opts, _scales(seq), n_full)
    fixed = start.copy()
    fixed[:, P_LOG_SIGMA] = 0.0  # unused by the Poisson model
    if opts.uncued == "zero":
        fixed[:, N_FIXED] = 0.0
        start[:, N_FIXED] = 0.0
    tie, n_free = _tie_maps(seq, opts, models, n_full)
    return Layout(
        tie=tie,
        n_free=n_free,
        fixed=fixed,
        start=start,
        lo=lo,
        hi=hi,
    )


def _scales(seq: Sequences) -> dict:
    """Per-unit scales of the responses and utilities that set the starts and bounds."""
    valid = np.arange(seq.util.shape[1])[None, :] < seq.n_trial[:, None]
    obs = valid & np.isfinite(seq.resp)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = np.where(obs, seq.resp, np.nan)
        u = np.where(obs, seq.util, np.nan)
        y_mean, y_sd = np.nanmean(y, axis=1), np.nanstd(y, axis=1)
        u_all = np.where(valid, seq.util, np.nan)
        u_mean, u_sd = np.nanmean(u_all, axis=1), np.nanstd(u_all, axis=1)
        u_min, u_max = np.nanmin(u_all, axis=1), np.nanmax(u_all, axis=1)
        cov = np.nanmean((y - y_mean[:, None]) * (u - np.nanmean(u, axis=1)[:, None]), axis=1)
        slope = np.abs(cov / np.nanvar(u, axis=1))
    y_sd = np.where(np.isfinite(y_sd) & (y_sd > 0), y_sd, 1.0)
    u_sd = np.where(np.isfinite(u_sd) & (u_sd > 0), u_sd, 1.0)
    ratio = y_sd / u_sd
    return {
        "y_mean": np.nan_to_num(y_mean),
        "y_sd": y_sd,
        "u_mean": np.nan_to_num(u_mean),
        "u_min": u_min,
        "u_max": u_max,
        "ratio": ratio,
        "slope": np.where(np.isfinite(slope), np.maximum(slope, 0.05 * ratio), ratio),
        "u_range": np.nan_to_num(u_max - u_min, nan=1.0) + u_sd,
    }


def _starts_and_bounds(seq: Sequences, opts: LearningOptions, sc: dict, n_full: int) -> tuple:
    """Starting values and bounds of every full parameter, shape (unit, full parameter)."""
    n_unit = seq.n_trial.size
    start = np.zeros((n_unit, n_full))
    lo = np.zeros((n_unit, n_full))
    hi = np.zeros((n_unit, n_full))
    eta_lo, eta_hi = _logit(np.asarray(ETA_BOUNDS))
    for j in (P_ETA_POS, P_ETA_NEG):
        start[:, j], lo[:, j], hi[:, j] = _logit(0.1), eta_lo, eta_hi
    ratio, y_mean, y_sd = sc["ratio"], sc["y_mean"], sc["y_sd"]
    for j in (P_ALPHA_POS, P_ALPHA_NEG):
        start[:, j] = np.log(sc["slope"])
        lo[:, j], hi[:, j] = np.log(1e-4 * ratio), np.log(1e3 * ratio)
    start[:, P_BASELINE] = y_mean
    lo[:, P_BASELINE], hi[:, P_BASELINE] = y_mean - 100 * y_sd, y_mean + 100 * y_sd
    start[:, P_LOG_SIGMA] = np.log(y_sd)
    lo[:, P_LOG_SIGMA], hi[:, P_LOG_SIGMA] = np.log(1e-3 * y_sd), np.log(10 * y_sd)
    start[:, N_FIXED:] = _first_means(seq, opts.v0_trials, sc["u_mean"])
    u_range = sc["u_range"][:, None]
    lo[:, N_FIXED:] = np.nan_to_num(sc["u_min"], nan=0.0)[:, None] - 2 * u_range
    hi[:, N_FIXED:] = np.nan_to_num(sc["u_max"], nan=0.0)[:, None] + 2 * u_range
    return start, lo, hi


def _tie_maps(seq: Sequences, opts: LearningOptions, models, n_full: int) -> tuple:
    """Free index of every full parameter (-1 fixed) and the number of free parameters."""
    n_unit, n_ctx = seq.n_trial.size, len(seq.contexts)
    seen = seq.seen()
    tie = np.full((len(models), n_unit, n_full), -1, dtype=np.int64)
    n_free = np.zeros((len(models), n_unit), dtype=np.int64)
    for m, name in enumerate(models):
        groups = [
            (P_ETA_POS, P_ETA_NEG) if not MODEL_LEARNING[name] else (P_ETA_POS,),
            *([(P_ETA_NEG,)] if MODEL_LEARNING[name] else []),
            (P_ALPHA_POS, P_ALPHA_NEG) if not MODEL_SCALING[name] else (P_ALPHA_POS,),
            *([(P_ALPHA_NEG,)] if MODEL_SCALING[name] else []),
            (P_BASELINE,),
            *([(P_LOG_SIGMA,)] if opts.noise == "gaussian" else []),
        ]
        for i, group in enumerate(groups):
            tie[m, :, list(group)] = i
        k = len(groups)
        for u in range(n_unit):
            free_v0 = [
                c for c in range(n_ctx) if seen[u, c] and opts.v0 == "free" and seq.learn[c] == 1
            ]
            for i, c in enumerate(free_v0):
                tie[m, u, N_FIXED + c] = k + i
            n_free[m, u] = k + len(free_v0)
    return tie, n_free
