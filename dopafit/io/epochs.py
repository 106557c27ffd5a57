"""Trial-aligned arrays (unit × trial × time) → responses Dataset.

Photometry or voltammetry exported per trial (a MATLAB matrix, a GUI's peri-event export)
holds, for each unit and trial, samples on one time axis relative to the aligned event.
:func:`responses_from_epochs` computes the same response as the signal path
(:func:`dopafit.responses_from_signal`), with the same code: the mean of the samples in
``window`` after the aligned event minus the mean of those in ``baseline`` around the
baseline event, a sample at ``t`` belonging to ``[start, stop)`` when ``start <= t < stop``.
Unlike a continuous signal, an epoch ends: a window or baseline that reaches past the time axis
is an error, not a mean over fewer samples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from dopafit.errors import ConfigError, EventTimesError
from dopafit.io import tables as T
from dopafit.io.photometry import extract_signal

__all__ = ["responses_from_epochs"]

_BASELINE_EVENTS = ("first", "align")


def _data(data) -> np.ndarray:
    array = np.asarray(data, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or 0 in array.shape:
        raise ConfigError(
            "data as an array (unit, trial, time), or (trial, time) for one unit",
            found=f"shape {np.shape(data)}",
        )
    return array


def _times(times, n_time: int, file) -> tuple[np.ndarray, float]:
    """The time axis and its sampling step (s)."""
    t = np.asarray(times, dtype=np.float64).ravel()
    if t.size != n_time:
        raise ConfigError(
            f"one time per sample of the last axis of data ({n_time})",
            found=f"{t.size} times",
            file=file,
        )
    if t.size < 2 or not np.isfinite(t).all() or np.any(np.diff(t) <= 0):
        raise EventTimesError(
            "at least 2 finite, increasing sample times (s, relative to the aligned event)",
            found=f"{t.size} time(s)"
            + ("" if t.size < 2 else ", not increasing or with NaN")
            + f" from {t[0]:g} to {t[-1]:g}",
            file=file,
        )
    return t, float(np.median(np.diff(t)))


def _per_trial(name: str, value, n_trial: int, file, dtype=None):
    if value is None:
        return None
    array = np.asarray(value, dtype=dtype)
    if array.ndim == 0 and name == "reward":
        return np.full(n_trial, value)
    if array.shape != (n_trial,):
        raise ConfigError(
            f"{name} with one value per trial ({n_trial})",
            found=f"shape {array.shape}",
            remedy=f"pass {name} as a 1-D array of length {n_trial}",
            file=file,
        )
    return array


def _check_cover(t, step, opts, anchors, file) -> None:
    """Raise unless the time axis covers the window, every kept trial's baseline and the
    psth range: no sample the window would hold, were the epoch longer, may be missing
    (a window may start up to one step before the first sample and end one step after the
    last)."""
    lo, hi = t[0] - step, t[-1] + step
    tol = 1e-9 * max(1.0, abs(lo), abs(hi))
    w0, w1 = opts.window
    b0, b1 = opts.baseline
    spans = [("window", w0, w1)]
    spans.append(("baseline", float(np.min(anchors)) + b0, float(np.max(anchors)) + b1))
    if opts.psth:
        spans.append(("psth_range", *opts.psth_range))
    for name, start, stop in spans:
        if start <= lo + tol or stop > hi + tol:
            cue = name == "baseline" and start < b0
            raise EventTimesError(
                f"epochs whose time axis covers the {name} [{start:g}, {stop:g}) s"
                + (" (before the earliest cue)" if cue else ""),
                found=f"samples from {t[0]:g} s to {t[-1]:g} s (step {step:g} s)",
                remedy=f"pass a {name} within ({lo:g}, {hi:g}] s, or export longer epochs",
                file=file,
            )


def _extract(t, data, idx, anchors, opts) -> dict:
    """:func:`~dopafit.io.photometry.extract_signal` over the kept trials, one call per
    baseline anchor: each (unit, trial) epoch is one channel on the shared time axis."""
    n_unit, n_keep = data.shape[0], idx.size
    out: dict = {}
    for anchor in np.unique(anchors):
        cols = np.nonzero(anchors == anchor)[0]
        channels = data[:, idx[cols], :].reshape(n_unit * cols.size, -1).T
        one = T.TrialPlan(
            reward=np.zeros(1),
            align=np.zeros(1),
            anchor=np.array([anchor]),
            cued=np.zeros(1, bool),
            trial_type=np.zeros(1),
            cue_id=np.zeros(1),
            row=np.zeros(1, np.int64),
            columns={},
            dropped={},
        )
        part = extract_signal(t, channels, one, opts)
        for name, value in part.items():
            if name == "time":
                out[name] = value
                continue
            shape = (n_unit, n_keep, *value.shape[2:])
            full = out.setdefault(name, np.full(shape, np.nan, dtype=value.dtype))
            full[:, cols] = value.reshape(n_unit, cols.size, *value.shape[2:])
    return out


def responses_from_epochs(
    data,
    times,
    reward,
    *,
    cued=None,
    cue_time=None,
    event_time=None,
    delay=None,
    delay_units: str = "s",
    select=None,
    reward_map: Mapping | None = None,
    window: tuple[float, float] = (0.2, 0.6),
    baseline: tuple[float, float] = (-1.0, 0.0),
    baseline_event: str = "first",
    psth: bool = False,
    psth_bin: float = 0.01,
    psth_range: tuple[float, float] = (-1.0, 1.0),
    unit_ids: Sequence[str] | None = None,
    session: str = "session",
    subject: str = "subject",
    align: str = "reward",
    response_units: str = "a.u.",
    reward_units: str = "ul",
    source: str = "in-memory",
) -> xr.Dataset:
    """Per-trial responses of trial-aligned arrays (unit × trial × time), as for a signal.

    Response of unit ``u`` on trial ``j`` = mean of ``data[u, j]`` over the samples with
    ``window[0] <= times < window[1]`` minus the mean over ``baseline`` around the baseline
    event (NaN samples ignored): the computation of :func:`dopafit.responses_from_signal`,
    by the same code, on a time axis relative to the aligned event.

    Parameters
    ----------
    data : array, shape (n_unit, n_trial, n_time), or (n_trial, n_time) for one unit
        Samples of each unit and trial (NaN: missing sample).
    times : array, shape (n_time,)
        Sample times (s) relative to the aligned event (time 0), increasing.
    reward : array, shape (n_trial,), or a number
        Reward magnitude of each trial (NaN: not a reward trial, dropped); text or coded
        values with ``reward_map``.
    cued : array of bool, shape (n_trial,), optional
        Whether a cue predicted the reward (default: ``cue_time`` is finite).
    cue_time : array, shape (n_trial,), optional
        Cue onset relative to the aligned event (s, negative; NaN on uncued trials).
    event_time : array, shape (n_trial,), optional
        Session time of each trial's aligned event (s): recorded, and orders the trials.
    delay : array, shape (n_trial,), optional
        Cue-to-reward delay of each trial (NaN: none known): the coordinate
        ``delay(unit, trial)``.
    delay_units : str, default "s"
        Units of ``delay`` (attrs ``delay_units``).
    select : array of bool, shape (n_trial,), optional
        Trials to keep.
    reward_map : dict, optional
        Maps text or coded reward values to magnitudes.
    window, baseline : (float, float)
        Response window after the aligned event and baseline window around the baseline
        event (s); both must lie inside the time axis.
    baseline_event : {"first", "align"}, default "first"
        Baseline before the trial's first event (the cue on cued trials) or before the
        aligned event.
    psth : bool, default False
        Also return ``psth(unit, trial, time)``, baseline-subtracted means in bins of
        ``psth_bin`` s over ``psth_range`` (as for a signal).
    psth_bin, psth_range : float, (float, float)
        Bin width and range (s) of ``psth``.
    unit_ids : sequence of str, optional
        Unit ids (default "0", "1", ...).
    session, subject : str
        Identifiers of the units.
    align : str, default "reward"
        Name of the event at time 0 (attrs ``align``).
    response_units, reward_units : str
        Units of the samples and of the reward (attrs).
    source : str, default "in-memory"
        Provenance (e.g. the exported file), named in errors.

    Returns
    -------
    xarray.Dataset
        A validated responses Dataset; ``window_count``/``baseline_count`` hold the numbers
        of samples in each window, ``trial_index`` the trial's index in ``data``.

    Raises
    ------
    EventTimesError
        The time axis does not cover the window, the baseline (around each kept trial's
        baseline event) or ``psth_range``; times not increasing.
    ConfigError
        Arrays of the wrong shape, non-numeric rewards without ``reward_map``, an unknown
        ``baseline_event``.

    Examples
    --------
    Two units, three trials, sampled at 20 Hz from 1 s before to 2 s after the reward; the
    signal steps up by a tenth of the reward 0.1 s after it:

    >>> import numpy as np
    >>> import dopafit
    >>> times = np.arange(-1.0, 2.0, 0.05) + 0.025      # sample centres
    >>> reward = np.array([1.0, 2.0, 4.0])
    >>> step = (times > 0.1) * 0.1 * reward[:, None]     # (trial, time)
    >>> data = np.stack([step, 2 * step])                # (unit, trial, time)
    >>> ds = dopafit.responses_from_epochs(data, times, reward, response_units="dF/F")
    >>> ds["response"].values.round(3).tolist()
    [[0.1, 0.2, 0.4], [0.2, 0.4, 0.8]]

    A window beyond the exported epochs is refused:

    >>> dopafit.responses_from_epochs(data, times, reward, window=(0.5, 2.5))
    Traceback (most recent call last):
    ...
    dopafit.errors.EventTimesError: expected epochs whose time axis covers the window [0.5,
    2.5) s; found samples from -0.975 s to 1.975 s (step 0.05 s). Fix: pass a window within
    (-1.025, 2.025] s, or export longer epochs.
    """
    file = None if source == "in-memory" else source
    data = _data(data)
    n_unit, n_trial, n_time = data.shape
    t, step = _times(times, n_time, file)
    if baseline_event not in _BASELINE_EVENTS:
        raise ConfigError(
            f"baseline_event one of {', '.join(_BASELINE_EVENTS)}",
            found=repr(baseline_event),
            remedy="give the cue onsets as cue_time= for a baseline before the cue",
            file=file,
        )
    ids = [str(i) for i in range(n_unit)] if unit_ids is None else [str(u) for u in unit_ids]
    if len(ids) != n_unit:
        raise ConfigError(f"{n_unit} unit ids", found=f"{len(ids)}", file=file)
    trials, order = _trials(reward, cued, cue_time, event_time, select, n_trial, file, delay)
    opts = T.ExtractionOptions(
        reward="reward",
        reward_map=reward_map,
        reward_units=reward_units,
        align="reward_time",
        cue_time="cue_time",
        cued="cued" if cued is not None else None,
        cue_id=None,
        trial_type=None,
        delay="delay" if delay is not None else None,
        delay_units=delay_units,
        select="select",
        baseline_event=baseline_event,
        window=window,
        baseline=baseline,
        max_trials_per_type=None,
        psth=psth,
        psth_bin=psth_bin,
        psth_range=psth_range,
    )
    plan = T.plan_trials(trials, opts, file=file)
    _check_cover(t, step, opts, plan.anchor, file)
    idx = order[plan.row]  # the kept trials, as indices of data's trial axis
    out = _extract(t, data, idx, plan.anchor, opts)
    times_abs = trials["event_time"].to_numpy()[plan.row]
    block = T.Block(
        out=out,
        plan=dataclasses.replace(plan, align=times_abs, row=idx.astype(np.int64)),
        unit_id=ids,
        session=str(session),
        subject=str(subject),
        n_spikes=np.isfinite(data).sum(axis=(1, 2)),
    )
    attrs = {
        "source": source,
        "align": align,
        "n_trials_dropped": plan.dropped,
        "extraction": "epoch window mean",
        "epoch_times": [float(t[0]), float(t[-1]), step],
    }
    ds = T.assemble([block], opts, attrs)
    ds.attrs.pop("columns", None)
    ds.attrs["response_units"] = response_units
    ds["baseline"].attrs["units"] = response_units
    return ds


def _trials(reward, cued, cue_time, event_time, select, n_trial, file, delay=None):
    """The per-trial inputs as a trials table on the relative clock (aligned event at 0),
    in chronological order of ``event_time``; and that order."""
    event = _per_trial("event_time", event_time, n_trial, file, np.float64)
    order = np.arange(n_trial)
    if event is not None:
        order = np.argsort(np.where(np.isnan(event), np.inf, event), kind="stable")
    columns = {
        "reward": _per_trial("reward", reward, n_trial, file),
        "reward_time": np.zeros(n_trial),
        "cue_time": _per_trial("cue_time", cue_time, n_trial, file, np.float64),
        "cued": _per_trial("cued", cued, n_trial, file, bool),
        "select": _per_trial("select", select, n_trial, file, bool),
        "event_time": event,
        "delay": _per_trial("delay", delay, n_trial, file),
    }
    fills = {
        "cue_time": np.nan,
        "select": True,
        "event_time": np.nan,
        "cued": False,
        "delay": np.nan,
    }
    frame = {}
    for name, values in columns.items():
        if values is None:
            values = np.full(n_trial, fills[name])
        frame[name] = np.asarray(values)[order]
    return pd.DataFrame(frame), order
