"""Sampled signals (fibre photometry dF/F, ROI traces) → responses Dataset.

Each column of a signal is one ``unit``; the response of a trial is the mean of the samples
in ``window`` after the aligned event minus the mean in ``baseline`` before the baseline
event (a sample at ``t`` is in ``[start, stop)`` when ``start <= t < stop``). NWB series
are read from ``FiberPhotometryResponseSeries`` (ndx-fiber-photometry), ``RoiResponseSeries``
or any TimeSeries, honouring ``timestamps`` or ``starting_time`` + ``rate`` and the data's
``conversion``/``offset``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from dopafit.errors import ConfigError, EventTimesError, MissingTableError, NoDataError
from dopafit.io import tables as T

__all__ = [
    "responses_from_signal",
    "signal_window_means",
    "extract_signal",
    "read_series",
    "photometry_paths",
    "timeseries_paths",
    "PHOTOMETRY_TYPES",
]

PHOTOMETRY_TYPES = ("FiberPhotometryResponseSeries", "RoiResponseSeries")


def signal_window_means(timestamps, data, starts, stops) -> np.ndarray:
    """Mean of each column of ``data`` over samples with ``start <= t < stop`` (NaN-aware).

    Parameters
    ----------
    timestamps : ndarray, shape (n_sample,)
        Sorted sample times (s).
    data : ndarray, shape (n_sample, n_channel)
    starts, stops : ndarray, shape (n_win,)

    Returns
    -------
    ndarray, shape (n_channel, n_win)
        NaN where a window holds no finite sample.
    """
    data = np.asarray(data, dtype=np.float64)
    finite = np.isfinite(data)
    csum = np.vstack([np.zeros((1, data.shape[1])), np.cumsum(np.where(finite, data, 0), 0)])
    ccnt = np.vstack([np.zeros((1, data.shape[1])), np.cumsum(finite, 0)])
    lo = np.searchsorted(timestamps, starts, side="left")
    hi = np.searchsorted(timestamps, stops, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (csum[hi] - csum[lo]) / (ccnt[hi] - ccnt[lo])
    return means.T


def extract_signal(timestamps, data, plan: T.TrialPlan, opts: T.ExtractionOptions) -> dict:
    """Window-minus-baseline means of a sampled signal for one session (see below)."""
    if opts.faithful:
        raise ConfigError(
            "faithful=False for sampled signals (the faithful mode smooths spikes)",
            found="faithful=True",
        )
    w0, w1 = opts.window
    b0, b1 = opts.baseline
    win = signal_window_means(timestamps, data, plan.align + w0, plan.align + w1)
    base = signal_window_means(timestamps, data, plan.anchor + b0, plan.anchor + b1)
    n_win = np.diff(
        np.searchsorted(timestamps, np.stack([plan.align + w0, plan.align + w1])), axis=0
    )
    n_base = np.diff(
        np.searchsorted(timestamps, np.stack([plan.anchor + b0, plan.anchor + b1])), axis=0
    )
    out = {
        "response": win - base,
        "baseline": base,
        "window_count": np.repeat(n_win.astype(float), data.shape[1], axis=0),
        "baseline_count": np.repeat(n_base.astype(float), data.shape[1], axis=0),
    }
    if opts.psth:
        p0, p1 = opts.psth_range
        n_bins = round((p1 - p0) / opts.psth_bin)
        t0 = plan.align[:, None] + p0 + np.arange(n_bins)[None, :] * opts.psth_bin
        means = signal_window_means(timestamps, data, t0.ravel(), t0.ravel() + opts.psth_bin)
        cube = means.reshape(data.shape[1], plan.align.size, n_bins) - base[:, :, None]
        out["psth"] = cube.astype(np.float32)
        out["time"] = p0 + (np.arange(n_bins) + 0.5) * opts.psth_bin
    return out


def responses_from_signal(
    timestamps: np.ndarray,
    data: np.ndarray,
    trials: pd.DataFrame,
    *,
    channel_ids: Sequence[str] | None = None,
    response_units: str = "a.u.",
    session: str = "session",
    subject: str = "subject",
    source: str = "in-memory",
    **options,
) -> xr.Dataset:
    """Per-trial responses of a sampled signal (photometry dF/F, ROI traces).

    Each column of ``data`` is one ``unit``. Response = mean of the samples in ``window``
    after the aligned event minus the mean in ``baseline`` before the baseline event (a
    sample at time ``t`` belongs to ``[start, stop)`` when ``start <= t < stop``).

    Parameters
    ----------
    timestamps : ndarray, shape (n_sample,)
        Sample times (s), increasing.
    data : ndarray, shape (n_sample,) or (n_sample, n_channel)
        Signal values; NaN samples are ignored.
    trials : pandas.DataFrame
        Trials table (column mapping as in :func:`responses_from_spikes`).
    channel_ids : sequence of str, optional
        Unit ids of the columns (default "0", "1", ...).
    response_units : str, default "a.u."
        Units of the signal (attrs ``response_units``).
    session, subject, source : str
        Identifiers and provenance.
    **options
        Column mapping and windows, as in :func:`responses_from_spikes` (not ``faithful``).

    Returns
    -------
    xarray.Dataset
        Validated responses Dataset; ``window_count``/``baseline_count`` hold sample counts.

    Examples
    --------
    A 20 Hz trace that rises by a tenth of the reward 0.1-0.7 s after each reward:

    >>> import numpy as np, pandas as pd
    >>> import dopafit
    >>> t = np.arange(0.0, 20.0, 0.05)
    >>> trials = pd.DataFrame({"reward": [1.0, 2.0, 4.0, 8.0],
    ...                        "reward_time": [2.0, 7.0, 12.0, 17.0]})
    >>> after = t[:, None] - trials["reward_time"].to_numpy()  # time since each reward
    >>> dff = ((after > 0.1) & (after < 0.7)) @ (0.1 * trials["reward"].to_numpy())
    >>> ds = dopafit.responses_from_signal(t, dff, trials, response_units="dF/F")
    >>> ds["response"].values.round(3).tolist()
    [[0.1, 0.2, 0.4, 0.8]]
    """
    timestamps = np.asarray(timestamps, dtype=np.float64).ravel()
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[0] != timestamps.size:
        raise ConfigError(
            f"one row of data per timestamp ({timestamps.size})", found=f"shape {data.shape}"
        )
    if np.any(np.diff(timestamps) < 0) or not np.isfinite(timestamps).all():
        raise EventTimesError(
            "increasing, finite sample timestamps",
            found="decreasing or NaN timestamps",
            file=None if source == "in-memory" else source,
        )
    opts = T.ExtractionOptions(**options)
    plan = T.plan_trials(trials, opts, file=None if source == "in-memory" else source)
    ids = list(channel_ids) if channel_ids is not None else [str(i) for i in range(data.shape[1])]
    block = T.Block(
        out=extract_signal(timestamps, data, plan, opts),
        plan=plan,
        unit_id=ids,
        session=str(session),
        subject=str(subject),
        n_spikes=np.isfinite(data).sum(0),
    )
    attrs = {
        "source": source,
        "columns": {k: v for k, v in plan.columns.items() if v is not None},
        "n_trials_dropped": plan.dropped,
        "extraction": "signal window mean",
    }
    ds = T.assemble([block], opts, attrs)
    ds.attrs["response_units"] = response_units
    ds["baseline"].attrs["units"] = response_units
    return ds


def read_series(h5, path_in_file: str, path):
    """(timestamps, data (n, k), unit) of a TimeSeries group, honouring rate/conversion."""
    g = h5[path_in_file]
    if "data" not in g:
        raise NoDataError(
            f"a TimeSeries with data at {path_in_file!r}",
            found="a group without data",
            file=path,
        )
    d = g["data"]
    data = np.asarray(d[()], dtype=np.float64)
    data = data * float(d.attrs.get("conversion", 1.0)) + float(d.attrs.get("offset", 0.0))
    if data.ndim == 1:
        data = data[:, None]
    elif data.ndim > 2:
        data = data.reshape(data.shape[0], -1)
    if "timestamps" in g:
        t = np.asarray(g["timestamps"][()], dtype=np.float64)
    else:
        st = g["starting_time"]
        rate = float(st.attrs["rate"])
        t = float(st[()]) + np.arange(data.shape[0]) / rate
    return t, data, _nwb()._text(d.attrs.get("unit", "a.u."))


def photometry_paths(h5, photometry, path) -> list[str]:
    if photometry is None:
        return _nwb()._typed(h5, PHOTOMETRY_TYPES)
    names = [photometry] if isinstance(photometry, str) else list(photometry)
    out = []
    for name in names:
        if name in h5 and "data" in h5[name]:
            out.append(name)
            continue
        cands = [p for p in timeseries_paths(h5) if p.rsplit("/", 1)[-1] == name]
        if len(cands) != 1:
            raise MissingTableError(
                f"a TimeSeries {name!r}",
                found="time series " + (", ".join(timeseries_paths(h5)) or "none"),
                remedy="pass photometry='<path>' with one of those",
                file=path,
            )
        out.append(cands[0])
    return out


def timeseries_paths(h5) -> list[str]:
    import h5py

    found = []

    def visit(name, obj):
        if (
            isinstance(obj, h5py.Group)
            and "data" in obj
            and ("timestamps" in obj or "starting_time" in obj)
        ):
            found.append(name)

    for key in ("acquisition", "processing", "stimulus"):
        if key in h5:
            h5[key].visititems(lambda n, o, k=key: visit(f"{k}/{n}", o))
    return found


def _nwb():
    from dopafit.io import nwb

    return nwb
