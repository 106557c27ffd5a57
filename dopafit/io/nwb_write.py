"""Write a :class:`dopafit.session.Session` as an NWB file, reproducibly and atomically.

The file holds the ``Subject``, a ``units`` table (spike times plus every column of
``session.units``, e.g. simulated ground truth ``true_tau``) and a ``trials`` table with the
columns of :data:`dopafit.session.TRIAL_COLUMNS`. ``session.attrs`` are stored as JSON in the
file's ``notes``.

Reproducibility: writing the same Session twice gives byte-identical files. Everything
pynwb would otherwise make up at write time is fixed: the ``identifier`` is
``<session_id>-<first 16 hex digits of a SHA-256 of the content>``, ``file_create_date`` is
``session.attrs['file_create_date']`` (ISO 8601) or else the session start, and the object
ids of all NWB objects (random UUID4 by default) are derived from the identifier. h5py
does not store object modification times by default, so nothing else varies.

pynwb and h5py are imported when a function is called, never at ``import dopafit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime
from os import PathLike
from pathlib import Path

import numpy as np

from dopafit import schema
from dopafit.errors import ConfigError, OutputExistsError, SpikeTimesError
from dopafit.session import TRIAL_COLUMNS, Session

__all__ = ["write_nwb", "session_identifier", "library_versions"]

#: Descriptions of known unit columns (others get a generic one).
UNIT_COLUMN_DESCRIPTIONS = {
    "unit_id": "unit name",
    "kind": "simulated population kind (classical, distributional, bias, sigmoid)",
    **schema.TRUTH_DESCRIPTIONS,
    "rate_clip_fraction": "fraction of reward windows whose simulated rate was clipped at 0",
}


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, datetime):
        return obj.isoformat()
    return repr(obj)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that determine the bytes of a written file."""
    from importlib.metadata import version

    import h5py

    out = {name: version(name) for name in ("dopafit", "numpy", "pynwb", "hdmf", "h5py")}
    out["hdf5"] = h5py.version.hdf5_version
    return out


def _check(session: Session) -> None:
    if not isinstance(session, Session):
        raise ConfigError("a dopafit.session.Session", found=f"{type(session).__name__}")
    if len(session.units) != len(session.spike_times):
        raise ConfigError(
            "one units row per spike train",
            found=f"{len(session.units)} rows, {len(session.spike_times)} spike trains",
        )
    for i, st in enumerate(session.spike_times):
        st = np.asarray(st, dtype=np.float64)
        if st.ndim != 1 or not np.all(np.isfinite(st)) or np.any(np.diff(st) < 0):
            raise SpikeTimesError(
                "sorted, finite spike times (s) per unit",
                found=f"unusable spike times for unit {i}",
                remedy="sort the spike times and drop NaN",
            )
    missing = [c for c in TRIAL_COLUMNS if c not in session.trials.columns]
    if missing:
        raise ConfigError(
            f"a trials table with columns {list(TRIAL_COLUMNS)}", found=f"missing {missing}"
        )
    if session.start_time.tzinfo is None:
        raise ConfigError("a timezone-aware session start_time", found="a naive datetime")


def session_identifier(session: Session) -> str:
    """Deterministic NWB identifier: ``<session_id>-<16 hex digits of a content hash>``."""
    h = hashlib.sha256()
    h.update(str(session.session_id).encode())
    h.update(str(session.subject_id).encode())
    h.update(session.start_time.isoformat().encode())
    h.update(str(session.description).encode())
    for st in session.spike_times:
        h.update(np.ascontiguousarray(st, dtype=np.float64).tobytes())
        h.update(b"|")
    h.update(session.trials.to_csv(index=False, float_format="%.17g").encode())
    h.update(session.units.to_csv(index=False, float_format="%.17g").encode())
    h.update(json.dumps(session.attrs, sort_keys=True, default=_json_default).encode())
    return f"{session.session_id}-{h.hexdigest()[:16]}"


def _column_values(values) -> tuple[np.ndarray | list, str]:
    """Values of a table column in a form hdmf writes (strings as str list)."""
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype.kind in "US":
        return [str(v) for v in values], "text"
    if arr.dtype.kind == "b":
        return arr.astype(bool), "bool"
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64), "int"
    return arr.astype(np.float64), "float"


def _build(session: Session, identifier: str):
    """The in-memory NWBFile of a session: metadata, then units, then trials."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    attrs = session.attrs
    created = attrs.get("file_create_date")
    created = datetime.fromisoformat(created) if created else session.start_time
    subject_meta = {k: str(v) for k, v in dict(attrs.get("subject") or {}).items()}
    nwb = NWBFile(
        session_description=session.description,
        identifier=identifier,
        session_start_time=session.start_time,
        file_create_date=[created],
        session_id=str(session.session_id),
        notes=json.dumps(attrs, sort_keys=True, default=_json_default),
        subject=Subject(subject_id=str(session.subject_id), **subject_meta),
        **_file_metadata(attrs),
    )
    _add_units(nwb, session)
    _add_trials(nwb, session)
    return nwb


def _file_metadata(attrs: dict) -> dict:
    """The optional NWBFile fields (experimenter, lab, ...) given in the session's attrs."""
    meta = {}
    for key in ("experimenter", "institution", "lab", "experiment_description", "keywords"):
        if attrs.get(key):
            value = attrs[key]
            meta[key] = list(value) if key in ("experimenter", "keywords") else str(value)
    if attrs.get("related_publications"):
        meta["related_publications"] = list(attrs["related_publications"])
    return meta


def _add_units(nwb, session: Session) -> None:
    """Add the Units table: one row per unit with its spike times and annotations."""
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb.misc import Units

    attrs = session.attrs
    resolution = attrs.get("clock")
    units = Units(
        name="units",
        description="units with spike times (s, session clock) and per-unit annotations",
        resolution=1.0 / float(resolution) if resolution else None,
    )
    nwb.units = units
    columns = {}
    descriptions = {**UNIT_COLUMN_DESCRIPTIONS, **dict(attrs.get("unit_column_descriptions", {}))}
    for name in session.units.columns:
        values, _ = _column_values(session.units[name].to_numpy())
        columns[name] = values
        units.add_column(name=name, description=descriptions.get(name, f"unit annotation {name}"))
    _fill_units(units, session.spike_times, columns)
    units.spike_times.set_data_io(
        H5DataIO, {"compression": "gzip", "compression_opts": 6, "shuffle": True}
    )


def _add_trials(nwb, session: Session) -> None:
    """Add the trials table with a description of every column."""
    attrs = session.attrs
    reward_units = attrs.get("reward_units")
    trial_desc = {**TRIAL_COLUMNS, **dict(attrs.get("trial_column_descriptions", {}))}
    if reward_units and "trial_column_descriptions" not in attrs:
        trial_desc["reward"] = f"reward magnitude (unit: {reward_units}); 0 = reward omitted"
    trials = session.trials
    extra = [c for c in trials.columns if c not in ("start_time", "stop_time")]
    for name in extra:
        nwb.add_trial_column(name=name, description=trial_desc.get(name, f"trial {name}"))
    table = nwb.trials
    for name in trials.columns:
        _set_column(table[name], _column_values(trials[name].to_numpy())[0])
    _set_column(table.id, list(range(len(trials))))


def _set_column(column, values) -> None:
    """Give an empty table column all its values at once.

    Row by row (``add_row``, ``add_unit``) hdmf would store the same values one element at a
    time and convert each one again when writing; the file written is the same.
    """
    column.transform(lambda _: values)


def _index_dtype(n_max: int):
    """The unsigned type hdmf's VectorIndex grows to for an index up to ``n_max`` (uint8 first)."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if n_max <= np.iinfo(dtype).max:
            return dtype
    raise ValueError(f"{n_max} spike times do not fit a uint64 index")


def _fill_units(units, spike_times, columns: dict) -> None:
    """Spike times (ragged), ids and annotation columns of the Units table, column by column."""
    arrays = [np.asarray(st, dtype=np.float64) for st in spike_times]
    ends = np.cumsum([a.size for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0)
    units.add_column(
        name="spike_times", description="the spike times for each unit in seconds", index=True
    )
    _set_column(units["spike_times"].target, flat)
    _set_column(units["spike_times"], ends.astype(_index_dtype(int(ends[-1]) if ends.size else 0)))
    for name, values in columns.items():
        _set_column(units[name], values)
    _set_column(units.id, list(range(len(arrays))))


def _fix_object_ids(nwb, identifier: str) -> None:
    """Replace the random UUID4 object ids by ids derived from the identifier."""
    for i, obj in enumerate(nwb.all_children()):
        digest = hashlib.sha256(f"{identifier}/{i}".encode()).digest()[:16]
        new = str(uuid.UUID(bytes=digest, version=4))
        obj._AbstractContainer__object_id = new  # no public setter in hdmf
        if obj.object_id != new:  # pragma: no cover - guards an hdmf change
            raise RuntimeError("cannot set NWB object ids; files would not be reproducible")


def write_nwb(session: Session, path: str | PathLike, *, overwrite: bool = False) -> Path:
    """Write a session to an NWB file (byte-identical for identical sessions).

    Parameters
    ----------
    session : dopafit.session.Session
        Spike trains, trials and units. Optional ``session.attrs`` keys used: ``subject``
        (dict of NWB Subject fields, e.g. species, sex, age, description), ``experimenter``,
        ``institution``, ``lab``, ``experiment_description``, ``keywords``,
        ``related_publications``, ``reward_units`` (named in the ``reward`` column
        description), ``clock`` (Hz; ``1/clock`` is ``Units.resolution``),
        ``unit_column_descriptions`` and ``trial_column_descriptions`` (dicts),
        ``file_create_date`` (ISO 8601). All attrs are stored as JSON in ``notes``.
    path : str or path-like
        Destination ``.nwb`` file. Written to a temporary file in the same folder and then
        renamed, so an interrupted write leaves no partial file.
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    SpikeTimesError, ConfigError
        Unsorted or non-finite spike times; a missing trials column; a naive start time.

    Examples
    --------
    >>> import dopafit
    >>> session = dopafit.simulate_session(n_units=3, n_trials=40, seed=0)
    >>> print(dopafit.write_nwb(session, "sim.nwb"))
    sim.nwb
    >>> ds = dopafit.load_nwb("sim.nwb")
    >>> dict(ds.sizes), ds["true_tau"].values.round(2).tolist()
    ({'unit': 3, 'trial': 40}, [0.66, 0.05, 0.59])
    """
    path = Path(path)
    _check(session)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            "a path that does not exist yet",
            found="an existing file",
            file=path,
            remedy="pass overwrite=True (--overwrite) or choose another path",
        )
    from pynwb import NWBHDF5IO

    identifier = session_identifier(session)
    nwb = _build(session, identifier)
    _fix_object_ids(nwb, identifier)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix or '.nwb'}")
    try:
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def write_nwb_status(session: Session, path: str | PathLike, *, overwrite: bool = False) -> str:
    """Write a session unless ``path`` already holds the same bytes; say what happened.

    Writing is deterministic (:func:`write_nwb`), so a rerun of a conversion or a simulation
    can compare the new file with the existing one: an identical file is left alone
    (``"unchanged"``), a different one is replaced only with ``overwrite``.

    Parameters
    ----------
    session : dopafit.session.Session
        As in :func:`write_nwb`.
    path : str or path-like
        Destination ``.nwb`` file.
    overwrite : bool, default False
        Replace an existing file whose bytes differ.

    Returns
    -------
    str
        ``"written"`` (new file), ``"unchanged"`` (identical file kept) or ``"replaced"``.

    Raises
    ------
    OutputExistsError
        ``path`` holds a different file and ``overwrite`` is False.

    Examples
    --------
    >>> import dopafit
    >>> from dopafit.io.nwb_write import write_nwb_status
    >>> session = dopafit.simulate_session(n_units=2, n_trials=20, seed=0)
    >>> write_nwb_status(session, "s.nwb"), write_nwb_status(session, "s.nwb")
    ('written', 'unchanged')
    """
    import filecmp

    path = Path(path)
    if not path.exists():
        write_nwb(session, path)
        return "written"
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.new{path.suffix or '.nwb'}")
    try:
        write_nwb(session, tmp, overwrite=True)
        if filecmp.cmp(tmp, path, shallow=False):
            return "unchanged"
        if not overwrite:
            raise OutputExistsError(
                "an output path that does not exist (or holds the same file)",
                found="an existing, different file",
                file=path,
                remedy="pass --overwrite (overwrite=True) to replace it, or choose another "
                "output folder",
            )
        os.replace(tmp, path)
        return "replaced"
    finally:
        tmp.unlink(missing_ok=True)
