"""The cue-to-reward delay of each trial: the ``delay=`` option of the loaders.

A trials column mapped like ``reward``: ``delay="delay"`` (the default) uses a column named
``delay`` when the trials table has one and leaves the delay out otherwise; any other column
name must exist. The responses Dataset then holds the coordinate ``delay(unit, trial)``
(float64, NaN = no delay known) in ``attrs["delay_units"]`` (option ``delay_units``, default
``"s"``). Delays are never made up: a trials table with ``cue_time`` and ``reward_time`` but
no delay column gives responses without delays, unless the difference is asked for
explicitly with ``delay="reward_time - cue_time"`` (any two event-time columns, ``A - B``).
A per-trial array (or a callable ``f(trials) -> array``) is taken as given.

Delays must be numeric, finite or NaN, and not negative; anything else is a named error
naming the file and the column.

Examples
--------
>>> import pandas as pd
>>> trials = pd.DataFrame({"cue_time": [1.0, 11.0], "reward_time": [2.5, 17.0]})
>>> values, used = trial_delays(trials, "reward_time - cue_time", file=None)
>>> values.tolist(), used
([1.5, 6.0], 'reward_time - cue_time')
>>> trial_delays(trials, "delay", file=None)  # no such column: no delays, none invented
(None, None)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xarray as xr

from dopafit.errors import ConfigError, EventTimesError, MissingColumnError
from dopafit.io.columns import missing_column

__all__ = ["DELAY", "DEFAULT_DELAY", "trial_delays", "check_delays", "add_delay"]

from dopafit.schema import DELAY

#: default of the ``delay`` option: the column used when the trials table has it
DEFAULT_DELAY = "delay"

_DIFFERENCE = re.compile(r"^\s*([^\s\-]+)\s*-\s*([^\s\-]+)\s*$")


def trial_delays(trials: pd.DataFrame, spec, *, file=None):
    """The delay of every row of ``trials`` under the option ``spec``, and what was used.

    Parameters
    ----------
    trials : pandas.DataFrame
        The trials table (one row per trial).
    spec : str, array, callable or None
        ``None``: no delays. A column name (``"delay"``, the default, is used only when
        present). ``"A - B"``: the difference of two event-time columns (e.g.
        ``"reward_time - cue_time"``). An array of one delay per row, or a callable
        ``f(trials) -> array``.
    file : str or path-like, optional
        Named in errors.

    Returns
    -------
    values : ndarray of float64, shape (n_trial,), or None
        The delays (NaN: none known); None when no delay is used.
    used : str or None
        The column, the difference or ``"<array>"``/the callable's name.

    Raises
    ------
    MissingColumnError
        A column named explicitly (or in a difference) is not in the table; the message
        lists the columns and the closest name.
    ConfigError
        Non-numeric delays, or an array of the wrong length.
    EventTimesError
        Negative or infinite delays.

    Examples
    --------
    >>> import pandas as pd
    >>> trials = pd.DataFrame({"delay": [0.5, 3.0, float("nan")]})
    >>> values, used = trial_delays(trials, "delay")
    >>> values.tolist(), used
    ([0.5, 3.0, nan], 'delay')
    """
    if spec is None:
        return None, None
    n = len(trials)
    if callable(spec):
        values, used = np.asarray(spec(trials)), getattr(spec, "__name__", "<callable>")
    elif isinstance(spec, str):
        if spec in trials.columns:
            values, used = trials[spec].to_numpy(), spec
        else:
            match = _DIFFERENCE.match(spec)
            if match and spec != DEFAULT_DELAY:
                a, b = match.groups()
                for name in (a, b):
                    if name not in trials.columns:
                        raise _missing(trials, name, spec, file)
                late = _numeric(trials[a].to_numpy(), a, file)
                early = _numeric(trials[b].to_numpy(), b, file)
                values, used = late - early, f"{a} - {b}"
            elif spec == DEFAULT_DELAY:
                return None, None
            else:
                raise _missing(trials, spec, spec, file)
    else:
        values, used = np.asarray(spec), "<array>"
    if values.shape != (n,):
        raise ConfigError(f"one delay per trial ({n})", found=f"shape {values.shape}", file=file)
    return check_delays(values, used, file=file), used


def _numeric(values, column: str, file) -> np.ndarray:
    """``values`` as float64, or a ConfigError naming the column and some values."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        converted = pd.to_numeric(pd.Series(values), errors="coerce")
        bad = pd.Series(values)[converted.isna() & pd.Series(values).notna()]
        shown = ", ".join(repr(v) for v in pd.unique(bad)[:4])
        raise ConfigError(
            f"numeric delays (seconds) in column {column!r}",
            found=f"values {shown}",
            remedy=f"convert column {column!r} to numbers (NaN for trials without a delay), "
            "or pass delay='<numeric column>'",
            file=file,
        ) from None


def check_delays(values, column: str, *, file=None) -> np.ndarray:
    """Delays as float64: numeric, not negative, finite or NaN; else a named error.

    Parameters
    ----------
    values : array-like
        One delay per trial (NaN: none known).
    column : str
        Where the values come from (named in errors).
    file : str or path-like, optional
        Named in errors.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ConfigError
        Non-numeric values.
    EventTimesError
        Negative or infinite values.

    Examples
    --------
    >>> check_delays([0.5, -1.0], "delay", file="ses.nwb")
    Traceback (most recent call last):
    ...
    dopafit.errors.EventTimesError: ses.nwb: expected delays >= 0 (s) in column 'delay'; found
    1 negative delay(s), e.g. -1 on trial row 1. Fix: check the column (delays run from the cue
    to the reward), or pass delay='<column>' for another one.
    """
    values = _numeric(np.asarray(values), column, file)
    negative = np.nonzero(values < 0)[0]
    if negative.size:
        raise EventTimesError(
            f"delays >= 0 (s) in column {column!r}",
            found=f"{negative.size} negative delay(s), e.g. {values[negative[0]]:g} on trial "
            f"row {negative[0]}",
            remedy="check the column (delays run from the cue to the reward), or pass "
            "delay='<column>' for another one",
            file=file,
        )
    if np.isinf(values).any():
        raise EventTimesError(
            f"finite delays (s) in column {column!r}",
            found=f"{int(np.isinf(values).sum())} infinite value(s)",
            remedy="use NaN for trials without a delay",
            file=file,
        )
    return values


def _missing(trials: pd.DataFrame, name: str, spec: str, file) -> MissingColumnError:
    """The error for a delay column ``name`` (from option ``spec``) not in ``trials``."""
    remedy = (
        "pass delay='<column>', delay='reward_time - cue_time' for the difference of "
        "two event times, or delay=None"
    )
    what = "delay" if spec == name else f"delay (delay={spec!r})"
    return missing_column(trials, what, name, remedy, keyword="delay", file=file)


def add_delay(ds: xr.Dataset, delay: np.ndarray | None, units: str) -> xr.Dataset:
    """``ds`` with the coordinate ``delay(unit, trial)`` and ``attrs["delay_units"]``.

    Parameters
    ----------
    ds : xarray.Dataset
        A responses Dataset.
    delay : ndarray, shape (n_unit, n_trial), or None
        The delays (NaN: none known, padding); None leaves ``ds`` unchanged.
    units : str
        Units of the delays.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"response": (("unit", "trial"), np.zeros((1, 2)))})
    >>> out = add_delay(ds, np.array([[0.5, 3.0]]), "s")
    >>> out["delay"].values.tolist(), out.attrs["delay_units"]
    ([[0.5, 3.0]], 's')
    """
    if delay is None:
        return ds
    ds = ds.assign_coords({DELAY: (("unit", "trial"), np.asarray(delay, dtype=np.float64))})
    ds[DELAY].attrs["units"] = str(units)
    ds.attrs["delay_units"] = str(units)
    return ds
