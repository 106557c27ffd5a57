"""What the figures and the report read: fit outputs, per-unit response tables, decoding input.

Functions here take the fit Dataset of :func:`dopafit.fit_expectiles` (and, where trial-level
detail is needed, the responses Dataset it was fitted on) and return plain arrays or tables.

Examples
--------
>>> import dopafit
>>> from dopafit.report.data import response_table, reward_distribution
>>> responses = dopafit.simulate_responses(n_units=5, seed=0)
>>> fit = dopafit.fit_expectiles(responses, n_splits=0, n_boot=0)
>>> table = response_table(fit, responses)
>>> table["mean"].shape == table["sem"].shape == (5, 7)
True
>>> values, probs, how = reward_distribution(fit)
>>> round(float(probs.sum()), 6)
1.0
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError, DopafitError, FileNotFoundError_, NoDataError
from dopafit.outputs import (
    COMPARISON_FILE,
    DISCOUNTING_GROUP,
    FAILURES_FILE,
    LEARNING_GROUP,
    LEARNING_RECOVERY_GROUP,
    POPULATION_FILE,
    SESSION_GLOB,
    SESSIONS_DIR,
    TIMESCALES_FILE,
    UNITS_FILE,
)

__all__ = [
    "ReportInputs",
    "load_outputs",
    "check_fit",
    "response_table",
    "reward_distribution",
    "monotone_axis",
    "axis_to_reward",
    "decode_fit",
    "representative_split",
    "fitted_mask",
    "REWARD_MAPPING",
]

#: optional groups of a batch output read for the report
LEARNING_GROUPS = (LEARNING_GROUP, LEARNING_RECOVERY_GROUP)
DISCOUNT_FIT = schema.DISCOUNT_FIT
#: mapping keys of the discounting inputs -> (result kind or None for responses)
DISCOUNTING_KEYS = {
    "discounting": DISCOUNT_FIT,
    "discount_responses": None,
    "timescale_comparison": schema.DISCOUNT_COMPARISON,
    "timing": schema.TIMING_DECODING,
}

#: How reversal points on a non-reward axis are mapped back to reward for decoding.
REWARD_MAPPING = (
    "reversal points on the fit's axis are mapped to reward by linear interpolation of the "
    "axis values against the reward magnitudes, after making the axis non-decreasing in "
    "magnitude by trial-weighted isotonic regression (pool-adjacent-violators; the empirical "
    "utility curve is often flat and noisy between the smallest magnitudes); a reversal point "
    "on a flat stretch maps to the stretch's smallest magnitude, one beyond the axis range to "
    "the smallest or largest magnitude"
)


@dataclass
class ReportInputs:
    """Everything a report is made from.

    Attributes
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    responses : xarray.Dataset or None
        The responses it was fitted on (for SEMs and trial counts).
    units : pandas.DataFrame or None
        The per-unit table (``units.csv`` of a batch run), if any.
    comparison : xarray.Dataset or None
        The calibrated comparison of accounts (:func:`dopafit.compare`), if any.
    failures : pandas.DataFrame or None
        Files a batch run could not fit (``failures.csv``: ``path``, ``reason``), if any.
    learning, learning_recovery : xarray.Dataset or None
        The learning-model fit (:func:`dopafit.fit_learning`) and its model recovery
        (:func:`dopafit.learning_recovery`), if any (groups of a batch output).
    discounting : xarray.Dataset or None
        A discounting fit (:func:`dopafit.fit_discounting`; the group ``discounting`` of
        ``dopafit fit --discounting``), if any. ``fit`` may then be None.
    discount_responses : xarray.Dataset or None
        The cue-aligned responses of the discounting fit (SEM bars, simulated truth); default
        ``responses`` when they carry a ``delay`` coordinate.
    timescale_comparison : xarray.Dataset or None
        A calibrated timescale comparison (:func:`dopafit.compare_timescales`), if any.
    timing : xarray.Dataset or None
        A timing decoding (:func:`dopafit.decode_timing`), if any.
    files : dict of str to str
        What was read from where (shown in the report).
    """

    fit: xr.Dataset | None
    responses: xr.Dataset | None = None
    units: object | None = None
    comparison: object | None = None
    failures: object | None = None
    files: dict = field(default_factory=dict)
    learning: xr.Dataset | None = None
    learning_recovery: xr.Dataset | None = None
    discounting: xr.Dataset | None = None
    discount_responses: xr.Dataset | None = None
    timescale_comparison: xr.Dataset | None = None
    timing: xr.Dataset | None = None


def check_fit(fit, *, file=None) -> xr.Dataset:
    """Raise :class:`~dopafit.errors.NoDataError` unless ``fit`` looks like a fit Dataset."""
    needed = ("reversal_point", "tau", "alpha_pos", "alpha_neg", "mean_response", "axis_value")
    if not isinstance(fit, xr.Dataset):
        raise NoDataError(
            "a fit Dataset from dopafit.fit_expectiles",
            found=f"an object of type {type(fit).__name__}",
            file=file,
        )
    missing = [name for name in needed if name not in fit.variables]
    if missing and fit.attrs.get(schema.RESULT_KIND) == DISCOUNT_FIT:
        raise NoDataError(
            "a fit Dataset from dopafit.fit_expectiles",
            found="a discounting fit (dopafit.fit_discounting)",
            remedy="pass it as {'discounting': fit} (it has its own report section)",
            file=file,
        )
    if missing:
        raise NoDataError(
            "a fit Dataset from dopafit.fit_expectiles",
            found=f"a Dataset without {', '.join(missing)}",
            remedy="pass the 'fit' group of a dopafit output (dopafit fit ... -o OUTDIR)",
            file=file,
        )
    return fit


def _open_group(path: Path, group: str, *, validate: bool) -> xr.Dataset:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            groups = sorted(k for k in handle if isinstance(handle[k], h5py.Group))
    except OSError:
        groups = None
    if groups is not None and group not in groups:
        raise NoDataError(
            f"a netCDF group '{group}'",
            found=f"groups {', '.join(groups) or '(none)'}",
            remedy="pass a file written by dopafit fit (groups 'responses' and 'fit')",
            file=path,
        )
    return schema.open_responses(path, group=group, validate=validate)


def _read_table(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise NoDataError(
            "a readable CSV table",
            found=f"{exc.__class__.__name__}: {exc}",
            remedy="re-create it with dopafit fit",
            file=path,
        ) from None


def _from_file(path: Path, files: dict) -> tuple[xr.Dataset | None, xr.Dataset]:
    """The ``fit`` group (None when the file holds a ``discounting`` group instead) and the
    responses of an output file."""
    if _has_group(path, DISCOUNTING_GROUP) and not _has_group(path, "fit"):
        responses = _open_group(path, "responses", validate=True)
        files["responses"] = str(path)
        return None, responses
    fit = check_fit(_open_group(path, "fit", validate=False), file=path)
    responses = _open_group(path, "responses", validate=True)
    files["fit"] = files["responses"] = str(path)
    return fit, responses


def _open_timescales(path: Path) -> xr.Dataset:
    """A timescale comparison written by ``dopafit compare`` on a discounting output."""
    from dopafit.report._discounting import check_result

    ds = schema.open_responses(path, validate=False)
    check_result(ds, DISCOUNTING_KEYS["timescale_comparison"], "the report's timescales", file=path)
    return ds


def _has_group(path: Path, group: str) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return group in handle and isinstance(handle[group], h5py.Group)
    except OSError:
        return False


def _discounting_groups(path: Path, files: dict) -> dict:
    """The discounting fit of an output file (group ``discounting``), checked, if any."""
    if not _has_group(path, DISCOUNTING_GROUP):
        return {}
    from dopafit.report._discounting import check_result

    fit = schema.open_responses(path, group=DISCOUNTING_GROUP, validate=False)
    check_result(fit, DISCOUNT_FIT, "the report's discounting", file=path)
    files["discounting"] = str(path)
    return {"discounting": fit}


def optional_groups(path: Path, names=LEARNING_GROUPS) -> dict:
    """The groups among ``names`` that a dopafit output file holds, opened."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            present = [n for n in names if n in handle]
    except OSError:
        return {}
    return {n: schema.open_responses(path, group=n, validate=False) for n in present}


def _from_outdir(outdir: Path, files: dict) -> tuple[xr.Dataset, xr.Dataset]:
    population = outdir / POPULATION_FILE
    if population.is_file():
        return _from_file(population, files)
    sessions = sorted((outdir / SESSIONS_DIR).glob(SESSION_GLOB))
    if len(sessions) == 1:
        return _from_file(sessions[0], files)
    found = (
        f"{len(sessions)} session outputs but no {POPULATION_FILE}"
        if sessions
        else f"no {POPULATION_FILE} and no {SESSIONS_DIR}/{SESSION_GLOB}"
    )
    raise NoDataError(
        f"a dopafit output folder ({POPULATION_FILE} or {SESSIONS_DIR}/{SESSION_GLOB})",
        found=found,
        remedy=f"run 'dopafit fit DATA -o {outdir}' first",
        file=outdir,
    )


def load_outputs(source) -> ReportInputs:
    """Read fit outputs for a report.

    Parameters
    ----------
    source : path-like or mapping
        - a folder written by ``dopafit fit`` (``OUTDIR``): reads ``population.nc`` (or the
          only ``sessions/*.nc``) and, when present, ``units.csv``, ``failures.csv``,
          ``comparison.nc`` and ``timescales.nc`` (``dopafit compare`` on a discounting
          output);
        - a ``.nc`` file with groups ``responses`` and ``fit`` (a session or population
          output);
        - a mapping with keys among ``fit``, ``responses``, ``units``, ``comparison``,
          ``failures``, ``learning``, ``learning_recovery``, ``discounting``,
          ``discount_responses``, ``timescale_comparison``, ``timing`` (paths or objects) and
          ``outputs`` (a folder or ``.nc`` file read as above, the other keys overriding
          what it gives).

        The groups ``learning`` and ``learning_recovery`` of an output file (``dopafit fit
        --learning``) and ``discounting`` (``dopafit fit --discounting``) are read when
        present. A discounting fit alone (no expectile ``fit``) is reported too.

    Returns
    -------
    ReportInputs

    Raises
    ------
    FileNotFoundError_
        A path does not exist.
    NoDataError
        A folder holds no fit output, a file lacks a group, a table is unreadable.
    ResultKindError
        A discounting fit, timing decoding or timescale comparison of another kind.
    NotNWBError
        A netCDF file is unreadable.
    """
    files: dict[str, str] = {}
    source, overrides = _split_mapping(source)
    found = _read_outputs(Path(os.fspath(source)), files) if source is not None else {}
    for key, value in overrides.items():
        if value is not None:
            found[key] = _override(key, value, files)
    if found.get("fit") is None and found.get("discounting") is None:
        raise NoDataError(
            "a fit to report on",
            found="no 'fit', no 'discounting' and no 'outputs'",
            remedy="pass an OUTDIR of dopafit fit, a .nc output, or {'fit': fit_dataset} "
            "(or {'discounting': discount_fit})",
        )
    learning = found.get("learning")
    if learning is not None:
        from dopafit.report._learning import check_learning

        check_learning(learning)
    return ReportInputs(
        found.get("fit"),
        found.get("responses"),
        found.get("units"),
        found.get("comparison"),
        found.get("failures"),
        files,
        learning=learning,
        learning_recovery=found.get("learning_recovery"),
        discounting=found.get("discounting"),
        discount_responses=_discount_responses(found),
        timescale_comparison=found.get("timescale_comparison"),
        timing=found.get("timing"),
    )


def _discount_responses(found: dict):
    """The responses of the discounting fit: given, else ``responses`` when they carry delays."""
    if found.get("discounting") is None:
        return None
    if found.get("discount_responses") is not None:
        return found["discount_responses"]
    responses = found.get("responses")
    if responses is not None and schema.DELAY in responses.variables:
        return responses
    return None


#: keys of the mapping :func:`load_outputs` accepts
_SOURCE_KEYS = (
    "fit",
    "responses",
    "units",
    "comparison",
    "failures",
    "outputs",
    *LEARNING_GROUPS,
    *DISCOUNTING_KEYS,
)


def _split_mapping(source) -> tuple[object, dict]:
    """The output folder or file to read (or None) and the entries that override it."""
    if not isinstance(source, Mapping):
        return source, {}
    overrides = dict(source)
    unknown = set(overrides) - set(_SOURCE_KEYS)
    if unknown:
        raise ConfigError(
            "keys among " + ", ".join(_SOURCE_KEYS),
            found=", ".join(sorted(unknown)),
        )
    return overrides.pop("outputs", None), overrides


def _read_outputs(path: Path, files: dict) -> dict:
    """What an output folder or ``.nc`` file holds, by :class:`ReportInputs` field name."""
    if not path.exists():
        raise FileNotFoundError_(
            "an existing dopafit output folder or .nc file",
            found="no such path",
            remedy="run 'dopafit fit DATA -o OUTDIR' and pass OUTDIR",
            file=path,
        )
    if not path.is_dir():
        fit, responses = _from_file(path, files)
        return {
            "fit": fit,
            "responses": responses,
            **optional_groups(path),
            **_discounting_groups(path, files),
        }
    fit, responses = _from_outdir(path, files)
    opened = Path(files["responses"])
    found = {
        "fit": fit,
        "responses": responses,
        **optional_groups(opened),
        **_discounting_groups(opened, files),
    }
    for key, name, read in (
        ("units", UNITS_FILE, _read_table),
        ("failures", FAILURES_FILE, _read_table),
        ("comparison", COMPARISON_FILE, _open_comparison),
        ("timescale_comparison", TIMESCALES_FILE, _open_timescales),
    ):
        if (path / name).is_file():
            found[key] = read(path / name)
            files[key] = str(path / name)
    return found


def _override(key: str, value, files: dict):
    """One entry of the mapping: opened when it is a path, then checked."""
    if key in DISCOUNTING_KEYS:
        return _discounting_override(key, value, files)
    if key in LEARNING_GROUPS:
        if isinstance(value, (str, os.PathLike)):
            files[key] = str(value)
            return _open_group(Path(os.fspath(value)), key, validate=False)
        files[key] = "(in memory)"
        return value
    if isinstance(value, (str, os.PathLike)):
        p = Path(os.fspath(value))
        if not p.exists():
            raise FileNotFoundError_(f"an existing {key} file", found="no such path", file=p)
        files[key] = str(p)
        if key == "fit":
            value = check_fit(_open_group(p, "fit", validate=False), file=p)
        elif key == "responses":
            value = _open_group(p, "responses", validate=True)
        elif key == "comparison":
            value = _open_comparison(p)
        else:
            value = _read_table(p)
    else:
        files[key] = "(in memory)"
    return _checked(key, value)


def _discounting_override(key: str, value, files: dict):
    """A discounting fit, its responses, a timing decoding or a timescale comparison: opened
    when a path (the ``discounting`` / ``responses`` group of an output file, else the file's
    root), then checked for its kind."""
    from dopafit.report._discounting import check_result

    file = None
    if isinstance(value, (str, os.PathLike)):
        file = Path(os.fspath(value))
        if not file.exists():
            raise FileNotFoundError_(f"an existing {key} file", found="no such path", file=file)
        files[key] = str(file)
        group = {"discounting": DISCOUNTING_GROUP, "discount_responses": "responses"}.get(key)
        if group is not None and _has_group(file, group):
            value = schema.open_responses(file, group=group, validate=False)
        else:
            value = schema.open_responses(file, validate=False)
    else:
        files[key] = "(in memory)"
    kind = DISCOUNTING_KEYS[key]
    if kind is None:
        return schema.validate_responses(value)
    return check_result(value, kind, f"the report's {key}", file=file)


def _checked(key: str, value):
    """A fit, responses or comparison given in the mapping, checked for what it must be."""
    if key == "fit":
        return check_fit(value)
    if key == "responses":
        return schema.validate_responses(value)
    if key == "comparison":
        from dopafit.results import check_kind

        check_kind(value, schema.COMPARISON, "the comparison of the report")
    return value


def _open_comparison(path: Path):
    from dopafit.stats.compare import open_comparison

    try:
        return open_comparison(path)
    except DopafitError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise NoDataError(
            "a comparison written by dopafit compare (or ds.dopafit.to_netcdf)",
            found=f"{exc.__class__.__name__}: {exc}",
            remedy="re-run dopafit compare",
            file=path,
        ) from None


# --------------------------------------------------------------------------------------------
# per-unit response tables


def response_table(fit: xr.Dataset, responses: xr.Dataset | None = None) -> dict:
    """Mean response ± SEM per unit and magnitude, in the fit's response space.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    responses : xarray.Dataset, optional
        The responses the fit was made from. Without them the SEM is NaN.

    Returns
    -------
    dict
        ``mean``, ``sem`` (float arrays, shape (n_unit, n_mag)), ``n`` (int array, same
        shape), ``axis`` (shape (n_mag,)), ``magnitudes`` (shape (n_mag,)).

    Raises
    ------
    ConfigError
        ``responses`` is not the Dataset the fit was made from (units, magnitudes or means
        differ).

    Notes
    -----
    Responses are prepared exactly as the fitter prepared them (same pooling of cued and
    uncued trials, z-scoring on the ``zscore`` axis) with
    :func:`dopafit.fit.axes.prepare`. ``sem = sd / sqrt(n)`` with ``ddof=1`` (NaN for n < 2).
    """
    check_fit(fit)
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    axis = np.asarray(fit["axis_value"].values, dtype=float)
    mean_fit = np.asarray(fit["mean_response"].transpose(schema.UNIT, "magnitude").values)
    n_fit = np.asarray(fit["n_trials_magnitude"].transpose(schema.UNIT, "magnitude").values)
    if responses is None:
        return {
            "mean": mean_fit,
            "sem": np.full(mean_fit.shape, np.nan),
            "n": n_fit,
            "axis": axis,
            "magnitudes": mags,
        }
    from dopafit.fit.axes import prepare

    axis_arg = "zscore" if fit.attrs.get("axis") == "zscore" else axis
    pool = fit.attrs.get("pool_cued", "auto")
    mismatch = ConfigError(
        "the responses Dataset the fit was made from",
        found="different units, magnitudes or mean responses",
        remedy="pass the 'responses' group of the same output file",
    )
    if responses.sizes.get(schema.UNIT) != fit.sizes.get(schema.UNIT):
        raise mismatch
    try:
        prep = prepare(responses, axis=axis_arg, pool_cued=pool)
    except ConfigError:
        raise mismatch from None
    if prep.magnitudes.shape != mags.shape or not np.allclose(prep.magnitudes, mags):
        raise mismatch
    n_unit, n_mag = prep.cnt.shape
    mean = np.full((n_unit, n_mag), np.nan)
    sem = np.full((n_unit, n_mag), np.nan)
    for u in range(n_unit):
        for m in range(n_mag):
            c = int(prep.cnt[u, m])
            if c == 0:
                continue
            v = prep.vals[prep.start[u, m] : prep.start[u, m] + c]
            mean[u, m] = v.mean()
            if c > 1:
                sem[u, m] = v.std(ddof=1) / np.sqrt(c)
    both = np.isfinite(mean) & np.isfinite(mean_fit)
    if not np.array_equal(np.isfinite(mean), np.isfinite(mean_fit)) or not np.allclose(
        mean[both], mean_fit[both], rtol=1e-6, atol=1e-9
    ):
        raise mismatch
    return {"mean": mean, "sem": sem, "n": prep.cnt.copy(), "axis": axis, "magnitudes": mags}


# --------------------------------------------------------------------------------------------
# reward distribution and decoding


def reward_distribution(fit: xr.Dataset, values=None, probabilities=None):
    """The task's reward distribution: given, or the empirical trial proportions.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    values, probabilities : array_like, shape (K,), optional
        A known distribution (e.g. the task's design). ``probabilities`` without ``values``
        means one probability per fitted magnitude.

    Returns
    -------
    values : ndarray, shape (K,)
    probabilities : ndarray, shape (K,)
        Normalised to sum 1.
    source : str
        How the distribution was obtained (shown in captions).
    """
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    if probabilities is not None:
        v = mags if values is None else np.asarray(values, dtype=float).ravel()
        p = np.asarray(probabilities, dtype=float).ravel()
        if v.shape != p.shape or not np.all(np.isfinite(p)) or (p < 0).any() or p.sum() <= 0:
            raise ConfigError(
                "one finite probability >= 0 per reward value, not all 0",
                found=f"{v.size} value(s), probabilities {p.tolist()[:10]}",
            )
        return v, p / p.sum(), "given"
    if values is not None:
        raise ConfigError(
            "reward probabilities together with the reward values",
            found="values without probabilities",
            remedy="pass both, or neither (empirical trial proportions are used)",
        )
    counts = np.asarray(fit["n_trials_magnitude"].sum(schema.UNIT).values, dtype=float)
    return mags, counts / counts.sum(), "empirical trial proportions"


def monotone_axis(axis: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression of axis values in magnitude order.

    Parameters
    ----------
    axis : ndarray, shape (K,)
        Axis value per magnitude, magnitudes increasing.
    weights : ndarray, shape (K,), optional
        Weights (trial counts); default equal.

    Returns
    -------
    ndarray, shape (K,)
        The closest non-decreasing sequence in weighted least squares (pool adjacent
        violators). Equal to ``axis`` when it is already non-decreasing.

    Examples
    --------
    >>> monotone_axis(np.array([-2.0, -2.4, -1.0, 3.0])).tolist()
    [-2.2, -2.2, -1.0, 3.0]
    """
    y = np.asarray(axis, dtype=float)
    w = np.ones_like(y) if weights is None else np.maximum(np.asarray(weights, float), 1e-12)
    blocks: list[list[float]] = []  # [value, weight, length]
    for yi, wi in zip(y, w):
        blocks.append([yi, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.concatenate([np.full(int(n), v) for v, _, n in blocks])


def axis_to_reward(values, fit: xr.Dataset) -> np.ndarray:
    """Map values on the fit's axis (e.g. reversal points) to reward (see :data:`REWARD_MAPPING`).

    Parameters
    ----------
    values : array_like, shape (M,)
        Values on the fit's axis.
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles` (its ``axis_value`` and magnitudes).

    Returns
    -------
    ndarray, shape (M,)
        Reward values in ``[min magnitude, max magnitude]``; NaN stays NaN. The identity on
        the ``reward`` and ``zscore`` axes.
    """
    x = np.asarray(values, dtype=float)
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    if fit.attrs.get("axis") in ("reward", "zscore"):
        return x.copy()
    axis = np.asarray(fit["axis_value"].values, dtype=float)
    counts = np.asarray(fit["n_trials_magnitude"].sum(schema.UNIT).values, dtype=float)
    g = monotone_axis(axis, counts)
    # break ties so that np.interp sees a strictly increasing grid: within a flat stretch
    # the first magnitude keeps the stretch's value, the others get negligibly larger ones
    span = max(float(g[-1] - g[0]), 1.0)
    g = g + np.arange(g.size) * 1e-12 * span
    out = np.interp(x, g, mags)
    return np.where(np.isfinite(x), out, np.nan)


def decode_fit(
    fit: xr.Dataset,
    *,
    reward_values=None,
    reward_probabilities=None,
    **decode_kwargs,
):
    """Decode the reward distribution from a fit's all-trial (tau, reversal point) pairs.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    reward_values, reward_probabilities : array_like, optional
        The task's reward distribution (default: the empirical trial proportions, see
        :func:`reward_distribution`); stored as the truth of the result.
    **decode_kwargs
        Passed to :func:`dopafit.decode_distribution` (``n_starts``, ``seed``, ...).

    Returns
    -------
    xarray.Dataset
        The decoding (:func:`dopafit.decode_distribution`), its attrs extended by
        ``n_units_used``, ``n_units_excluded``, ``reward_mapping`` and ``truth``.

    Raises
    ------
    FitError
        No unit has a usable pair.

    Notes
    -----
    Units are used when ``fit_ok`` and ``0 <= tau <= 1`` (a negative slope gives a tau outside
    [0, 1] that no expectile has). Reversal points are mapped to reward with
    :func:`axis_to_reward`; the decoded samples are bounded by the smallest and largest
    magnitude.
    """
    from dopafit.errors import FitError
    from dopafit.stats.decode import decode_distribution

    check_fit(fit)
    tau = np.asarray(fit["tau"].values, dtype=float)
    z = np.asarray(fit["reversal_point"].values, dtype=float)
    ok = np.asarray(fit["fit_ok"].values, dtype=bool) if "fit_ok" in fit else np.ones_like(tau)
    use = ok & np.isfinite(tau) & np.isfinite(z) & (tau >= 0) & (tau <= 1)
    if not use.any():
        raise FitError(
            "at least one unit with a finite reversal point and tau in [0, 1]",
            found=f"{tau.size} unit(s), none usable",
            remedy="check fit['fit_status'] and fit['tau_out_of_range']",
        )
    values, probs, how = reward_distribution(fit, reward_values, reward_probabilities)
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    bounds = (float(mags.min()), float(mags.max()))
    res = decode_distribution(
        tau[use],
        axis_to_reward(z[use], fit),
        bounds,
        true_values=values,
        true_probabilities=probs,
        **decode_kwargs,
    )
    res.attrs.update(
        n_units_used=int(use.sum()),
        n_units_excluded=int((~use).sum()),
        reward_mapping="identity"
        if fit.attrs.get("axis") in ("reward", "zscore")
        else (REWARD_MAPPING),
        truth=how,
    )
    return res


def fitted_mask(fit: xr.Dataset) -> np.ndarray:
    """Boolean mask of the units with ``fit_ok`` and a finite tau and reversal point."""
    tau = np.asarray(fit["tau"].values, dtype=float)
    ok = np.asarray(fit["fit_ok"].values, dtype=bool) if "fit_ok" in fit else np.ones(tau.size)
    return ok & np.isfinite(tau) & np.isfinite(np.asarray(fit["reversal_point"].values, float))


def representative_split(fit: xr.Dataset, statistic: str = "r_tau_reversal") -> int | None:
    """Index of the split whose ``statistic`` is closest to its median (lowest index on ties).

    Returns None when the fit has no splits or no finite value.
    """
    if statistic not in fit:
        return None
    values = np.asarray(fit[statistic].values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    med = np.median(values[finite])
    dist = np.where(finite, np.abs(values - med), np.inf)
    return int(np.argmin(dist))
