"""Named errors: every failure says which file, what was expected, what was found, what to do.

All errors derive from :class:`DopafitError`, so a pipeline can catch everything dopafit
raises with one ``except``. ``str(err)`` is a single line (the CLI prints exactly that), and
the parts are available as attributes for programs.

Examples
--------
>>> from dopafit.errors import MissingColumnError
>>> err = MissingColumnError(
...     "reward magnitude column 'reward'",
...     found="columns start_time, stop_time, odor",
...     remedy="pass reward_column='<name>'",
...     file="ses-1.nwb",
... )
>>> print(err)
ses-1.nwb: expected reward magnitude column 'reward'; found columns start_time, stop_time, odor. Fix: pass reward_column='<name>'.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "DopafitError",
    "ResponsesError",
    "FileNotFoundError_",
    "NotNWBError",
    "NWBVersionError",
    "RemoteError",
    "NoDataError",
    "MissingTableError",
    "MissingColumnError",
    "SpikeTimesError",
    "EventTimesError",
    "FitError",
    "ConfigError",
    "OutputExistsError",
    "ResultKindError",
    "DopafitWarning",
    "DopafitNote",
    "unknown_name",
    "missing_path",
]


class DopafitError(Exception):
    """Base class of every error dopafit raises on purpose.

    Parameters
    ----------
    expected : str
        What dopafit needed.
    found : str, optional
        What it found instead.
    remedy : str, optional
        What the user can do about it.
    file : str or path-like, optional
        The file concerned, if any.
    problems : list of str, optional
        Several findings at once (for example every problem of a Dataset); shown after
        ``found`` separated by ``"; "``.

    Examples
    --------
    Every error dopafit raises on purpose is a ``DopafitError`` (and also subclasses the matching
    built-in error) whose message says what was expected, what was found and what to do:

    >>> import dopafit
    >>> try:
    ...     dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb", reward="volume")
    ... except dopafit.DopafitError as err:
    ...     print(type(err).__name__, isinstance(err, KeyError))
    ...     print(err)
    MissingColumnError True
    data_samples/sub-sim01_ses-dist1.nwb: expected a reward column (volume) in the trials table;
    found columns start_time (float64), stop_time (float64), reward (float64), reward_time
    (float64), cued (bool), cue_time (float64), cue_id (int64), trial_type (int64). Fix: pass
    reward='<column>' (with reward_map={...} for text values) or reward=<number> for a constant
    reward.
    """

    def __init__(
        self,
        expected: str,
        *,
        found: str | None = None,
        remedy: str | None = None,
        file: str | PathLike | None = None,
        problems: list[str] | None = None,
    ):
        self.expected = expected
        self.found = found
        self.remedy = remedy
        self.file = None if file is None else str(file)
        self.problems = list(problems or [])
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        head = f"{self.file}: " if self.file else ""
        parts.append(f"{head}expected {self.expected}")
        found = self.found
        if self.problems:
            listed = "; ".join(self.problems)
            found = f"{found}: {listed}" if found else listed
        if found:
            parts.append(f"found {found}")
        text = "; ".join(parts) + "."
        if self.remedy:
            remedy = self.remedy.rstrip(".")
            text += f" Fix: {remedy}" + ("" if remedy.endswith(("?", "!")) else ".")
        return " ".join(text.split())  # one line, whatever the parts held

    def __reduce__(self):  # picklable across dask workers
        return (
            _rebuild,
            (type(self), self.expected, self.found, self.remedy, self.file, self.problems),
        )


def _rebuild(cls, expected, found, remedy, file, problems):
    return cls(expected, found=found, remedy=remedy, file=file, problems=problems)


class ResponsesError(DopafitError, ValueError):
    """A responses Dataset does not follow the data model (see :mod:`dopafit.schema`)."""


class FileNotFoundError_(DopafitError, FileNotFoundError):
    """An input path does not exist."""


def missing_path(path, expected: str) -> FileNotFoundError_:
    """The error for a path that does not exist: names the absolute path searched and, for a
    relative path, the working folder it was resolved from (a path written for the repository
    root fails from ``notebooks/``)."""
    from pathlib import Path

    path = Path(path)
    where = f"no such path: {path.resolve()}"
    if not path.is_absolute():
        where += f" (resolved from the working folder {Path.cwd()})"
    return FileNotFoundError_(
        expected,
        found=where,
        file=path,
        remedy="relative paths start at the working folder; give the path from there or an "
        "absolute one",
    )


class NotNWBError(DopafitError, OSError):
    """A file is not HDF5/NWB, or is truncated or corrupt."""


class NWBVersionError(DopafitError, OSError):
    """pynwb cannot read this NWB file (version or extension problem)."""


class RemoteError(DopafitError, OSError):
    """A remote file (URL or DANDI asset) cannot be read: HTTP error, no range support,
    a server that stalls or drops the connection after the retries."""


class NoDataError(DopafitError, ValueError):
    """A file holds no units and no photometry, or nothing usable after selection."""


class MissingTableError(DopafitError, KeyError):
    """The trials (or other named) table is absent."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0] if self.args else ""


class MissingColumnError(DopafitError, KeyError):
    """A needed column (reward, event time, ...) is absent."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class SpikeTimesError(DopafitError, ValueError):
    """Spike times are unsorted, NaN or otherwise unusable."""


class EventTimesError(DopafitError, ValueError):
    """Trial event times are unusable (all NaN, wrong shape)."""


class FitError(DopafitError, ValueError):
    """Data cannot support the requested fit (too few magnitudes, all-NaN, ...)."""


class ConfigError(DopafitError, ValueError):
    """An option or configuration value is invalid."""


class DopafitWarning(UserWarning):
    """Something was dropped or flagged but the analysis went on (e.g. NaN event times)."""


class DopafitNote(DopafitWarning):
    """An expected condition, reported as information: nothing needs doing.

    For example a session with fewer than 3 fittable units (its own split-half population
    correlations are NaN), trials dropped for NaN event times, units flagged in
    ``unit_flags``. A single call shows it as a warning of this category; a batch
    (``dopafit fit``) does not print it per session but counts it, records it in each
    session's output (``fit`` attrs ``notes``) and reports it once at the end.

    Parameters
    ----------
    message : str
        The text.
    kind : str, default "note"
        A short key a batch counts the note under (e.g. ``"few_units"``).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn(DopafitNote("only 1 fittable unit(s) here", kind="few_units"))
    >>> caught[0].category.__name__, caught[0].message.kind
    ('DopafitNote', 'few_units')
    >>> issubclass(DopafitNote, DopafitWarning)
    True
    """

    def __init__(self, message: str = "", kind: str = "note"):
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):
        return (type(self), (str(self), self.kind))


class OutputExistsError(DopafitError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


class ResultKindError(DopafitError, TypeError):
    """A result Dataset is not of the kind an operation needs (see :mod:`dopafit.results`)."""


def interrupted_in(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, an interrupt (Ctrl-C).

    A signal handler that raises while a compiled kernel returns (numba) surfaces as a
    ``SystemError`` whose cause is the interrupt; ``except Exception`` blocks that must never
    swallow Ctrl-C ask this first.

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt as inner:
    ...         raise SystemError("returned a result with an exception set") from inner
    ... except SystemError as err:
    ...     interrupted_in(err), interrupted_in(ValueError()), interrupted_in(GeneratorExit())
    (True, False, False)
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, KeyboardInterrupt) or getattr(exc, "dopafit_interrupt", False):
            return True  # Ctrl-C: KeyboardInterrupt or dopafit.cli.Interrupted
        exc = exc.__cause__ or exc.__context__
    return False


def unknown_name(name: str, valid, what: str, *, file: str | PathLike | None = None):
    """The :class:`ConfigError` for a name that is not among ``valid`` (a misspelt option or
    config key), naming the closest valid one.

    Examples
    --------
    >>> print(unknown_name("n_split", ["n_boot", "n_splits"], "[fit] options"))
    expected [fit] options among n_boot, n_splits; found unknown key 'n_split'. Fix: did you mean 'n_splits'?
    """
    import difflib

    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1)
    return ConfigError(
        f"{what} among {', '.join(valid)}",
        found=f"unknown key {name!r}",
        remedy=f"did you mean {close[0]!r}?" if close else "remove it",
        file=file,
    )


def whole_number(name: str, value, low: int = 1) -> int:
    """``value`` as an int >= ``low`` if it is a whole number (``10`` or ``10.0``), else the
    :class:`ConfigError` naming ``name`` (``2.5`` is refused, not truncated).

    Examples
    --------
    >>> whole_number("n_units", 10.0)
    10
    >>> whole_number("n_units", 2.5)
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected n_units as an integer >= 1; found 2.5.
    """
    try:
        number = float(value)
        whole = not isinstance(value, bool) and number.is_integer()
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or number < low:
        raise ConfigError(f"{name} as an integer >= {low}", found=repr(value))
    return int(number)
