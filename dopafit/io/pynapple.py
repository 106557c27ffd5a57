"""pynapple objects → responses Dataset (the optional ``pynapple`` extra).

:func:`responses_from_pynapple` turns what a pynapple analysis holds into the responses
Dataset, through the same engines as the other loaders: a ``TsGroup`` (or one ``Ts``) of spike
trains goes through :func:`dopafit.responses_from_spikes`, a ``Tsd`` or ``TsdFrame`` (dF/F,
ROI traces) through :func:`dopafit.responses_from_signal`. The trials are an ``IntervalSet``
whose metadata columns hold the reward and event times (or a pandas DataFrame).

Conversions
-----------
- ``IntervalSet`` → trials table: its metadata columns, with ``start``/``end`` also
  available as ``start_time``/``stop_time`` (the NWB names), one row per interval in time
  order.
- ``TsGroup`` → spike trains: one unit per key; the unit id is the ``unit_id`` (or
  ``unit_name``) metadata column when there is one, else the key. Ground-truth columns
  (``true_*``, see :data:`dopafit.schema.TRUTH_VARS`) become per-unit variables as with
  :func:`dopafit.load_nwb`; every other metadata column (``rate``, ``depth``, ``location``,
  ...) becomes a per-unit coordinate (renamed ``pynapple_<name>`` if dopafit already uses
  the name).
- ``Tsd``/``TsdFrame`` → a sampled signal: one unit per column (ids: the column labels); a
  ``TsdFrame``'s metadata become per-unit coordinates.

pynapple itself drops an ``IntervalSet``'s metadata when its intervals are unsorted or
overlap, and drops intervals with a NaN end (``pynapple.load_file`` does so with the trials of
DANDI:000006, whose ``stop_time`` is all NaN): pass such trials as a DataFrame instead (for a
file opened with ``pynapple.load_file``, ``nwb.nwb.trials.to_dataframe()``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError, MissingColumnError

__all__ = ["responses_from_pynapple", "trials_frame"]

_ID_COLUMNS = ("unit_id", "unit_name")


def _pynapple():
    try:
        import pynapple
    except ImportError:
        raise ConfigError(
            "pynapple installed (the optional 'pynapple' extra)",
            found="no module named 'pynapple'",
            remedy="pip install 'dopafit[pynapple]'",
        ) from None
    return pynapple


def trials_frame(trials) -> pd.DataFrame:
    """The trials as a DataFrame: an ``IntervalSet``'s metadata with ``start``, ``end``,
    ``start_time`` and ``stop_time`` columns; a DataFrame is returned as it is.

    Raises
    ------
    ConfigError
        ``trials`` is neither an ``IntervalSet`` nor a DataFrame.
    """
    if isinstance(trials, pd.DataFrame):
        return trials
    nap = _pynapple()
    if not isinstance(trials, nap.IntervalSet):
        raise ConfigError(
            "trials as a pynapple IntervalSet (reward and event times in its metadata) or a "
            "pandas DataFrame",
            found=type(trials).__name__,
        )
    frame = trials.as_dataframe().reset_index(drop=True)
    for name, column in (("start_time", "start"), ("stop_time", "end")):
        if name not in frame.columns:
            frame[name] = frame[column]
    return frame


def _unit_coordinates(metadata: pd.DataFrame, skip) -> tuple[dict, dict]:
    """Per-unit ``(coordinates, truth variables)`` from a metadata table (one row per unit)."""
    taken = set(schema.UNIT_COORDS) | set(schema.UNIT_TRIAL_COORDS) | {schema.RESPONSE}
    taken |= {"n_spikes", "unit_flags", "baseline", "window_count", "baseline_count"}
    taken |= {"trial_type", "cue_id", "trial_index", schema.UNIT, schema.TRIAL}
    coords, truth = {}, {}
    for name in metadata.columns:
        if name in skip:
            continue
        values = metadata[name].to_numpy()
        if values.dtype == object:
            values = np.asarray([str(v) for v in values], dtype=object)
        if schema.is_truth(str(name)):
            truth[str(name)] = values
        else:
            key = f"pynapple_{name}" if str(name) in taken else str(name)
            coords[key] = values
    return coords, truth


def _spike_trains(units, nap) -> tuple[list, list, dict, dict]:
    """Spike trains, unit ids, per-unit coordinates and truth variables of a TsGroup/Ts."""
    if isinstance(units, nap.Ts):
        return [np.asarray(units.t, dtype=np.float64)], ["0"], {}, {}
    keys = list(units.keys())
    metadata = units.metadata
    id_column = next((c for c in _ID_COLUMNS if c in metadata.columns), None)
    ids = [str(v) for v in (metadata[id_column] if id_column else keys)]
    trains = [np.asarray(units[k].t, dtype=np.float64) for k in keys]
    coords, truth = _unit_coordinates(metadata.loc[keys], skip={id_column})
    return trains, ids, coords, truth


def _signal(series, nap) -> tuple[np.ndarray, np.ndarray, list, dict]:
    """Timestamps, data (n_sample, n_channel), channel ids and per-channel coordinates."""
    t = np.asarray(series.t, dtype=np.float64)
    data = np.asarray(series.values, dtype=np.float64)
    if isinstance(series, nap.TsdFrame):
        ids = [str(c) for c in series.columns]
        metadata = getattr(series, "metadata", None)
        coords = {} if metadata is None else _unit_coordinates(metadata, skip=())[0]
        return t, data, ids, coords
    if data.ndim == 1:
        return t, data[:, None], ["0"], {}
    data = data.reshape(data.shape[0], -1)  # TsdTensor: one unit per element
    return t, data, [str(i) for i in range(data.shape[1])], {}


def responses_from_pynapple(
    units,
    trials,
    *,
    session: str = "session",
    subject: str = "subject",
    response_units: str | None = None,
    source: str = "in-memory",
    **options,
) -> xr.Dataset:
    """Per-trial responses of pynapple spike trains or signals, on a pynapple trials table.

    A ``TsGroup`` (or one ``Ts``) of spike times is extracted exactly as by
    :func:`dopafit.responses_from_spikes`; a ``Tsd``/``TsdFrame`` (dF/F, ROI traces) exactly
    as by :func:`dopafit.responses_from_signal`: same column mapping, windows and baseline,
    same numbers. The metadata columns of the ``IntervalSet`` are the trials columns
    (``reward``, ``reward_time``, ``cue_time``, ... and ``start_time``/``stop_time``); the
    TsGroup's metadata become per-unit coordinates (see :mod:`dopafit.io.pynapple`).

    Parameters
    ----------
    units : pynapple.TsGroup, Ts, Tsd, TsdFrame or TsdTensor
        Spike trains (one unit per key of a TsGroup) or a sampled signal (one unit per
        column), in seconds on the trials' clock.
    trials : pynapple.IntervalSet or pandas.DataFrame
        One interval (row) per trial; its metadata hold the reward and event times.
    session, subject : str
        Identifiers of the units.
    response_units : str, optional
        Units of the responses: default "spikes/s" for spike trains, "a.u." for a signal.
    source : str, default "in-memory"
        Provenance (e.g. the file the objects were loaded from), named in errors.
    **options
        Column mapping and windows, as in :func:`dopafit.responses_from_spikes` (``reward``,
        ``reward_map``, ``align``, ``cue_time``, ``select``, ``window``, ``baseline``, ...).

    Returns
    -------
    xarray.Dataset
        A validated responses Dataset, equal to the one the matching
        :func:`~dopafit.responses_from_spikes` or :func:`~dopafit.responses_from_signal`
        call gives, with the metadata as per-unit coordinates and ``attrs['input']`` naming
        the pynapple types.

    Raises
    ------
    ConfigError
        pynapple is not installed, or ``units``/``trials`` are of another type.
    MissingColumnError
        A column the mapping needs is not in the trials (the message says when pynapple
        dropped the IntervalSet's metadata).

    Examples
    --------
    >>> import numpy as np
    >>> import pynapple as nap
    >>> import dopafit
    >>> trials = nap.IntervalSet(start=[1.0, 5.0], end=[3.0, 7.0],
    ...                          metadata={"reward": [1.0, 5.0], "reward_time": [2.0, 6.0]})
    >>> units = nap.TsGroup({7: nap.Ts(np.array([1.5, 2.3, 2.4, 6.25]))},
    ...                     metadata={"location": ["VTA"]})
    >>> ds = dopafit.responses_from_pynapple(units, trials)
    >>> ds["response"].values.round(2).tolist(), ds["unit_id"].values.tolist()
    ([[4.0, 2.5]], ['7'])
    >>> ds["location"].values.tolist()
    ['VTA']
    """
    nap = _pynapple()
    frame = trials_frame(trials)
    common = {"session": session, "subject": subject, "source": source}
    try:
        if isinstance(units, (nap.Tsd, nap.TsdFrame, nap.TsdTensor)):
            t, data, ids, coords = _signal(units, nap)
            ds = _signal_responses(t, data, frame, ids, response_units, common, options)
            truth = {}
        elif isinstance(units, (nap.TsGroup, nap.Ts)):
            trains, ids, coords, truth = _spike_trains(units, nap)
            ds = _spike_responses(trains, frame, ids, truth, response_units, common, options)
        else:
            raise ConfigError(
                "units as a pynapple TsGroup or Ts (spike times) or a Tsd, TsdFrame or "
                "TsdTensor (a sampled signal)",
                found=type(units).__name__,
                remedy="pass nwb['units'] or a signal from pynapple.load_file",
            )
    except MissingColumnError as exc:
        raise _metadata_hint(exc, trials, nap) from None
    ds = ds.assign_coords({name: (schema.UNIT, values) for name, values in coords.items()})
    kind = type(trials).__name__
    ds.attrs["input"] = f"pynapple {type(units).__name__} with {kind} trials"
    return ds


def _spike_responses(trains, frame, ids, truth, response_units, common, options):
    from dopafit.io.tables import responses_from_spikes

    ds = responses_from_spikes(trains, frame, unit_ids=ids, unit_vars=truth, **common, **options)
    if response_units is not None:
        ds.attrs["response_units"] = response_units
        ds["baseline"].attrs["units"] = response_units
    return ds


def _signal_responses(t, data, frame, ids, response_units, common, options):
    from dopafit.io.photometry import responses_from_signal

    return responses_from_signal(
        t,
        data,
        frame,
        channel_ids=ids,
        response_units=response_units or "a.u.",
        **common,
        **options,
    )


def _metadata_hint(exc: MissingColumnError, trials, nap) -> MissingColumnError:
    """The error, with the reason when the IntervalSet has no metadata (pynapple dropped it)."""
    if not isinstance(trials, nap.IntervalSet) or len(trials.metadata_columns):
        return exc
    return MissingColumnError(
        exc.expected,
        found=f"{exc.found}: the IntervalSet has no metadata (pynapple drops it when "
        "intervals are unsorted or overlap, and drops intervals with a NaN end)",
        remedy="pass the trials as a pandas DataFrame instead, e.g. "
        "nwb.nwb.trials.to_dataframe() for a file opened with pynapple.load_file",
        file=exc.file,
    )
