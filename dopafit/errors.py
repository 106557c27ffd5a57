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
    "unknown_name",
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


class OutputExistsError(DopafitError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


class ResultKindError(DopafitError, TypeError):
    """A result Dataset is not of the kind an operation needs (see :mod:`dopafit.results`)."""


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
