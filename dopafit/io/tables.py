"""Spike times (or a sampled signal) plus a trials table → responses Dataset.

This is the extraction engine behind every loader: :func:`dopafit.load_nwb` reads spike
times and a trials table from NWB and calls the same code as :func:`responses_from_spikes`.

Column mapping
--------------
The trials table is a :class:`pandas.DataFrame` with one row per trial. The options name
the columns to use (defaults in brackets; the defaults also try a few common aliases):

- ``reward`` ["reward"; aliases reward_volume, reward_size, reward_magnitude, magnitude,
  reward_ul]: reward magnitude. A column name, a number (same reward on every trial), an
  array of one value per row, or a callable ``f(trials) -> array``. ``reward_map`` maps
  text or coded values to magnitudes (unmapped values become NaN). Trials with a NaN reward
  are dropped (counted in ``attrs['n_trials_dropped']['no_reward']``).
- ``align`` ["reward_time"; aliases reward_on, reward_onset, reward_start_time]: the
  alignment event; the response window is relative to ``align + offset``.
- ``cue_time`` ["cue_time"; aliases odor_time, odour_time, odor_onset, cue_onset],
  ``cued`` ["cued"], ``cue_id`` ["cue_id"], ``trial_type`` ["trial_type"]: optional; absent
  columns are simply not used (``cued`` then defaults to "cue time is finite").
- ``delay`` ["delay"]: the trial's cue-to-reward delay, used when the table has such a
  column (or named explicitly; ``"reward_time - cue_time"`` asks for a difference of two
  event-time columns; None: not used); in ``delay_units`` ["s"]. The responses then hold
  the coordinate ``delay(unit, trial)`` (see :mod:`dopafit.io.delays`).
- ``baseline_event`` ["first"]: the baseline is measured before the trial's first event
  (the cue on cued trials, the aligned event otherwise); ``"align"`` uses the aligned event;
  any column name uses that column.
- ``times_relative_to``: name of a column (e.g. "start_time") to add to every event column
  whose times are stored relative to the trial start (as in DANDI:000006).
- ``select``: a boolean column name, a pandas query string on the trials columns
  (``"is_good == 1 and response == 'correct'"``) or a boolean array.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import (
    ConfigError,
    DopafitNote,
    DopafitWarning,
    EventTimesError,
    NoDataError,
    SpikeTimesError,
)
from dopafit.io.columns import missing_column
from dopafit.io.delays import add_delay, trial_delays

__all__ = ["responses_from_spikes", "ExtractionOptions", "plan_trials", "assemble"]

REWARD_ALIASES = (
    "reward",
    "reward_volume",
    "reward_size",
    "reward_magnitude",
    "magnitude",
    "reward_ul",
)
ALIGN_ALIASES = ("reward_time", "reward_on", "reward_onset", "reward_start_time")
CUE_TIME_ALIASES = ("cue_time", "odor_time", "odour_time", "odor_onset", "cue_onset")
_DEFAULT_COLUMNS = {
    "reward": REWARD_ALIASES,
    "align": ALIGN_ALIASES,
    "cue_time": CUE_TIME_ALIASES,
    "cued": ("cued",),
    "cue_id": ("cue_id",),
    "trial_type": ("trial_type",),
}
FAITHFUL_GRID_MS = (-1000.0, 3000.0)
FAITHFUL_MAX_TRIALS = 60


@dataclass(frozen=True)
class ExtractionOptions:
    """Every choice that turns spikes and a trials table into responses (all recorded in attrs).

    See :func:`responses_from_spikes` for the meaning of each field.
    """

    reward: object = "reward"
    reward_map: Mapping | None = None
    reward_units: str = "ul"
    align: str = "reward_time"
    offset: float = 0.0
    cue_time: str | None = "cue_time"
    cued: str | None = "cued"
    cue_id: str | None = "cue_id"
    trial_type: str | None = "trial_type"
    delay: object = "delay"
    delay_units: str = "s"
    select: object = None
    times_relative_to: str | None = None
    baseline_event: str = "first"
    window: tuple[float, float] = (0.2, 0.6)
    baseline: tuple[float, float] = (-1.0, 0.0)
    faithful: bool = False
    max_trials_per_type: int | str | None = "auto"
    psth: bool = False
    psth_bin: float = 0.01
    psth_range: tuple[float, float] = (-1.0, 1.0)
    sort_spikes: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("window", "baseline", "psth_range"):
            try:
                value = tuple(float(v) for v in getattr(self, name))
            except (TypeError, ValueError):
                value = ()
            if len(value) != 2 or not value[0] < value[1] or not np.all(np.isfinite(value)):
                raise ConfigError(
                    f"{name} as (start, stop) in seconds with start < stop",
                    found=repr(getattr(self, name)),
                    remedy=f"pass e.g. {name}=(0.2, 0.6)",
                )
            object.__setattr__(self, name, value)
        for name in ("offset", "psth_bin"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.number)
            ):
                raise ConfigError(f"{name} as a number of seconds", found=repr(value))
        if not isinstance(self.delay_units, str):
            raise ConfigError("delay_units as a string, e.g. 's'", found=repr(self.delay_units))
        if self.psth_bin <= 0:
            raise ConfigError("psth_bin > 0 (s)", found=repr(self.psth_bin))
        cap = self.max_trials_per_type
        if not (cap is None or cap == "auto" or (isinstance(cap, (int, np.integer)) and cap > 0)):
            raise ConfigError(
                "max_trials_per_type as a positive int, None or 'auto'", found=repr(cap)
            )

    @property
    def trial_cap(self) -> int | None:
        """The per-(unit, trial type) cap in force (60 in faithful mode with 'auto')."""
        if self.max_trials_per_type == "auto":
            return FAITHFUL_MAX_TRIALS if self.faithful else None
        return self.max_trials_per_type

    @classmethod
    def pick(cls, arguments: Mapping) -> ExtractionOptions:
        """The options among a loader's arguments (e.g. its ``locals()``), other names ignored.

        The loaders repeat these options as explicit keywords (for signatures and docs) and
        build the options object with ``ExtractionOptions.pick(locals())``.
        """
        names = [f.name for f in fields(cls) if f.name != "extra"]
        return cls(**{name: arguments[name] for name in names if name in arguments})

    def record(self) -> dict:
        """JSON-able summary for ``attrs``."""
        out = {}
        for key, value in asdict(self).items():
            if key == "extra":
                continue
            if callable(value) or isinstance(value, (np.ndarray, pd.Series, list)):
                value = f"<{type(value).__name__}>"
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = {str(k): float(v) for k, v in value.items()}
            out[key] = value
        out["max_trials_per_type"] = self.trial_cap
        return out


@dataclass
class TrialPlan:
    """The trials kept for extraction, with every per-trial quantity the kernels need."""

    reward: np.ndarray
    align: np.ndarray
    anchor: np.ndarray
    cued: np.ndarray
    trial_type: np.ndarray
    cue_id: np.ndarray
    row: np.ndarray
    columns: dict
    dropped: dict
    delay: np.ndarray | None = None


def _column(trials: pd.DataFrame, option, role: str, file, *, required: bool):
    """Resolve the column name for ``role``; None when absent and not required."""
    if option is None:
        return None
    defaults = _DEFAULT_COLUMNS.get(role, ())
    candidates = [option]
    if defaults and option == defaults[0]:
        candidates = list(defaults)
    for name in candidates:
        if name in trials.columns:
            return name
    if not required:
        return None
    remedy = {
        "reward": "pass reward='<column>' (with reward_map={...} for text values) or "
        "reward=<number> for a constant reward",
        "align": "pass align='<event-time column>' (and offset=<s>), e.g. align='start_time'",
    }.get(role, f"pass {role}='<column>'")
    tried = "/".join(candidates)
    raise missing_column(trials, role, tried, remedy, option=option, keyword=role, file=file)


def _event_times(trials: pd.DataFrame, name: str, opts: ExtractionOptions, file) -> np.ndarray:
    values = pd.to_numeric(trials[name], errors="coerce").to_numpy(dtype=np.float64)
    rel = opts.times_relative_to
    if rel is not None and name not in (rel, "start_time", "stop_time"):
        values = values + _event_times(trials, rel, ExtractionOptions(), file)
    return values


def _reward_values(trials: pd.DataFrame, opts: ExtractionOptions, file) -> tuple[np.ndarray, str]:
    n = len(trials)
    spec = opts.reward
    if callable(spec):
        values, used = np.asarray(spec(trials)), getattr(spec, "__name__", "<callable>")
    elif isinstance(spec, str):
        used = _column(trials, spec, "reward", file, required=True)
        values = trials[used].to_numpy()
    elif np.ndim(spec) == 0:
        values, used = np.full(n, float(spec)), f"constant {float(spec):g}"
    else:
        values, used = np.asarray(spec), "<array>"
    if values.shape != (n,):
        raise ConfigError(f"one reward per trial ({n})", found=f"shape {values.shape}", file=file)
    if opts.reward_map is not None:
        mapping = dict(opts.reward_map)
        values = np.array([mapping.get(v, np.nan) for v in values.tolist()], dtype=np.float64)
        return values, used
    try:
        return np.asarray(values, dtype=np.float64), used
    except (TypeError, ValueError):
        kinds = ", ".join(repr(v) for v in pd.unique(pd.Series(values))[:6])
        raise ConfigError(
            f"numeric reward magnitudes in {used!r}",
            found=f"values {kinds}",
            remedy=f"pass reward_map={{<value>: <magnitude>, ...}} for column {used!r}",
            file=file,
        ) from None


def _selection(trials: pd.DataFrame, select, file) -> np.ndarray:
    n = len(trials)
    if select is None:
        return np.ones(n, dtype=bool)
    if isinstance(select, str):
        if select in trials.columns:
            col = trials[select]
            values = pd.to_numeric(col, errors="coerce") if col.dtype != bool else col
            ok = np.isin(np.asarray(values, dtype=float), (0.0, 1.0))
            if not ok.all():
                raise ConfigError(
                    f"a boolean (or 0/1) selection column {select!r}",
                    found=f"values such as {col[~ok].iloc[0]!r}",
                    remedy="pass a query string instead, e.g. select=\"type == 'x'\"",
                    file=file,
                )
            return np.asarray(values, dtype=float) == 1.0
        try:
            kept = trials.reset_index(drop=True).query(select)
        except Exception as exc:  # pandas raises many types for a bad expression
            cols = ", ".join(map(str, trials.columns))
            raise ConfigError(
                "select as a boolean column name or a pandas query on the trials columns",
                found=f"{select!r} ({type(exc).__name__}: {exc}); columns are {cols}",
                remedy="check the column names and quoting",
                file=file,
            ) from None
        mask = np.zeros(n, dtype=bool)
        mask[kept.index.to_numpy()] = True
        return mask
    if isinstance(select, Mapping) or np.ndim(select) != 1:
        raise ConfigError(
            f"select as a boolean column name, a pandas query string or a mask of {n} booleans "
            "(one per trial)",
            found=f"a {type(select).__name__}: {select!r}"[:120],
            remedy='e.g. select="cued" or select="cued == True and reward > 0"',
            file=file,
        )
    mask = np.array(select, dtype=bool)  # a copy: the caller's array is never written to
    if mask.shape != (n,):
        raise ConfigError(
            f"a selection mask of {n} booleans (one per trial)",
            found=f"{mask.size} values",
            remedy="pass one boolean per row of the trials table, or a column name or query",
            file=file,
        )
    return mask


def plan_trials(trials: pd.DataFrame, opts: ExtractionOptions, *, file=None) -> TrialPlan:
    """Resolve the column mapping, drop unusable trials and return what the kernels need.

    Trials are dropped, in this order and counted in ``dropped``: not selected
    (``selection``), NaN reward (``no_reward``), NaN alignment or baseline event
    (``nan_event``, with a :class:`~dopafit.errors.DopafitWarning`), beyond the per-type cap
    (``cap``). Kept trials are sorted by alignment time.
    """
    if not isinstance(trials, pd.DataFrame):
        raise ConfigError("the trials table as a pandas.DataFrame", found=type(trials).__name__)
    trials = trials.reset_index(drop=True)
    columns: dict = {}
    reward, columns["reward"] = _reward_values(trials, opts, file)
    columns["align"] = _column(trials, opts.align, "align", file, required=True)
    align = _event_times(trials, columns["align"], opts, file) + float(opts.offset)
    _warn_relative_times(trials, columns["align"], align, opts, file)
    cue, cued, ttype, cue_id = _trial_kinds(trials, opts, file, columns)
    delay, columns["delay"] = trial_delays(trials, opts.delay, file=file)
    anchor = _baseline_anchor(trials, opts, align, cue, file)
    columns["baseline_event"] = opts.baseline_event
    dropped = {"selection": 0, "no_reward": 0, "nan_event": 0, "cap": 0}
    keep = _usable_trials(trials, opts, reward, align, anchor, columns["align"], dropped, file)
    rows = np.nonzero(keep)[0]
    rows = rows[np.argsort(align[rows], kind="stable")]
    rows = _cap_per_type(rows, opts.trial_cap, columns["trial_type"], ttype, reward, cued, dropped)
    if rows.size == 0:
        raise NoDataError(
            "at least one trial with a finite reward and event time",
            found=f"{len(trials)} trial(s), dropped: "
            + ", ".join(f"{k} {v}" for k, v in dropped.items() if v),
            remedy="check reward=, align= and select=",
            file=file,
        )
    return TrialPlan(
        reward=reward[rows],
        align=align[rows],
        anchor=anchor[rows],
        cued=cued[rows],
        trial_type=ttype[rows],
        cue_id=cue_id[rows],
        row=rows.astype(np.int64),
        columns=columns,
        dropped=dropped,
        delay=None if delay is None else delay[rows],
    )


def _warn_relative_times(trials: pd.DataFrame, align_col: str, align, opts, file) -> None:
    """Warn when every aligned time precedes the first trial start (times stored per trial)."""
    if (
        opts.times_relative_to is None
        and "start_time" in trials.columns
        and align_col not in ("start_time", "stop_time")
        and np.isfinite(align).any()
    ):
        start = pd.to_numeric(trials["start_time"], errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(start).any() and np.nanmax(align) < np.nanmin(start):
            warnings.warn(
                f"{file or 'trials'}: every {align_col} time precedes the first "
                "start_time; if event times are stored relative to the trial start, pass "
                "times_relative_to='start_time'",
                DopafitWarning,
                stacklevel=4,
            )


def _trial_kinds(trials: pd.DataFrame, opts: ExtractionOptions, file, columns: dict) -> tuple:
    """Cue time, cued flag, trial type and cue id per trial; records their columns."""
    n = len(trials)
    cue_col = _column(trials, opts.cue_time, "cue_time", file, required=False)
    cue = _event_times(trials, cue_col, opts, file) if cue_col else np.full(n, np.nan)
    cued_col = _column(trials, opts.cued, "cued", file, required=False)
    if cued_col:
        cued = pd.to_numeric(trials[cued_col], errors="coerce").fillna(0).to_numpy() != 0
    else:
        cued = np.isfinite(cue)
    type_col = _column(trials, opts.trial_type, "trial_type", file, required=False)
    ttype = (
        pd.to_numeric(trials[type_col], errors="coerce").to_numpy(dtype=np.float64)
        if type_col
        else np.full(n, np.nan)
    )
    cue_id_col = _column(trials, opts.cue_id, "cue_id", file, required=False)
    cue_id = (
        pd.to_numeric(trials[cue_id_col], errors="coerce").to_numpy(dtype=np.float64)
        if cue_id_col
        else np.where(cued, 1.0, 0.0)
    )
    columns.update(cue_time=cue_col, cued=cued_col, trial_type=type_col, cue_id=cue_id_col)
    return cue, cued, ttype, cue_id


def _baseline_anchor(trials: pd.DataFrame, opts: ExtractionOptions, align, cue, file):
    """Time of each trial's baseline event (first event, aligned event or a column)."""
    base = opts.baseline_event
    if base == "first":
        return np.where(np.isfinite(cue) & (np.isnan(align) | (cue < align)), cue, align)
    if base == "align":
        return align.copy()
    col = _column(trials, base, "baseline_event", file, required=True)
    return _event_times(trials, col, opts, file)


def _usable_trials(trials, opts, reward, align, anchor, align_col, dropped, file) -> np.ndarray:
    """Mask of the selected trials with a finite reward and event times; counts the drops."""
    n = len(trials)
    keep = _selection(trials, opts.select, file)
    dropped["selection"] = int(n - keep.sum())
    no_reward = keep & ~np.isfinite(reward)
    dropped["no_reward"] = int(no_reward.sum())
    keep &= ~no_reward
    if keep.any() and np.isinf(reward[keep]).any():
        raise ConfigError("finite reward magnitudes", found="infinite values", file=file)
    bad_event = keep & ~(np.isfinite(align) & np.isfinite(anchor))
    dropped["nan_event"] = int(bad_event.sum())
    keep &= ~bad_event
    if dropped["nan_event"]:
        if not keep.any():
            raise EventTimesError(
                f"finite {align_col} times on the kept trials",
                found=f"NaN on all {dropped['nan_event']} of them",
                remedy="choose another align= column or check times_relative_to=",
                file=file,
            )
        warnings.warn(
            DopafitNote(
                f"{file or 'trials'}: dropped {dropped['nan_event']} trial(s) with a NaN "
                f"{align_col} or baseline event time (counted in attrs 'n_trials_dropped')",
                kind="dropped_trials",
            ),
            stacklevel=4,
        )
    return keep


def _cap_per_type(rows, cap, type_col, ttype, reward, cued, dropped) -> np.ndarray:
    """Keep the first ``cap`` rows of each trial type (reward and cued flag without one)."""
    if cap is None or not rows.size:
        return rows
    if type_col is not None:
        key = pd.Series(ttype[rows]).fillna(-1.0).astype(str)
    else:
        key = pd.Series(reward[rows]).astype(str) + "/" + pd.Series(cued[rows]).astype(str)
    within = key.groupby(key).cumcount().to_numpy()
    dropped["cap"] = int((within >= cap).sum())
    return rows[within < cap]


def pack(spike_times) -> tuple[np.ndarray, np.ndarray]:
    """Pack per-unit spike-time arrays into the kernels' CSR layout (unchecked).

    Returns
    -------
    spikes : ndarray of float64, shape (n_spikes,)
    offsets : ndarray of int64, shape (n_unit + 1,)
    """
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in spike_times]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([a.size for a in arrays])
    spikes = np.concatenate(arrays) if arrays else np.zeros(0)
    return spikes, offsets


def check_ragged(spikes, offsets, *, sort: bool = False, file=None, unit_ids=None):
    """Check CSR spike trains and, with ``sort=True``, repair them.

    Returns
    -------
    spikes, offsets : ndarray
        The trains, unchanged when sorted and finite; else each unit's finite spikes, sorted.
    fixed : dict
        Numbers of NaN spikes removed and of units sorted (only with ``sort=True``).

    Raises
    ------
    SpikeTimesError
        NaN or unsorted spike times and ``sort=False``.
    """
    from dopafit.kernels.extract import check_spikes

    n_nan, n_unsorted = check_spikes(spikes, offsets)
    fixed = {"nan_spikes_removed": 0, "units_sorted": 0}
    if not (n_nan.any() or n_unsorted.any()):
        return spikes, offsets, fixed
    ids = list(unit_ids) if unit_ids is not None else [str(i) for i in range(len(n_nan))]
    if not sort:
        problems = []
        for i in np.nonzero(n_nan)[0][:5]:
            problems.append(f"unit {ids[i]}: {n_nan[i]} NaN spike time(s)")
        for i in np.nonzero(n_unsorted)[0][:5]:
            problems.append(f"unit {ids[i]}: {n_unsorted[i]} decreasing step(s)")
        raise SpikeTimesError(
            "sorted, finite spike times per unit",
            found=f"{int(n_nan.sum())} NaN and {int(n_unsorted.sum())} out-of-order spike(s)",
            problems=problems,
            remedy="pass sort_spikes=True to sort each unit's spikes and drop NaN times",
            file=file,
        )
    parts = []
    for u in range(len(offsets) - 1):
        s = spikes[offsets[u] : offsets[u + 1]]
        parts.append(np.sort(s[np.isfinite(s)]))
    fixed = {"nan_spikes_removed": int(n_nan.sum()), "units_sorted": int((n_unsorted > 0).sum())}
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.size for p in parts])
    return np.concatenate(parts) if parts else np.zeros(0), offsets, fixed


def extract_spikes(
    spikes, offsets, plan: TrialPlan, opts: ExtractionOptions, *, file=None, unit_ids=None
) -> dict:
    """Run the kernels for one session: responses, baselines, counts and optional PSTH.

    The spike trains are checked in the same pass as the window counts. NaN or unsorted
    spike times raise :class:`~dopafit.errors.SpikeTimesError`, or with
    ``opts.sort_spikes`` are repaired (see :func:`check_ragged`) before extracting again.

    Returns
    -------
    dict
        ``window_count``, ``baseline_count``, ``response``, ``baseline`` (unit, trial),
        ``n_spikes`` (unit), ``spike_fixes`` and, with the options that ask for them,
        ``faithful_grid_ms``, ``psth`` and ``time``.
    """
    from dopafit.kernels import extract as K

    w0, w1 = opts.window
    b0, b1 = opts.baseline
    n_t = plan.align.size
    edges = np.concatenate(
        [plan.align + w0, plan.align + w1, plan.anchor + b0, plan.anchor + b1]
    ).astype(np.float64)
    order = np.argsort(edges, kind="stable").astype(np.int64)
    idx = np.arange(n_t, dtype=np.int64)
    win_lo = np.stack([idx, idx + 2 * n_t])
    win_hi = np.stack([idx + n_t, idx + 3 * n_t])
    counts, n_bad = K.window_counts(spikes, offsets, edges, order, win_lo, win_hi)
    fixed = {"nan_spikes_removed": 0, "units_sorted": 0}
    if n_bad.any():
        spikes, offsets, fixed = check_ragged(
            spikes, offsets, sort=opts.sort_spikes, file=file, unit_ids=unit_ids
        )
        counts, n_bad = K.window_counts(spikes, offsets, edges, order, win_lo, win_hi)
    window_count, baseline_count = counts[0], counts[1]
    out = {
        "window_count": window_count,
        "baseline_count": baseline_count,
        "n_spikes": np.diff(offsets),
        "spike_fixes": fixed,
    }
    if not opts.faithful:
        out["response"], out["baseline"] = K.count_rates(
            window_count, baseline_count, float(w1 - w0), float(b1 - b0)
        )
    else:
        grid = _faithful_grid(plan, opts)
        lo = grid["lo"]
        win_start = np.round((plan.align - plan.anchor + w0) * 1000.0).astype(np.int64) - int(lo)
        response, base = K.faithful_responses(
            spikes,
            offsets,
            plan.anchor.astype(np.float64),
            win_start,
            grid["win_len"],
            grid["base_start"],
            grid["base_len"],
            lo,
            grid["hi"],
            K.faithful_kernel(),
        )
        out["response"], out["baseline"] = response, base
        out["faithful_grid_ms"] = [lo, grid["hi"]]
    if opts.psth:
        out["psth"], out["time"] = _psth(spikes, offsets, plan, opts, out["baseline"])
    return out


def _faithful_grid(plan: TrialPlan, opts: ExtractionOptions) -> dict:
    w0, w1 = opts.window
    b0, b1 = opts.baseline
    lo = min(FAITHFUL_GRID_MS[0], np.floor(b0 * 1000.0))
    reach = float(np.max(plan.align - plan.anchor)) + w1
    hi = max(FAITHFUL_GRID_MS[1], np.ceil(reach * 1000.0) + 26.0)
    return {
        "lo": float(lo),
        "hi": float(hi),
        "win_len": round((w1 - w0) * 1000.0),
        "base_start": int(round(b0 * 1000.0) - lo),
        "base_len": round((b1 - b0) * 1000.0),
    }


def _psth(spikes, offsets, plan, opts, baseline):
    from dopafit.kernels import extract as K

    p0, p1 = opts.psth_range
    n_bins = round((p1 - p0) / opts.psth_bin)
    time = p0 + (np.arange(n_bins) + 0.5) * opts.psth_bin
    if not opts.faithful:
        counts = K.binned_counts(spikes, offsets, plan.align + p0, float(opts.psth_bin), n_bins)
        cube = counts / np.float32(opts.psth_bin) - baseline[:, :, None].astype(np.float32)
        return cube, time
    bin_ms = round(opts.psth_bin * 1000.0)
    if abs(bin_ms - opts.psth_bin * 1000.0) > 1e-9 or bin_ms < 1:
        raise ConfigError("psth_bin a whole number of ms in faithful mode", found=opts.psth_bin)
    grid = _faithful_grid(plan, opts)
    start = np.round((plan.align - plan.anchor + p0) * 1000.0).astype(np.int64) - int(grid["lo"])
    cube = K.faithful_traces(
        spikes,
        offsets,
        plan.anchor.astype(np.float64),
        start,
        n_bins,
        bin_ms,
        grid["base_start"],
        grid["base_len"],
        grid["lo"],
        grid["hi"],
        K.faithful_kernel(),
    )
    return cube, time


def unit_flags(
    n_spikes: np.ndarray,
    window_count: np.ndarray,
    baseline_count: np.ndarray,
    reward: np.ndarray,
    all_magnitudes: np.ndarray,
) -> list[str]:
    """Per-unit flags: ``no_spikes``, ``no_trial_spikes``, ``missing_magnitudes=...``."""
    present = np.unique(reward[np.isfinite(reward)])
    missing = [m for m in np.unique(all_magnitudes) if not np.isclose(present, m).any()]
    missing_flag = ["missing_magnitudes=" + "/".join(f"{m:g}" for m in missing)] if missing else []
    in_trials = window_count.sum(axis=1) + baseline_count.sum(axis=1)
    flags = []
    for u in range(n_spikes.size):
        f = []
        if n_spikes[u] == 0:
            f.append("no_spikes")
        elif in_trials[u] == 0:
            f.append("no_trial_spikes")
        flags.append(",".join(f + missing_flag))
    return flags


@dataclass
class Block:
    """One session's extracted arrays, before padding into a Dataset."""

    out: dict
    plan: TrialPlan
    unit_id: list
    session: str
    subject: str
    n_spikes: np.ndarray
    unit_vars: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def assemble(blocks: Sequence[Block], opts: ExtractionOptions, attrs: dict) -> xr.Dataset:
    """Pad the blocks' trials with NaN, stack their units and build a validated Dataset."""
    pad = partial(_pad, blocks)
    unit_ids, sessions, subjects, base_rate, unit_vars = _unit_columns(blocks)
    ds = schema.make_responses(
        pad(lambda b: b.out["response"], np.nan, np.float64),
        pad(lambda b: b.plan.reward, np.nan, np.float64),
        cued=pad(lambda b: b.plan.cued, False, bool),
        event_time=pad(lambda b: b.plan.align, np.nan, np.float64),
        unit_id=unit_ids,
        session=sessions,
        subject=subjects,
        baseline_rate=base_rate,
        attrs=_extraction_attrs(blocks, opts, attrs),
        unit_vars=unit_vars,
    )
    ds = _add_trial_variables(ds, pad)
    if any(b.plan.delay is not None for b in blocks):
        ds = add_delay(ds, pad(_plan_delay, np.nan, np.float64), opts.delay_units)
    if opts.psth:
        ds = _add_psth(ds, blocks)
    _warn_flags(ds)
    return schema.validate_responses(ds)


def _plan_delay(block: Block) -> np.ndarray:
    """A block's delays per trial (NaN when its trials table has none)."""
    d = block.plan.delay
    return np.full(block.plan.align.size, np.nan) if d is None else d


def _pad(blocks: Sequence[Block], getter, fill, dtype) -> np.ndarray:
    """Each block's ``getter`` value (per trial or per unit and trial) as one padded array."""
    n_unit = sum(len(b.unit_id) for b in blocks)
    if len(blocks) == 1:  # nothing to pad: avoid copying large arrays
        value = np.asarray(getter(blocks[0]), dtype=dtype)
        if value.ndim == 2:
            return np.ascontiguousarray(value)
        return np.repeat(value[None, :], n_unit, axis=0)
    n_trial = max(b.plan.align.size for b in blocks)
    arr = np.full((n_unit, n_trial), fill, dtype=dtype)
    u = 0
    for b in blocks:
        value = np.asarray(getter(b))
        k = len(b.unit_id)
        arr[u : u + k, : b.plan.align.size] = value if value.ndim == 2 else value[None, :]
        u += k
    return arr


def _unit_columns(blocks: Sequence[Block]) -> tuple:
    """Per-unit ids, sessions, subjects, baseline rates and extra variables of all blocks."""
    all_magnitudes = np.unique(np.concatenate([b.plan.reward for b in blocks]))
    all_magnitudes = all_magnitudes[np.isfinite(all_magnitudes)]
    flags, unit_ids, sessions, subjects, base_rate, n_spk = [], [], [], [], [], []
    for b in blocks:
        unit_ids += [str(x) for x in b.unit_id]
        sessions += [b.session] * len(b.unit_id)
        subjects += [b.subject] * len(b.unit_id)
        base_rate.append(np.nanmean(b.out["baseline"], axis=1) if b.plan.align.size else [])
        n_spk.append(b.n_spikes)
        flags += unit_flags(
            b.n_spikes,
            b.out["window_count"],
            b.out["baseline_count"],
            b.plan.reward,
            all_magnitudes,
        )
    names = sorted({k for b in blocks for k in b.unit_vars})
    unit_vars = {}
    for name in names:
        parts = [
            np.asarray(b.unit_vars[name])
            if name in b.unit_vars
            else np.full(len(b.unit_id), np.nan)
            for b in blocks
        ]
        unit_vars[name] = np.concatenate(parts)
    unit_vars["n_spikes"] = np.concatenate(n_spk).astype(np.int64)
    unit_vars["unit_flags"] = np.asarray(flags, dtype=object)
    return unit_ids, sessions, subjects, np.concatenate(base_rate), unit_vars


def _extraction_attrs(blocks: Sequence[Block], opts: ExtractionOptions, attrs: dict) -> dict:
    """The Dataset attrs: every extraction choice, then the caller's ``attrs``."""
    all_attrs = {
        "response_units": "spikes/s",
        "reward_units": opts.reward_units,
        "align": blocks[0].plan.columns["align"],
        "window": list(opts.window),
        "baseline": list(opts.baseline),
        "baseline_event": opts.baseline_event,
        "offset": float(opts.offset),
        "faithful": bool(opts.faithful),
        "extraction": "faithful smoothed PSTH" if opts.faithful else "spike count",
        "max_trials_per_type": opts.trial_cap,
        "options": opts.record(),
    }
    all_attrs.update(attrs)
    return all_attrs


def _add_trial_variables(ds: xr.Dataset, pad) -> xr.Dataset:
    """Add the per-trial coordinates and the baseline and count variables."""
    dims2 = (schema.UNIT, schema.TRIAL)
    ds = ds.assign_coords(
        trial_type=(dims2, pad(lambda b: b.plan.trial_type, np.nan, np.float64)),
        cue_id=(dims2, pad(lambda b: b.plan.cue_id, np.nan, np.float64)),
        trial_index=(dims2, pad(lambda b: b.plan.row, -1, np.int64)),
    )
    for name in ("baseline", "window_count", "baseline_count"):
        ds[name] = (dims2, pad(lambda b, n=name: b.out[n], np.nan, np.float64))
    ds["baseline"].attrs["units"] = ds.attrs["response_units"]
    return ds


def _add_psth(ds: xr.Dataset, blocks: Sequence[Block]) -> xr.Dataset:
    """Add ``psth(unit, trial, time)``, padded with NaN like the responses."""
    n_time = blocks[0].out["time"].size
    cube = np.full((ds.sizes[schema.UNIT], ds.sizes[schema.TRIAL], n_time), np.nan, np.float32)
    u = 0
    for b in blocks:
        k = len(b.unit_id)
        cube[u : u + k, : b.plan.align.size] = b.out["psth"]
        u += k
    ds = ds.assign_coords(time=("time", blocks[0].out["time"]))
    ds["psth"] = ((schema.UNIT, schema.TRIAL, "time"), cube)
    ds["psth"].attrs.update(
        units=ds.attrs["response_units"],
        description="baseline-subtracted rate, time relative to the aligned event",
    )
    return ds


def _warn_flags(ds: xr.Dataset) -> None:
    flags = ds["unit_flags"].values
    for kind, text in (
        ("no_spikes", "no spikes at all"),
        ("no_trial_spikes", "no spikes in any window or baseline"),
        ("missing_magnitudes", "no trials of some reward magnitude"),
    ):
        hit = [str(i) for i, f in zip(ds[schema.UNIT_ID].values, flags) if kind in f]
        if hit:
            more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
            warnings.warn(
                DopafitNote(
                    f"{len(hit)} unit(s) with {text} (flagged in 'unit_flags'): "
                    f"{', '.join(hit[:5])}{more}",
                    kind="flagged_units",
                ),
                stacklevel=4,
            )


def responses_from_spikes(
    spike_times: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    trials: pd.DataFrame,
    *,
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
    unit_ids: Sequence[str] | None = None,
    session: str = "session",
    subject: str = "subject",
    unit_vars: Mapping[str, Sequence] | None = None,
    source: str = "in-memory",
) -> xr.Dataset:
    """Per-trial responses of spiking units from spike times and a trials table.

    Response of unit ``u`` on trial ``j`` (default, spike-count mode):

    .. math:: r_{uj} = \\frac{N_u[a_j + w_0, a_j + w_1)}{w_1 - w_0}
              - \\frac{N_u[b_j + \\beta_0, b_j + \\beta_1)}{\\beta_1 - \\beta_0}

    with :math:`a_j` the aligned event (+ ``offset``), :math:`b_j` the baseline event,
    ``window`` :math:`= (w_0, w_1)` and ``baseline`` :math:`= (\\beta_0, \\beta_1)`.
    ``faithful=True`` replaces both rates by the smoothed-PSTH computation of Dabney et al.
    (2020) (see :mod:`dopafit.kernels.extract`, docs/howto/load-nwb.md).

    Parameters
    ----------
    spike_times : sequence of ndarray, or dict unit_id -> ndarray
        Spike times (s) of each unit, on the same clock as the trials table.
    trials : pandas.DataFrame, one row per trial
        Trials table; see the module docstring for the column mapping.
    reward, reward_map, reward_units
        Reward magnitude column (or number, array, callable), optional value → magnitude
        map, and the magnitude's units (attrs ``reward_units``).
    align : str, default "reward_time"
        Alignment-event column; ``offset`` (s) is added to it.
    offset : float, default 0.0
        Seconds added to the aligned event.
    cue_time, cued, cue_id, trial_type : str or None
        Optional columns (None: do not use).
    delay : str, array, callable or None, default "delay"
        The trial's cue-to-reward delay: a column (the default one only when present), the
        difference of two event-time columns (``"reward_time - cue_time"``), one value per
        row, or None. Gives the coordinate ``delay(unit, trial)`` (NaN: none known).
    delay_units : str, default "s"
        Units of the delays (attrs ``delay_units``).
    select : str or array of bool, optional
        Boolean column, pandas query string or mask choosing trials.
    times_relative_to : str, optional
        Column added to every event-time column (for event times stored per trial).
    baseline_event : {"first", "align"} or str, default "first"
        Baseline reference: the trial's first event (cue on cued trials), the aligned event,
        or a named column.
    window, baseline : (float, float)
        Response window after the aligned event and baseline window around the baseline
        event (s).
    faithful : bool, default False
        Use the original smoothed-PSTH response instead of spike counts.
    max_trials_per_type : int, None or "auto", default "auto"
        Keep at most this many (chronologically first) trials per trial type (per reward and
        cued flag without a trial-type column); "auto" = 60 in faithful mode, else no cap.
    psth : bool, default False
        Also return ``psth(unit, trial, time)``, the baseline-subtracted rate in bins of
        ``psth_bin`` s over ``psth_range`` around the aligned event.
    psth_bin, psth_range : float, (float, float), default 0.01, (-1.0, 1.0)
        Bin width (s) of ``psth`` and its time range around the aligned event (s).
    sort_spikes : bool, default False
        Sort unsorted spike trains and drop NaN spike times instead of raising
        :class:`~dopafit.errors.SpikeTimesError`.
    unit_ids, session, subject, unit_vars, source
        Identifiers, extra per-unit variables (e.g. ground truth) and provenance.

    Returns
    -------
    xarray.Dataset
        A validated responses Dataset (``dopafit.schema``) with, beside ``response``, the
        variables ``baseline``, ``window_count``, ``baseline_count`` (unit, trial),
        ``n_spikes`` and ``unit_flags`` (unit), coordinates ``trial_type``, ``cue_id``,
        ``trial_index`` (row of the trials table), ``delay`` when delays are known, and
        every choice in ``attrs``.

    Raises
    ------
    MissingColumnError, SpikeTimesError, EventTimesError, NoDataError, ConfigError

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import dopafit
    >>> trials = pd.DataFrame({"reward": [1.0, 5.0], "reward_time": [2.0, 6.0]})
    >>> spikes = [np.array([1.5, 2.3, 2.4, 6.25])]
    >>> ds = dopafit.responses_from_spikes(spikes, trials)
    >>> ds["response"].values.round(2).tolist()  # 2 spikes / 0.4 s - 1 spike / 1 s, ...
    [[4.0, 2.5]]
    """
    opts = ExtractionOptions.pick(locals())
    if isinstance(spike_times, Mapping):
        unit_ids = list(spike_times) if unit_ids is None else list(unit_ids)
        spike_times = list(spike_times.values())
    spike_times = list(spike_times)
    if unit_ids is None:
        unit_ids = [str(i) for i in range(len(spike_times))]
    if len(unit_ids) != len(spike_times) or not spike_times:
        raise ConfigError(
            "one or more units with one unit id each",
            found=f"{len(spike_times)} spike trains and {len(unit_ids)} ids",
        )
    spikes, offsets = pack(spike_times)
    file = None if source == "in-memory" else source
    plan = plan_trials(trials, opts, file=file)
    out = extract_spikes(spikes, offsets, plan, opts, file=file, unit_ids=unit_ids)
    block = Block(
        out=out,
        plan=plan,
        unit_id=list(unit_ids),
        session=str(session),
        subject=str(subject),
        n_spikes=out["n_spikes"],
        unit_vars=dict(unit_vars or {}),
    )
    attrs = {
        "source": source,
        "columns": {k: v for k, v in plan.columns.items() if v is not None},
        "n_trials_dropped": plan.dropped,
        "spike_fixes": out["spike_fixes"],
    }
    return assemble([block], opts, attrs)
