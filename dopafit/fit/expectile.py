"""Per-unit reversal points, asymmetric slopes and tau; split halves, folds and bootstrap.

The analysis of Dabney et al. (2020), with the choices the original left implicit made
explicit and recorded in the output's attrs (axis, pooling, tie rule, caps, seeds).

Examples
--------
>>> import numpy as np
>>> import dopafit
>>> rng = np.random.default_rng(0)
>>> mags = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
>>> reward = rng.choice(mags, size=(12, 140))
>>> z = np.linspace(1.0, 10.0, 12)[:, None]  # one reversal point per unit
>>> response = np.where(reward > z, 1.0, 0.6) * (reward - z) + rng.normal(0, 1.5, reward.shape)
>>> ds = dopafit.make_responses(response, reward)
>>> fit = dopafit.fit_expectiles(ds, axis="reward", n_splits=50, n_boot=50, seed=1)
>>> bool(fit["r_reliability"].median() > 0.5)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit._version import __version__
from dopafit.errors import ConfigError, DopafitWarning, FitError
from dopafit.fit.axes import POOL_MODES, Prepared, prepare

__all__ = [
    "fit_expectiles",
    "check_fit_options",
    "split_summary",
    "METHODS",
    "TIE_RULE",
    "FOLD_RULE",
]

METHODS = ("count", "kink")
SPLIT = "split"
FOLD = "fold"
MAGNITUDE = "magnitude"

TIE_RULE = (
    "maximisers of C(k) over split positions 0..P between the P present magnitudes: if "
    "position 0 is among them the estimate is the lower cap, else if position P is the upper "
    "cap, else the lower median of the tied positions; interpolation weights 1/d for a "
    "difference d > 0, the flanking magnitude itself when its difference is 0, the midpoint "
    "when both are 0"
)
FOLD_RULE = (
    "within-magnitude folds of floor(n/n_folds) trials from each split's permutation; fold "
    "tau uses slopes centred on the unit's all-trial reversal point; the ANOVA leaves out "
    "units with a non-finite fold tau and (fold_exclude_edge) units whose all-trial reversal "
    "point is an edge estimate"
)

_STATUS_TEXT = {
    1: "no finite responses",
    2: "trials at fewer than 2 magnitudes",
    3: "slope undefined: no spread of the axis on one side of the reversal point",
    4: "tau undefined: alpha_pos + alpha_neg = 0",
}


def p_from_r(r, n) -> np.ndarray:
    """Two-sided p of correlations ``r`` over ``n`` pairs (t with ``n - 2`` df)."""
    from scipy import stats

    r = np.asarray(r, dtype=float)
    df = np.asarray(n, dtype=float) - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(df / np.clip(1.0 - r * r, 0.0, None))
        p = 2.0 * stats.t.sf(np.abs(t), df)
    p = np.where(np.abs(r) >= 1.0, 0.0, p)
    return np.where(np.isfinite(r) & (df > 0), p, np.nan)


def _summary_attrs(values: np.ndarray, p: np.ndarray | None = None, alpha: float = 0.05):
    finite = values[np.isfinite(values)]
    out = {"n_finite": int(finite.size)}
    if finite.size:
        out.update(
            median=float(np.median(finite)),
            q05=float(np.percentile(finite, 5)),
            q95=float(np.percentile(finite, 95)),
            mean=float(np.mean(finite)),
        )
    if p is not None:
        fp = p[np.isfinite(p)]
        out["frac_p_lt_0_05" if alpha == 0.05 else f"frac_p_lt_{alpha}"] = (
            float(np.mean(fp < alpha)) if fp.size else float("nan")
        )
    return out


def _check_options(method, n_splits, n_folds, n_boot, level, cap_low, cap_high, pool_cued, seed):
    if method not in METHODS:
        raise ConfigError(f"method one of {', '.join(METHODS)}", found=repr(method))
    for name, value in (("n_splits", n_splits), ("n_boot", n_boot), ("n_folds", n_folds)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"{name} as an integer >= 0", found=repr(value))
    if n_folds == 1:
        raise ConfigError("n_folds = 0 (no folds) or >= 2", found="1")
    if not 0.0 < float(level) < 1.0:
        raise ConfigError("level in (0, 1)", found=repr(level))
    if not (np.isfinite(cap_low) and np.isfinite(cap_high) and cap_low >= 0 and cap_high >= 0):
        raise ConfigError("cap_low and cap_high finite and >= 0", found=f"{cap_low}, {cap_high}")
    if pool_cued not in POOL_MODES:
        raise ConfigError(f"pool_cued one of {', '.join(POOL_MODES)}", found=repr(pool_cued))
    if seed is not None and not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise ConfigError("seed as an integer >= 0 or None", found=repr(seed))


def check_fit_options(**options) -> None:
    """Check options of :func:`fit_expectiles` without data (the batch checks its settings
    before any work); unknown names are left to the caller.

    Raises
    ------
    ConfigError
        An invalid value.
    """
    import inspect

    from dopafit.fit.axes import AXES

    params = inspect.signature(fit_expectiles).parameters
    values = {n: options.get(n, p.default) for n, p in params.items() if n != "responses"}
    axis = values["axis"]
    if isinstance(axis, str) and axis not in AXES:
        raise ConfigError(f"axis one of {', '.join(AXES)}", found=repr(axis))
    _check_options(
        values["method"],
        values["n_splits"],
        values["n_folds"],
        values["n_boot"],
        values["level"],
        values["cap_low"],
        values["cap_high"],
        values["pool_cued"],
        values["seed"],
    )


def fit_expectiles(
    responses: xr.Dataset,
    axis: str | Callable | np.ndarray = "utility",
    method: str = "count",
    n_splits: int = 1000,
    n_folds: int = 7,
    n_boot: int = 1000,
    seed: int | None = 0,
    *,
    pool_cued: str = "auto",
    level: float = 0.95,
    cap_low: float = 0.01,
    cap_high: float = 0.1,
    fold_exclude_edge: bool = True,
) -> xr.Dataset:
    """Fit reversal points, asymmetric slopes and tau per unit, with split-half controls.

    Parameters
    ----------
    responses : xarray.Dataset
        A responses Dataset (dims ``unit`` × ``trial``; see :mod:`dopafit.schema`).
    axis : {"utility", "reward", "zscore"}, callable or array-like, default "utility"
        The axis reversal points and slopes live on (see :mod:`dopafit.fit.axes`).
    method : {"count", "kink"}, default "count"
        ``"count"``: the counting rule of Dabney et al. (2020). ``"kink"``: least-squares
        piecewise-linear fit with a free kink (slopes estimated jointly).
    n_splits : int, default 1000
        Random split halves (0 skips them, and the fold ANOVA draws).
    n_folds : int, default 7
        Folds per split for the precision of tau (0 skips them).
    n_boot : int, default 1000
        Trial-level bootstrap resamples within magnitude for the intervals (0 skips them).
    seed : int or None, default 0
        Master seed; every random draw derives from it through
        :class:`numpy.random.SeedSequence`. ``None`` draws fresh entropy (recorded).
    pool_cued : {"auto", "offset", "none", "cued", "uncued"}, default "auto"
        How cued and uncued trials are combined (see :func:`dopafit.fit.axes.prepare`).
    level : float, default 0.95
        Level of the bootstrap percentile intervals.
    cap_low, cap_high : float, default 0.01, 0.1
        Edge estimates ``axis[lowest] + cap_low`` and ``axis[highest] - cap_high`` (the
        original's constants, in axis units); the kink is searched within the same bounds.
    fold_exclude_edge : bool, default True
        Leave units whose all-trial reversal point is an edge estimate out of the fold ANOVA.

    Returns
    -------
    xarray.Dataset
        Dims ``unit``, ``split``, ``fold``, ``magnitude``. Per unit: ``reversal_point``,
        ``alpha_neg``, ``alpha_pos``, ``tau`` (+ ``*_lo``/``*_hi`` bootstrap intervals),
        ``edge_reversal`` (-1 capped below, +1 above), ``tau_out_of_range``, ``fit_ok``,
        ``fit_status``, ``n_trials``, ``n_magnitudes``, fold results ``tau_fold(fold, unit)``,
        ``tau_sem``, ``tau_t``, ``tau_t_p``, ``fold_included``, ``fold_status``. Per split and
        unit: ``reversal_point_a``, ``reversal_point_b``, ``tau_b``, ``alpha_neg_b``,
        ``alpha_pos_b``, ``edge_reversal_a``, ``edge_reversal_b``. Per split:
        ``r_tau_reversal``, ``p_tau_reversal``, ``rho_tau_reversal``, ``p_rho_tau_reversal``,
        ``r_reliability``, ``p_reliability``, ``n_units_split``, ``anova_f``, ``anova_p``,
        ``anova_df1``, ``anova_df2`` (each with its distribution summary in its attrs). Per
        magnitude: ``axis_value``, ``n_trials_magnitude(unit, magnitude)``,
        ``mean_response(unit, magnitude)``.

    Raises
    ------
    ResponsesError
        ``responses`` does not follow the data model.
    ConfigError
        An option is invalid.
    FitError
        Fewer than 2 magnitudes in the Dataset, or no unit can be fitted.

    Notes
    -----
    Counting rule over split positions ``k`` between present magnitudes:
    ``C(k) = #{m >= k, r > 0} + #{m < k, r < 0}``; ``k* = argmax C`` (tie rule in
    :data:`TIE_RULE`); the reversal point interpolates the axis values of the two flanking
    magnitudes, ``z = (d_hi a_lo + d_lo a_hi) / (d_lo + d_hi)`` with
    ``d_lo = C(k*) - C(k*-1)`` and ``d_hi = C(k*) - C(k*+1)``. Slopes through the origin on
    ``x = a - z``: ``alpha_neg = sum_{x<=0} x r / sum_{x<=0} x^2`` and ``alpha_pos`` likewise
    for ``x >= 0``; ``tau = alpha_pos / (alpha_pos + alpha_neg)`` (not clipped).
    Split halves: per unit and magnitude ``h = floor(n/2)`` trials form half A and the next
    ``h`` half B; half A gives ``reversal_point_a``, half B its own reversal point and the
    slopes centred on it. Folds: see :data:`FOLD_RULE`.

    References
    ----------
    Dabney W. et al. (2020) A distributional code for value in dopamine-based reinforcement
    learning. Nature 577:671-675.
    """
    from dopafit.kernels import expectile as kern

    _check_options(method, n_splits, n_folds, n_boot, level, cap_low, cap_high, pool_cued, seed)
    prep = prepare(responses, axis=axis, pool_cued=pool_cued)
    increasing = bool(np.all(np.diff(prep.axis) > 0))
    if not increasing and prep.axis_name != "utility":
        # (the empirical utility curve is often flat and noisy between the two smallest
        # magnitudes: recorded in attrs['axis_increasing'], not warned about)
        warnings.warn(
            f"axis {prep.axis_name} is not increasing in magnitude ({np.round(prep.axis, 4)}): "
            "the counting rule follows magnitude order, the kink follows axis order",
            DopafitWarning,
            stacklevel=2,
        )
    ss = np.random.SeedSequence(seed)
    split_ss, boot_ss = ss.spawn(2)
    method_code = kern.METHOD_KINK if method == "kink" else kern.METHOD_COUNT
    n_unit = prep.cnt.shape[0]
    args = (prep.vals, prep.start, prep.cnt, prep.axis, prep.order, method_code)
    caps = (float(cap_low), float(cap_high))

    z, a_neg, a_pos, tau, edge, status = kern.fit_units(*args, *caps)
    reasons = list(prep.unit_reason)
    for u in range(n_unit):
        if not reasons[u] and status[u] != kern.STATUS_OK:
            reasons[u] = _STATUS_TEXT[int(status[u])]
    fit_ok = np.array([r == "" for r in reasons])
    if not fit_ok.any():
        raise FitError(
            "at least one unit with responses at 2 or more magnitudes",
            found=f"{n_unit} unit(s), none fittable ({sorted(set(reasons))})",
            remedy="check the response and reward variables of the Dataset",
            file=responses.attrs.get("source")
            if isinstance(responses.attrs.get("source"), str)
            else None,
        )
    if fit_ok.sum() < 3 and n_splits > 0:
        warnings.warn(
            f"only {int(fit_ok.sum())} fittable unit(s): population correlations need 3 or "
            "more and will be NaN",
            DopafitWarning,
            stacklevel=2,
        )

    unit_coords = {
        name: responses[name] for name in schema.UNIT_COORDS if name in responses.variables
    }
    ds = xr.Dataset(coords={schema.UNIT: responses[schema.UNIT].values, **unit_coords})
    ds = ds.assign_coords({MAGNITUDE: prep.magnitudes})
    per_unit = {
        "reversal_point": z,
        "alpha_neg": a_neg,
        "alpha_pos": a_pos,
        "tau": tau,
    }
    for name, values in per_unit.items():
        ds[name] = (schema.UNIT, values)
    ds["edge_reversal"] = (schema.UNIT, edge.astype(np.int8))
    ds["tau_out_of_range"] = (schema.UNIT, np.isfinite(tau) & ((tau < 0) | (tau > 1)))
    ds["fit_ok"] = (schema.UNIT, fit_ok)
    ds["fit_status"] = (
        schema.UNIT,
        np.array(["ok" if ok else r for ok, r in zip(fit_ok, reasons)], dtype=object),
    )
    ds["n_trials"] = (schema.UNIT, prep.cnt.sum(axis=1).astype(np.int64))
    ds["n_magnitudes"] = (schema.UNIT, (prep.cnt > 0).sum(axis=1).astype(np.int64))
    ds["axis_value"] = (MAGNITUDE, prep.axis)
    ds["n_trials_magnitude"] = ((schema.UNIT, MAGNITUDE), prep.cnt.copy())
    ds["mean_response"] = ((schema.UNIT, MAGNITUDE), prep.mean_response)

    if n_boot > 0:
        _add_bootstrap(ds, kern, args, caps, boot_ss, n_boot, level)
    if n_splits > 0:
        seeds = split_ss.generate_state(n_splits, dtype=np.uint64)
        out = kern.split_half(*args, *caps, z, seeds, int(n_folds))
        _add_splits(ds, kern, out, n_folds, fit_ok, edge, fold_exclude_edge)

    ds.attrs = _attrs(responses, prep, method, n_splits, n_folds, n_boot, ss, level, caps)
    ds.attrs["fold_exclude_edge"] = bool(fold_exclude_edge)
    ds.attrs["axis_increasing"] = increasing
    _describe(ds)
    return ds


def _add_bootstrap(ds, kern, args, caps, boot_ss, n_boot, level):
    boot_seed = boot_ss.generate_state(1, dtype=np.uint64)[0]
    zb, anb, apb, taub = kern.bootstrap_units(*args, *caps, boot_seed, int(n_boot))
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    for name, values in (
        ("reversal_point", zb),
        ("alpha_neg", anb),
        ("alpha_pos", apb),
        ("tau", taub),
    ):
        lo, hi = kern.percentile_rows(values, np.true_divide(q, 100)).T  # np.percentile's
        ds[f"{name}_lo"] = (schema.UNIT, lo)
        ds[f"{name}_hi"] = (schema.UNIT, hi)
    ds["n_boot_ok"] = (schema.UNIT, np.isfinite(taub).sum(axis=1).astype(np.int64))


def _add_splits(ds, kern, out, n_folds, fit_ok, edge, fold_exclude_edge):
    z_a, z_b, a_neg_b, a_pos_b, tau_b, edge_a, edge_b, tau_fold = out
    dims = (SPLIT, schema.UNIT)
    ds["reversal_point_a"] = (dims, z_a)
    ds["reversal_point_b"] = (dims, z_b)
    ds["tau_b"] = (dims, tau_b)
    ds["alpha_neg_b"] = (dims, a_neg_b)
    ds["alpha_pos_b"] = (dims, a_pos_b)
    ds["edge_reversal_a"] = (dims, edge_a.astype(np.int8))
    ds["edge_reversal_b"] = (dims, edge_b.astype(np.int8))

    r, n = kern.pearson_rows(tau_b, z_a)
    rho, n_rho = kern.spearman_rows(tau_b, z_a)
    rel, n_rel = kern.pearson_rows(z_a, z_b)
    p = p_from_r(r, n)
    p_rho = p_from_r(rho, n_rho)
    p_rel = p_from_r(rel, n_rel)
    ds["r_tau_reversal"] = (SPLIT, r, _summary_attrs(r, p))
    ds["p_tau_reversal"] = (SPLIT, p)
    ds["rho_tau_reversal"] = (SPLIT, rho, _summary_attrs(rho, p_rho))
    ds["p_rho_tau_reversal"] = (SPLIT, p_rho)
    ds["r_reliability"] = (SPLIT, rel, _summary_attrs(rel, p_rel))
    ds["p_reliability"] = (SPLIT, p_rel)
    ds["n_units_split"] = (SPLIT, n.astype(np.int64))
    ds.coords[SPLIT] = np.arange(z_a.shape[0])
    if n_folds > 0:
        _add_folds(ds, kern, tau_fold, fit_ok, edge, fold_exclude_edge)


def _add_folds(ds, kern, tau_fold, fit_ok, edge, fold_exclude_edge):
    from scipy import stats

    n_folds = tau_fold.shape[1]
    exclude = ~fit_ok
    if fold_exclude_edge:
        exclude = exclude | (edge != 0)
    masked = tau_fold.copy()
    masked[:, :, exclude] = np.nan
    f_stat, k = kern.anova_rows(masked)
    df1 = (k - 1).astype(np.int64)
    df2 = (k * (n_folds - 1)).astype(np.int64)
    with np.errstate(invalid="ignore"):
        f_p = np.where(np.isfinite(f_stat), stats.f.sf(f_stat, df1, np.maximum(df2, 1)), np.nan)
    ds["anova_f"] = (SPLIT, f_stat, _summary_attrs(f_stat, f_p))
    ds["anova_p"] = (SPLIT, f_p)
    ds["anova_df1"] = (SPLIT, df1)
    ds["anova_df2"] = (SPLIT, df2)

    # per-unit precision from the first fold draw (split 0)
    first = tau_fold[0]  # (fold, unit)
    finite = np.isfinite(first).all(axis=0)
    included = finite & ~exclude
    grand = first[:, included].mean() if included.any() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = first.mean(axis=0)
        sem = first.std(axis=0, ddof=1) / np.sqrt(n_folds)
        t = (mean - grand) / sem
        tp = 2.0 * stats.t.sf(np.abs(t), n_folds - 1)
    status = np.where(
        ~fit_ok,
        "not fitted",
        np.where(
            ~finite,
            "excluded: non-finite fold tau",
            np.where(exclude, "excluded: edge reversal point", "ok"),
        ),
    ).astype(object)
    fin = np.where(finite, 1.0, np.nan)
    ds["tau_fold"] = ((FOLD, schema.UNIT), first)
    ds.coords[FOLD] = np.arange(n_folds)
    ds["tau_fold_mean"] = (schema.UNIT, mean * fin)
    ds["tau_sem"] = (schema.UNIT, sem * fin)
    ds["tau_t"] = (schema.UNIT, t * fin)
    ds["tau_t_p"] = (schema.UNIT, tp * fin)
    ds["fold_included"] = (schema.UNIT, included)
    ds["fold_status"] = (schema.UNIT, status)
    ds.attrs["fold_grand_mean_tau"] = float(grand)


def _attrs(responses, prep: Prepared, method, n_splits, n_folds, n_boot, ss, level, caps):
    attrs = {
        "analysis": "expectile",
        "axis": prep.axis_name,
        "axis_values": prep.axis.tolist(),
        "magnitudes": prep.magnitudes.tolist(),
        "axis_units": responses.attrs.get("response_units", "")
        if prep.axis_name == "utility"
        else responses.attrs.get("reward_units", ""),
        "response_transform": "zscore per unit" if prep.axis_name == "zscore" else "none",
        "method": method,
        "pool_cued": prep.pool_mode,
        "uncued_offset": float(prep.offset),
        # an int that fits netCDF's int64, else its decimal string (seed=None entropy)
        "seed": int(ss.entropy) if 0 <= int(ss.entropy) < 2**63 else str(ss.entropy),
        "seed_derivation": "SeedSequence(seed).spawn(2): [splits, bootstrap]; splitmix64 "
        "stream per (split, unit) and per (bootstrap, unit)",
        "n_splits": int(n_splits),
        "n_folds": int(n_folds),
        "n_boot": int(n_boot),
        "ci_level": float(level),
        "ci_method": "percentile, trial-level bootstrap within magnitude",
        "cap_low": caps[0],
        "cap_high": caps[1],
        "tie_rule": TIE_RULE,
        "fold_rule": FOLD_RULE,
        "dopafit_version": __version__,
    }
    attrs.update(schema.provenance_attrs(responses))
    return attrs


_DESCRIPTIONS = {
    "reversal_point": "reversal point on the axis, all trials",
    "alpha_neg": "slope below the reversal point (response per axis unit)",
    "alpha_pos": "slope above the reversal point (response per axis unit)",
    "tau": "asymmetry alpha_pos / (alpha_pos + alpha_neg), not clipped",
    "edge_reversal": "-1: capped below all magnitudes (kink: at the lower bound); +1: above",
    "tau_out_of_range": "tau outside [0, 1] (a negative slope)",
    "fit_status": "'ok' or why the unit could not be fitted",
    "reversal_point_a": "reversal point from half A",
    "reversal_point_b": "reversal point from half B",
    "tau_b": "tau from half B, slopes centred on half B's reversal point",
    "r_tau_reversal": "Pearson r of tau_b and reversal_point_a across units",
    "rho_tau_reversal": "Spearman rho of tau_b and reversal_point_a across units",
    "r_reliability": "Pearson r of reversal_point_a and reversal_point_b across units",
    "anova_f": "one-way ANOVA F of fold tau across units (one fold draw per split)",
    "tau_fold": "tau per fold, first fold draw (split 0)",
    "n_units_split": "units entering r_tau_reversal",
}


def _describe(ds: xr.Dataset) -> None:
    for name, text in _DESCRIPTIONS.items():
        if name in ds:
            ds[name].attrs["description"] = text


def split_summary(fit: xr.Dataset, alpha: float = 0.05):
    """Distribution of the per-split population statistics as a table.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`fit_expectiles` with splits.
    alpha : float, default 0.05
        Threshold for the fraction of significant splits.

    Returns
    -------
    pandas.DataFrame
        One row per statistic (``r_tau_reversal``, ``rho_tau_reversal``, ``r_reliability``,
        ``anova_f``) with columns ``median``, ``q05``, ``q95``, ``mean``, ``frac_p_lt_alpha``
        and ``n_splits``; printed whole whatever the pandas display options.
    """
    import pandas as pd

    from dopafit._table import FullTable

    pairs = {
        "r_tau_reversal": "p_tau_reversal",
        "rho_tau_reversal": "p_rho_tau_reversal",
        "r_reliability": "p_reliability",
        "anova_f": "anova_p",
    }
    rows = {}
    for stat, pname in pairs.items():
        if stat not in fit:
            continue
        s = _summary_attrs(fit[stat].values, fit[pname].values, alpha)
        rows[stat] = {
            "median": s.get("median", np.nan),
            "q05": s.get("q05", np.nan),
            "q95": s.get("q95", np.nan),
            "mean": s.get("mean", np.nan),
            "frac_p_lt_alpha": next(v for k, v in s.items() if k.startswith("frac_p_lt")),
            "n_splits": s["n_finite"],
        }
    if not rows:
        raise FitError(
            "a fit Dataset with split statistics",
            found="no r_tau_reversal / r_reliability / anova_f variables",
            remedy="call fit_expectiles with n_splits > 0",
        )
    return FullTable(pd.DataFrame.from_dict(rows, orient="index"))
