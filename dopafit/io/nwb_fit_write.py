"""Write per-unit fit results back into the source NWB files (``processing/dopafit``).

:func:`write_fit_nwb` adds to each source file a processing module ``dopafit`` holding

- ``fits``: one row per fitted unit. Its ``unit`` column is a ``DynamicTableRegion`` pointing
  at the unit's row of the file's Units table (the table the responses were read from). For a
  photometry file (no Units table) the rows point at the signal instead: ``series`` holds the HDF5
  path of the ``FiberPhotometryResponseSeries`` (or ``RoiResponseSeries``, ...) and
  ``channel`` the column of its data. (A ``TimeSeriesReferenceVectorData`` would be the
  typed pointer, but hdmf 4 cannot write object references to existing objects in append
  mode, so the path is stored as text.) Every per-unit variable of
  the fit follows (``reversal_point``, ``alpha_pos``, ``alpha_neg``, ``tau`` and their
  intervals, ``fit_status``, ...), each with the description the fit gives it.
- ``learning_fits`` (when a :func:`dopafit.fit_learning` result is given): one row per unit
  and model, with the same ``unit`` (or ``series``/``channel``) pointer and ``model`` column.
- ``fit_settings``: ``key``/``value`` rows (values as JSON) holding the fit's attrs (every
  analysis setting, the responses' extraction settings) and the dopafit version that wrote
  the module.

Safety: the file is copied to a temporary file in the same folder, the copy is modified, then
moved over the original with :func:`os.replace` (atomic on POSIX and Windows). A crash or a
``kill -9`` at any point leaves the original file unchanged (at worst a stale
``.NAME.dopafit-PID.tmp`` beside it).

pynwb and h5py are imported when a function is called, never at ``import dopafit``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit.errors import (
    ConfigError,
    DopafitError,
    FileNotFoundError_,
    NotNWBError,
    OutputExistsError,
    ResultKindError,
)

__all__ = ["write_fit_nwb", "MODULE_NAME", "FITS_TABLE", "LEARNING_TABLE", "SETTINGS_TABLE"]

#: name of the processing module dopafit writes
MODULE_NAME = "dopafit"
#: per-unit expectile fits
FITS_TABLE = "fits"
#: per-unit, per-model learning fits
LEARNING_TABLE = "learning_fits"
#: analysis settings and dopafit version
SETTINGS_TABLE = "fit_settings"
#: test hook: seconds to sleep after the copy is written and before it replaces the source
_SLEEP_ENV = "DOPAFIT_TEST_WRITE_NWB_SLEEP"
#: per-unit variables the fits table does not repeat (they are the pointer and id columns)
_SKIP = {"unit", "unit_id", "session", "subject"}


def write_fit_nwb(
    fit: xr.Dataset,
    path: str | PathLike | None = None,
    *,
    learning: xr.Dataset | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Add the per-unit results of a fit to the source NWB file(s), next to the units.

    Parameters
    ----------
    fit : xarray.Dataset
        The result of :func:`dopafit.fit_expectiles` (or the ``fit`` group of a
        ``dopafit fit`` session output), with per-unit coords ``session`` and ``unit_id``.
    path : str or path-like, optional
        The NWB file to write into. Its rows are matched to the file's Units table (or
        photometry series) by ``unit_id``. Must be given only for a fit of **one** session; a
        fit that covers several sessions is refused (select one session first, or pass
        ``path=None``). Default: the files the responses were loaded from (the fit's
        ``responses_files`` attr), each receiving the rows of its own session.
    learning : xarray.Dataset, optional
        The result of :func:`dopafit.fit_learning` on the same responses; its per-(model,
        unit) parameters go to a ``learning_fits`` table, its per-unit variables (e.g.
        ``best_model``) to the ``fits`` table as ``learning_<name>``.
    overwrite : bool, default False
        Replace an existing ``processing/dopafit`` module.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Raises
    ------
    OutputExistsError
        A file already holds a ``processing/dopafit`` module and ``overwrite`` is False.
    ResultKindError
        ``fit`` is not a per-unit fit Dataset.
    ConfigError
        ``path`` given for a fit of several sessions; no source file recorded and no
        ``path``; a unit id absent from the file.
    ``FileNotFoundError_``, NotNWBError
        A source file is missing or pynwb cannot open it.

    Examples
    --------
    >>> import shutil, dopafit, pynwb
    >>> _ = shutil.copy("data_samples/sub-sim04_ses-classical1.nwb", "ses.nwb")
    >>> fit = dopafit.fit_expectiles(dopafit.load_nwb("ses.nwb"), n_splits=10, seed=0)
    >>> dopafit.write_fit_nwb(fit, "ses.nwb")
    [PosixPath('ses.nwb')]
    >>> with pynwb.NWBHDF5IO("ses.nwb", "r") as io:
    ...     table = io.read().processing["dopafit"]["fits"].to_dataframe(index=True)
    >>> table[["unit", "unit_id", "tau"]].head(3)
        unit unit_id       tau
    id
    0      0     u00  0.61...
    1      1     u01  0.66...
    2      2     u02  0.74...
    >>> bool((table["tau"].to_numpy() == fit["tau"].values).all())
    True

    A second write is refused unless ``overwrite=True``:

    >>> dopafit.write_fit_nwb(fit, "ses.nwb")
    Traceback (most recent call last):
    ...
    dopafit.errors.OutputExistsError: ses.nwb: expected a file without a processing/dopafit module; found one from an earlier write. Fix: pass overwrite=True (--overwrite) to replace it.
    """
    _check_fit(fit)
    if learning is not None and "model" not in learning.dims:
        raise ResultKindError(
            "a learning fit (dopafit.fit_learning) with a 'model' dimension",
            found=f"dims {', '.join(map(str, learning.dims)) or 'none'}",
        )
    written = []
    for src, sessions in _targets(fit, path).items():
        rows = np.flatnonzero(np.isin(fit["session"].values.astype(str), sessions))
        part = fit.isel(unit=rows)
        learn = None
        if learning is not None:
            keep = np.isin(learning["session"].values.astype(str), sessions)
            learn = learning.isel(unit=np.flatnonzero(keep))
        written.append(_write_one(src, part, learn, overwrite))
    return written


# ----------------------------------------------------------------------------- targets
def _check_fit(fit) -> None:
    if not isinstance(fit, xr.Dataset) or "unit" not in fit.dims:
        raise ResultKindError(
            "a per-unit fit Dataset (dopafit.fit_expectiles)",
            found=type(fit).__name__
            if not isinstance(fit, xr.Dataset)
            else f"a Dataset with dims {', '.join(map(str, fit.dims))}",
        )
    missing = [c for c in ("session", "unit_id") if c not in fit.coords]
    if missing:
        raise ResultKindError(
            "a fit whose units carry 'session' and 'unit_id' coords",
            found=f"no {', '.join(missing)}",
            remedy="fit responses loaded by dopafit.load_nwb",
        )


def _per_file(fit) -> dict:
    info = fit.attrs.get("responses_per_file")
    return info if isinstance(info, dict) else {}


def _targets(fit, path) -> dict[Path, list[str]]:
    """Each file to write -> the sessions of the fit whose rows go there."""
    sessions = sorted(set(fit["session"].values.astype(str)))
    if path is not None:
        if len(sessions) > 1:
            raise ConfigError(
                "a fit of one session when path names one file",
                found=f"{len(sessions)} sessions ({', '.join(sessions[:4])}"
                + (", ..." if len(sessions) > 4 else "")
                + ")",
                remedy="pass path=None to write each session's rows into its own source file, "
                "or select one session first: fit.isel(unit=fit.session == '<id>')",
                file=path,
            )
        return {Path(path): sessions}
    files = fit.attrs.get("responses_files") or fit.attrs.get("files")
    if isinstance(files, str):
        files = [files]
    if not files and fit.attrs.get("input_file"):
        files = [fit.attrs["input_file"]]
    if not files:
        raise ConfigError(
            "the source NWB files in the fit's attrs (responses_files)",
            found="none recorded",
            remedy="pass path='<file>.nwb'",
        )
    per_file = _per_file(fit)
    out: dict[Path, list[str]] = {}
    for f in files:
        info = per_file.get(Path(f).name, {})
        session = str(info.get("session", "")) or _file_session(Path(f))
        if session in sessions:
            out[Path(f)] = [session]
    unmatched = sorted(set(sessions) - {s for v in out.values() for s in v})
    if unmatched:
        raise ConfigError(
            "a source file for every session of the fit",
            found=f"no file for sessions {', '.join(unmatched)} among {', '.join(map(str, files))}",
            remedy="pass path='<file>.nwb' for a fit of one session",
        )
    return out


def _file_session(path: Path) -> str:
    from dopafit.io.nwb import _metadata, _open

    if not path.is_file():
        raise FileNotFoundError_("an existing NWB file", found="no such file", file=path)
    with _open(path) as h5:
        return str(_metadata(h5, path)["session"])


# ----------------------------------------------------------------------------- one file
def _write_one(src: Path, fit, learning, overwrite: bool) -> Path:
    """Copy ``src``, add the module to the copy, move the copy over ``src``."""
    if not src.is_file():
        raise FileNotFoundError_(
            "an existing NWB file to write into", found="no such file", file=src
        )
    _refuse_existing(src, overwrite)
    tmp = src.with_name(f".{src.name}.dopafit-{os.getpid()}.tmp")
    try:
        try:
            shutil.copyfile(src, tmp)
            shutil.copymode(src, tmp)
        except OSError as exc:
            raise ConfigError(
                "a writable folder with room for a temporary copy of the file",
                found=f"{type(exc).__name__}: {exc.strerror or exc}",
                remedy="free space or make the folder writable; the original is unchanged",
                file=src,
            ) from None
        if overwrite:
            _delete_module(tmp)
        _append(tmp, src, fit, learning)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, src)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return src


def _refuse_existing(src: Path, overwrite: bool) -> None:
    import h5py

    try:
        with h5py.File(src, "r") as h5:
            exists = f"processing/{MODULE_NAME}" in h5
    except OSError as exc:
        raise NotNWBError(
            "an HDF5/NWB file", found=f"a file h5py cannot open ({exc})", file=src
        ) from None
    if exists and not overwrite:
        raise OutputExistsError(
            f"a file without a processing/{MODULE_NAME} module",
            found="one from an earlier write",
            remedy="pass overwrite=True (--overwrite) to replace it",
            file=src,
        )


def _delete_module(path: Path) -> None:
    import h5py

    with h5py.File(path, "a") as h5:
        if f"processing/{MODULE_NAME}" in h5:
            del h5[f"processing/{MODULE_NAME}"]


def _append(tmp: Path, src: Path, fit, learning) -> None:
    from pynwb import NWBHDF5IO

    try:
        with NWBHDF5IO(str(tmp), "a") as io:
            nwb = io.read()
            pointer = _pointer(nwb, fit, src)
            module = nwb.create_processing_module(
                name=MODULE_NAME,
                description=f"per-unit fits written by dopafit {_version()} "
                "(tables fits, fit_settings and, with learning models, learning_fits)",
            )
            module.add(_fits_table(fit, learning, pointer))
            if learning is not None and learning.sizes.get("unit", 0):
                module.add(_learning_table(learning, fit, pointer))
            module.add(_settings_table(fit, learning))
            io.write(nwb)
            delay = float(os.environ.get(_SLEEP_ENV, "0") or 0)
            if delay:  # test hook: a kill -9 while the copy is open must leave src untouched
                time.sleep(delay)
    except DopafitError:
        raise
    except Exception as exc:  # pynwb/hdmf raise many types; one line naming the file
        raise NotNWBError(
            "an NWB file pynwb can read and append to",
            found=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
            remedy="check the file with nwbinspector; the original file is unchanged",
            file=src,
        ) from None


def _version() -> str:
    from dopafit import __version__

    return __version__


# ----------------------------------------------------------------------------- row pointers
def _pointer(nwb, fit, src: Path) -> dict:
    """How each fit row points into the file: ``{"units": table, "rows": [...]}`` or
    ``{"series": [TimeSeries, ...], "channel": [...]}``."""
    ids = [str(u) for u in fit["unit_id"].values]
    photometry = str(fit.attrs.get("responses_extraction", "")).startswith("signal")
    units = None if photometry else _units_table(nwb, fit, src)
    if units is not None:
        labels = _unit_labels(units)
        missing = [u for u in ids if u not in labels]
        if missing:
            raise ConfigError(
                f"the fit's unit ids in the Units table {units.name}",
                found=f"unknown ids {', '.join(missing[:5])}; ids are {', '.join(labels[:10])}",
                remedy="write a fit of this file's units",
                file=src,
            )
        return {"units": units, "rows": [labels.index(u) for u in ids]}
    paths = [str(p) for p in _per_file(fit).get(src.name, {}).get("series", [])]
    series, channel = [], []
    for uid in ids:
        name, _, rest = uid.partition("[")
        ts = _series(nwb, name, src)
        where = [p for p in paths if p.rstrip("/").rsplit("/", 1)[-1] == name]
        series.append("/" + (where[0] if where else _container_path(ts)).strip("/"))
        channel.append(int(rest.rstrip("]")) if rest else 0)
    return {"series": series, "channel": channel}


def _container_path(obj) -> str:
    """The HDF5 path of a TimeSeries read by pynwb (acquisition/..., processing/.../...)."""
    parts = []
    while obj is not None and obj.parent is not None:
        parts.append(obj.name)
        parent = obj.parent
        if type(parent).__name__ == "NWBFile":
            section = "processing" if obj.name in parent.processing else "acquisition"
            parts.append(section)
        obj = parent
    return "/".join(reversed(parts))


def _units_table(nwb, fit, src: Path):
    from pynwb.misc import Units

    info = _per_file(fit).get(src.name, {})
    where = str(info.get("units_table") or "units").strip("/")
    tables = [o for o in nwb.objects.values() if isinstance(o, Units)]
    if not tables:
        return None
    if where == "units" and nwb.units is not None:
        return nwb.units
    named = [t for t in tables if t.name == where.rsplit("/", 1)[-1]]
    return (named or tables)[0]


def _unit_labels(units) -> list[str]:
    """The unit ids as :func:`dopafit.load_nwb` names them (unit_id/unit_name column, else id)."""
    n = len(units.id)
    for col in ("unit_id", "unit_name"):
        if col in units.colnames and len(units[col].data) == n:
            return [_str(v) for v in units[col].data[:]]
    return [str(int(i)) for i in units.id.data[:]]


def _str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _series(nwb, name: str, src: Path):
    from pynwb import TimeSeries

    found = [o for o in nwb.objects.values() if isinstance(o, TimeSeries) and o.name == name]
    if not found:
        raise ConfigError(
            f"a TimeSeries named {name!r} (the fit's unit id)",
            found="none in the file",
            remedy="write a fit of this file's photometry series",
            file=src,
        )
    return found[0]


def _add_pointer(table, pointer: dict, index: Sequence[int]) -> None:
    """The ``unit`` region (or ``series``/``channel``) column for the fit rows ``index``."""
    if "units" in pointer:
        table.add_column(
            name="unit",
            description="the row of the Units table this fit describes",
            data=[int(pointer["rows"][i]) for i in index],
            table=pointer["units"],
        )
        return
    table.add_column(
        name="series",
        description="HDF5 path of the photometry series this fit describes",
        data=[pointer["series"][i] for i in index],
    )
    table.add_column(
        name="channel",
        description="column of the series' data this fit describes (the fit's 'unit')",
        data=np.array([pointer["channel"][i] for i in index], dtype=np.int64),
    )


# ----------------------------------------------------------------------------- tables
def _column(values) -> np.ndarray | list:
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype.kind in "US":
        return [_str(v) for v in arr]
    if arr.dtype.kind == "b":
        return arr.astype(bool)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return arr.astype(np.float64)


def _describe(var, name: str) -> str:
    text = str(var.attrs.get("description") or var.attrs.get("long_name") or name)
    units = var.attrs.get("units")
    return f"{text} ({units})" if units and str(units) not in text else text


def _fits_table(fit, learning, pointer):
    from hdmf.common import DynamicTable

    n = fit.sizes["unit"]
    table = DynamicTable(
        name=FITS_TABLE,
        description=f"dopafit {_version()}: one row per fitted unit "
        f"({fit.attrs.get('analysis', 'expectile fit')}); settings in {SETTINGS_TABLE}",
        id=list(range(n)),
    )
    _add_pointer(table, pointer, range(n))
    for name in ("unit_id", "session", "subject"):
        if name in fit.coords:
            table.add_column(name=name, description=f"dopafit {name}", data=_column(fit[name]))
    per_unit = {**{k: v for k, v in fit.coords.items() if k not in fit.dims}, **fit.data_vars}
    for name, var in per_unit.items():
        if var.dims == ("unit",) and name not in _SKIP:
            table.add_column(name=name, description=_describe(var, name), data=_column(var.values))
    if learning is not None:
        aligned = _align_learning(learning, fit)
        for name, var in aligned.data_vars.items():
            if var.dims == ("unit",):
                table.add_column(
                    name=f"learning_{name}",
                    description=f"learning fit: {_describe(var, name)}",
                    data=_column(var.values),
                )
    return table


def _align_learning(learning, fit):
    """The learning fit's units in the order of ``fit`` (matched on session and unit_id)."""
    keys = list(zip(learning["session"].values.astype(str), learning["unit_id"].values.astype(str)))
    want = list(zip(fit["session"].values.astype(str), fit["unit_id"].values.astype(str)))
    missing = [k for k in want if k not in keys]
    if missing:
        raise ConfigError(
            "a learning fit of the same units as the fit",
            found=f"no learning fit for units {', '.join('/'.join(k) for k in missing[:5])}",
            remedy="fit both on the same responses",
        )
    return learning.isel(unit=[keys.index(k) for k in want])


def _learning_table(learning, fit, pointer):
    """One row per (unit, model): every (model, unit) variable of the learning fit."""
    from hdmf.common import DynamicTable

    learning = _align_learning(learning, fit)
    models = [str(m) for m in learning["model"].values]
    n_unit = learning.sizes["unit"]
    unit_index = [u for u in range(n_unit) for _ in models]
    table = DynamicTable(
        name=LEARNING_TABLE,
        description=f"dopafit {_version()}: trial-by-trial learning models, one row per unit "
        "and model (dopafit.fit_learning)",
        id=list(range(len(unit_index))),
    )
    _add_pointer(table, pointer, unit_index)
    table.add_column(
        name="unit_id",
        description="dopafit unit_id",
        data=[_str(v) for v in fit["unit_id"].values[unit_index]],
    )
    table.add_column(name="model", description="learning model", data=models * n_unit)
    for name, var in learning.data_vars.items():
        if set(var.dims) == {"model", "unit"}:
            values = var.transpose("unit", "model").values.reshape(-1)
            table.add_column(name=name, description=_describe(var, name), data=_column(values))
    return table


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _flatten(prefix: str, value, out: dict) -> None:
    """Nested dicts as dotted keys (nwbinspector flags dicts stored as text)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = value


def _settings_table(fit, learning):
    from hdmf.common import DynamicTable

    rows = {"dopafit_version": _version(), "written_by": "dopafit.write_fit_nwb"}
    for k, v in fit.attrs.items():
        _flatten(str(k), v, rows)
    if learning is not None:
        for k, v in learning.attrs.items():
            _flatten(f"learning.{k}", v, rows)
    keys = list(rows)
    table = DynamicTable(
        name=SETTINGS_TABLE,
        description="the analysis settings of the fits (the fit's attrs, nested keys joined "
        "by '.'; values as JSON) and the dopafit version that wrote them",
        id=list(range(len(keys))),
    )
    table.add_column(name="key", description="setting name", data=keys)
    table.add_column(
        name="value",
        description="setting value as JSON",
        data=[json.dumps(rows[k], sort_keys=True, default=_json_default) for k in keys],
    )
    return table
