"""The responses data model: one ``xarray.Dataset`` of unit × trial responses.

Loaders produce it, the simulator produces it (with ground truth), fitters consume it.

Layout
------
dims
    ``unit`` and ``trial``. Trials of a unit are in chronological order and left-aligned;
    units with fewer trials (e.g. from another session) are padded at the end. A padded cell
    has ``reward`` NaN and ``response`` NaN.
data variables
    ``response(unit, trial)`` float64: the trial's response (window rate minus baseline
    rate, in ``attrs['response_units']``). NaN where the trial does not exist or the unit
    has no usable response on it.
coordinates
    ``reward(unit, trial)`` float64 magnitude in ``attrs['reward_units']`` (NaN = no trial);
    ``cued(unit, trial)`` bool; ``event_time(unit, trial)`` float64 seconds (the alignment
    event, NaN for padding); per unit ``unit_id`` (str), ``session`` (str), ``subject``
    (str) and ``baseline_rate`` (float64, mean baseline rate of the unit).
optional coordinates
    ``delay(unit, trial)`` float64: the trial's cue-to-reward delay in
    ``attrs['delay_units']`` (default ``"s"``; NaN = unknown), for the discounting analysis
    of cue-aligned responses; ``cue_id(unit, trial)`` float64 (NaN = no cue).
optional per-unit ground truth (simulated data)
    the names of :data:`TRUTH_VARS` (``true_reversal_point``, ``true_tau``, ...) and
    ``true_reversal_point_cue<c>``.
attrs
    ``response_units``, ``reward_units``, ``align``, ``window``, ``baseline``, ``source``,
    ``dopafit_version`` (required); anything else that records how the data were made.
    A Dataset built by hand may lack them: :func:`make_responses` and
    :func:`validate_responses` then fill them (and the optional coordinates) with defaults,
    say which in one :class:`~dopafit.errors.DopafitWarning`, and list them in
    ``attrs['filled_defaults']``.

Examples
--------
>>> import numpy as np
>>> from dopafit import schema
>>> ds = schema.make_responses(
...     response=np.array([[1.0, -0.5, np.nan]]),
...     reward=np.array([[5.0, 0.1, np.nan]]),
...     unit_id=["u0"], session=["s0"], subject=["m0"],
... )
>>> schema.validate_responses(ds) is ds
True
>>> int(schema.trial_mask(ds).sum())
2
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit._version import __version__
from dopafit.errors import DopafitWarning, FileNotFoundError_, NotNWBError, ResponsesError

__all__ = [
    "UNIT",
    "TRIAL",
    "RESPONSE",
    "REWARD",
    "CUED",
    "EVENT_TIME",
    "DELAY",
    "UNIT_ID",
    "SESSION",
    "SUBJECT",
    "BASELINE_RATE",
    "TRUTH_VARS",
    "TRUTH_CORE",
    "TRUTH_DESCRIPTIONS",
    "UNIT_COORD_DESCRIPTIONS",
    "is_truth",
    "REQUIRED_ATTRS",
    "DEFAULT_ATTRS",
    "FILLED",
    "make_responses",
    "validate_responses",
    "trial_mask",
    "provenance_attrs",
    "to_netcdf",
    "open_responses",
    "RESULT_KIND",
    "EXPECTILE_FIT",
    "LEARNING_FIT",
    "COMPARISON",
    "DECODING",
    "PROBABILITY_TASK",
    "LEARNING_RECOVERY",
    "DISCOUNT_FIT",
    "TIMING_DECODING",
    "RESULT_KINDS",
]

# dims
UNIT = "unit"
TRIAL = "trial"
# variables and coordinates
RESPONSE = "response"
REWARD = "reward"
CUED = "cued"
EVENT_TIME = "event_time"
#: optional coordinate ``delay(unit, trial)``: cue-to-reward delay in ``attrs["delay_units"]``
DELAY = "delay"
UNIT_ID = "unit_id"
SESSION = "session"
SUBJECT = "subject"
BASELINE_RATE = "baseline_rate"

# results: every analysis returns a Dataset whose attrs[RESULT_KIND] names its kind (the
# ``dopafit`` accessor of :mod:`dopafit.results` dispatches on it)
RESULT_KIND = "dopafit_result"
EXPECTILE_FIT = "expectile_fit"  #: :func:`dopafit.fit_expectiles`
LEARNING_FIT = "learning_fit"  #: :func:`dopafit.fit_learning`
COMPARISON = "comparison"  #: :func:`dopafit.compare`
DECODING = "decoding"  #: :func:`dopafit.decode_distribution`
PROBABILITY_TASK = "probability_task"  #: :func:`dopafit.probability_task_stats`
LEARNING_RECOVERY = "learning_recovery"  #: :func:`dopafit.learning_recovery`
DISCOUNT_FIT = "discount_fit"  #: :func:`dopafit.fit_discounting`
TIMING_DECODING = "timing_decoding"  #: :func:`dopafit.decode_timing`
RESULT_KINDS = (
    EXPECTILE_FIT,
    LEARNING_FIT,
    COMPARISON,
    DECODING,
    PROBABILITY_TASK,
    LEARNING_RECOVERY,
    DISCOUNT_FIT,
    TIMING_DECODING,
)

#: Per-unit ground truth of simulated data: name -> description (the one list of these names:
#: the simulator writes them, write_nwb stores them as unit columns, load_nwb reads them back).
TRUTH_DESCRIPTIONS = {
    "true_reversal_point": "ground truth: reversal point (utility units), uncued context",
    "true_tau": "ground truth: asymmetry tau = alpha_pos / (alpha_pos + alpha_neg)",
    "true_alpha_pos": "ground truth: response slope above the reversal point (Hz / utility unit)",
    "true_alpha_neg": "ground truth: response slope below the reversal point (Hz / utility unit)",
    "true_baseline": "ground truth: baseline firing rate (Hz)",
    "true_gain": "ground truth: mean slope (alpha_pos + alpha_neg) / 2 (Hz / utility unit)",
    "true_noise": "ground truth: SD of added trial-to-trial rate noise (Hz); Poisson noise on top",
    "true_reversal_tau": "ground truth: expectile level of the reversal point",
    "true_sigmoid_threshold": "ground truth: sigmoid midpoint (utility units)",
    "true_sigmoid_slope": "ground truth: sigmoid slope (1 / utility unit)",
    "true_sigmoid_amplitude": "ground truth: sigmoid response amplitude (Hz)",
    "true_eta_pos": "ground truth: learning rate after a positive prediction error",
    "true_eta_neg": "ground truth: learning rate after a zero or negative prediction error",
    "true_tau_learning": "ground truth: eta_pos / (eta_pos + eta_neg)",
    "true_tau_scaling": "ground truth: alpha_pos / (alpha_pos + alpha_neg)",
    "true_gamma": "ground truth: discount factor per delay unit (NaN for hyperbolic units)",
    "true_hyperbolic_k": "ground truth: hyperbolic discount rate (1 / delay unit; NaN unless "
    "hyperbolic)",
    "true_amplitude": "ground truth: cue-response amplitude A at zero delay above the "
    "asymptote (Hz)",
    "true_asymptote": "ground truth: delay-independent cue-response asymptote b (Hz)",
    "true_discount": "ground truth: discount function, exponential or hyperbolic",
}
TRUTH_VARS = tuple(TRUTH_DESCRIPTIONS)
#: The per-unit coordinates that results carry over from the responses, and the magnitude
#: axis: name -> description (``attrs["description"]`` of every result that has them).
UNIT_COORD_DESCRIPTIONS = {
    "unit": "index of the unit in the responses Dataset",
    "unit_id": "unit identifier within its session",
    "session": "session the unit was recorded in",
    "subject": "subject (animal) of the session",
    "baseline_rate": "mean baseline rate of the unit (response units)",
    "magnitude": "reward magnitude (reward units), increasing",
}
#: The ground truth every simulated population has (the others belong to a kind or a mode:
#: sigmoid units, learning).
TRUTH_CORE = TRUTH_VARS[:8]
#: Names of per-cue ground truth: ``true_reversal_point_cue<c>`` for cue ``c``.
TRUTH_CUE_PREFIX = "true_reversal_point_cue"


def is_truth(name: str) -> bool:
    """Whether ``name`` is a per-unit ground-truth variable (:data:`TRUTH_VARS` or per cue)."""
    return name in TRUTH_DESCRIPTIONS or (
        name.startswith(TRUTH_CUE_PREFIX) and name[len(TRUTH_CUE_PREFIX) :].isdigit()
    )


UNIT_TRIAL_COORDS = (REWARD, CUED, EVENT_TIME)
UNIT_COORDS = (UNIT_ID, SESSION, SUBJECT, BASELINE_RATE)
REQUIRED_ATTRS = (
    "response_units",
    "reward_units",
    "align",
    "window",
    "baseline",
    "source",
    "dopafit_version",
)

#: The value each required attr gets when a Dataset lacks it (``dopafit_version``: this one).
DEFAULT_ATTRS = {
    "response_units": "spikes/s",
    "reward_units": "ul",
    "align": "reward",
    "window": [0.2, 0.6],
    "baseline": [-1.0, 0.0],
    "source": "in-memory",
}
#: attr listing the attrs and coordinates that were filled with defaults (absent: none were)
FILLED = "filled_defaults"


def make_responses(
    response: np.ndarray,
    reward: np.ndarray,
    *,
    cued: np.ndarray | None = None,
    event_time: np.ndarray | None = None,
    unit_id: Sequence[str] | None = None,
    session: Sequence[str] | None = None,
    subject: Sequence[str] | None = None,
    baseline_rate: Sequence[float] | None = None,
    attrs: dict | None = None,
    unit_vars: dict[str, Sequence] | None = None,
) -> xr.Dataset:
    """Build a responses Dataset from arrays (the one constructor every producer uses).

    Parameters
    ----------
    response, reward : ndarray, shape (n_unit, n_trial)
        Responses and reward magnitudes; NaN reward marks a padded (absent) trial.
    cued : ndarray of bool, shape (n_unit, n_trial), optional
        Whether a cue predicted the reward. Default all False.
    event_time : ndarray, shape (n_unit, n_trial), optional
        Alignment-event time in seconds. Default NaN.
    unit_id, session, subject : sequence of str, length n_unit, optional
        Identifiers. Defaults ``"0", "1", ...``, ``"session"``, ``"subject"``.
    baseline_rate : sequence of float, length n_unit, optional
        Mean baseline rate per unit. Default NaN.
    attrs : dict, optional
        How the responses were made (see module docstring); ``dopafit_version`` is set.
        Required attrs missing here get the values of :data:`DEFAULT_ATTRS`, are listed in
        ``attrs['filled_defaults']`` and named in one :class:`~dopafit.errors.DopafitWarning`.
    unit_vars : dict, optional
        Extra per-unit data variables (e.g. ground truth ``true_tau``).

    Returns
    -------
    xarray.Dataset
        A Dataset that passes :func:`validate_responses` if the inputs are consistent.

    Warns
    -----
    DopafitWarning
        When ``attrs`` lacks some of ``response_units``, ``reward_units``, ``align``,
        ``window``, ``baseline``, ``source``: which were filled, and with what.

    Examples
    --------
    >>> import numpy as np
    >>> import dopafit
    >>> response = np.array([[-1.2, 0.4, 3.1], [-0.3, 1.8, np.nan]])  # Hz, 2 units x 3 trials
    >>> reward = np.array([[0.1, 2.5, 20.0], [0.1, 20.0, np.nan]])  # NaN: unit "b" has 2 trials
    >>> ds = dopafit.make_responses(response, reward, unit_id=["a", "b"],
    ...                             attrs={"response_units": "spikes/s", "reward_units": "ul",
    ...                                    "align": "reward_time", "window": [0.2, 0.6],
    ...                                    "baseline": [-1.0, 0.0], "source": "my_lab.mat"})
    >>> dict(ds.sizes)
    {'unit': 2, 'trial': 3}
    >>> ds["unit_id"].values.tolist(), ds.attrs["response_units"], ds.attrs["reward_units"]
    (['a', 'b'], 'spikes/s', 'ul')

    Attrs not given are filled with defaults, named in a warning and listed in the Dataset:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     ds = dopafit.make_responses(response, reward, attrs={"source": "my_lab.mat"})
    >>> print(caught[0].message)
    my_lab.mat: the responses lack attrs response_units, reward_units, align, window, baseline;
    filled with defaults: response_units='spikes/s', reward_units='ul', align='reward',
    window=[0.2, 0.6], baseline=[-1.0, 0.0] (listed in attrs['filled_defaults']). Record how
    the responses were made with attrs={...} (or ds.attrs[...] = ...)
    >>> ds.attrs["filled_defaults"]
    ['response_units', 'reward_units', 'align', 'window', 'baseline']
    """
    response = np.asarray(response, dtype=np.float64)
    reward = np.asarray(reward, dtype=np.float64)
    if response.ndim != 2 or reward.shape != response.shape:
        raise ResponsesError(
            "response and reward as 2-D arrays of equal shape (unit, trial)",
            found=f"shapes {response.shape} and {reward.shape}",
            remedy="pad units with fewer trials with NaN",
        )
    n_unit, n_trial = response.shape
    if cued is None:
        cued = np.zeros(response.shape, dtype=bool)
    if event_time is None:
        event_time = np.full(response.shape, np.nan)
    if unit_id is None:
        unit_id = [str(i) for i in range(n_unit)]
    if session is None:
        session = ["session"] * n_unit
    if subject is None:
        subject = ["subject"] * n_unit
    if baseline_rate is None:
        baseline_rate = np.full(n_unit, np.nan)
    dims2 = (UNIT, TRIAL)
    coords = {
        UNIT: np.arange(n_unit),
        TRIAL: np.arange(n_trial),
        REWARD: (dims2, reward),
        CUED: (dims2, np.asarray(cued, dtype=bool)),
        EVENT_TIME: (dims2, np.asarray(event_time, dtype=np.float64)),
        UNIT_ID: (UNIT, np.asarray([str(u) for u in unit_id], dtype=object)),
        SESSION: (UNIT, np.asarray([str(s) for s in session], dtype=object)),
        SUBJECT: (UNIT, np.asarray([str(s) for s in subject], dtype=object)),
        BASELINE_RATE: (UNIT, np.asarray(baseline_rate, dtype=np.float64)),
    }
    data_vars = {RESPONSE: (dims2, response)}
    for name, values in (unit_vars or {}).items():
        data_vars[name] = (UNIT, np.asarray(values))
    all_attrs = dict(attrs or {})
    filled = _fill_attrs(all_attrs)
    all_attrs["dopafit_version"] = __version__
    if filled:
        _warn_filled(all_attrs, filled, [])
    return xr.Dataset(data_vars, coords=coords, attrs=all_attrs)


def _fill_attrs(attrs: dict) -> list[str]:
    """Add the :data:`DEFAULT_ATTRS` missing from ``attrs`` (in place); their names."""
    filled = [name for name in DEFAULT_ATTRS if name not in attrs]
    for name in filled:
        value = DEFAULT_ATTRS[name]
        attrs[name] = list(value) if isinstance(value, list) else value
    if filled:
        attrs[FILLED] = [*attrs.get(FILLED, []), *filled]
    return filled


def _warn_filled(attrs: dict, filled: list[str], coords: list[str]) -> None:
    """One :class:`DopafitWarning` naming the attrs and coordinates filled with defaults."""
    parts = []
    if filled:
        parts.append("attrs " + ", ".join(filled))
    if coords:
        parts.append("coordinates " + ", ".join(coords))
    values = [f"{name}={attrs[name]!r}" for name in filled]
    values += [f"{name}={_COORD_DEFAULTS[name]}" for name in coords]
    source = attrs.get("source")
    head = f"{source}: " if isinstance(source, str) and source not in ("", "in-memory") else ""
    warnings.warn(
        f"{head}the responses lack {' and '.join(parts)}; filled with defaults: "
        f"{', '.join(values)} (listed in attrs['{FILLED}']). Record how the responses were "
        "made with attrs={...} (or ds.attrs[...] = ...)",
        DopafitWarning,
        stacklevel=3,
    )


def trial_mask(ds: xr.Dataset) -> xr.DataArray:
    """Boolean ``(unit, trial)`` mask of the cells that hold a real trial (finite reward)."""
    return np.isfinite(ds[REWARD])


def provenance_attrs(responses: xr.Dataset) -> dict:
    """The attrs of a responses Dataset, renamed ``responses_<name>`` for a fit's attrs.

    A fit records how its input was made; the prefix keeps those attrs apart from the fit's
    own (``dopafit_version`` becomes ``responses_dopafit_version``; names that already start
    with ``responses_`` are kept).
    """
    out = {}
    for key, value in responses.attrs.items():
        if key == "dopafit_version":
            key = "responses_dopafit_version"
        elif not key.startswith("responses_"):
            key = f"responses_{key}"
        out[key] = value
    return out


def _problems(ds: xr.Dataset) -> list[str]:
    problems: list[str] = []
    if not isinstance(ds, xr.Dataset):
        return [f"an object of type {type(ds).__name__}, not an xarray.Dataset"]
    if RESPONSE not in ds:
        problems.append(f"missing data variable '{RESPONSE}'")
    elif ds[RESPONSE].dims != (UNIT, TRIAL):
        problems.append(f"'{RESPONSE}' has dims {ds[RESPONSE].dims}, not ({UNIT!r}, {TRIAL!r})")
    elif not np.issubdtype(ds[RESPONSE].dtype, np.floating):
        problems.append(f"'{RESPONSE}' has dtype {ds[RESPONSE].dtype}, not float")
    for name in UNIT_TRIAL_COORDS:
        if name not in ds.variables:
            problems.append(f"missing coordinate '{name}' (dims unit, trial)")
        elif set(ds[name].dims) != {UNIT, TRIAL}:
            problems.append(f"coordinate '{name}' has dims {ds[name].dims}, not (unit, trial)")
    for name in UNIT_COORDS:
        if name not in ds.variables:
            problems.append(f"missing coordinate '{name}' (dim unit)")
        elif ds[name].dims != (UNIT,):
            problems.append(f"coordinate '{name}' has dims {ds[name].dims}, not (unit,)")
    for name in REQUIRED_ATTRS:
        if name not in ds.attrs:
            problems.append(f"missing attr '{name}'")
    if RESPONSE not in ds or REWARD not in ds.variables or ds[RESPONSE].dims != (UNIT, TRIAL):
        return problems

    reward = ds[REWARD].transpose(UNIT, TRIAL).values
    response = ds[RESPONSE].values
    if not np.issubdtype(reward.dtype, np.number):
        return [*problems, f"'{REWARD}' has non-numeric dtype {reward.dtype}"]
    inf_reward = np.isinf(reward)
    if inf_reward.any():
        problems.append(f"{int(inf_reward.sum())} infinite reward value(s)")
    orphan = np.isfinite(response) & np.isnan(reward)
    if orphan.any():
        units = np.unique(np.nonzero(orphan)[0])
        problems.append(
            f"{int(orphan.sum())} response(s) with a NaN reward (units {_short(ds, units)})"
        )
    inf_resp = np.isinf(response)
    if inf_resp.any():
        problems.append(f"{int(inf_resp.sum())} infinite response value(s)")
    empty = ~np.isfinite(reward).any(axis=1)
    if empty.any():
        problems.append(f"unit(s) with no trials: {_short(ds, np.nonzero(empty)[0])}")
    if UNIT_ID in ds.variables and SESSION in ds.variables:
        ids = ds[UNIT_ID].values
        if len(set(zip(ds[SESSION].values, ids))) != len(ids):
            problems.append("duplicate (session, unit_id) pairs")
    return problems


def _short(ds: xr.Dataset, idx: np.ndarray, limit: int = 5) -> str:
    ids = [str(ds[UNIT_ID].values[i]) if UNIT_ID in ds.variables else str(i) for i in idx]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


_COORD_DEFAULTS = {
    CUED: "False",
    EVENT_TIME: "NaN",
    UNIT_ID: "'0', '1', ...",
    SESSION: "'session'",
    SUBJECT: "'subject'",
    BASELINE_RATE: "NaN",
}


def _completed(ds: xr.Dataset) -> tuple[xr.Dataset, list[str], list[str]]:
    """``ds`` with its missing optional coordinates and required attrs filled with defaults
    (a new Dataset; ``ds`` itself when nothing is missing), and the names filled.

    ``reward``, ``cued``, ... given as data variables become coordinates (not counted as
    filled); a Dataset whose ``response`` is not (unit, trial) is returned as it is, for
    :func:`_problems` to describe.
    """
    if (
        not isinstance(ds, xr.Dataset)
        or RESPONSE not in ds
        or ds[RESPONSE].dims != (UNIT, TRIAL)
        or REWARD not in ds.variables
    ):
        return ds, [], []
    names = (*UNIT_TRIAL_COORDS, *UNIT_COORDS)
    promote = [name for name in names if name in ds.data_vars]
    coords = [name for name in names if name != REWARD and name not in ds.variables]
    attrs = [name for name in REQUIRED_ATTRS if name not in ds.attrs]
    index = [dim for dim in (UNIT, TRIAL) if dim not in ds.coords]
    if not (promote or coords or attrs or index):
        return ds, [], []
    out = ds.set_coords(promote) if promote else ds.copy()
    shape = ds[RESPONSE].shape
    n_unit = shape[0]
    dims2 = (UNIT, TRIAL)
    values = {
        CUED: (dims2, np.zeros(shape, dtype=bool)),
        EVENT_TIME: (dims2, np.full(shape, np.nan)),
        UNIT_ID: (UNIT, np.asarray([str(i) for i in range(n_unit)], dtype=object)),
        SESSION: (UNIT, np.asarray(["session"] * n_unit, dtype=object)),
        SUBJECT: (UNIT, np.asarray(["subject"] * n_unit, dtype=object)),
        BASELINE_RATE: (UNIT, np.full(n_unit, np.nan)),
    }
    out = out.assign_coords({name: values[name] for name in coords})
    out = out.assign_coords({dim: np.arange(ds.sizes[dim]) for dim in index})
    new_attrs = dict(out.attrs)
    for name in attrs:
        value = DEFAULT_ATTRS.get(name, __version__)  # dopafit_version: this one
        new_attrs[name] = list(value) if isinstance(value, list) else value
    if attrs or coords:
        new_attrs[FILLED] = [*new_attrs.get(FILLED, []), *attrs, *coords]
    out.attrs = new_attrs
    return out, attrs, coords


def validate_responses(
    ds: xr.Dataset, *, file: str | PathLike | None = None, fill: bool = True
) -> xr.Dataset:
    """Check that ``ds`` follows the responses data model; raise listing every problem.

    A Dataset built by hand often has only ``response`` and ``reward`` (and perhaps
    ``cued``). With ``fill=True`` what it lacks of the rest is filled with defaults instead
    of refused: the coordinates ``cued`` (False), ``event_time`` (NaN), ``unit_id``
    ("0", "1", ...), ``session``, ``subject`` and ``baseline_rate`` (NaN), and the attrs of
    :data:`DEFAULT_ATTRS` and ``dopafit_version``. One
    :class:`~dopafit.errors.DopafitWarning` names them, and ``attrs['filled_defaults']``
    lists them. ``reward``, ``cued``, ... given as data variables become coordinates.

    Parameters
    ----------
    ds : xarray.Dataset
        Candidate responses Dataset.
    file : str or path-like, optional
        File the Dataset came from, named in the error.
    fill : bool, default True
        Fill what is missing (see above); False refuses it as a problem.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself, so that calls can be chained; a completed copy when something was
        filled (``ds`` is never modified).

    Raises
    ------
    ResponsesError
        With every problem found (missing ``response`` or ``reward``, wrong dims,
        non-finite rewards where a response exists, units with no trials, ...).

    Warns
    -----
    DopafitWarning
        Naming the attrs and coordinates filled with defaults.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import dopafit
    >>> ds = dopafit.make_responses(np.array([[1.0, -0.5]]), np.array([[5.0, 1.0]]),
    ...                             attrs={"align": "reward_time", "source": "lab.csv"})
    >>> dopafit.validate_responses(ds) is ds
    True
    >>> dopafit.validate_responses(ds.drop_vars("reward"))
    Traceback (most recent call last):
    ...
    dopafit.errors.ResponsesError: lab.csv: expected a responses Dataset ...; found 1 problem(s):
    missing coordinate 'reward' (dims unit, trial). Fix: ...

    A Dataset built by hand is completed, with one warning saying what was filled:

    >>> import xarray as xr
    >>> raw = xr.Dataset({"response": (("unit", "trial"), [[1.0, -0.5]]),
    ...                   "reward": (("unit", "trial"), [[5.0, 1.0]])})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     full = dopafit.validate_responses(raw)
    >>> print(caught[0].message)
    the responses lack attrs response_units, reward_units, align, window, baseline, source,
    dopafit_version and coordinates cued, event_time, unit_id, session, subject,
    baseline_rate; filled with defaults: response_units='spikes/s', ... (listed in
    attrs['filled_defaults']). Record how the responses were made with attrs={...} (or ...)
    >>> full.attrs["window"], full["unit_id"].values.tolist(), "cued" in raw
    ([0.2, 0.6], ['0'], False)
    """
    if fill:
        ds, attrs, coords = _completed(ds)
    problems = _problems(ds)
    if fill and not problems and (attrs or coords):
        _warn_filled(ds.attrs, attrs, coords)
    if problems:
        raise ResponsesError(
            "a responses Dataset (dims unit × trial, see dopafit.schema)",
            found=f"{len(problems)} problem(s)",
            problems=problems,
            remedy="build it with dopafit.schema.make_responses or a dopafit loader",
            file=file or (ds.attrs.get("source") if isinstance(ds, xr.Dataset) else None),
        )
    return ds


def _encode_attrs(attrs: dict) -> dict:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (bool, np.bool_)):
            key, value = f"{key}__bool", int(value)
        elif isinstance(value, (list, tuple, np.ndarray)) and _numeric_list(value):
            value = np.asarray(value, dtype=np.float64 if len(value) == 0 else None)
        elif isinstance(value, (list, tuple, dict, np.ndarray)):
            import json

            key, value = f"{key}__json", json.dumps(value, default=_json_default)
        elif value is None:
            key, value = f"{key}__none", ""
        out[key] = value
    return out


def _numeric_list(value) -> bool:
    arr = np.asarray(value)
    return arr.ndim == 1 and (arr.dtype.kind in "if" or len(arr) == 0)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _decode_attrs(attrs: dict) -> dict:
    import json

    out = {}
    for key, value in attrs.items():
        if key.endswith("__json"):
            out[key[: -len("__json")]] = json.loads(value)
        elif key.endswith("__bool"):
            out[key[: -len("__bool")]] = bool(value)
        elif key.endswith("__none"):
            out[key[: -len("__none")]] = None
        elif isinstance(value, np.ndarray):
            out[key] = value.tolist()
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def to_netcdf(
    ds: xr.Dataset, path: str | PathLike, *, group: str | None = None, mode: str = "w"
) -> Path:
    """Write a dopafit Dataset (responses or fit) to netCDF4 with h5netcdf, attrs intact.

    Nested attrs (dicts) are stored as JSON strings and ``None`` as a marker, so that
    :func:`open_responses` gives back the same attrs. Object (string) coordinates are
    stored as variable-length strings.

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset to write.
    path : str or path-like
        Destination (``.nc``).
    group : str, optional
        netCDF group to write into (several Datasets can share one file).
    mode : {"w", "a"}, default "w"
        ``"a"`` adds a group to an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> print(dopafit.to_netcdf(ds, "responses.nc"))
    responses.nc
    >>> dopafit.open_responses("responses.nc").identical(ds)
    True

    Responses and their fit can share one file, as groups:

    >>> fit = dopafit.fit_expectiles(ds, n_splits=0, n_boot=0)
    >>> _ = dopafit.to_netcdf(ds, "session.nc", group="responses")
    >>> _ = dopafit.to_netcdf(fit, "session.nc", group="fit", mode="a")
    >>> fit_back = dopafit.open_responses("session.nc", group="fit", validate=False)
    >>> fit_back["tau"].equals(fit["tau"])
    True
    """
    path = Path(path)
    out = ds.copy()
    out.attrs = _encode_attrs(ds.attrs)
    for name in out.variables:
        out[name].attrs = _encode_attrs(out[name].attrs)
    out.to_netcdf(path, engine="h5netcdf", group=group, mode=mode)
    return path


def open_responses(
    path: str | PathLike, *, group: str | None = None, validate: bool = True
) -> xr.Dataset:
    """Read a Dataset written by :func:`to_netcdf` (fully loaded, file closed).

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` file written by dopafit.
    group : str, optional
        netCDF group to read (e.g. ``"responses"`` or ``"fit"`` in a batch output).
    validate : bool, default True
        Run :func:`validate_responses` (turn off for fit results).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_responses(n_units=3, n_trials=50, seed=1)
    >>> path = dopafit.to_netcdf(ds, "responses.nc")
    >>> back = dopafit.open_responses(path)
    >>> dict(back.sizes), back.identical(ds)
    ({'unit': 3, 'trial': 50}, True)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError_(
            "an existing netCDF file", found="no such path", file=path, remedy="check the path"
        )
    try:
        with xr.open_dataset(path, engine="h5netcdf", group=group) as handle:
            ds = handle.load()
    except (OSError, ValueError) as exc:
        raise NotNWBError(
            "a netCDF4/HDF5 file written by dopafit",
            found=f"an unreadable file ({exc.__class__.__name__}: {exc})",
            remedy="re-create the file; it may be truncated",
            file=path,
        ) from None
    ds.attrs = _decode_attrs(ds.attrs)
    for name in ds.variables:
        ds[name].attrs = _decode_attrs(ds[name].attrs)
    if validate:
        ds = validate_responses(ds, file=path)
    return ds
