"""Decoding when reward comes (and the joint magnitude x time map) from per-unit discounting.

Unit ``i`` discounts delay ``t`` as ``gamma_i ** t`` (:func:`dopafit.fit_discounting`). Its
normalised response to a cue, ``v_i = (mean cue response_i - b_i) / A_i``, is then the
cue's expected discount ``v_i = sum_t p(t) gamma_i ** t``: across units with different
``gamma_i`` the values sample the Laplace transform of the cue's distribution of reward
times ``p(t)``. :func:`decode_timing` inverts it on a grid of times by regularised
non-negative least squares (``p >= 0``, ``sum p = 1``), the regularisation strength chosen by
cross-validation over units.

Where the units also differ in asymmetry ``tau_i``, each encodes the ``tau_i``-expectile of
the discounted return ``gamma_i ** T * M`` (Sousa et al. 2025); its first-order condition is
linear in the joint distribution ``p(m, t)`` for fixed ``(v_i, tau_i, gamma_i)``, and
``decode_timing(..., magnitudes=...)`` decodes that joint map the same way.

Examples
--------
Values computed exactly from a bimodal timing distribution (1 s or 6 s, equally often) for
40 discount factors decode to two peaks:

>>> import numpy as np
>>> from dopafit.stats.decode_timing import decode_timing, fit_table
>>> gamma = np.linspace(0.4, 0.95, 40)
>>> fit = fit_table(gamma)
>>> values = 0.5 * gamma**1.0 + 0.5 * gamma**6.0
>>> res = decode_timing(fit, values=values, time_grid=np.linspace(0, 9, 61),
...                     true_delays=[1.0, 6.0], true_probabilities=[0.5, 0.5], n_boot=0)
>>> p = res["p_time"].to_series()
>>> round(float(p[p.index < 3.5].sum()), 2), round(float(p[p.index > 3.5].sum()), 2)
(0.5, 0.5)
>>> w = res["wasserstein"].to_series()
>>> bool(w["truth"] < min(w["uniform"], w["gaussian"]))
True
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema
from dopafit._progress import check_progress
from dopafit._version import __version__
from dopafit.errors import ConfigError, FitError, ResponsesError, ResultKindError
from dopafit.kernels.decode_timing import (
    cross_validate,
    curvature_penalty,
    penalty_scale,
    solve_timing,
    timing_design,
)

__all__ = [
    "decode_timing",
    "fit_table",
    "timing_design",
    "solve_timing",
    "timing_summary",
    "timing_table",
    "DEFAULT_LAMBDAS",
]

#: Default relative regularisation strengths tried by cross-validation.
DEFAULT_LAMBDAS = tuple(float(x) for x in np.logspace(-6, 2, 17))
#: Number of grid times of the default time grid.
N_TIME = 61
#: Result kind of the discounting fit this module reads.
_FIT_KIND = schema.DISCOUNT_FIT
_KIND = schema.TIMING_DECODING


# ---------------------------------------------------------------------------- the inputs
def fit_table(gamma, amplitude=None, asymptote=None, tau=None, delays=None) -> xr.Dataset:
    """A minimal discounting fit (per-unit ``gamma``, ``amplitude``, ``asymptote``) from arrays.

    For decoding values computed elsewhere (``decode_timing(fit_table(gamma), values=v)``).

    Parameters
    ----------
    gamma : array_like, shape (n_unit,)
        Discount factors.
    amplitude, asymptote : array_like, optional
        Default 1 and 0 (values already normalised).
    tau : array_like, optional
        Asymmetries (for the joint map).
    delays : sequence of float, optional
        The delays the fit used (recorded as ``attrs["delays"]``; sets the default time grid).

    Returns
    -------
    xarray.Dataset
        Of kind ``"discount_fit"`` with ``discount_status`` "ok" for every unit.

    Examples
    --------
    >>> fit_table([0.5, 0.9])["gamma"].values.tolist()
    [0.5, 0.9]
    """
    g = _floats(gamma, "gamma")
    n = g.size
    data = {
        "gamma": g,
        "amplitude": np.ones(n) if amplitude is None else _floats(amplitude, "amplitude"),
        "asymptote": np.zeros(n) if asymptote is None else _floats(asymptote, "asymptote"),
        "discount_status": np.array(["ok"] * n, dtype=object),
    }
    if tau is not None:
        data["tau"] = _floats(tau, "tau")
    for name, arr in data.items():
        if arr.shape != (n,):
            raise ConfigError(f"{name} with one value per unit ({n})", found=f"shape {arr.shape}")
    attrs = {schema.RESULT_KIND: _FIT_KIND, "delay_units": "s"}
    if delays is not None:
        attrs["delays"] = [float(d) for d in delays]
    return xr.Dataset({k: (schema.UNIT, v) for k, v in data.items()}, attrs=attrs)


def _floats(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"{name} as numbers", found=repr(values)[:80]) from None


def _fit_arrays(fit) -> dict:
    """gamma, amplitude, asymptote, status (and tau) per unit of a discounting fit."""
    kind = fit.attrs.get(schema.RESULT_KIND) if isinstance(fit, xr.Dataset) else None
    if kind != _FIT_KIND:
        found = (
            f"a {type(fit).__name__}"
            if not isinstance(fit, xr.Dataset)
            else f"a Dataset of kind {kind!r}"
        )
        raise ResultKindError(
            f"a result of kind {_FIT_KIND!r} for decode_timing",
            found=found,
            remedy="pass the output of dopafit.fit_discounting (or fit_table(gamma, ...))",
        )
    missing = [v for v in ("gamma", "amplitude", "asymptote") if v not in fit]
    if missing:
        raise ResultKindError(
            "a discounting fit with per-unit gamma, amplitude and asymptote",
            found=f"no {', '.join(missing)}",
            remedy="pass the output of dopafit.fit_discounting",
        )
    out = {v: np.asarray(fit[v].values, np.float64).ravel() for v in ("gamma", "amplitude")}
    out["asymptote"] = np.asarray(fit["asymptote"].values, np.float64).ravel()
    n = out["gamma"].size
    status = fit["discount_status"].values if "discount_status" in fit else ["ok"] * n
    out["status"] = np.array([str(s) for s in np.ravel(status)], dtype=object)
    out["tau"] = np.asarray(fit["tau"].values, np.float64).ravel() if "tau" in fit else None
    out["reversal_point"] = (
        np.asarray(fit["reversal_point"].values, np.float64).ravel()
        if "reversal_point" in fit
        else None
    )
    return out


def _cue_values(responses, cue_id, n_unit: int, fit) -> tuple[np.ndarray, ...]:
    """Per unit: mean, SD and count of the finite responses on the trials of ``cue_id``."""
    if not isinstance(responses, xr.Dataset) or schema.RESPONSE not in responses:
        raise ResponsesError(
            "a responses Dataset (dopafit.schema) with a 'response' variable",
            found=f"a {type(responses).__name__}",
        )
    if "cue_id" not in responses.variables:
        raise ResponsesError(
            "a cue_id(unit, trial) coordinate in the responses",
            found="no cue_id",
            remedy="load the trials' cue column (cue_id=) or pass values= directly",
        )
    if cue_id is None:
        raise ConfigError(
            "cue_id: the cue whose timing to decode", remedy="pass cue_id=<the cue's id>"
        )
    resp = responses[schema.RESPONSE].transpose(schema.UNIT, schema.TRIAL).values
    cues = np.broadcast_to(responses["cue_id"].values, resp.shape)
    if resp.shape[0] != n_unit:
        raise ConfigError(
            f"responses of the fit's {n_unit} units",
            found=f"{resp.shape[0]} units",
            remedy="pass the responses the discounting fit was made from",
        )
    if "unit_id" in responses.coords and "unit_id" in fit.coords:
        a, b = responses["unit_id"].values, fit["unit_id"].values
        if a.shape == b.shape and not np.array_equal(a.astype(str), b.astype(str)):
            raise ConfigError(
                "the same units (unit_id) in the responses and the fit",
                found=f"{list(a[:3])} against {list(b[:3])}",
            )
    present = np.unique(cues[np.isfinite(cues)])
    try:
        target = float(cue_id)
    except (TypeError, ValueError):
        raise ConfigError("cue_id as a number", found=repr(cue_id)) from None
    if target not in present:
        raise ConfigError(
            f"cue_id among the responses' cues {present.astype(int).tolist()}",
            found=repr(cue_id),
        )
    keep = (cues == target) & np.isfinite(resp)
    count = keep.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(keep, resp, 0.0).sum(axis=1)
        mean = total / count
        dev = np.where(keep, resp - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / (count - 1))
    return mean, sd, count


def _truth_from(responses, cue_id):
    """The cue's timing distribution and where it came from: the task recorded in simulated
    responses (``attrs["task_spec"]``), else the delays on the cue's trials (``delay``
    coordinate, pooled over units), else ``(None, None, None)``."""
    if responses is None or cue_id is None:
        return None, None, None
    spec = responses.attrs.get("task_spec")
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            spec = None
    cues = spec.get("cues", {}) if isinstance(spec, dict) else {}
    entry = cues.get(str(int(float(cue_id))))
    if entry:
        return np.asarray(entry[0], np.float64), np.asarray(entry[1], np.float64), "task_spec"
    if schema.DELAY not in responses.variables:
        return None, None, None
    delay = np.broadcast_to(responses[schema.DELAY].values, responses["cue_id"].shape)
    on = delay[(responses["cue_id"].values == float(cue_id)) & np.isfinite(delay)]
    if on.size == 0:
        return None, None, None
    values, counts = np.unique(on, return_counts=True)
    return values, counts / counts.sum(), "trial delays"


def _grid(values, name: str, default) -> np.ndarray:
    if values is None:
        return default
    g = _floats(values, name)
    if g.size < 3 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0) or g[0] < 0:
        raise ConfigError(
            f"{name} as at least 3 increasing finite numbers >= 0", found=repr(values)[:80]
        )
    return g


def _session_delays(responses) -> np.ndarray | None:
    """The distinct finite delays of every trial of the responses (all cues), or None."""
    if responses is None or schema.DELAY not in responses.variables:
        return None
    d = np.asarray(responses[schema.DELAY].values, np.float64)
    d = np.unique(d[np.isfinite(d)])
    return d if d.size else None


def _continuous_time(fit, responses) -> np.ndarray:
    longest = None
    if "delays" in fit.attrs:
        d = np.asarray(fit.attrs["delays"], np.float64).ravel()
        longest = float(np.nanmax(d)) if d.size and np.isfinite(d).any() else None
    session = _session_delays(responses)
    if longest is None and session is not None:
        longest = float(session.max())
    if longest is None or longest <= 0:
        raise ConfigError(
            "time_grid, or a fit that records its delays (attrs['delays'])",
            found="neither",
            remedy="pass time_grid=np.linspace(0, T, 61)",
        )
    return np.linspace(0.0, 1.5 * longest, N_TIME)


def _time_grid(time_grid, fit, responses) -> tuple[np.ndarray, str]:
    """The grid of reward times and its kind: "delays" (the session's delays), "continuous"
    (61 points from 0 to 1.5 times the longest delay) or "given"."""
    if time_grid is None:
        time_grid = "delays" if _session_delays(responses) is not None else "continuous"
    if isinstance(time_grid, str):
        if time_grid == "continuous":
            return _continuous_time(fit, responses), "continuous"
        if time_grid == "delays":
            d = _session_delays(responses)
            if d is None and "delays" in fit.attrs:
                d = np.unique(np.asarray(fit.attrs["delays"], np.float64).ravel())
            if d is None or d.size < 2:
                raise ConfigError(
                    "time_grid='delays': at least 2 distinct delays in the responses' delay "
                    "coordinate (or the fit's attrs['delays'])",
                    found="none" if d is None else f"{d.tolist()}",
                    remedy="pass time_grid='continuous' or an array of times",
                )
            return d, "delays"
        raise ConfigError(
            "time_grid as 'delays', 'continuous' or an array of times", found=repr(time_grid)
        )
    return _grid(time_grid, "time_grid", None), "given"


def _lambdas(lambdas) -> np.ndarray:
    lam = np.asarray(DEFAULT_LAMBDAS if lambdas is None else _floats(lambdas, "lambdas"))
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ConfigError("lambdas as finite numbers >= 0", found=repr(lambdas)[:80])
    return np.unique(lam)


def _count(value, name: str, minimum: int) -> int:
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))
    if not ok or value < minimum:
        raise ConfigError(f"{name} an integer >= {minimum}", found=repr(value))
    return int(value)


def _usable(arrs, value, count, joint: bool) -> np.ndarray:
    """Per-unit reason a unit is left out ("ok" if used)."""
    g, a, b = arrs["gamma"], arrs["amplitude"], arrs["asymptote"]
    reason = np.array(["ok"] * g.size, dtype=object)
    checks = [
        (arrs["status"] != "ok", None),
        (~np.isfinite(g) | (g <= 0) | (g > 1), "gamma not in (0, 1]"),
        (~np.isfinite(a) | (a <= 0), "amplitude not positive"),
        (~np.isfinite(b), "asymptote not finite"),
    ]
    if count is not None:
        checks += [(count == 0, "no trials of the cue"), (count == 1, "one trial of the cue")]
    checks.append((~np.isfinite(value), "value not finite"))
    if joint:
        tau = arrs["tau"]
        checks.append((~np.isfinite(tau) | (tau < 0) | (tau > 1), "tau not in [0, 1]"))
    for bad, why in reversed(checks):
        for i in np.flatnonzero(bad):
            reason[i] = f"not fitted: {arrs['status'][i]}" if why is None else why
    return reason


# --------------------------------------------------------------------------- the analysis
def decode_timing(
    fit: xr.Dataset,
    responses: xr.Dataset | None = None,
    *,
    cue_id=None,
    values=None,
    time_grid=None,
    magnitudes=None,
    tau=None,
    lambdas=None,
    n_folds: int = 5,
    n_boot: int = 200,
    true_delays=None,
    true_probabilities=None,
    seed: int = 0,
    progress: bool | None = None,
) -> xr.Dataset:
    """Decode a cue's distribution of reward times (or the joint magnitude x time map).

    Parameters
    ----------
    fit : xarray.Dataset
        A discounting fit (:func:`dopafit.fit_discounting`, or :func:`fit_table`): per unit
        ``gamma``, ``amplitude``, ``asymptote`` (and ``discount_status``, ``tau``).
    responses : xarray.Dataset, optional
        Cue-aligned responses of the same units with a ``cue_id`` coordinate: each unit's
        value is ``(mean response on the trials of cue_id - asymptote) / amplitude``.
    cue_id : number, optional
        The cue to decode (needed with ``responses``).
    values : array_like, shape (n_unit,), optional
        The units' values given directly (instead of ``responses``).
    time_grid : {"delays", "continuous"} or array_like, optional
        Reward times (delay units) p is decoded on. ``"delays"``: the distinct delays of
        every trial of ``responses`` (all cues: the times at which the task delivers reward),
        the default with responses that have a ``delay`` coordinate. ``"continuous"``: 61
        points from 0 to 1.5 times the longest delay of the fit (``attrs["delays"]``) or of
        the responses, the default otherwise. Or the times themselves. Recorded in
        ``attrs["time_grid"]``.
    magnitudes : array_like, optional
        A grid of magnitudes: decode the joint map ``p(m, t)`` from the expectile condition
        of each unit (needs ``tau``). The values are then the units' expectiles of the
        discounted return ``gamma ** T * M`` in the magnitudes' units: from ``responses``,
        ``reversal_point_i * (mean - asymptote_i) / amplitude_i`` (a plain cue's response is
        ``b + A gamma^d`` and the unit's value of an immediate reward is its reversal point,
        the tau-expectile of the magnitudes; needs a fit made with ``reward_responses=``);
        ``values=`` must be in those units.
    tau : array_like, shape (n_unit,), optional
        Asymmetries for the joint map; default the fit's ``tau``.
    lambdas : array_like, optional
        Relative regularisation strengths tried (default :data:`DEFAULT_LAMBDAS`,
        1e-6 to 100).
    n_folds : int, default 5
        Folds of the cross-validation over units (at most the number of units).
    n_boot : int, default 200
        Bootstrap resamples of the units for the band ``p_time_lo``/``p_time_hi`` (the
        chosen lambda fixed); 0 skips it.
    true_delays, true_probabilities : array_like, optional
        The true timing distribution; default the cue's as simulated responses record it
        (``attrs["task_spec"]``), else the delays on the cue's trials (the ``delay``
        coordinate, pooled over units). Gives the Wasserstein distances; where it came from
        is ``attrs["truth_source"]`` ("given", "task_spec", "trial delays" or "none").
    seed : int, default 0
        Seed of the folds and the bootstrap.
    progress : bool or None, default None
        A progress bar (None: when someone is watching). The result does not depend on it.

    Returns
    -------
    xarray.Dataset
        Of kind ``"timing_decoding"``: ``p_time(time)`` (the decoded distribution),
        ``p_time_lo``/``p_time_hi`` (2.5 and 97.5 bootstrap percentiles), ``cv_error`` and
        ``cv_se`` over ``lambda``; per unit ``value``, ``value_se`` (NaN without responses),
        ``gamma``, ``residual`` (each unit's condition at the decoded p) and
        ``decode_status`` ("ok" or why it was left out); with a truth ``true_delay`` and
        ``true_probability`` and ``wasserstein(reference)``: Wasserstein-1 distances from the
        decoded p to ``truth`` and to the ``uniform`` (on the time grid's range) and
        ``gaussian`` (the truth's mean and SD) references of
        :func:`dopafit.stats.decode.reference_distributions`, beside
        ``reference_to_truth(reference)`` (each reference's own distance to the truth).
        Joint: also ``p_joint(magnitude, time)``, ``p_magnitude(magnitude)`` and ``tau``
        (``p_time`` is the time marginal). attrs: ``lambda`` (chosen), ``mean_time``,
        ``cue_id``, ``n_units_used``, ``delay_units``, the settings.

    Raises
    ------
    FitError
        Fewer than 3 usable units, or their discount factors all equal.
    ConfigError
        Neither or both of ``responses`` and ``values``, ``cue_id`` missing or absent from the
        responses, ``values`` of the wrong length, bad grids, lambdas or counts.
    ResponsesError, ResultKindError
        ``responses`` without ``cue_id``; ``fit`` not a discounting fit.

    Notes
    -----
    Minimises ``sum_i w_i^2 (sum_k p_k a_ik)^2 + lambda s ||L p||^2`` over ``p >= 0``,
    ``sum p = 1`` (:func:`solve_timing`), with ``a_ik`` of :func:`timing_design`, ``w_i = 1 /
    SE(v_i)`` (normalised to mean 1; equal weights for ``values=``) and ``s`` making
    ``lambda = 1`` weigh an average penalty row like an average unit. ``L`` takes second
    differences of ``p`` along time (and along magnitude with three or more magnitudes): a
    smoothness penalty rather than a ridge, because a ridge ``||p||^2`` under ``sum p = 1`` is
    smallest for the uniform distribution and so pulls every answer towards one of the
    references the decoding is judged against, while second differences leave any linear
    trend free and cost a peak only its curvature. On simulated populations the two
    differed little and the curvature penalty placed single-delay peaks more accurately.
    ``lambda`` minimises the K-fold cross-validated error of predicting held-out units'
    conditions (mean over folds weighted by fold size).

    The inverse Laplace transform is severely ill-posed: over ``gamma`` in (0.4, 0.95) a
    broad distribution as far from the bimodal one (1 s or 6 s) as the references are (W1
    1.3) gives values within 0.001 of its values (rms over 40 units), so only nearly
    noise-free values resolve the shape. Measured for
    that bimodal cue and 40 units (``tests/test_decode_timing.py``): with value SEs of
    0.001 / 0.002 / 0.005 / 0.02 / 0.1 the decoded p is nearer the truth than to the
    uniform and Gaussian references in 20 / 19 / 16 / 5 / 0 of 20 seeds; through
    :func:`dopafit.simulate_discounting` and :func:`dopafit.fit_discounting` (200 trials)
    in 20/20 seeds at noise 0.02-0.04 Hz, 12/20 at 0.05-0.1 Hz, 4/20 at 0.5-1 Hz and 6/40
    at the default 1.5-3 Hz (value SE about 0.08), where the decoded p is a smooth bump with
    the right mean (W1 to the truth 1.30 on average, the references' own 1.36 and 1.34).
    Single delays fare better (at the default noise the peak lies within 1 s of a 4 s delay
    in 35/40 seeds).

    References
    ----------
    Masset P, et al. (2025) Multi-timescale reinforcement learning in the brain. Nature
    642:682-690. Sousa M, et al. (2025) A multidimensional distributional map of future
    reward in dopamine neurons. Nature.

    Examples
    --------
    A single delay of 3 s decodes to a peak at 3 s:

    >>> import numpy as np
    >>> import dopafit
    >>> gamma = np.linspace(0.4, 0.95, 30)
    >>> res = dopafit.decode_timing(dopafit.stats.decode_timing.fit_table(gamma),
    ...                             values=gamma**3.0, time_grid=np.arange(0, 9.01, 0.25),
    ...                             n_boot=0)
    >>> float(res["p_time"].idxmax()), round(res.attrs["mean_time"], 2)
    (3.0, 3.0)
    """
    arrs = _fit_arrays(fit)
    n_unit = arrs["gamma"].size
    progress = check_progress(progress)
    n_folds = _count(n_folds, "n_folds", 2)
    n_boot = _count(n_boot, "n_boot", 0)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed an integer >= 0", found=repr(seed))
    lam = _lambdas(lambdas)
    if (responses is None) == (values is None):
        raise ConfigError(
            "exactly one of responses (with cue_id) and values",
            found="both" if values is not None else "neither",
        )
    se = np.full(n_unit, np.nan)
    count = None
    if responses is not None:
        mean, sd, count = _cue_values(responses, cue_id, n_unit, fit)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (mean - arrs["asymptote"]) / arrs["amplitude"]
            se = sd / np.sqrt(count) / arrs["amplitude"]
    else:
        value = _floats(values, "values")
        if value.size != n_unit:
            raise ConfigError(
                f"values with one number per unit of the fit ({n_unit})",
                found=f"{value.size} values",
            )
    joint = magnitudes is not None
    if joint:
        mags = _floats(magnitudes, "magnitudes")
        if mags.size < 1 or not np.all(np.isfinite(mags)) or np.any(np.diff(mags) <= 0):
            raise ConfigError("magnitudes as increasing finite numbers", found=repr(magnitudes))
        if tau is not None:
            arrs["tau"] = _floats(tau, "tau")
        if arrs["tau"] is None or arrs["tau"].size != n_unit:
            raise ConfigError(
                f"tau with one asymmetry per unit ({n_unit}) for the joint map",
                found="none" if arrs["tau"] is None else f"{arrs['tau'].size} values",
                remedy="pass tau=, or a fit made with reward_responses=",
            )
        if responses is not None:  # in reward units: the unit's value of an immediate reward
            z = arrs["reversal_point"]
            if z is None or z.size != n_unit:
                raise ConfigError(
                    "a fit with per-unit reversal points (fit_discounting(..., "
                    "reward_responses=...)) to decode the joint map from responses",
                    found="no reversal_point in the fit",
                    remedy="fit with reward_responses=, or pass values= in reward units",
                )
            value, se = value * z, se * np.abs(z)
    time, time_kind = _time_grid(time_grid, fit, responses)
    status = _usable(arrs, value, count, joint)
    if responses is not None:  # weights need an SE
        status[(status == "ok") & ~(np.isfinite(se) & (se > 0))] = "no spread of responses"
    used = np.flatnonzero(status == "ok")
    if used.size < 3:
        raise FitError(
            "at least 3 usable units (fitted, amplitude > 0, a finite value)",
            found=f"{used.size} of {n_unit}; left out: "
            + ", ".join(sorted({str(s) for s in status if s != "ok"})),
            remedy="check the fit's discount_status and the cue's trials",
        )
    g = arrs["gamma"][used]
    if np.ptp(g) <= 1e-9 * max(float(np.max(g)), 1e-12):
        raise FitError(
            "units whose discount factors differ (timing is not identifiable from one gamma)",
            found=f"every usable unit with gamma {g[0]:.4g}",
            remedy="decode from a multi-timescale population",
        )
    t_used = arrs["tau"][used] if joint else None
    rows = timing_design(g, value[used], time, mags if joint else None, t_used)
    weights = np.ones(used.size)
    if responses is not None:
        weights = 1.0 / se[used]
        weights = weights / weights.mean()
    rows = rows * weights[:, None]
    n_mag = mags.size if joint else 1
    penalty = curvature_penalty(time.size, n_mag)
    scale = penalty_scale(rows, penalty)
    n_folds = min(n_folds, used.size)
    rng = np.random.default_rng([seed, 0x7117])
    from dopafit._progress import progress_bar

    bar = progress_bar(n_folds * lam.size + n_boot, "decode timing", progress=progress)
    with bar:
        cv, cv_se = cross_validate(rows, penalty, scale, lam, n_folds, rng, bar)
        best = int(np.argmin(cv))
        p = solve_timing(rows, penalty, lam[best] * scale)
        boot = np.empty((n_boot, p.size))
        for b in range(n_boot):
            pick = rng.integers(0, used.size, used.size)
            boot[b] = solve_timing(rows[pick], penalty, lam[best] * scale)
            bar.update(1)
    truth_source = "given" if true_delays is not None else None
    if true_delays is None:
        true_delays, true_probabilities, truth_source = _truth_from(responses, cue_id)
    residual = np.full(n_unit, np.nan)
    residual[used] = (rows / weights[:, None]) @ p
    per_unit = {
        "value": value,
        "value_se": se,
        "gamma": arrs["gamma"],
        "residual": residual,
        "decode_status": status,
    }
    if joint:
        per_unit["tau"] = arrs["tau"]
    settings = {
        "cue_id": np.nan if cue_id is None else float(cue_id),
        "lambda": float(lam[best]),
        "n_folds": n_folds,
        "n_boot": n_boot,
        "seed": int(seed),
        "delay_units": str(fit.attrs.get("delay_units", "s")),
        "value_source": "responses" if responses is not None else "values",
        "time_grid": time_kind,
        "truth_source": "none" if truth_source is None else truth_source,
    }
    return _result(
        p,
        boot,
        time,
        mags if joint else None,
        lam,
        cv,
        cv_se,
        per_unit,
        fit,
        (true_delays, true_probabilities),
        settings,
    )


def _result(p, boot, time, mags, lam, cv, cv_se, per_unit, fit, truth, settings) -> xr.Dataset:
    n_mag = 1 if mags is None else mags.size
    grid = p.reshape(n_mag, time.size)
    p_time = grid.sum(axis=0)
    boot_time = boot.reshape(boot.shape[0], n_mag, time.size).sum(axis=1)
    data = {
        "p_time": ("time", p_time),
        "p_time_lo": ("time", _percentile(boot_time, 2.5, time.size)),
        "p_time_hi": ("time", _percentile(boot_time, 97.5, time.size)),
        "cv_error": ("lambda", cv),
        "cv_se": ("lambda", cv_se),
    }
    if mags is not None:
        data["p_joint"] = (("magnitude", "time"), grid)
        data["p_magnitude"] = ("magnitude", grid.sum(axis=1))
    for name, arr in per_unit.items():
        data[name] = (schema.UNIT, arr)
    coords = {"time": time, "lambda": lam}
    if mags is not None:
        coords["magnitude"] = mags
    for name in fit.coords:
        if fit[name].dims == (schema.UNIT,):
            coords[name] = (schema.UNIT, fit[name].values)
    mean_time = float(np.sum(p_time * time))
    attrs = {
        schema.RESULT_KIND: _KIND,
        "analysis": "timing_decoding",
        "joint": mags is not None,
        "mean_time": mean_time,
        "n_units": int(per_unit["value"].size),
        "n_units_used": int(np.sum(per_unit["decode_status"] == "ok")),
        "penalty": "second differences along time" + (" and magnitude" if n_mag >= 3 else ""),
        "method": "non-negative least squares, sum to 1, Tikhonov, K-fold CV over units",
        **settings,
        "dopafit_version": __version__,
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    values, probs = truth
    if values is not None:
        ds = _add_distances(ds, values, probs)
    for name, text in _DESCRIPTIONS.items():
        if name in ds:
            ds[name].attrs["description"] = text
    ds["time"].attrs["units"] = settings["delay_units"]
    return ds


def _percentile(boot, q, n):
    if boot.shape[0] == 0:
        return np.full(n, np.nan)
    return np.percentile(boot, q, axis=0)


def _add_distances(ds: xr.Dataset, values, probs) -> xr.Dataset:
    """True distribution and Wasserstein-1 distances (decoded to truth and references)."""
    from scipy.stats import wasserstein_distance

    from dopafit.stats.decode import reference_distributions

    v = _floats(values, "true_delays")
    w = np.ones_like(v) if probs is None else _floats(probs, "true_probabilities")
    if v.size == 0 or w.shape != v.shape or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError(
            "true_delays with as many non-negative true_probabilities", found=f"{v} and {w}"
        )
    w = w / w.sum()
    time = ds["time"].values
    p = ds["p_time"].values
    refs = reference_distributions(v, w, (float(time[0]), float(time[-1])), transforms=False)
    names = ["truth", *refs]
    dec = [wasserstein_distance(time, v, p, w)]
    own = [0.0]
    for rv, rw in refs.values():
        dec.append(wasserstein_distance(time, rv, p, rw))
        own.append(wasserstein_distance(rv, v, rw, w))
    return ds.assign(
        true_delay=("truth_index", v),
        true_probability=("truth_index", w),
        wasserstein=("reference", np.array(dec)),
        reference_to_truth=("reference", np.array(own)),
    ).assign_coords(reference=names)


_DESCRIPTIONS = {
    **schema.UNIT_COORD_DESCRIPTIONS,
    "time": "reward time (attrs delay_units) of the grid p is decoded on (attrs time_grid)",
    "lambda": "relative regularisation strength tried by the cross-validation",
    "reference": "the truth, or a reference distribution (uniform over the grid's range; "
    "Gaussian with the truth's mean and SD)",
    "magnitude": "reward magnitude of the joint map's grid (reward units)",
    "p_time": "decoded probability of reward at each grid time (sums to 1)",
    "p_time_lo": "2.5 percentile of p_time over bootstrap resamples of units",
    "p_time_hi": "97.5 percentile of p_time over bootstrap resamples of units",
    "p_joint": "decoded joint probability of (magnitude, time)",
    "p_magnitude": "decoded magnitude marginal",
    "cv_error": "cross-validated mean squared condition of held-out units",
    "cv_se": "standard error over folds of cv_error",
    "value": "the unit's value of the cue: (mean response - asymptote) / amplitude (times "
    "the reversal point for the joint map)",
    "value_se": "standard error of value (from the cue's trials)",
    "gamma": "discount factor of the unit (per delay unit)",
    "tau": "asymmetry of the unit",
    "residual": "the unit's condition at the decoded distribution (0 = met)",
    "decode_status": "'ok' or why the unit was left out",
    "true_delay": "support of the true timing distribution",
    "true_probability": "probabilities of the true timing distribution",
    "wasserstein": "Wasserstein-1 distance from the decoded p_time to the truth / reference",
    "reference_to_truth": "Wasserstein-1 distance from the reference itself to the truth",
}


# ------------------------------------------------------------------------------- reading
def timing_table(ds: xr.Dataset):
    """One row per grid time: ``time``, ``p_time``, ``p_time_lo``, ``p_time_hi``.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`decode_timing`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> g = np.linspace(0.4, 0.95, 20)
    >>> res = decode_timing(fit_table(g), values=g**2, time_grid=np.arange(5.0), n_boot=0)
    >>> timing_table(res)["p_time"].round(2).tolist()
    [0.0, 0.0, 1.0, 0.0, 0.0]
    """
    return ds[["p_time", "p_time_lo", "p_time_hi"]].to_dataframe().reset_index()


def timing_summary(ds: xr.Dataset) -> str:
    """One line: units used, lambda, decoded mean time and W1 distances when a truth is known.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`decode_timing`.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> g = np.linspace(0.4, 0.95, 20)
    >>> res = decode_timing(fit_table(g), values=g**2, time_grid=np.arange(5.0), n_boot=0,
    ...                     true_delays=[2.0])
    >>> print(timing_summary(res))
    timing decoded from 20 of 20 units (lambda 1e-06): mean 2.000 s; W1 to truth 0.000, uniform 1.000, gaussian 0.000
    """
    a = ds.attrs
    text = (
        f"timing decoded from {a['n_units_used']} of {a['n_units']} units "
        f"(lambda {a['lambda']:.3g}): mean {a['mean_time']:.3f} {a['delay_units']}"
    )
    if "wasserstein" in ds:
        w = ds["wasserstein"].to_series()
        text += "; W1 to " + ", ".join(f"{k} {v:.3f}" for k, v in w.items())
    return text
