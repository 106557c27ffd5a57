"""Fit many sessions: one machine or a dask cluster, resumable, atomic outputs.

The unit of work is one input file (a session). For each, :func:`fit_session` loads the
responses with :func:`dopafit.load_nwb`, fits them with :func:`dopafit.fit_expectiles` and writes
``OUTDIR/sessions/<name>.nc`` holding two netCDF groups, ``responses`` and ``fit``. The file is
written to a temporary name and renamed, so an interrupted run never leaves a file that looks
complete. Each output records the SHA-256 of its input file and of the settings; a rerun skips
sessions whose output matches both.

After all sessions, :func:`combine` pools the responses of every successful session into one
population (the utility axis and the split-half statistics are population quantities) and writes
``OUTDIR/population.nc`` (groups ``responses`` and ``fit``) and the tidy per-unit table
``OUTDIR/units.csv``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dopafit._notes import note_kind, session_notes
from dopafit._version import __version__
from dopafit.errors import ConfigError, DopafitError, FileNotFoundError_
from dopafit.outputs import (
    LEARNING_GROUP,
    LEARNING_RECOVERY_GROUP,
    POPULATION_FILE,
    SESSION_GLOB,
    SESSIONS_DIR,
    UNITS_FILE,
    session_file,
)

if TYPE_CHECKING:
    from dopafit.fit.options import FitOptions

__all__ = [
    "BatchSettings",
    "SessionResult",
    "find_inputs",
    "fit_session",
    "run_batch",
    "combine",
    "atomic_path",
]

#: units of the model recovery written with a population's learning fit (default)
LEARNING_RECOVERY_UNITS = 100


@dataclass
class BatchSettings:
    """Everything that determines a session's output (hashed for resumability).

    Parameters
    ----------
    load : dict
        Keyword arguments of :func:`dopafit.load_nwb` (window, baseline, align, columns, ...).
    fit : FitOptions or dict
        Options of :func:`dopafit.fit_expectiles` (axis, method, n_splits, seed, ...); a dict
        is turned into the validated :class:`~dopafit.fit.options.FitOptions` when the
        settings are made.
    learning : dict
        Options of :func:`dopafit.fit_learning` (:class:`~dopafit.fit.learning_options.
        LearningOptions`; ``model`` among them); empty: no learning models. Checked when the
        settings are made.
    learning_recovery : int, default 100
        With learning models, the population output also holds a model recovery
        (:func:`dopafit.learning_recovery`) on at most this many units (evenly spaced over
        the fitted ones; 0: none).
    table : dict
        Keyword arguments of :func:`dopafit.responses_from_table` (the column mapping
        ``unit``, ``reward``, ``response``, ...) for inputs that are tables (``.csv``,
        ``.tsv``, ``.parquet``); NWB inputs use ``load``.
    discounting : dict or None, default None
        Options of :func:`dopafit.fit_discounting` (a ``[discounting]`` table; ``{}`` for the
        defaults). Given, each session is loaded aligned to the cue (unless ``load`` names
        ``align``) and fitted by the discounting model instead of the expectile fit; the
        outputs hold the group ``discounting`` (see :mod:`dopafit.batch_discounting`).

    Raises
    ------
    ConfigError
        An unknown key (naming the closest valid one) or an invalid value of any table.
    """

    load: dict = field(default_factory=dict)
    fit: FitOptions = field(default_factory=lambda: _fit_options({}))
    learning: dict = field(default_factory=dict)
    learning_recovery: int = LEARNING_RECOVERY_UNITS
    table: dict = field(default_factory=dict)
    discounting: dict | None = None

    def __post_init__(self):
        self.check()

    def check(self, *, file=None) -> BatchSettings:
        """Raise :class:`ConfigError` for an unknown key (naming the closest valid one) or a
        bad value of any table, before any work; returns the settings (``fit`` given as a
        mapping becomes a :class:`~dopafit.fit.options.FitOptions`)."""
        from dopafit.io.longtable import responses_from_table
        from dopafit.io.nwb import load_nwb

        _check_keys("load", self.load, load_nwb, ("paths",), file)
        if self.load.get("remote") is not None:
            from dopafit.io.remote import RemoteOptions

            try:
                RemoteOptions.make(self.load["remote"])
            except ConfigError as exc:
                raise ConfigError(
                    f"[load] remote: {exc.expected}", found=exc.found, remedy=exc.remedy, file=file
                ) from None
        _check_keys("table", self.table, responses_from_table, ("table",), file)
        self.fit = _fit_options(self.fit, file=file)
        if self.learning:
            self.learning_options(file=file)
        if self.discounting is not None:
            from dopafit.batch_discounting import check_discounting

            self.discounting = check_discounting(self.discounting, self.learning, file=file)
        n = self.learning_recovery
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError("learning_recovery as an integer >= 0", found=repr(n), file=file)
        return self

    def learning_options(self, *, file=None):
        """The validated :class:`~dopafit.fit.learning_options.LearningOptions`, or None."""
        if not self.learning:
            return None
        from dopafit.fit.learning_options import LearningOptions

        return LearningOptions.from_dict(self.learning, file=file)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the basis of :attr:`sha256`; ``fit`` holds the
        options that differ from the defaults (:meth:`FitOptions.changed
        <dopafit.fit.options.FitOptions.changed>`)."""
        record = {
            "load": self.load,
            "fit": self.fit.changed(),
            "learning": self.learning,
            "learning_recovery": self.learning_recovery,
        }
        if self.table:  # only then: the hash of settings without tables is unchanged
            record["table"] = self.table
        if self.discounting is not None:  # likewise
            from dopafit.batch_discounting import discount_options

            record["discounting"] = discount_options(self.discounting).changed()
        return json.dumps(record, sort_keys=True, default=_jsonable)

    @property
    def sha256(self) -> str:
        """Hash of the settings and the dopafit version."""
        text = f"{self.to_json()}|dopafit {__version__}"
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> BatchSettings:
        """Read ``[load]``, ``[fit]``, ``[learning]``, ``[table]`` and ``[discounting]``
        tables from a TOML file (a ``[discounting]`` table, even empty, asks for the
        discounting fit: :attr:`discounting`).

        ``[table]`` holds the column mapping of table inputs (:attr:`table`); ``[fit]`` holds
        options of :func:`dopafit.fit_expectiles`
        (:class:`~dopafit.fit.options.FitOptions`); ``[learning]`` options of
        :func:`dopafit.fit_learning` (``model = "all"``, ...) and ``recovery_units`` (see
        :attr:`learning_recovery`).
        """
        try:
            import tomllib
        except ModuleNotFoundError:  # Python < 3.11
            import tomli as tomllib
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError_(
                "an existing TOML config file", found="no such file", file=path
            )
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                "a valid TOML file", found=str(exc), file=path, remedy="fix the syntax"
            ) from None
        unknown = sorted(set(data) - {"load", "fit", "learning", "table", "discounting"})
        if unknown:
            raise ConfigError(
                "only the tables [load], [fit], [learning], [table] and [discounting]",
                found=f"table(s) {', '.join(unknown)}",
                file=path,
                remedy="move those options under [load], [fit], [learning], [table] or "
                "[discounting]",
            )
        learning = dict(data.get("learning", {}))
        recovery = learning.pop("recovery_units", LEARNING_RECOVERY_UNITS)
        settings = cls.__new__(cls)
        settings.load = dict(data.get("load", {}))
        settings.fit = dict(data.get("fit", {}))
        settings.learning = learning
        settings.learning_recovery = recovery
        settings.table = dict(data.get("table", {}))
        settings.discounting = dict(data["discounting"]) if "discounting" in data else None
        return settings.check(file=path)


def _fit_options(values, *, file=None) -> FitOptions:
    """The validated ``[fit]`` options from a mapping or a :class:`FitOptions`; errors name
    the table."""
    from dopafit.fit.options import FitOptions

    if isinstance(values, FitOptions):
        return values
    try:
        return FitOptions.from_dict(values)
    except ConfigError as exc:
        raise ConfigError(
            f"[fit] {exc.expected}", found=exc.found, remedy=exc.remedy, file=file
        ) from None


def _check_keys(table: str, values: dict, function, positional, file) -> None:
    """Every key of a settings table must be a keyword of ``function``."""
    import inspect

    from dopafit.errors import unknown_name

    valid = [n for n in inspect.signature(function).parameters if n not in positional]
    for key in values:
        if key not in valid:
            raise unknown_name(key, valid, f"[{table}] options", file=file)


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


@dataclass
class SessionResult:
    """Outcome of one session: ``status`` is ``"done"``, ``"skipped"`` or ``"failed"``;
    ``warnings``: the distinct texts of the :class:`~dopafit.errors.DopafitWarning` raised
    while it was fitted (in whichever process) that ask the user to do something, for the
    caller to show; ``notes``: the expected conditions (:class:`~dopafit.errors.DopafitNote`
    and units with edge reversal points) as ``"kind: text"`` strings, also recorded in the
    output's ``fit`` attrs ``notes`` (read back for a skipped session), for the caller to
    count (:func:`dopafit._notes.count_notes`)."""

    path: str
    output: str | None
    status: str
    reason: str = ""
    seconds: float = 0.0
    n_units: int = 0
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def find_inputs(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand files, directories (recursively ``*.nwb``) and glob patterns.

    The rule of :func:`dopafit.io.nwb.nwb_files` (the same folder gives the same sessions to
    ``load_nwb`` and ``dopafit fit``); an empty folder is not an error here.

    Parameters
    ----------
    paths : iterable of str or path-like

    Returns
    -------
    list of pathlib.Path
        Unique, sorted by path. A path that matches nothing raises.

    Raises
    ------
    FileNotFoundError_
        For a path or pattern that matches nothing.
    """
    from dopafit.io.nwb import nwb_files
    from dopafit.io.remote import is_remote

    found = nwb_files(list(paths), empty_ok=True)
    unique = {p if is_remote(p) else p.resolve(): p for p in found}  # URLs kept as given
    return [unique[k] for k in sorted(unique, key=str)]


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def output_name(path: Path, taken: set[str] | None = None) -> str:
    """Output file name for an input: its stem, made unique within a batch."""
    name = path.stem
    if taken is not None:
        base, k = name, 1
        while name in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name)
    return session_file(name)


class atomic_path:
    """Context manager giving a temporary path that replaces ``target`` on success only.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text()
    'complete'
    """

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)
        self.tmp = self.target.with_name(f".{self.target.name}.tmp-{os.getpid()}")

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


def _read_stamp(path: Path, keys=("input_sha256", "settings_sha256")) -> dict | None:
    """The provenance attrs ``keys`` of an existing output, or None if unreadable."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            group = next((g for g in ("fit", "discounting") if g in handle), None)
            attrs = handle[group].attrs if group else handle.attrs
            return {key: _text(attrs.get(key)) for key in keys}
    except (OSError, KeyError):
        return None


def _text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return None if value is None else str(value)


def _local_writes():
    """Write netCDF without cluster-wide locks (inside a dask worker xarray would otherwise
    take a distributed lock per variable: a round trip to the scheduler each time; the data
    are in memory and each output file belongs to one task)."""
    import sys
    from contextlib import nullcontext

    if "dask" not in sys.modules:
        return nullcontext()
    import dask

    return dask.config.set(scheduler="synchronous")


class numba_threads_set:
    """Context manager running numba kernels with ``n`` threads (None: leave as is)."""

    def __init__(self, n: int | None):
        self.n = n
        self.previous: int | None = None

    def __enter__(self):
        if self.n is not None:
            import numba

            self.previous = numba.get_num_threads()
            numba.set_num_threads(max(1, min(self.n, numba.config.NUMBA_NUM_THREADS)))
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            import numba

            numba.set_num_threads(self.previous)


def fit_session(
    path: str | os.PathLike,
    output: str | os.PathLike,
    settings: BatchSettings,
    *,
    overwrite: bool = False,
    numba_threads: int | None = None,
) -> SessionResult:
    """Load, fit and write one session; never raises for bad input (returns ``failed``).

    Parameters
    ----------
    path : str or path-like
        Input NWB file.
    output : str or path-like
        Output netCDF path (groups ``responses`` and ``fit``).
    settings : BatchSettings
        Load and fit options.
    overwrite : bool, default False
        Redo even if a matching output exists.
    numba_threads : int, optional
        Threads for numba kernels in this call (results do not depend on it).

    Returns
    -------
    SessionResult
        dopafit's warnings are collected in ``warnings`` (not printed, so that a worker
        process shows none) and its notes of expected conditions in ``notes`` (also written
        to the output); other warnings are shown as usual.
    """
    import warnings

    from dopafit.errors import DopafitWarning

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DopafitWarning)
        result = _fit_session(path, output, settings, overwrite, numba_threads, notes)
    for w in caught:
        if issubclass(w.category, DopafitWarning):
            text = " ".join(str(w.message).split())
            if text not in result.warnings and not note_kind(w.message):
                result.warnings.append(text)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    result.notes = notes
    return result


def _fit_session(path, output, settings: BatchSettings, overwrite, numba_threads, notes):
    """The work of :func:`fit_session`; appends the session's notes to ``notes``."""
    import warnings

    from dopafit import schema
    from dopafit.errors import DopafitWarning

    start = time.perf_counter()
    from dopafit.io.remote import fingerprint, is_remote

    path, output = (path if is_remote(path) else Path(path)), Path(output)
    try:  # a URL's identity (size, ETag) stands for its bytes: nothing is downloaded
        input_hash = (
            fingerprint(path, settings.load.get("remote")) if is_remote(path) else file_sha256(path)
        )
        if output.exists() and not overwrite:
            stamp = _read_stamp(output, ("input_sha256", "settings_sha256", "notes"))
            recorded = stamp.pop("notes", None) if stamp else None
            if stamp == {"input_sha256": input_hash, "settings_sha256": settings.sha256}:
                notes.extend(json.loads(recorded) if recorded else [])
                return SessionResult(str(path), str(output), "skipped", "up to date")
        from dopafit.fit.expectile import fit_with_options

        with warnings.catch_warnings(record=True) as caught:
            # every session's notes, even from the code location of the previous session's
            warnings.simplefilter("always", DopafitWarning)
            responses = load_input(path, settings)
            learning_opts = settings.learning_options()
            with numba_threads_set(numba_threads):
                if settings.discounting is not None:
                    from dopafit.batch_discounting import fit_session_discounting

                    fit = fit_session_discounting(responses, settings, path)
                else:
                    fit = fit_with_options(responses, settings.fit, progress=False)
                learning = fit_learning_or_reason(responses, learning_opts)
        for w in caught:  # passed on to fit_session, which sorts them
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        notes.extend(session_notes(caught, fit))
        stamp = {
            "input_file": str(path),
            "input_sha256": input_hash,
            "settings_sha256": settings.sha256,
            "settings": json.loads(settings.to_json()),
        }
        responses = responses.assign_attrs(stamp)
        # the expected conditions, as JSON "kind: text" strings (read back on a rerun)
        fit = fit.assign_attrs(stamp, notes=json.dumps(notes))
        if isinstance(learning, str):  # no unit could be fitted: say why in the output
            fit = fit.assign_attrs(learning_skipped=learning)
        with atomic_path(output) as tmp, _local_writes():
            schema.to_netcdf(responses, tmp, group="responses")
            group = "fit" if settings.discounting is None else "discounting"
            schema.to_netcdf(fit, tmp, group=group, mode="a")
            if learning is not None and not isinstance(learning, str):
                schema.to_netcdf(learning.assign_attrs(stamp), tmp, group=LEARNING_GROUP, mode="a")
        n_units = int(responses.sizes["unit"])
        return SessionResult(
            str(path), str(output), "done", seconds=time.perf_counter() - start, n_units=n_units
        )
    except DopafitError as exc:
        reason = str(exc)
    except Exception as exc:  # one bad session must never stop a batch (Ctrl-C must)
        from dopafit.errors import interrupted_in

        if interrupted_in(exc):
            raise
        reason = f"{path}: unexpected {exc.__class__.__name__}: {exc}"
    return SessionResult(
        str(path), None, "failed", " ".join(reason.split()), time.perf_counter() - start
    )


def load_input(path: Path, settings: BatchSettings):
    """The responses of one input: a table file (:data:`~dopafit.io.longtable.TABLE_SUFFIXES`)
    through :func:`dopafit.responses_from_table` with ``settings.table``, anything else
    through :func:`dopafit.load_nwb` with ``settings.load``."""
    from dopafit.io.longtable import TABLE_SUFFIXES, responses_from_table

    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        return responses_from_table(path, **settings.table)
    from dopafit.io.nwb import load_nwb

    if settings.discounting is not None:  # aligned to the cue unless [load] says otherwise
        from dopafit.batch_discounting import discounting_load

        return load_nwb(path, **discounting_load(settings))
    return load_nwb(path, **settings.load)


def fit_learning_or_reason(responses, opts):
    """The learning fit of one session; its reason (a string) when no unit can be fitted;
    None when no learning models were asked for."""
    if opts is None:
        return None
    from dopafit.errors import FitError
    from dopafit.fit.learning import fit_with_options

    try:
        return fit_with_options(responses, opts, progress=False)
    except FitError as exc:
        return " ".join(str(exc).split())


def run_batch(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    settings: BatchSettings | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    overwrite: bool = False,
    on_result: Callable[[SessionResult], None] | None = None,
) -> list[SessionResult]:
    """Fit every input file into ``outdir/sessions``; a failing file never stops the batch.

    Parameters
    ----------
    paths : sequence of str or path-like
        Files, directories or globs (see :func:`find_inputs`).
    outdir : str or path-like
        Output directory (created).
    settings : BatchSettings, optional
        Load and fit options (defaults of both functions otherwise).
    workers : int, default 1
        Cores to use, one session per core: 1 runs in this process; N > 1 runs sessions in
        N local worker processes (forked from this one on Linux, so they start with its
        imports done). Every worker (and the serial run) fits with single-threaded numba
        kernels, so N workers use N cores.
    scheduler : str, optional
        Address of an existing dask scheduler (``tcp://host:8786``); overrides ``workers``.
    overwrite : bool, default False
        Redo sessions whose output is up to date.
    on_result : callable, optional
        Called with each :class:`SessionResult` as it completes (progress display).

    Returns
    -------
    list of SessionResult
        In input order. Results are identical whatever ``workers`` is.
    """
    settings = settings or BatchSettings()
    outdir = Path(outdir)
    inputs = find_inputs(paths)
    sessions_dir = outdir / SESSIONS_DIR
    sessions_dir.mkdir(parents=True, exist_ok=True)
    for stale in sessions_dir.glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)
    taken: set[str] = set()
    jobs = [(p, sessions_dir / output_name(p, taken)) for p in inputs]
    notify = on_result or (lambda result: None)
    results: dict[int, SessionResult] = {}
    if scheduler is None and workers <= 1:
        for i, (src, dst) in enumerate(jobs):
            results[i] = fit_session(src, dst, settings, overwrite=overwrite, numba_threads=1)
            notify(results[i])
    elif scheduler is None:
        results = _run_processes(jobs, settings, workers, overwrite, notify)
    else:
        results = _run_dask(jobs, settings, workers, scheduler, overwrite, notify)
    return [results[i] for i in range(len(jobs))]


def _start_method() -> str:
    """``"fork"`` where it is safe and available, else ``"spawn"``.

    A forked worker starts with this process's imports done (dopafit, numpy, xarray, h5py,
    numba: seconds per worker otherwise). Fork only on Linux, only from a process with a
    single thread, and before numba has started its thread pool (a forked copy of a running
    OpenMP pool is unusable).
    """
    import multiprocessing
    import sys
    import threading

    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return "spawn"
    if "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and getattr(parallel, "_is_initialized", True):
        return "spawn"
    return "fork"


def _failed(src, exc) -> SessionResult:
    reason = f"{src}: worker failed: {exc.__class__.__name__}: {exc}"
    return SessionResult(str(src), None, "failed", " ".join(reason.split()))


class _stop:
    """On an interrupt (Ctrl-C) or any other escape, drop the pool's queued sessions instead
    of waiting for them (the running ones stop with their own copy of the signal)."""

    def __init__(self, pool):
        self.pool = pool

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _run_processes(jobs, settings, workers, overwrite, notify) -> dict[int, SessionResult]:
    """Sessions in ``workers`` local processes, one session per process at a time.

    A worker that dies (memory, signal) breaks the pool: the sessions without a result are
    run once more in a new pool, and reported as failed if that one breaks too.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context(_start_method())
    results: dict[int, SessionResult] = {}
    pending = list(range(len(jobs)))
    for attempt in range(2):
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool, _stop(pool):
            futures = {
                pool.submit(
                    fit_session,
                    jobs[i][0],
                    jobs[i][1],
                    settings,
                    overwrite=overwrite,
                    numba_threads=1,
                ): i
                for i in pending
            }
            broken = False
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool as exc:
                    broken = True
                    if attempt == 0:
                        continue  # run again in a new pool
                    results[i] = _failed(jobs[i][0], exc)
                except Exception as exc:  # pickling or another failure outside the session
                    results[i] = _failed(jobs[i][0], exc)
                notify(results[i])
        pending = [i for i in range(len(jobs)) if i not in results]
        if not broken or not pending:
            break
    return results


class dask_client:
    """Context manager giving a dask ``Client``: of a new :class:`~dask.distributed.LocalCluster`
    of ``workers`` single-threaded worker processes, or of the running scheduler at
    ``scheduler`` (``tcp://host:8786``), which overrides ``workers``. Both are closed on exit.
    ``dopafit fit`` and ``dopafit compare`` share it."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.workers = workers
        self.scheduler = scheduler
        self.cluster = None
        self.client = None

    def __enter__(self):
        from dask.distributed import Client, LocalCluster

        if self.scheduler is None:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.scheduler)
        return self.client

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _run_dask(jobs, settings, workers, scheduler, overwrite, notify) -> dict[int, SessionResult]:
    from dask.distributed import as_completed

    with dask_client(workers, scheduler) as client:
        futures = {
            client.submit(
                fit_session,
                src,
                dst,
                settings,
                overwrite=overwrite,
                numba_threads=1,
                key=f"dopafit-{i}-{dst.stem}",
                pure=False,
            ): i
            for i, (src, dst) in enumerate(jobs)
        }
        results = {}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:  # a worker died (memory, signal): report, go on
                results[i] = _failed(jobs[i][0], exc)
            notify(results[i])
        return results


def combine(
    outdir: str | os.PathLike,
    settings: BatchSettings | None = None,
    *,
    progress: bool | None = False,
) -> Path | None:
    """Pool the responses of all session outputs and fit the population.

    Writes ``population.nc`` (groups ``responses`` and ``fit``) and ``units.csv`` in
    ``outdir``, atomically. The ``fit`` group's attrs ``session_notes`` hold the sessions'
    notes of expected conditions (JSON: session file -> ``"kind: text"`` strings).
    ``progress`` shows a bar over the population fit (see :func:`dopafit.fit_expectiles`).
    Returns the population path, or None when no session succeeded.
    """
    from dopafit import schema
    from dopafit.fit.expectile import fit_with_options

    settings = settings or BatchSettings()
    outdir = Path(outdir)
    files = sorted((outdir / SESSIONS_DIR).glob(SESSION_GLOB))
    if not files:
        return None
    stamps = [(f.name, _read_stamp(f)) for f in files]
    key = hashlib.sha256(json.dumps([stamps, settings.sha256], sort_keys=True).encode()).hexdigest()
    target = outdir / POPULATION_FILE
    if (
        target.exists()
        and (outdir / UNITS_FILE).exists()
        and _read_stamp(target, ("population_sha256",)) == {"population_sha256": key}
    ):
        return target
    if settings.discounting is not None:
        from dopafit.batch_discounting import combine_discounting

        return combine_discounting(files, outdir, settings, key, progress=progress)
    responses = pooled_responses(files)
    fit = fit_with_options(responses, settings.fit, progress=progress)
    fit = fit.assign_attrs(population_attrs(files, settings, key))
    learning, recovery = pool_learning(files, responses, settings)
    with atomic_path(target) as tmp:
        schema.to_netcdf(responses, tmp, group="responses")
        schema.to_netcdf(fit, tmp, group="fit", mode="a")
        if learning is not None:
            schema.to_netcdf(
                learning.assign_attrs(population_sha256=key), tmp, group=LEARNING_GROUP, mode="a"
            )
        if recovery is not None:
            schema.to_netcdf(recovery, tmp, group=LEARNING_RECOVERY_GROUP, mode="a")
    table = units_table(fit, responses, learning)
    with atomic_path(outdir / UNITS_FILE) as tmp:
        table.to_csv(tmp, index=False)
    return target


def pooled_responses(files):
    """The ``responses`` groups of the session outputs, stacked (units of every session)."""
    from dopafit import schema

    return concat_responses([schema.open_responses(f, group="responses") for f in files])


def population_attrs(files, settings: BatchSettings, key: str) -> dict:
    """The attrs of a population fit: its sessions, settings, provenance hash and the notes
    of each session (JSON: session file -> notes)."""
    notes = {
        f.name: json.loads((_read_stamp(f, ("notes",)) or {}).get("notes") or "[]") for f in files
    }
    return {
        "sessions": [str(f.name) for f in files],
        "settings": json.loads(settings.to_json()),
        "population_sha256": key,
        "session_notes": json.dumps({k: v for k, v in notes.items() if v}),
    }


def pool_learning(files, responses, settings: BatchSettings):
    """The sessions' learning fits pooled, and a model recovery on a sample of their units.

    Returns ``(None, None)`` without learning settings or when no session has a fit.
    """
    import h5py
    import numpy as np

    from dopafit import schema

    opts = settings.learning_options()
    if opts is None:
        return None, None
    from dopafit.fit.learning import concat_learning
    from dopafit.stats.learning_recovery import learning_recovery

    parts = []
    for f in files:
        with h5py.File(f, "r") as handle:
            has = LEARNING_GROUP in handle
        if has:
            parts.append(schema.open_responses(f, group=LEARNING_GROUP, validate=False))
    if not parts:
        return None, None
    learning = concat_learning(parts)
    n = settings.learning_recovery
    fitted = np.nonzero(np.isfinite(learning["loglik"].values).any(axis=0))[0]
    if n == 0 or fitted.size == 0:
        return learning, None
    pick = fitted[
        np.unique(np.linspace(0, fitted.size - 1, min(n, fitted.size)).round().astype(int))
    ]
    keys = list(zip(responses[schema.SESSION].values, responses[schema.UNIT_ID].values))
    index = {k: i for i, k in enumerate(keys)}
    rows = [
        index[(s, u)]
        for s, u in zip(
            learning[schema.SESSION].values[pick], learning[schema.UNIT_ID].values[pick]
        )
    ]
    sub = learning.isel({schema.UNIT: pick}).assign_coords(
        {schema.UNIT: responses[schema.UNIT].values[rows]}
    )
    options = {k: v for k, v in opts.record().items() if k not in ("model", "seed")}
    options["axis"] = opts.axis
    recovery = learning_recovery(
        responses.isel({schema.UNIT: rows}),
        sub,
        models=opts.model,
        seed=opts.seed,
        progress=False,
        **options,
    )
    return learning, recovery


def concat_responses(parts: Sequence) -> object:
    """Concatenate responses Datasets along ``unit``, padding trials with NaN."""
    import numpy as np
    import xarray as xr

    from dopafit import schema

    n_trial = max(p.sizes[schema.TRIAL] for p in parts)
    padded = []
    for part in parts:
        p = part.reindex({schema.TRIAL: np.arange(n_trial)})
        for name, var in part.variables.items():  # padding keeps integer and bool dtypes
            if schema.TRIAL in var.dims and var.dtype.kind in "biu":
                fill = False if var.dtype.kind == "b" else -1
                p[name] = p[name].fillna(fill).astype(var.dtype)
            if name in p.variables:
                p[name].encoding = {}
        padded.append(p.drop_vars(schema.UNIT))
    out = xr.concat(padded, dim=schema.UNIT, combine_attrs="override", data_vars="all")
    out = out.assign_coords({schema.UNIT: np.arange(out.sizes[schema.UNIT])})
    out.attrs["source"] = [str(p.attrs.get("source", "")) for p in parts]
    return schema.validate_responses(out)


LEARNING_COLUMNS = ("eta_pos", "eta_neg", "tau_learning", "tau_scaling", "identifiable")


def units_table(fit, responses, learning=None):
    """Tidy per-unit table: identifiers and every per-unit fit variable; with a learning fit,
    ``learning_best_model`` and ``<model>_<name>`` for the names of :data:`LEARNING_COLUMNS`
    (matched on session and unit id)."""
    import pandas as pd

    from dopafit import schema

    cols = {
        schema.SESSION: responses[schema.SESSION].values,
        schema.SUBJECT: responses[schema.SUBJECT].values,
        schema.UNIT_ID: responses[schema.UNIT_ID].values,
    }
    for name, var in fit.data_vars.items():
        if var.dims == (schema.UNIT,):
            cols[name] = var.values
    table = pd.DataFrame(cols)
    if learning is None:
        return table
    extra = {
        schema.SESSION: learning[schema.SESSION].values,
        schema.UNIT_ID: learning[schema.UNIT_ID].values,
        "learning_best_model": learning["best_model"].values,
    }
    for m in learning["model"].values:
        for name in LEARNING_COLUMNS:
            extra[f"{m}_{name}"] = learning[name].sel(model=m).values
    return table.merge(pd.DataFrame(extra), on=[schema.SESSION, schema.UNIT_ID], how="left")
