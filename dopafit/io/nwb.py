"""Read NWB files into a responses Dataset, and describe what a file holds.

The reader goes straight to the HDF5 layout of NWB 2.x with h5py: a Units table's
``spike_times`` and ``spike_times_index`` datasets are exactly the ragged (CSR) layout of the
extraction kernels, so all spikes are read in one call (or one slice per selected unit)
without building pandas objects. Trials come from any TimeIntervals table; photometry from
``FiberPhotometryResponseSeries`` (ndx-fiber-photometry), ``RoiResponseSeries`` or any
TimeSeries. Response extraction is :mod:`dopafit.io.tables` (the same code as
:func:`dopafit.responses_from_spikes`).

Examples
--------
>>> ds = load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
>>> ds.sizes["unit"], ds.attrs["align"]
(25, 'reward_time')
>>> ds = load_nwb(  # DANDI:000006: no reward column, events relative to the trial start
...     "sub-anm369963_ses-20170228.nwb", reward=1.0, align="cue_start_time",
...     times_relative_to="start_time", select="is_good == 1", sort_spikes=True,
... )  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import fields
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import (
    ConfigError,
    DopafitError,
    FileNotFoundError_,
    MissingTableError,
    NoDataError,
    NotNWBError,
    NWBVersionError,
    missing_path,
)
from dopafit.io import tables as T
from dopafit.io.delays import trial_delays
from dopafit.io.photometry import (
    PHOTOMETRY_TYPES,
    extract_signal,
    photometry_paths,
    read_series,
    timeseries_paths,
)

__all__ = ["load_nwb", "describe_nwb", "format_description", "read_trials", "nwb_files"]

_TABLE_TYPES = ("TimeIntervals", "DynamicTable", "Units")


# ----------------------------------------------------------------------------- files
def nwb_files(paths, *, empty_ok: bool = False, remote=None) -> list:
    """Expand ``paths`` to NWB files: the one rule of ``load_nwb`` and ``dopafit fit``.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Files (kept as given), folders (searched recursively for ``*.nwb``, sorted) and glob
        patterns (``"raw/**/*.nwb"``, sorted matches).
    empty_ok : bool, default False
        Allow folders and the whole list to hold no NWB file (the batch reports that itself).
    remote : RemoteOptions or dict, optional
        How URLs (``https://…``, ``dandi://…``) are read; they are kept as
        :class:`~dopafit.io.remote.RemotePath` (see :mod:`dopafit.io.remote`).

    Returns
    -------
    list of pathlib.Path or RemotePath
        In the order given (a file given twice is there twice: ``load_nwb`` then reports
        the duplicate units).

    Raises
    ------
    FileNotFoundError_
        A path that does not exist, a pattern that matches nothing, or (unless ``empty_ok``)
        a folder without NWB files or no file at all.
    """
    import glob

    from dopafit.io.remote import RemotePath, is_remote

    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    out: list = []
    for raw in paths:
        if is_remote(raw):
            keep = isinstance(raw, RemotePath) and remote is None
            out.append(raw if keep else RemotePath(raw, remote))
            continue
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.nwb") if f.is_file())
            if not found and not empty_ok:
                raise FileNotFoundError_(
                    "a directory holding *.nwb files (searched recursively)",
                    found="none",
                    file=p,
                    remedy="pass the .nwb files themselves or convert the data first",
                )
            out.extend(found)
        elif p.is_file():
            out.append(p)
        elif glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            if not matches:
                raise FileNotFoundError_(
                    "files matching the pattern", found="no match", file=text, remedy="check it"
                )
            out.extend(m for m in matches if m.is_file())
        else:
            raise missing_path(p, "an existing NWB file, directory or glob pattern")
    if not out and not empty_ok:
        raise FileNotFoundError_("at least one NWB file", found="an empty list of paths")
    return out


def _open(path: Path):
    import h5py

    from dopafit.io.remote import RemotePath, open_remote

    if isinstance(path, RemotePath):
        handle = open_remote(path)
        try:
            h5 = h5py.File(handle, "r")
        except DopafitError:
            raise
        except OSError as exc:
            raise NotNWBError(
                "an NWB (HDF5) file",
                found=f"a remote file h5py cannot open as HDF5 ({exc})",
                remedy="check that the URL points at an .nwb file",
                file=path,
            ) from None
        return _check_version(h5, path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise NotNWBError(
            "an NWB (HDF5) file",
            found=f"a file h5py cannot open as HDF5 ({exc})",
            remedy="check that this is an .nwb file and that it was copied completely",
            file=path,
        ) from None
    return _check_version(h5, path)


def _check_version(h5, path):
    """``h5`` if it is an NWB 2.x file; else close it and raise."""
    version = h5.attrs.get("nwb_version")
    if version is None and "nwb_version" in h5:
        version = h5["nwb_version"][()]
        h5.close()
        raise NWBVersionError(
            "an NWB 2.x file",
            found=f"NWB version {_text(version)}",
            remedy="convert it to NWB 2 (e.g. with NeuroConv) and load the converted file",
            file=path,
        )
    if version is None:
        h5.close()
        raise NotNWBError(
            "an NWB file (HDF5 with an 'nwb_version' attribute)",
            found="an HDF5 file without NWB metadata",
            remedy="pass an NWB file, or read this file yourself and use "
            "dopafit.responses_from_spikes",
            file=path,
        )
    version = _text(version)
    if not version.lstrip("NWB-").startswith("2."):
        h5.close()
        raise NWBVersionError(
            "an NWB 2.x file",
            found=f"NWB version {version}",
            remedy="convert it to NWB 2.x and load the converted file",
            file=path,
        )
    return h5


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return _text(value.ravel()[0]) if value.size else ""
    return str(value)


def _attr(obj, name, default=None):
    value = obj.attrs.get(name, default)
    return _text(value) if isinstance(value, (bytes, np.bytes_)) else value


def _typed(h5, types: Sequence[str]) -> list[str]:
    """Paths of every group whose neurodata_type is in ``types`` (specifications skipped)."""
    import h5py

    found: list[str] = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and _attr(obj, "neurodata_type") in types:
            found.append(name)

    for key in h5:
        if key == "specifications":
            continue
        obj = h5[key]
        if isinstance(obj, h5py.Group):
            if _attr(obj, "neurodata_type") in types:
                found.append(key)
            obj.visititems(lambda n, o, k=key: visit(f"{k}/{n}", o))
    return found


def _metadata(h5, path: Path) -> dict:
    def read(name):
        return _text(h5[name][()]) if name in h5 else None

    session = read("general/session_id") or read("identifier") or path.stem
    subject = read("general/subject/subject_id") or "unknown"
    return {"session": session, "subject": subject, "nwb_version": _text(h5.attrs["nwb_version"])}


# ----------------------------------------------------------------------------- tables
def _column_values(group, name: str):
    """A DynamicTable column as a 1-D array or list (ragged columns as lists); None if unusable."""
    import h5py

    ds = group[name]
    if not isinstance(ds, h5py.Dataset) or (ds.dtype.kind in "OV" and ds.dtype.names):
        return None
    if h5py.check_dtype(ref=ds.dtype) is not None:
        return None
    if h5py.check_string_dtype(ds.dtype) is not None:
        values = np.asarray(ds.asstr()[()], dtype=object)
    else:
        values = ds[()]
    if values.ndim != 1:
        return None
    index = f"{name}_index"
    if index in group:
        bounds = np.concatenate([[0], group[index][()]]).astype(np.int64)
        return [values[a:b].tolist() for a, b in itertools.pairwise(bounds)]
    return values


def _table(h5, path: str, *, skip: Sequence[str] = ()) -> pd.DataFrame:
    group = h5[path]
    names = [_text(c) for c in np.atleast_1d(group.attrs.get("colnames", []))]
    data = {}
    for name in names:
        if name in skip or name not in group:
            continue
        values = _column_values(group, name)
        if values is not None:
            data[name] = values
    index = group["id"][()] if "id" in group else None
    return pd.DataFrame(data, index=pd.Index(index, name="id") if index is not None else None)


def _tables_listing(h5) -> str:
    paths = _typed(h5, _TABLE_TYPES)
    items = [f"{p} ({_attr(h5[p], 'neurodata_type')})" for p in paths]
    return "only tables " + ", ".join(items) if items else "no tables at all"


def _trials_path(h5, name: str) -> str | None:
    for cand in (name, f"intervals/{name}"):
        if cand in h5 and _attr(h5[cand], "neurodata_type") in _TABLE_TYPES:
            return cand
    for p in _typed(h5, ("TimeIntervals", "DynamicTable")):
        if p.rsplit("/", 1)[-1] == name:
            return p
    return None


def read_trials(path, trials_table: str = "trials") -> pd.DataFrame:
    """The named trials (TimeIntervals) table of an NWB file as a DataFrame.

    Raises
    ------
    MissingTableError
        Listing the tables that exist.
    """
    path = nwb_files(path)[0]
    with _open(path) as h5:
        return _read_trials(h5, trials_table, path)


def _read_trials(h5, name: str, path) -> pd.DataFrame:
    where = _trials_path(h5, name)
    if where is None:
        raise MissingTableError(
            f"a trials table {name!r} (TimeIntervals)",
            found=_tables_listing(h5),
            remedy="pass trials_table='<name>' for another table, or trials=<pandas.DataFrame> "
            "with reward and event-time columns",
            file=path,
        )
    return _table(h5, where)


# ----------------------------------------------------------------------------- units
def _units_path(h5, units: str | None, path) -> str | None:
    found = _typed(h5, ("Units",))
    if units is not None:
        if units in h5 and "spike_times" in h5[units]:
            return units
        raise MissingTableError(
            f"a Units table at {units!r}",
            found="units tables " + (", ".join(found) if found else "none"),
            remedy="pass units='<path>' with one of those, or omit units= to auto-detect",
            file=path,
        )
    found = [p for p in found if "spike_times" in h5[p]]
    if "units" in found:
        return "units"
    if len(found) > 1:
        raise ConfigError(
            "one Units table with spike times",
            found=f"{len(found)}: {', '.join(found)}",
            remedy="pass units='<path>' to choose one",
            file=path,
        )
    return found[0] if found else None


def _read_floats(dataset) -> np.ndarray:
    """A 1-D float dataset as float64, mapped from the file when it is stored plainly.

    A contiguous, unfiltered dataset (how many writers store spike times) is memory-mapped
    at its offset in the file, so that the kernels read it straight from the page cache in
    their first pass instead of after a full copy; anything else (chunked, compressed,
    external, integer) is read by h5py.
    """
    dtype = dataset.dtype
    plain = (
        dataset.ndim == 1
        and dataset.size > 0
        and dataset.chunks is None
        and dataset.compression is None
        and not dataset.external
        and dtype.kind == "f"
        and dataset.file.driver == "sec2"
    )
    offset = dataset.id.get_offset() if plain else None
    if offset is None:
        return np.asarray(dataset[()], dtype=np.float64)
    mapped = np.memmap(
        dataset.file.filename, dtype=dtype, mode="r", offset=offset, shape=(dataset.size,)
    )
    return np.asarray(mapped, dtype=np.float64)


def _read_units(h5, where: str, path, unit_ids):
    """Spike times of a Units table in CSR layout (unchecked), with ids and per-unit extras."""
    group = h5[where]
    ids = group["id"][()] if "id" in group else np.arange(group["spike_times_index"].shape[0])
    labels = [str(i) for i in ids]
    for col in ("unit_id", "unit_name"):
        if col in group and group[col].ndim == 1 and len(group[col]) == len(ids):
            labels = [str(v) for v in _column_values(group, col)]
            break
    index = np.asarray(group["spike_times_index"][()], dtype=np.int64)
    bounds = np.concatenate([[0], index])
    rows = np.arange(len(labels))
    if unit_ids is not None:
        wanted = [str(u) for u in unit_ids]
        missing = [u for u in wanted if u not in labels]
        if missing:
            raise ConfigError(
                "unit ids present in the Units table",
                found=f"unknown ids {', '.join(missing[:5])}; ids are "
                + ", ".join(labels[:10])
                + ("..." if len(labels) > 10 else ""),
                file=path,
            )
        rows = np.array([labels.index(u) for u in wanted], dtype=np.int64)
        times = group["spike_times"]
        if times.file.driver == "fileobj":  # remote: fetch only these units' slices
            parts = [np.asarray(times[bounds[r] : bounds[r + 1]], dtype=np.float64) for r in rows]
        else:  # local: one read (each slice would decompress its chunks again)
            data = _read_floats(times)
            parts = [data[bounds[r] : bounds[r + 1]] for r in rows]
        spikes, offsets = T.pack(parts)
    else:
        spikes, offsets = _read_floats(group["spike_times"]), bounds
    labels = [labels[r] for r in rows]
    extras = {}
    for name in group:
        if schema.is_truth(name) and group[name].ndim == 1:
            values = _column_values(group, name)  # text (true_discount) decoded to str
            if values is not None:
                extras[name] = np.asarray(values)[rows]
    return spikes, offsets, labels, extras


# ----------------------------------------------------------------------------- loading
def load_nwb(
    paths,
    *,
    units: str | None = None,
    unit_ids: Sequence[str] | None = None,
    photometry: str | Sequence[str] | None = None,
    trials_table: str = "trials",
    trials: pd.DataFrame | Mapping | None = None,
    reward="reward",
    reward_map: Mapping | None = None,
    reward_units: str = "ul",
    align: str = "reward_time",
    offset: float = 0.0,
    cue_time: str | None = "cue_time",
    cued: str | None = "cued",
    cue_id: str | None = "cue_id",
    trial_type: str | None = "trial_type",
    delay="delay",
    delay_units: str = "s",
    select=None,
    times_relative_to: str | None = None,
    baseline_event: str = "first",
    window: tuple[float, float] = (0.2, 0.6),
    baseline: tuple[float, float] = (-1.0, 0.0),
    faithful: bool = False,
    max_trials_per_type: int | str | None = "auto",
    psth: bool = False,
    psth_bin: float = 0.01,
    psth_range: tuple[float, float] = (-1.0, 1.0),
    sort_spikes: bool = False,
    session: str | None = None,
    subject: str | None = None,
    remote=None,
) -> xr.Dataset:
    """Load one or many NWB files as one responses Dataset (units of all files stacked).

    Parameters
    ----------
    paths : path, directory, URL or sequence of them
        NWB files (a directory stands for its ``*.nwb`` files, sorted by name);
        ``https://…`` URLs and DANDI assets ``dandi://DANDISET/VERSION/path.nwb`` are read
        with HTTP range requests (see ``remote``).
    units : str, optional
        HDF5 path of the Units table (e.g. ``"processing/ecephys/units"``); default: the
        root ``units`` table, else the only Units table in the file.
    unit_ids : sequence of str, optional
        Load only these units (ids from the table's ``unit_id``/``unit_name`` column or
        ``id``); their spike times are read slice by slice.
    photometry : str or sequence of str, optional
        TimeSeries to use instead of units (path or name); default when the file has no
        Units table: every ``FiberPhotometryResponseSeries`` and ``RoiResponseSeries``.
        Each column of a series is one ``unit``; responses are window-minus-baseline means.
    trials_table : str, default "trials"
        Name or path of the TimeIntervals table holding the trials.
    trials : pandas.DataFrame or dict {file: DataFrame}, optional
        Use this trials table instead of one from the file (e.g. photometry files without
        trials); times on the file's clock.
    reward, reward_map, reward_units, align, offset, cue_time, cued, cue_id, trial_type, \
delay, delay_units, select, times_relative_to, baseline_event, window, baseline, faithful, \
max_trials_per_type, psth, psth_bin, psth_range, sort_spikes
        Column mapping and extraction options, as in :func:`dopafit.responses_from_spikes`.
    session, subject : str, optional
        Override the identifiers read from the file (``session_id`` or ``identifier``;
        ``subject/subject_id``, "unknown" when absent).
    remote : RemoteOptions or dict, optional
        How URLs are read: ``cache_dir``, ``timeout``, ``retries``, ``dandi_api`` (see
        :class:`dopafit.RemoteOptions`). Only the tables and the spike-time slices of the
        units loaded are fetched; the result equals a local load of the same file, with the
        URL (without credentials or query) as ``source``.

    Returns
    -------
    xarray.Dataset
        A validated responses Dataset; ``attrs`` record the files, tables, columns, options
        and how many trials were dropped and why (``n_trials_dropped``, ``per_file``).

    Raises
    ------
    ``FileNotFoundError_``, NotNWBError, NWBVersionError, NoDataError, MissingTableError,
    MissingColumnError, SpikeTimesError, EventTimesError, ConfigError, RemoteError
        Each message names the file, what was expected, what was found and the fix.

    Warns
    -----
    DopafitWarning
        Trials dropped for NaN event times; units without spikes or missing a magnitude.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> dict(ds.sizes)
    {'unit': 25, 'trial': 260}
    >>> ds.attrs["align"], ds.attrs["window"], ds.attrs["response_units"]
    ('reward_time', [0.2, 0.6], 'spikes/s')

    A folder stands for its NWB files; units of all sessions are stacked (and padded):

    >>> every = dopafit.load_nwb("data_samples")
    >>> every.sizes["unit"], sorted(set(every["session"].values))
    (95, ['classical1', 'dist1', 'dist2', 'dist3'])
    """
    opts = T.ExtractionOptions.pick(locals())
    files = nwb_files(paths, remote=remote)
    if isinstance(trials, pd.DataFrame) and len(files) > 1:
        raise ConfigError(
            "one trials DataFrame per file",
            found=f"one DataFrame for {len(files)} files",
            remedy="pass trials={path: DataFrame, ...}",
        )
    blocks: list[T.Block] = []
    per_file: dict = {}
    kinds = set()
    for path in files:
        table = _trials_for(trials, path)
        new, info, kind = _load_one(path, opts, units, unit_ids, photometry, trials_table, table)
        _override_ids(new, session, subject)
        blocks.extend(new)
        per_file[path.name] = info
        kinds.add(kind)
    kind = _one_kind(kinds)
    _check_unique_units(blocks)
    attrs = _load_attrs(files, opts, trials_table, trials, blocks, per_file)
    if kind == "photometry":
        attrs["extraction"] = "signal window mean"
    ds = T.assemble(blocks, opts, attrs)
    if kind == "photometry":
        unit_names = {i["response_units"] for i in per_file.values()}
        ds.attrs["response_units"] = ", ".join(sorted(unit_names))
        ds["baseline"].attrs["units"] = ds.attrs["response_units"]
    return ds


def _override_ids(blocks: list[T.Block], session: str | None, subject: str | None) -> None:
    """Replace the session and subject read from the file where the caller gave them."""
    if session is not None:
        for b in blocks:
            b.session = str(session)
    if subject is not None:
        for b in blocks:
            b.subject = str(subject)


def _one_kind(kinds: set) -> str:
    """The one kind of the files loaded ("units" or "photometry"); a mix is an error."""
    if len(kinds) > 1:
        raise ConfigError(
            "files of one kind (all spiking units or all photometry)",
            found="a mix of both",
            remedy="load them separately",
        )
    return kinds.pop()


def _check_unique_units(blocks: Sequence[T.Block]) -> None:
    """Raise when two loaded units share a (session, unit id) pair."""
    keys = [(b.session, u) for b in blocks for u in b.unit_id]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})[:3]
        raise ConfigError(
            "unique (session, unit id) pairs across files",
            found="duplicates " + ", ".join(f"{s}/{u}" for s, u in dup),
            remedy="pass session= per file or load the files separately",
        )


def _load_attrs(files, opts, trials_table, trials, blocks, per_file: dict) -> dict:
    """The Dataset attrs of a load: files, tables, columns, selection and dropped trials."""
    dropped = {
        k: sum(i["n_trials_dropped"][k] for i in per_file.values())
        for k in next(iter(per_file.values()))["n_trials_dropped"]
    }
    return {
        "source": ", ".join(str(p) for p in files),
        "files": [str(p) for p in files],
        "trials_table": trials_table if trials is None else "<DataFrame>",
        "selection": opts.select
        if isinstance(opts.select, str)
        else (None if opts.select is None else "<mask>"),
        "columns": {k: v for k, v in blocks[0].plan.columns.items() if v is not None},
        "n_trials_dropped": dropped,
        "per_file": per_file,
    }


def _trials_for(trials, path: Path):
    if not isinstance(trials, Mapping):
        return trials
    for key in (str(path), path, path.name, path.stem):
        if key in trials:
            return trials[key]
    raise ConfigError(
        f"a trials DataFrame for {path.name} in trials={{file: DataFrame}}",
        found="keys " + ", ".join(map(str, trials)),
        remedy="key the dict by path or file name",
    )


def _load_one(path, opts, units, unit_ids, photometry, trials_table, trials_df):
    """Read one file and extract its blocks; returns (blocks, per-file info, kind)."""
    meta, plan, spiking, series = _read_file(
        path, opts, units, unit_ids, photometry, trials_table, trials_df
    )
    info = {
        "session": meta["session"],
        "subject": meta["subject"],
        "nwb_version": meta["nwb_version"],
    }
    if spiking is not None:
        info.update(units_table=spiking[0])
    info["n_trials_dropped"] = plan.dropped
    info["n_trials"] = int(plan.align.size)
    if spiking is not None:
        return [_spiking_block(path, opts, meta, plan, spiking, info)], info, "units"
    return _photometry_blocks(opts, meta, plan, series, info), info, "photometry"


def _read_file(path, opts, units, unit_ids, photometry, trials_table, trials_df) -> tuple:
    """Metadata, trial plan, and the Units table's spikes or the photometry series of a file.

    Returns ``(meta, plan, spiking, series)`` with ``spiking`` = ``(units path, spikes,
    offsets, labels, extra unit variables)`` or None when the file's series are used.
    """
    try:
        with _open(path) as h5:
            meta = _metadata(h5, path)
            upath = None if photometry is not None else _units_path(h5, units, path)
            if trials_df is None:
                trials_df = _read_trials(h5, trials_table, path)
            plan = T.plan_trials(trials_df, opts, file=path)
            if upath is not None:
                return meta, plan, (upath, *_read_units(h5, upath, path, unit_ids)), []
            return meta, plan, None, _photometry_series(h5, photometry, path)
    except DopafitError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise NotNWBError(
            "a complete, readable NWB file",
            found=f"a read error ({type(exc).__name__}: {exc})",
            remedy="the file may be truncated or corrupt; copy it again",
            file=path,
        ) from None


def _photometry_series(h5, photometry, path) -> list:
    """``(path, time, data, unit)`` of each photometry series; raise when there is none."""
    series = [(p, *read_series(h5, p, path)) for p in photometry_paths(h5, photometry, path)]
    if not series:
        raise NoDataError(
            "a Units table with spike times or a photometry series",
            found="time series "
            + (", ".join(timeseries_paths(h5)) or "none")
            + "; "
            + _tables_listing(h5),
            remedy="pass photometry='<TimeSeries path>' for a dF/F series",
            file=path,
        )
    return series


def _spiking_block(path, opts, meta: dict, plan, spiking: tuple, info: dict) -> T.Block:
    """Extract the responses of a file's spiking units; records the spike fixes in ``info``."""
    _, spikes, offsets, labels, extras = spiking
    out = T.extract_spikes(spikes, offsets, plan, opts, file=path, unit_ids=labels)
    info["spike_fixes"] = out["spike_fixes"]
    info["n_units"] = len(labels)
    return T.Block(
        out=out,
        plan=plan,
        unit_id=labels,
        session=meta["session"],
        subject=meta["subject"],
        n_spikes=out["n_spikes"],
        unit_vars=extras,
    )


def _photometry_blocks(opts, meta: dict, plan, series: list, info: dict) -> list[T.Block]:
    """One block per photometry series (one unit per column); records them in ``info``."""
    blocks = []
    unit_names = set()
    for where, t, data, unit in series:
        name = where.rsplit("/", 1)[-1]
        ids = [name] if data.shape[1] == 1 else [f"{name}[{i}]" for i in range(data.shape[1])]
        out = extract_signal(t, data, plan, opts)
        blocks.append(
            T.Block(
                out=out,
                plan=plan,
                unit_id=ids,
                session=meta["session"],
                subject=meta["subject"],
                n_spikes=np.isfinite(data).sum(0),
            )
        )
        unit_names.add(unit)
    info.update(
        series=[s[0] for s in series],
        response_units=", ".join(sorted(unit_names)),
        n_units=sum(len(b.unit_id) for b in blocks),
    )
    return blocks


# ----------------------------------------------------------------------------- describe
def describe_nwb(path, *, trials_table: str = "trials", remote=None, **mapping) -> dict:
    """What an NWB file holds and the mapping :func:`load_nwb` would use on it.

    Parameters
    ----------
    path : str or path-like
        An NWB file, an ``https://…`` URL or ``dandi://DANDISET/VERSION/path.nwb``.
    trials_table : str, default "trials"
        Trials table to check the mapping against.
    remote : RemoteOptions or dict, optional
        How a URL is read (as in :func:`load_nwb`); describing counts unsorted and NaN spike
        times, so it fetches every spike time of the Units tables.
    **mapping
        Column-mapping options as for :func:`load_nwb` (``reward=``, ``align=``, ...).

    Returns
    -------
    dict
        ``file``, ``nwb_version``, ``session``, ``subject``, ``units_tables`` (path, units,
        spikes, columns, spike-order problems), ``tables`` (path, type, rows, columns with
        dtype and first value), ``timeseries`` (path, type, shape, rate, unit) and
        ``mapping`` (what load_nwb would use, ``missing`` and ``hints``).

    Examples
    --------
    >>> import dopafit
    >>> info = dopafit.describe_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> info["session"], info["subject"], info["units_tables"][0]["n_units"]
    ('dist1', 'sim01', 25)
    >>> info["mapping"]["columns"]
    {'reward': 'reward', 'align': 'reward_time', 'cue_time': 'cue_time', 'cued': 'cued',
     'cue_id': 'cue_id', 'trial_type': 'trial_type', 'delay': None}

    A mapping that does not fit the file is reported before any loading:

    >>> info = dopafit.describe_nwb("data_samples/sub-sim01_ses-dist1.nwb", reward="volume")
    >>> info["mapping"]["missing"]
    ["reward column ('volume')"]
    """
    _check_mapping(mapping)
    path = nwb_files(path, remote=remote)[0]
    info: dict = {"file": str(path)}
    with _open(path) as h5:
        info.update(_metadata(h5, path))
        info["units_tables"] = [_describe_units(h5, p) for p in _typed(h5, ("Units",))]
        info["tables"] = [
            _describe_table(h5, p)
            for p in _typed(h5, ("TimeIntervals", "DynamicTable"))
            if not (p.startswith("general/") or "/electrodes" in p)
        ]
        info["timeseries"] = [_describe_series(h5, p) for p in timeseries_paths(h5)]
        info["mapping"] = _mapping(h5, path, trials_table, info, mapping)
    return info


def _check_mapping(mapping: Mapping) -> None:
    """Raise on a mapping option that :func:`load_nwb` does not take."""
    known = {f.name for f in fields(T.ExtractionOptions) if f.name != "extra"} | {"units"}
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise ConfigError(
            "column-mapping options of load_nwb",
            found="unknown option(s) " + ", ".join(unknown),
            remedy="use one of " + ", ".join(sorted(known)),
        )


def _describe_units(h5, p: str) -> dict:
    """Size, columns and spike-order problems of the Units table at ``p``."""
    from dopafit.kernels.extract import check_spikes

    g = h5[p]
    n = int(g["spike_times_index"].shape[0]) if "spike_times_index" in g else 0
    entry = {
        "path": p,
        "n_units": n,
        "columns": [_text(c) for c in g.attrs.get("colnames", [])],
    }
    if "spike_times" in g:
        s = _read_floats(g["spike_times"])
        off = np.concatenate([[0], g["spike_times_index"][()]]).astype(np.int64)
        n_nan, n_uns = check_spikes(s, off)
        entry.update(
            n_spikes=int(s.size),
            n_nan_spikes=int(n_nan.sum()),
            n_units_unsorted=int((n_uns > 0).sum()),
            time_range=[float(np.nanmin(s)), float(np.nanmax(s))] if s.size else None,
        )
    return entry


def _describe_table(h5, p: str) -> dict:
    """Type, rows and columns (dtype and first value) of the table at ``p``."""
    df = _table(h5, p)
    cols = []
    for c in df.columns:
        first = df[c].iloc[0] if len(df) else None
        cols.append({"name": c, "dtype": str(df[c].dtype), "first": _short(first)})
    return {
        "path": p,
        "type": _attr(h5[p], "neurodata_type"),
        "n_rows": len(df),
        "columns": cols,
    }


def _describe_series(h5, p: str) -> dict:
    """Type, shape, unit, rate and time range of the TimeSeries at ``p``."""
    g = h5[p]
    entry = {
        "path": p,
        "type": _attr(g, "neurodata_type"),
        "shape": list(g["data"].shape),
        "unit": _text(g["data"].attrs.get("unit", "")),
    }
    if "timestamps" in g and g["timestamps"].shape[0] > 1:
        ts = g["timestamps"]
        entry["rate"] = float((ts.shape[0] - 1) / (ts[-1] - ts[0])) if ts[-1] > ts[0] else None
        entry["time_range"] = [float(ts[0]), float(ts[-1])]
    elif "starting_time" in g:
        entry["rate"] = float(g["starting_time"].attrs.get("rate", np.nan))
    return entry


def _short(value):
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (int, np.integer, bool, np.bool_)):
        return value.item() if hasattr(value, "item") else value
    text = str(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _mapping(h5, path, trials_table, info, mapping) -> dict:
    """What :func:`load_nwb` would use on the file with ``mapping``: missing parts, hints."""
    out: dict = {"missing": [], "hints": []}
    _units_mapping(h5, path, info, mapping, out)
    where = _trials_path(h5, trials_table)
    out["trials_table"] = where
    if where is None:
        out["missing"].append(
            f"trials table {trials_table!r} ({_tables_listing(h5)}); pass "
            "trials_table= or trials=<DataFrame>"
        )
        return out
    df = _table(h5, where)
    out["columns"] = _column_mapping(df, path, mapping, out)
    out["hints"] += _column_hints(df, out["columns"]) + _time_hints(df)
    out["n_trials"] = len(df)
    return out


def _units_mapping(h5, path, info: dict, mapping: Mapping, out: dict) -> None:
    """Record the Units table (or photometry series) load_nwb would use, with hints."""
    try:
        out["units"] = _units_path(h5, mapping.get("units"), path)
    except (ConfigError, MissingTableError) as exc:
        out["units"] = None
        out["missing"].append(str(exc))
    if out["units"] is None:
        out["photometry"] = _typed(h5, PHOTOMETRY_TYPES)
        if not out["photometry"]:
            out["missing"].append("no Units table and no photometry series: pass photometry=")
    else:
        entry = next(u for u in info["units_tables"] if u["path"] == out["units"])
        if entry.get("n_units_unsorted") or entry.get("n_nan_spikes"):
            out["hints"].append(
                f"{entry['n_units_unsorted']} unit(s) with unsorted and "
                f"{entry['n_nan_spikes']} NaN spike time(s): pass sort_spikes=True"
            )


def _column_mapping(df: pd.DataFrame, path, mapping: Mapping, out: dict) -> dict:
    """The trials column load_nwb would use per role; records missing required ones."""
    opts = T.ExtractionOptions(**{k: v for k, v in mapping.items() if k != "units"})
    cols = {}
    for role, option in (
        ("reward", opts.reward),
        ("align", opts.align),
        ("cue_time", opts.cue_time),
        ("cued", opts.cued),
        ("cue_id", opts.cue_id),
        ("trial_type", opts.trial_type),
    ):
        name = (
            T._column(df, option, role, path, required=False) if isinstance(option, str) else option
        )
        cols[role] = name if isinstance(name, (str, type(None))) else repr(name)
        if name is None and role in ("reward", "align"):
            out["missing"].append(f"{role} column ({option!r})")
    try:
        cols["delay"] = trial_delays(df, opts.delay, file=path)[1]
    except DopafitError as exc:
        cols["delay"] = None
        out["missing"].append(f"delay: {exc.expected}; {exc.found}")
    return cols


def _column_hints(df: pd.DataFrame, cols: dict) -> list[str]:
    """How to name the reward and alignment columns when they were not found."""
    hints = []
    if cols["reward"] is None:
        text = [c for c in df.columns if df[c].dtype == object]
        hints.append(
            "no reward column: pass reward='<column>' (numeric), reward=<number>, or "
            "reward='<text column>' with reward_map={...}"
            + (f"; text columns: {', '.join(text)}" if text else "")
        )
    if cols["align"] is None:
        times = [
            c for c in df.columns if c.endswith("_time") and c not in ("start_time", "stop_time")
        ]
        hints.append(
            "no reward-time column: pass align='<column>' (event-time columns: "
            + (", ".join(times) or "none")
            + "), or align='start_time' with offset=<s>"
        )
    return hints


def _time_hints(df: pd.DataFrame) -> list[str]:
    """Hints on event times stored relative to the trial start, and on an empty stop_time."""
    hints: list[str] = []
    if "start_time" not in df.columns or not len(df):
        return hints
    start = pd.to_numeric(df["start_time"], errors="coerce").to_numpy(dtype=float)
    rel = []
    for c in df.columns:
        if c in ("start_time", "stop_time") or df[c].dtype.kind != "f":
            continue
        v = df[c].to_numpy(dtype=float)
        if c.endswith("time") and np.isfinite(v).any() and np.nanmax(v) < np.nanmin(start):
            rel.append(c)
    if rel:
        hints.append(
            f"event columns {', '.join(rel)} look relative to the trial start (all before "
            "the first start_time): pass times_relative_to='start_time'"
        )
    if "stop_time" in df.columns and df["stop_time"].isna().all():
        hints.append("stop_time is all NaN (not used by dopafit)")
    return hints


def format_description(info: dict) -> str:
    """Human-readable text of :func:`describe_nwb`'s dict (what ``dopafit inspect`` prints)."""
    lines = [
        f"{info['file']}  (NWB {info['nwb_version']})",
        f"  session: {info['session']}   subject: {info['subject']}",
    ]
    lines.append("Units tables:" if info["units_tables"] else "Units tables: none")
    for u in info["units_tables"]:
        extra = ""
        if "n_spikes" in u:
            extra = f", {u['n_spikes']} spikes"
            if u.get("time_range"):
                extra += f" in [{u['time_range'][0]:.3f}, {u['time_range'][1]:.3f}] s"
            if u.get("n_units_unsorted") or u.get("n_nan_spikes"):
                extra += f"; {u['n_units_unsorted']} unit(s) unsorted, {u['n_nan_spikes']} NaN"
        lines.append(
            f"  {u['path']}: {u['n_units']} units{extra}; columns {', '.join(u['columns'])}"
        )
    lines.append("Tables:" if info["tables"] else "Tables: none")
    for t in info["tables"]:
        lines.append(f"  {t['path']} ({t['type']}, {t['n_rows']} rows)")
        for c in t["columns"]:
            lines.append(f"    {c['name']:<24} {c['dtype']:<10} first={c['first']!r}")
    lines.append("Time series:" if info["timeseries"] else "Time series: none")
    for s in info["timeseries"]:
        rate = f", {s['rate']:.4g} Hz" if s.get("rate") else ""
        lines.append(
            f"  {s['path']} ({s['type']}): shape {tuple(s['shape'])}{rate}, unit {s['unit']!r}"
        )
    m = info["mapping"]
    lines.append("load_nwb would use:")
    if m.get("units"):
        lines.append(f"  units: {m['units']}")
    elif m.get("photometry"):
        lines.append(f"  photometry: {', '.join(m['photometry'])}")
    lines.append(f"  trials table: {m.get('trials_table')}")
    for role, name in (m.get("columns") or {}).items():
        lines.append(
            f"    {role:<11} -> {name if name is not None else 'MISSING' if role in ('reward', 'align') else '(not used)'}"
        )
    for miss in m["missing"]:
        lines.append(f"  missing: {miss}")
    for hint in m["hints"]:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)
