"""A tidy long table (one row per unit and trial) → responses Dataset.

The responses were computed elsewhere (a lab pipeline, a spreadsheet, R); the table holds one
row per unit and trial with the unit, the trial, the reward and the response, and optionally
whether the trial was cued, its event time, the session and the subject. CSV, TSV and parquet
files are read with pandas (parquet needs pyarrow: the ``tables`` extra).

Column mapping
--------------
Each option names a column (defaults in brackets): ``unit`` ["unit"], ``reward`` ["reward";
also the aliases of :func:`dopafit.responses_from_spikes`], ``response`` ["response"] are
required; ``trial`` ["trial"], ``cued`` ["cued"], ``event_time`` ["event_time"], ``delay``
["delay"], ``session`` ["session"], ``subject`` ["subject"] are used when present. A column named explicitly must
exist: a missing or misspelt one raises :class:`~dopafit.errors.MissingColumnError` naming the
closest column. Pass None to leave an optional column out.

Layout
------
Units are keyed by (session, unit) in order of first appearance; each unit's trials are
sorted by the ``trial`` column (by row order without one), left-aligned and padded with NaN.
Rows with a NaN reward are dropped (counted in ``attrs['n_rows_dropped']``); a NaN response
is kept (a trial without a usable response).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import (
    ConfigError,
    FileNotFoundError_,
    MissingColumnError,
    NoDataError,
    NotNWBError,
)
from dopafit.io.delays import add_delay, check_delays
from dopafit.io.tables import REWARD_ALIASES

__all__ = ["responses_from_table", "read_table", "TABLE_SUFFIXES", "COLUMN_OPTIONS"]

#: file suffixes read as tables (the rest of dopafit reads NWB)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
#: option -> (default column, required, aliases tried for the default)
COLUMN_OPTIONS = {
    "unit": ("unit", True, ("unit", "unit_id")),
    "trial": ("trial", False, ("trial",)),
    "reward": ("reward", True, REWARD_ALIASES),
    "response": ("response", True, ("response",)),
    "cued": ("cued", False, ("cued",)),
    "event_time": ("event_time", False, ("event_time",)),
    "delay": ("delay", False, ("delay",)),
    "session": ("session", False, ("session",)),
    "subject": ("subject", False, ("subject",)),
}


def read_table(path: str | PathLike) -> pd.DataFrame:
    """Read a CSV (``.csv``), tab-separated (``.tsv``, ``.txt``) or parquet (``.parquet``,
    ``.pq``) file with pandas.

    Raises
    ------
    FileNotFoundError_
        No such file.
    ConfigError
        Another suffix, or parquet without pyarrow installed.
    NotNWBError
        The file cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError_("an existing table file", found="no such file", file=path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ConfigError(
            f"a table file ({', '.join(TABLE_SUFFIXES)})",
            found=f"suffix {suffix or '(none)'!r}",
            remedy="save the table as CSV or parquet, or read it with pandas and pass the "
            "DataFrame",
            file=path,
        )
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix in (".tsv", ".txt") else ",")
    except ImportError as exc:
        raise ConfigError(
            "a parquet engine (pyarrow)",
            found=f"none installed ({exc})",
            remedy="pip install 'dopafit[tables]', or save the table as CSV",
            file=path,
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise NotNWBError(
            f"a readable {suffix[1:]} table",
            found=f"{type(exc).__name__}: {' '.join(str(exc).split())}",
            remedy="check the file; it may be truncated or of another format",
            file=path,
        ) from None


def _resolve(table: pd.DataFrame, columns: dict, file) -> dict:
    """Option -> column name (None: not used); raises for a missing or misspelt column."""
    names = [str(c) for c in table.columns]
    out = {}
    for option, (default, required, aliases) in COLUMN_OPTIONS.items():
        given = columns[option]
        if given is None:
            if required:
                raise ConfigError(f"a column for {option}", found="None", file=file)
            out[option] = None
            continue
        candidates = list(aliases) if given == default else [given]
        found = next((c for c in candidates if c in names), None)
        if found is None and (required or given != default):
            raise _missing(table, option, given, candidates, file)
        out[option] = found
    return out


def _missing(table: pd.DataFrame, option: str, given, candidates, file) -> MissingColumnError:
    names = [str(c) for c in table.columns]
    listed = ", ".join(f"{c} ({table[c].dtype})" for c in table.columns) or "no columns"
    lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(str(given).lower(), list(lower), n=1, cutoff=0.5)
    close = [lower[c] for c in close]
    remedy = f"did you mean {option}={close[0]!r}?" if close else f"pass {option}='<column>'"
    if close:
        remedy += f" Else pass {option}='<column>'"
    if option in ("unit", "reward", "response"):
        remedy += f" ({option} is required)"
    else:
        remedy += f" or {option}=None"
    return MissingColumnError(
        f"a {option} column ({'/'.join(map(str, candidates))}) in the table",
        found=f"columns {listed}",
        remedy=remedy,
        file=file,
    )


def _numbers(table: pd.DataFrame, column: str, option: str, file, mapping=None) -> np.ndarray:
    values = table[column]
    if mapping is not None:
        return np.array([mapping.get(v, np.nan) for v in values.tolist()], dtype=np.float64)
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = numeric != numeric  # NaN after coercion ...
    bad &= values.notna().to_numpy()  # ... from a value that was there
    if bad.any():
        kinds = ", ".join(repr(v) for v in pd.unique(values[bad])[:4])
        remedy = (
            f"pass reward_map={{<value>: <magnitude>, ...}} for column {column!r}"
            if option == "reward"
            else f"check column {column!r}"
        )
        raise ConfigError(
            f"numbers in the {option} column {column!r}",
            found=f"{int(bad.sum())} non-numeric value(s) such as {kinds}",
            remedy=remedy,
            file=file,
        )
    if np.isinf(numeric).any():
        raise ConfigError(
            f"finite values in the {option} column {column!r}", found="infinite values", file=file
        )
    return numeric


def _flags(table: pd.DataFrame, column: str, file) -> np.ndarray:
    """A cued column as bool: booleans, 0/1 or true/false text."""
    values = table[column]
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype(str).str.strip().str.lower()
    words = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0, "nan": 0.0, "none": 0.0}
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    numeric = np.where(np.isnan(numeric), text.map(words).to_numpy(dtype=np.float64), numeric)
    if np.isnan(numeric).any():
        bad = pd.unique(values[np.isnan(numeric)])[:4]
        raise ConfigError(
            f"true/false or 0/1 in the cued column {column!r}",
            found="values " + ", ".join(repr(v) for v in bad),
            file=file,
        )
    return numeric != 0


def _layout(table: pd.DataFrame, cols: dict, default_session: str, file) -> tuple:
    """Unit keys, unit of each row, trial slot of each row and the number of trial slots."""
    n = len(table)
    session = (
        table[cols["session"]].astype(str).to_numpy()
        if cols["session"]
        else np.full(n, default_session, dtype=object)
    )
    unit = table[cols["unit"]].astype(str).to_numpy()
    keys = pd.MultiIndex.from_arrays([session, unit])
    code, uniques = pd.factorize(keys, sort=False)
    if cols["trial"]:
        trial = table[cols["trial"]]
        order = np.lexsort((_sort_key(trial), code))
        dup = pd.DataFrame({"c": code, "t": trial.to_numpy()}).duplicated(keep=False)
        if dup.any():
            first = table.loc[dup.to_numpy()].iloc[0]
            raise ConfigError(
                "one row per unit and trial",
                found=f"{int(dup.sum())} rows sharing a (session, unit, trial), e.g. unit "
                f"{_plain(first[cols['unit']])!r} trial {_plain(first[cols['trial']])!r}",
                remedy="aggregate the repeated rows first, or check unit=, trial= and session=",
                file=file,
            )
    else:
        order = np.argsort(code, kind="stable")
    slot = np.empty(n, dtype=np.int64)
    slot[order] = pd.Series(code[order]).groupby(code[order]).cumcount().to_numpy()
    n_trial = int(slot.max()) + 1 if n else 0
    return uniques, code, slot, n_trial


def _plain(value):
    """A numpy scalar as the Python value (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _sort_key(trial: pd.Series) -> np.ndarray:
    numeric = pd.to_numeric(trial, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.float64)
    return pd.factorize(trial.astype(str), sort=True)[0]


def _per_unit(table, column: str, code, n_unit: int, what: str, file) -> np.ndarray:
    """The value of a column that is constant within each unit, one per unit."""
    first = pd.Series(table[column].to_numpy()).groupby(code).agg(["first", "nunique"])
    varying = first["nunique"].to_numpy() > 1
    if varying.any():
        raise ConfigError(
            f"one {what} per unit in column {column!r}",
            found=f"{int(varying.sum())} unit(s) with several values",
            remedy="pass session='<column>' if units of several sessions share ids",
            file=file,
        )
    values = first["first"].to_numpy()
    assert values.size == n_unit
    return values


def _grid(values, code, slot, n_unit, n_trial, fill, dtype) -> np.ndarray:
    out = np.full((n_unit, n_trial), fill, dtype=dtype)
    out[code, slot] = values
    return out


def responses_from_table(
    table: pd.DataFrame | str | PathLike,
    *,
    unit: str = "unit",
    trial: str | None = "trial",
    reward: str = "reward",
    response: str = "response",
    cued: str | None = "cued",
    event_time: str | None = "event_time",
    delay: str | None = "delay",
    session: str | None = "session",
    subject: str | None = "subject",
    reward_map: Mapping | None = None,
    unit_columns: Sequence[str] = (),
    trial_columns: Sequence[str] = (),
    response_units: str = "a.u.",
    reward_units: str = "ul",
    delay_units: str = "s",
    attrs: Mapping | None = None,
    source: str | None = None,
) -> xr.Dataset:
    """Responses Dataset from a tidy long table: one row per unit and trial.

    Parameters
    ----------
    table : pandas.DataFrame, or path of a CSV/TSV/parquet file
        The table (files are read with pandas; parquet needs pyarrow).
    unit, trial, reward, response : str
        Columns of the unit id, the trial (its order: numeric, else sorted text; None: row
        order), the reward magnitude and the response. ``unit``, ``reward`` and
        ``response`` are required.
    cued, event_time, session, subject : str or None
        Optional columns: whether a cue predicted the reward (bool, 0/1 or true/false), the
        event time (s), the session and the subject. Used when present under the default
        name; a name given explicitly must exist; None leaves it out. Without a session
        column the session is the file's stem ("table" for a DataFrame).
    delay : str or None, default "delay"
        Column of the trial's cue-to-reward delay (numeric, >= 0, NaN: none known), used
        like the optional columns above; gives the coordinate ``delay(unit, trial)``.
    reward_map : dict, optional
        Maps text or coded reward values to magnitudes (unmapped values: NaN, dropped).
    unit_columns, trial_columns : sequence of str
        Further columns kept as per-unit coordinates (constant within a unit) or per-trial
        coordinates (unit, trial).
    response_units, reward_units, delay_units : str
        Units of the response, the reward and the delay (attrs).
    attrs : dict, optional
        How the responses were made (``align``, ``window``, ``baseline``, ...): recorded in
        the attrs; those missing are filled with defaults and named in one warning (see
        :func:`dopafit.make_responses`).
    source : str, optional
        Provenance; default the file path, or "in-memory".

    Returns
    -------
    xarray.Dataset
        A validated responses Dataset; ``trial_index(unit, trial)`` holds the trial column
        when it is integer (-1 for padding); ``attrs['columns']`` the mapping used and
        ``attrs['n_rows_dropped']`` the rows without a reward.

    Raises
    ------
    MissingColumnError
        A required column is absent, or a named one is missing or misspelt (the message
        names the closest column).
    ConfigError
        Non-numeric rewards or responses, two rows for one unit and trial, an unreadable
        cued column, an unknown file suffix.
    NoDataError
        No row with a reward.

    Examples
    --------
    >>> import pandas as pd
    >>> import dopafit
    >>> table = pd.DataFrame({"cell": ["a", "a", "a", "b", "b"],
    ...                       "trial": [2, 1, 3, 1, 2],
    ...                       "volume": [5.0, 1.0, 5.0, 1.0, 5.0],
    ...                       "dff": [0.9, -0.2, 1.1, 0.1, 0.4]})
    >>> ds = dopafit.responses_from_table(table, unit="cell", reward="volume", response="dff",
    ...                                   attrs={"align": "reward_time", "window": [0.2, 0.6],
    ...                                          "baseline": [-1.0, 0.0]})
    >>> ds["response"].values.tolist()  # unit b has two trials: padded with NaN
    [[-0.2, 0.9, 1.1], [0.1, 0.4, nan]]
    >>> ds["unit_id"].values.tolist(), ds["trial_index"].values.tolist()
    (['a', 'b'], [[1, 2, 3], [1, 2, -1]])

    A misspelt column is named with its closest match:

    >>> dopafit.responses_from_table(table, unit="cel", reward="volume", response="dff")
    Traceback (most recent call last):
    ...
    dopafit.errors.MissingColumnError: expected a unit column (cel) in the table; found columns
    cell (...), trial (int64), volume (float64), dff (float64). Fix: did you mean
    unit='cell'? Else pass unit='<column>' (unit is required).
    """
    file = None
    if isinstance(table, (str, PathLike)):
        file = str(table)
        table = read_table(table)
    if not isinstance(table, pd.DataFrame):
        raise ConfigError(
            "a pandas DataFrame or the path of a CSV/parquet file", found=type(table).__name__
        )
    options = dict(
        unit=unit,
        trial=trial,
        reward=reward,
        response=response,
        cued=cued,
        event_time=event_time,
        delay=delay,
        session=session,
        subject=subject,
    )
    cols = _resolve(table, options, file)
    extra = {}
    for name in [*unit_columns, *trial_columns]:
        if name not in table.columns:
            raise _missing(
                table,
                "unit_columns" if name in unit_columns else "trial_columns",
                name,
                [name],
                file,
            )
    table = table.reset_index(drop=True)
    reward_values = _numbers(table, cols["reward"], "reward", file, reward_map)
    keep = np.isfinite(reward_values)
    if not keep.any():
        raise NoDataError(
            "at least one row with a reward",
            found=f"{len(table)} row(s)" + (", none with a finite reward" if len(table) else ""),
            remedy="check reward= (and reward_map= for text values)",
            file=file,
        )
    dropped = int((~keep).sum())
    table = table.loc[keep].reset_index(drop=True)
    reward_values = reward_values[keep]
    response_values = _numbers(table, cols["response"], "response", file)
    default_session = Path(file).stem if file else "table"
    uniques, code, slot, n_trial = _layout(table, cols, default_session, file)
    n_unit = len(uniques)
    grid = lambda v, fill, dtype: _grid(v, code, slot, n_unit, n_trial, fill, dtype)  # noqa: E731
    coords = {}
    if cols["trial"]:
        numeric = pd.to_numeric(table[cols["trial"]], errors="coerce").to_numpy(np.float64)
        if np.isfinite(numeric).all() and np.all(numeric == np.round(numeric)):
            coords["trial_index"] = grid(numeric.astype(np.int64), -1, np.int64)
    for name in trial_columns:
        values = table[name].to_numpy()
        fill = np.nan if values.dtype.kind in "fiub" else ""
        dtype = np.float64 if values.dtype.kind in "fiub" else object
        coords[str(name)] = grid(values, fill, dtype)
    for name in unit_columns:
        extra[str(name)] = _per_unit(table, name, code, n_unit, name, file)
    subject_ids = (
        _per_unit(table, cols["subject"], code, n_unit, "subject", file).astype(str)
        if cols["subject"]
        else None
    )
    all_attrs = dict(attrs or {})
    all_attrs.setdefault("source", source or file or "in-memory")
    all_attrs.setdefault("response_units", response_units)
    all_attrs.setdefault("reward_units", reward_units)
    all_attrs["columns"] = {k: v for k, v in cols.items() if v is not None}
    all_attrs["n_rows_dropped"] = dropped
    all_attrs["extraction"] = "table"
    ds = schema.make_responses(
        grid(response_values, np.nan, np.float64),
        grid(reward_values, np.nan, np.float64),
        cued=grid(_flags(table, cols["cued"], file), False, bool) if cols["cued"] else None,
        event_time=grid(_numbers(table, cols["event_time"], "event_time", file), np.nan, float)
        if cols["event_time"]
        else None,
        unit_id=[u for _, u in uniques],
        session=[s for s, _ in uniques],
        subject=subject_ids,
        attrs=all_attrs,
    )
    dims2 = (schema.UNIT, schema.TRIAL)
    ds = ds.assign_coords({k: (dims2, v) for k, v in coords.items()})
    ds = ds.assign_coords({k: (schema.UNIT, v) for k, v in extra.items()})
    if cols["delay"]:
        values = check_delays(table[cols["delay"]].to_numpy(), cols["delay"], file=file)
        ds = add_delay(ds, grid(values, np.nan, np.float64), delay_units)
    return schema.validate_responses(ds, file=file)
