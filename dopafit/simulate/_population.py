"""Populations of model dopamine neurons: classical, distributional, bias null and sigmoid."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from dopafit.errors import ConfigError, whole_number
from dopafit.simulate._task import Task, Utility, expectile, expectile_level, get_task
from dopafit.simulate._task import resolve_utility as _resolve_utility

__all__ = ["KINDS", "POPULATION_COLUMNS", "make_population"]

KINDS = ("classical", "distributional", "bias", "sigmoid")

#: Columns of every population table (sigmoid rows add ``sigmoid_*``).
POPULATION_COLUMNS = {
    "unit_id": "unit name",
    "kind": "population kind of the unit (classical, distributional, bias, sigmoid)",
    "reversal_point": "reward (utility units) where the response changes sign, uncued context",
    "tau": "asymmetry alpha_pos / (alpha_pos + alpha_neg)",
    "alpha_pos": "response slope above the reversal point (Hz per utility unit)",
    "alpha_neg": "response slope below the reversal point (Hz per utility unit)",
    "baseline_rate": "baseline firing rate (Hz)",
    "gain": "mean slope (alpha_pos + alpha_neg) / 2 (Hz per utility unit)",
    "noise": "SD of the Gaussian response noise (Hz)",
    "reversal_tau": "expectile level of the reversal point in the uncued distribution",
}
SIGMOID_COLUMNS = {
    "sigmoid_threshold": "sigmoid midpoint (utility units)",
    "sigmoid_slope": "sigmoid slope k in 1 / (1 + exp(-k (u - threshold))) (1 / utility unit)",
    "sigmoid_amplitude": "response amplitude A (Hz): f(u) = A (s(u) - E[s(U)])",
}

_COMMON = {"baseline", "gain", "noise", "response_range"}
_OPTIONS = {
    "classical": _COMMON,
    "distributional": _COMMON | {"taus", "tau_range", "alpha_pos", "alpha_neg"},
    "bias": _COMMON | {"reversal_points", "spread", "tau_range", "tie_baseline"},
    "sigmoid": (_COMMON - {"gain"})
    | {"thresholds", "slopes", "amplitude", "level_range", "slope_scale"},
}


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def number(value, name: str) -> float:
    """``value`` as a float, or the :class:`ConfigError` naming the option ``name``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} as a number", found=f"{value!r}") from None


def floats_of(spec, name: str) -> np.ndarray:
    """``spec`` as a float64 array, or the :class:`ConfigError` naming the option ``name``."""
    try:
        return np.asarray(spec, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} as numbers", found=f"{spec!r}") from None


def number_pair(spec, name: str) -> tuple[float, float]:
    """A ``(low, high)`` pair of numbers, or the :class:`ConfigError` naming ``name``."""
    values = floats_of(spec, name).ravel()
    if values.size != 2:
        raise ConfigError(f"{name} as a (low, high) pair", found=f"{spec!r}")
    return float(values[0]), float(values[1])


def _param(spec, n: int, u01: np.ndarray, name: str, *, positive: bool = True) -> np.ndarray:
    """A per-unit parameter: float (fixed), tuple (lo, hi) (uniform) or per-unit sequence."""
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ConfigError(f"{name} as a (low, high) range", found=f"{spec!r}")
        lo, hi = number_pair(spec, name)
        if not lo <= hi:
            raise ConfigError(f"{name} as a (low, high) range", found=f"{spec!r}")
        out = lo + (hi - lo) * u01
    elif np.ndim(spec) == 0:
        out = np.full(n, number(spec, name))
    else:
        out = floats_of(spec, name).ravel()
        if out.size != n:
            raise ConfigError(f"{name}: one value per unit ({n})", found=f"{out.size} values")
    if not np.all(np.isfinite(out)) or (positive and np.any(out < 0)):
        want = "finite values >= 0" if positive else "finite values"
        raise ConfigError(f"{name}: {want}", found=f"{np.round(out[:5], 4).tolist()}")
    return out


def _values(spec, n: int, name: str, *, positive: bool = True) -> np.ndarray:
    """Per-unit values given by the user: a scalar or one value per unit (never a range)."""
    spec = number(spec, name) if np.ndim(spec) == 0 else list(np.ravel(spec))
    return _param(spec, n, np.zeros(n), name, positive=positive)


def _stratified(rng_perm: np.ndarray, u01: np.ndarray, lo_hi, name: str) -> np.ndarray:
    """One value per unit in each of ``n`` equal strata of ``lo_hi``, strata shuffled."""
    if np.ndim(lo_hi) != 1 or len(lo_hi) != 2:
        raise ConfigError(f"{name} as (low, high) within [0, 1]", found=f"{lo_hi!r}")
    lo, hi = number_pair(lo_hi, name)
    if not 0 <= lo <= hi <= 1:
        raise ConfigError(f"{name} as (low, high) within [0, 1]", found=f"{lo_hi!r}")
    n = u01.size
    return lo + (hi - lo) * (rng_perm + u01) / n


def _sigmoid(u, threshold, slope):
    return 0.5 * (1.0 + np.tanh(0.5 * slope * (u - threshold)))


def _mid_cdf(values: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the piecewise-linear CDF through the mid-probability of each support point."""
    keep = probs > 0
    v, p = values[keep], probs[keep] / probs[keep].sum()
    half = (v[1] - v[0]) / 2 if v.size > 1 else 0.5
    half_top = (v[-1] - v[-2]) / 2 if v.size > 1 else 0.5
    x = np.concatenate([[v[0] - half], v, [v[-1] + half_top]])
    f = np.concatenate([[0.0], np.cumsum(p) - p / 2, [1.0]])
    return x, f


def make_population(
    kind: str,
    n_units: int,
    task: str | Task = "dabney",
    *,
    seed=None,
    utility=None,
    **options,
) -> pd.DataFrame:
    """Draw a population of model neurons, one row per unit, with its ground truth.

    The response of unit ``i`` to a reward of utility ``u`` in a context whose reversal
    point is ``z_i`` is

    .. math::

        f_i(u) = \\begin{cases} \\alpha^+_i (u - z_i) & u > z_i \\\\
                               \\alpha^-_i (u - z_i) & u \\le z_i \\end{cases}

    (Hz), with :math:`\\tau_i = \\alpha^+_i / (\\alpha^+_i + \\alpha^-_i)` and gain
    :math:`(\\alpha^+_i + \\alpha^-_i)/2`. Sigmoid units use
    :math:`f_i(u) = A_i (s_i(u) - E[s_i(U)])` instead.

    Parameters
    ----------
    kind : {"classical", "distributional", "bias", "sigmoid"}
        ``classical``: one shared reversal point, the mean (τ = 0.5 for everyone).
        ``distributional``: per-unit τ; the reversal point is the τ-expectile of the reward
        distribution (in utility space). ``bias``: diverse reversal points but symmetric
        slopes (τ = 0.5): the "bias" null. ``sigmoid``: efficient-coding units with sigmoid
        response curves (Schütt, Kim & Ma 2024); thresholds at quantiles of the reward
        distribution and slopes proportional to its density there.
    n_units : int
        Number of units.
    task : str or Task, default "dabney"
        Task whose uncued distribution defines reversal points (see :func:`get_task`).
    seed : int, numpy.random.Generator or None
        Source of randomness. The same seed gives the same table; for a given seed the
        baselines, gains and noise levels are the same whatever the kind (paired designs).
    utility : None, callable or array_like
        Monotone utility (see :func:`resolve_utility`); reversal points live in utility space.
        Default identity (reward units).
    **options
        Per-unit parameters take a float (fixed), a tuple ``(low, high)`` (uniform draw) or a
        list/array with one value per unit.

        All kinds: ``baseline`` (Hz, default ``(3.0, 8.0)``), ``noise`` (Hz SD of the
        Gaussian response noise, default ``(2.5, 6.0)``), ``response_range`` (Hz, default
        10: sets the default gain), ``gain`` (Hz per utility unit, default
        ``(0.6, 1.4) * response_range / utility span``; not for sigmoid).
        distributional: ``taus`` (per-unit τ), ``tau_range`` (default ``(0.05, 0.95)``,
        stratified draw: one τ in each of ``n_units`` equal sub-intervals, shuffled), or
        ``alpha_pos`` and ``alpha_neg`` (per-unit slopes; then τ and gain follow).
        bias: ``reversal_points`` (utility units), or ``spread="expectile"`` (default:
        reversal points drawn like distributional ones, at the expectiles of stratified
        levels in ``tau_range``) or ``"uniform"`` (uniform over the reward range);
        ``tie_baseline=True`` assigns the drawn baselines in the rank order of the reversal
        points (higher reversal point, higher baseline).
        sigmoid: ``thresholds``, ``slopes`` (per unit), ``level_range`` (default
        ``(0.05, 0.95)``: quantile levels of the thresholds, stratified), ``slope_scale``
        (default 1: slope ``k = 4 * slope_scale * density(threshold)``, so that the sigmoid's
        steepest slope ``k/4`` equals the density of the mid-point-interpolated reward CDF),
        ``amplitude`` (Hz, default ``(0.8, 1.6) * response_range``).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`POPULATION_COLUMNS` (+ ``sigmoid_threshold``, ``sigmoid_slope``,
        ``sigmoid_amplitude`` for the sigmoid kind). For sigmoid units ``reversal_point`` is
        the implied one (where the curve crosses its mean) and ``alpha_pos``/``alpha_neg``
        are the least-squares slopes through the reversal point over the reward
        distribution (what infinite data would give). ``attrs`` record the task, utility,
        kind and options.

    Raises
    ------
    ConfigError
        Unknown kind or option, or invalid values.

    Examples
    --------
    >>> import dopafit
    >>> pop = dopafit.make_population("distributional", 4, seed=0)
    >>> print(pop[["reversal_point", "tau", "alpha_pos", "alpha_neg"]].round(2).to_string())
       reversal_point   tau  alpha_pos  alpha_neg
    0            5.28  0.51       0.64       0.62
    1            1.44  0.05       0.03       0.57
    2            4.90  0.46       0.59       0.70
    3           12.42  0.93       0.59       0.04
    >>> dopafit.make_population("classical", 3, seed=0)["reversal_point"].round(2).tolist()
    [5.21, 5.21, 5.21]
    """
    n = _check_request(kind, n_units, options)
    task = get_task(task)
    util = _resolve_utility(utility, task)
    draws = _draws(_rng(seed), n)
    dist = _Distribution(util(np.asarray(task.magnitudes)), np.asarray(task.probabilities))
    common = _common_params(options, n, draws, util)
    shape = _SHAPES[kind](options, n, draws, dist, common)
    df = _population_table(kind, n, shape, common)
    df = finalize_population(df, task, util)
    df.attrs = {
        "kind": kind,
        "task": task.to_dict(),
        "utility": util.to_dict(),
        "options": jsonable(options),
    }
    return df


class _Draws(NamedTuple):
    """The fixed block of draws every population makes, whatever its kind and options."""

    perm: np.ndarray  # a permutation of 0..n-1 (as floats): stratum of each unit
    u: np.ndarray  # shape (6, n) uniforms: levels, baseline, gain, noise, amplitude, spread


class _Distribution(NamedTuple):
    """The uncued reward distribution in utility units."""

    values: np.ndarray
    probs: np.ndarray


class _Common(NamedTuple):
    """Per-unit parameters shared by every kind."""

    response_range: float
    baseline: np.ndarray
    noise: np.ndarray
    gain: np.ndarray


def _check_request(kind: str, n_units, options: dict) -> int:
    """Check the kind, its options and the number of units; return the number of units."""
    if kind not in KINDS:
        raise ConfigError(f"a population kind among {KINDS}", found=f"{kind!r}")
    unknown = sorted(set(options) - _OPTIONS[kind])
    if unknown:
        raise ConfigError(
            f"options of the {kind} kind: {sorted(_OPTIONS[kind])}", found=f"{unknown}"
        )
    return whole_number("n_units", n_units)


def _draws(rng: np.random.Generator, n: int) -> _Draws:
    """Draw the stratum permutation and the six rows of uniforms (paired populations)."""
    perm = rng.permutation(n).astype(np.float64)
    return _Draws(perm, rng.random((6, n)))


def _common_params(options: dict, n: int, draws: _Draws, util: Utility) -> _Common:
    """Baselines, noise levels and gains (default gain from the response range)."""
    span = float(util.values.max() - util.values.min()) or 1.0
    rr = number(options.get("response_range", 10.0), "response_range")
    if not rr > 0:
        raise ConfigError("response_range > 0 (Hz)", found=f"{rr!r}")
    baseline = _param(options.get("baseline", (3.0, 8.0)), n, draws.u[1], "baseline")
    noise = _param(options.get("noise", (2.5, 6.0)), n, draws.u[3], "noise")
    gain_spec = options.get("gain", (0.6 * rr / span, 1.4 * rr / span))
    gain = _param(gain_spec, n, draws.u[2], "gain")
    return _Common(rr, baseline, noise, gain)


def _classical(options, n, draws, dist, common) -> dict:
    """One shared reversal point (the mean): τ = 0.5, symmetric slopes."""
    half = np.full(n, 0.5)
    return {
        "tau": half,
        "alpha_pos": common.gain,
        "alpha_neg": common.gain,
        "reversal_tau": np.full(n, 0.5),
    }


def _distributional(options, n, draws, dist, common) -> dict:
    """Per-unit τ (given, stratified or from given slopes); reversal point at the τ-expectile."""
    if ("alpha_pos" in options) != ("alpha_neg" in options):
        raise ConfigError("alpha_pos and alpha_neg together", found="only one of them")
    if "alpha_pos" in options:
        if "taus" in options:
            raise ConfigError("either taus or alpha_pos/alpha_neg", found="both")
        a_pos = _values(options["alpha_pos"], n, "alpha_pos")
        a_neg = _values(options["alpha_neg"], n, "alpha_neg")
        if np.any(a_pos + a_neg <= 0):
            raise ConfigError("alpha_pos + alpha_neg > 0 for every unit")
        tau = a_pos / (a_pos + a_neg)
    else:
        if "taus" in options:
            tau = _values(options["taus"], n, "taus")
        else:
            tau_range = options.get("tau_range", (0.05, 0.95))
            tau = _stratified(draws.perm, draws.u[0], tau_range, "tau_range")
        if np.any((tau < 0) | (tau > 1)):
            raise ConfigError("taus in [0, 1]", found=f"{tau[:5].tolist()}")
        a_pos, a_neg = 2 * common.gain * tau, 2 * common.gain * (1 - tau)
    return {"tau": tau, "alpha_pos": a_pos, "alpha_neg": a_neg, "reversal_tau": tau}


def _bias(options, n, draws, dist, common) -> dict:
    """Diverse reversal points (given, expectile-spread or uniform), symmetric slopes."""
    values, probs = dist
    spread = options.get("spread", "expectile")
    z = None
    if "reversal_points" in options:
        z = _values(options["reversal_points"], n, "reversal_points", positive=False)
        rev_tau = expectile_level(values, probs, z)
    elif spread == "expectile":
        tau_range = options.get("tau_range", (0.05, 0.95))
        rev_tau = _stratified(draws.perm, draws.u[0], tau_range, "tau_range")
    elif spread == "uniform":
        lo, hi = values.min(), values.max()
        rev_tau = expectile_level(values, probs, lo + (hi - lo) * draws.u[5])
    else:
        raise ConfigError('spread "expectile" or "uniform"', found=f"{spread!r}")
    out = {
        "tau": np.full(n, 0.5),
        "alpha_pos": common.gain,
        "alpha_neg": common.gain,
        "reversal_tau": rev_tau,
    }
    if z is not None:
        out["reversal_point"] = z
    if options.get("tie_baseline", False):
        zz = expectile(values, probs, rev_tau) if z is None else z
        rank = np.argsort(np.argsort(zz, kind="stable"), kind="stable")
        out["baseline_rate"] = np.sort(common.baseline)[rank]
    return out


def _sigmoid_kind(options, n, draws, dist, common) -> dict:
    """Sigmoid curves: thresholds at reward quantiles, slopes from the density there."""
    x_knots, f_knots = _mid_cdf(*dist)
    if "thresholds" in options:
        threshold = _values(options["thresholds"], n, "thresholds", positive=False)
    else:
        level_range = options.get("level_range", (0.05, 0.95))
        levels = _stratified(draws.perm, draws.u[0], level_range, "levels")
        threshold = np.interp(levels, f_knots, x_knots)
    if "slopes" in options:
        slope = _values(options["slopes"], n, "slopes")
    else:
        seg = np.clip(np.searchsorted(x_knots, threshold, side="right") - 1, 0, x_knots.size - 2)
        density = (f_knots[seg + 1] - f_knots[seg]) / (x_knots[seg + 1] - x_knots[seg])
        slope = 4.0 * number(options.get("slope_scale", 1.0), "slope_scale") * density
    if np.any(slope <= 0):
        raise ConfigError("sigmoid slopes > 0", found=f"{slope[:5].tolist()}")
    rr = common.response_range
    amp = _param(options.get("amplitude", (0.8 * rr, 1.6 * rr)), n, draws.u[4], "amplitude")
    unknown = np.full(n, np.nan)  # filled by finalize_population
    return {
        "tau": unknown,
        "alpha_pos": unknown,
        "alpha_neg": unknown,
        "reversal_tau": unknown,
        "sigmoid_threshold": threshold,
        "sigmoid_slope": slope,
        "sigmoid_amplitude": amp,
    }


#: kind -> the step that sets its reversal points and slopes
_SHAPES = {
    "classical": _classical,
    "distributional": _distributional,
    "bias": _bias,
    "sigmoid": _sigmoid_kind,
}


def _population_table(kind: str, n: int, shape: dict, common: _Common) -> pd.DataFrame:
    """One row per unit in the column order of :data:`POPULATION_COLUMNS` (+ ``sigmoid_*``)."""
    df = pd.DataFrame({"unit_id": _unit_ids(n), "kind": kind})
    df["reversal_point"] = shape.get("reversal_point", np.nan)
    df["tau"] = shape["tau"]
    df["alpha_pos"] = shape["alpha_pos"]
    df["alpha_neg"] = shape["alpha_neg"]
    df["baseline_rate"] = shape.get("baseline_rate", common.baseline)
    df["gain"] = np.nan
    df["noise"] = common.noise
    df["reversal_tau"] = shape["reversal_tau"]
    for name in SIGMOID_COLUMNS:
        if name in shape:
            df[name] = shape[name]
    return df


def _unit_ids(n: int) -> list[str]:
    width = max(2, len(str(n - 1)))
    return [f"u{i:0{width}d}" for i in range(n)]


def finalize_population(df: pd.DataFrame, task: Task, util: Utility) -> pd.DataFrame:
    """Check a population table and recompute its derived columns.

    Authoritative columns: non-sigmoid rows ``reversal_point`` (or, when NaN,
    ``reversal_tau``), ``alpha_pos``, ``alpha_neg``; sigmoid rows ``sigmoid_*``. Derived:
    ``tau``, ``gain``, ``reversal_tau`` (and for sigmoid rows ``reversal_point`` and the
    least-squares slopes).
    """
    need = set(POPULATION_COLUMNS) - {"reversal_tau"}
    missing = sorted(need - set(df.columns))
    if missing:
        raise ConfigError(
            f"a population table with columns {sorted(need)}",
            found=f"missing {missing}",
            remedy="build it with dopafit.simulate.make_population",
        )
    df = df.copy()
    if "reversal_tau" not in df:
        df["reversal_tau"] = np.nan
    bad = sorted(set(df["kind"]) - set(KINDS))
    if bad:
        raise ConfigError(f"kinds among {KINDS}", found=f"{bad}")
    values = util(np.asarray(task.magnitudes))
    probs = np.asarray(task.probabilities)
    sig = (df["kind"] == "sigmoid").to_numpy()
    lin = ~sig
    if lin.any():
        _linear_reversal_points(df, lin, values, probs)
    if sig.any():
        _sigmoid_truth(df, sig, values, probs)
    a_pos = df["alpha_pos"].to_numpy(dtype=np.float64)
    a_neg = df["alpha_neg"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["tau"] = a_pos / (a_pos + a_neg)
    df["gain"] = (a_pos + a_neg) / 2
    rates = df["baseline_rate"].to_numpy(dtype=np.float64)
    noise = df["noise"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(rates) | (rates < 0)) or np.any(~np.isfinite(noise) | (noise < 0)):
        raise ConfigError("finite baseline_rate and noise >= 0 for every unit")
    if len(set(df["unit_id"].astype(str))) != len(df):
        raise ConfigError("distinct unit_id values", found="duplicates")
    return df


def _linear_reversal_points(df: pd.DataFrame, lin: np.ndarray, values, probs) -> None:
    """Fill ``reversal_point`` and ``reversal_tau`` of the piecewise-linear rows in place."""
    z = df.loc[lin, "reversal_point"].to_numpy(dtype=np.float64)
    rt = df.loc[lin, "reversal_tau"].to_numpy(dtype=np.float64)
    if np.any((rt < 0) | (rt > 1)):
        raise ConfigError("reversal_tau in [0, 1]", found=f"{rt[(rt < 0) | (rt > 1)][:3]}")
    from_rt = expectile(values, probs, np.nan_to_num(rt, nan=0.5))
    # reversal_point wins when both are given and disagree (e.g. edited by hand)
    scale = max(1.0, float(np.abs(values).max()))
    stale = np.isfinite(z) & (np.isnan(rt) | (np.abs(from_rt - z) > 1e-9 * scale))
    rt = np.where(stale, expectile_level(values, probs, z), rt)
    z = np.where(np.isnan(z), from_rt, z)
    rt = np.where(np.isnan(rt), 0.5, rt)
    df.loc[lin, "reversal_point"] = z
    df.loc[lin, "reversal_tau"] = rt


def _sigmoid_truth(df: pd.DataFrame, sig: np.ndarray, values, probs) -> None:
    """Fill the implied reversal point, least-squares slopes and level of sigmoid rows."""
    for col in SIGMOID_COLUMNS:
        if col not in df:
            raise ConfigError(f"sigmoid rows with column {col!r}", found="no such column")
    th, k, amp = (df.loc[sig, c].to_numpy(dtype=np.float64) for c in SIGMOID_COLUMNS)
    z = _sigmoid_reversal(th, k, values, probs)
    f = amp[:, None] * (
        _sigmoid(values[None, :], th[:, None], k[:, None]) - _sigmoid(z, th, k)[:, None]
    )
    x = values[None, :] - z[:, None]
    w = probs[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        up, lo = x > 0, x < 0
        a_pos = (w * x * f * up).sum(1) / (w * x * x * up).sum(1)
        a_neg = (w * x * f * lo).sum(1) / (w * x * x * lo).sum(1)
    df.loc[sig, "reversal_point"] = z
    df.loc[sig, "alpha_pos"] = a_pos
    df.loc[sig, "alpha_neg"] = a_neg
    df.loc[sig, "reversal_tau"] = expectile_level(values, probs, z)


def _sigmoid_reversal(th, k, values, probs) -> np.ndarray:
    """Where each sigmoid equals its mean over the distribution: s(z) = E[s(U)]."""
    mean_s = (probs[None, :] * _sigmoid(values[None, :], th[:, None], k[:, None])).sum(1)
    mean_s = np.clip(mean_s, 1e-300, 1 - 1e-16)
    return th + np.log(mean_s / (1 - mean_s)) / k


def context_reversal_points(pop: pd.DataFrame, values, probs) -> np.ndarray:
    """Reversal point of every unit for a context's distribution (utility values), shape (n,).

    Non-sigmoid units keep their expectile level ``reversal_tau``; sigmoid units cross the
    mean of their curve over that distribution.
    """
    values = np.asarray(values, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    out = np.empty(len(pop))
    sig = (pop["kind"] == "sigmoid").to_numpy()
    if (~sig).any():
        out[~sig] = expectile(values, probs, pop.loc[~sig, "reversal_tau"].to_numpy(np.float64))
    if sig.any():
        th, k = (
            pop.loc[sig, c].to_numpy(np.float64) for c in ("sigmoid_threshold", "sigmoid_slope")
        )
        out[sig] = _sigmoid_reversal(th, k, values, probs)
    return out


def reward_response(pop: pd.DataFrame, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Noise-free response (Hz) of each unit to utilities ``u`` given reversal points ``z``.

    Parameters
    ----------
    pop : DataFrame
        Population (n rows).
    u, z : ndarray, shape (n, m)
        Utilities and the reversal point of each trial's context (broadcastable).

    Returns
    -------
    ndarray, shape (n, m)
    """
    u = np.asarray(u, dtype=np.float64)
    z = np.broadcast_to(np.asarray(z, dtype=np.float64), u.shape)
    a_pos = pop["alpha_pos"].to_numpy(np.float64)[:, None]
    a_neg = pop["alpha_neg"].to_numpy(np.float64)[:, None]
    d = u - z
    out = np.where(d > 0, a_pos * d, a_neg * d)
    sig = (pop["kind"] == "sigmoid").to_numpy()
    if sig.any():
        th, k, amp = (pop.loc[sig, c].to_numpy(np.float64)[:, None] for c in SIGMOID_COLUMNS)
        out[sig] = amp * (_sigmoid(u[sig], th, k) - _sigmoid(z[sig], th, k))
    return out


def jsonable(obj):
    """Convert options (arrays, tuples, numpy scalars) to JSON-friendly values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in np.asarray(obj, dtype=object).ravel().tolist()]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)
