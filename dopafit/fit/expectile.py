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
from dataclasses import dataclass

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import DopafitNote, DopafitWarning, FitError
from dopafit.fit.axes import Prepared, prepare
from dopafit.fit.options import METHODS, FitOptions

__all__ = [
    "fit_expectiles",
    "fit_with_options",
    "FitOptions",
    "check_fit_options",
    "split_summary",
    "METHODS",
    "TIE_RULE",
    "FOLD_RULE",
    "TAU_PRECISION",
]

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
    "point is an edge estimate; tau_fold_mean, tau_fold_sem, tau_fold_t and tau_fold_t_p are "
    "the original's per-unit mean, SEM and t-test of the first draw's fold taus (faithful, "
    "not robust: one degenerate fold dominates them)"
)
TAU_PRECISION = (
    "bootstrap: tau_center is the median of the trial-level bootstrap taus (resampled "
    "within magnitude, reversal point refitted), tau_lo/tau_hi their percentile interval at "
    "ci_level, tau_se half the width of their central 68.27%; resamples with an undefined "
    "tau are left out (n_boot_ok counts the others)"
)
#: percentiles whose half-distance is ``tau_se`` (+-1 SD of a normal distribution)
_SE_LOW, _SE_HIGH = 15.865525393145708, 84.13447460685429

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


def check_fit_options(**options) -> None:
    """Check options of :func:`fit_expectiles` without data (as :class:`FitOptions` does);
    unknown names are left to the caller.

    Raises
    ------
    ConfigError
        An invalid value.
    """
    FitOptions(**{k: v for k, v in options.items() if k in FitOptions.names()})


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
    progress: bool | None = None,
) -> xr.Dataset:
    """Fit reversal points, asymmetric slopes and tau per unit, with split-half controls.

    The options are gathered into one validated :class:`~dopafit.fit.options.FitOptions`
    (what the batch and the ``[fit]`` table of a config build);
    :func:`fit_with_options` takes that object directly.

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
        Master seed; every random draw derives from it as :mod:`dopafit.seeds` describes
        (:data:`dopafit.seeds.FIT_DERIVATION`). ``None`` draws fresh entropy (recorded).
    pool_cued : {"auto", "offset", "none", "cued", "uncued"}, default "auto"
        How cued and uncued trials are combined (see :func:`dopafit.fit.axes.prepare`).
    level : float, default 0.95
        Level of the bootstrap percentile intervals.
    cap_low, cap_high : float, default 0.01, 0.1
        Edge estimates ``axis[lowest] + cap_low`` and ``axis[highest] - cap_high`` (the
        original's constants, in axis units); the kink is searched within the same bounds.
    fold_exclude_edge : bool, default True
        Leave units whose all-trial reversal point is an edge estimate out of the fold ANOVA.
    progress : bool or None, default None
        A progress bar over the bootstrap and the split halves: None shows it in a notebook
        or when standard error is a terminal, True always, False never. Not an analysis
        option (not in :class:`~dopafit.fit.options.FitOptions`, not in attrs): the numbers
        do not depend on it.

    Returns
    -------
    xarray.Dataset
        Dims ``unit``, ``split``, ``fold``, ``magnitude``. Per unit: ``reversal_point``,
        ``alpha_neg``, ``alpha_pos``, ``tau`` (+ ``*_lo``/``*_hi`` bootstrap intervals),
        the per-unit precision of tau ``tau_center``, ``tau_lo``, ``tau_hi``, ``tau_se``
        (bootstrap, see Notes), ``edge_reversal`` (-1 capped below, +1 above),
        ``tau_out_of_range``, ``fit_ok``, ``fit_status``, ``n_trials``, ``n_magnitudes``,
        the faithful fold results ``tau_fold(fold, unit)``, ``tau_fold_mean``,
        ``tau_fold_sem``, ``tau_fold_t``, ``tau_fold_t_p``, ``fold_included``,
        ``fold_status``. Per split and
        unit: ``reversal_point_a``, ``reversal_point_b``, ``tau_b``, ``alpha_neg_b``,
        ``alpha_pos_b``, ``edge_reversal_a``, ``edge_reversal_b``. Per split:
        ``r_tau_reversal``, ``p_tau_reversal``, ``rho_tau_reversal``, ``p_rho_tau_reversal``,
        ``r_reliability``, ``p_reliability``, ``n_units_split``, ``anova_f``, ``anova_p``,
        ``anova_df1``, ``anova_df2`` (each with its distribution summary in its attrs). Per
        magnitude: ``axis_value``, ``n_trials_magnitude(unit, magnitude)``,
        ``mean_response(unit, magnitude)``. attrs record every option (see
        :meth:`FitOptions.to_attrs <dopafit.fit.options.FitOptions.to_attrs>`), the axis and
        pooling as resolved on the data, the seed, the precision rule ``tau_precision``
        (:data:`TAU_PRECISION`) and, with folds, ``fold_grand_mean_tau``.

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

    Per-unit precision of tau (:data:`TAU_PRECISION`): ``tau_center`` is the median of the
    ``n_boot`` bootstrap taus (trials resampled within magnitude, the reversal point refitted
    in every resample), ``[tau_lo, tau_hi]`` their percentile interval at ``level`` and
    ``tau_se`` half the width of their central 68.27%. The original's per-unit precision,
    the mean and SEM of the ``n_folds`` fold taus (``tau_fold_mean``, ``tau_fold_sem``, and
    the t-test ``tau_fold_t``/``tau_fold_t_p``), is kept for the fold ANOVA it belongs to,
    but a fold tau is a ratio of slopes from a seventh of the trials and one fold far
    outside [0, 1] dominates it (a public cell: fold taus -17.2, 0.11, ... against tau 0.65
    give a fold mean of -1.94). Measured (docs/explanation/fitting.md): on the 40 public
    cells Pearson(tau, tau_center) = 0.99 (fold mean: 0.40); on 2,000 simulated units with
    the public cells' trials and noise the 95% interval covers the true tau for 94.0%
    (intervals from the folds: 67%, because slopes centred on a fixed reversal point leave
    out its uncertainty).

    References
    ----------
    Dabney W. et al. (2020) A distributional code for value in dopamine-based reinforcement
    learning. Nature 577:671-675.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> fit = dopafit.fit_expectiles(ds, n_splits=50, n_boot=0)  # fewer splits than the default
    >>> fit["tau"].values[:4].round(2).tolist()
    [0.33, 0.24, 0.53, 0.45]
    >>> fit["reversal_point"].values[:4].round(2).tolist()  # on the utility axis
    [-0.72, -1.38, -0.09, -0.34]
    >>> round(float(fit["r_tau_reversal"].median()), 2)  # split-half r(tau, reversal point)
    0.71

    The sample file is simulated, so the estimates can be checked against the truth:

    >>> import numpy as np
    >>> round(float(np.corrcoef(fit["tau"], ds["true_tau"])[0, 1]), 2)
    0.95

    The per-unit precision of tau comes from the bootstrap (``n_boot``; see Notes):

    >>> fit = dopafit.fit_expectiles(ds, n_splits=0, n_boot=200)
    >>> cols = ["tau", "tau_center", "tau_lo", "tau_hi"]
    >>> print(fit[cols].reset_coords(drop=True).to_pandas().round(2).head(3))
           tau  tau_center  tau_lo  tau_hi
    unit
    0     0.33        0.36    0.16    0.60
    1     0.24        0.24    0.15    0.37
    2     0.53        0.52    0.45    0.68
    """
    options = FitOptions(
        axis=axis,
        method=method,
        n_splits=n_splits,
        n_folds=n_folds,
        n_boot=n_boot,
        seed=seed,
        pool_cued=pool_cued,
        level=level,
        cap_low=cap_low,
        cap_high=cap_high,
        fold_exclude_edge=fold_exclude_edge,
    )
    return fit_with_options(responses, options, progress=progress)


def fit_with_options(
    responses: xr.Dataset, opts: FitOptions, *, progress: bool | None = None
) -> xr.Dataset:
    """:func:`fit_expectiles` with the options as one validated :class:`FitOptions`.

    Reads as the steps of the analysis: prepare the data, fit every unit on all trials,
    bootstrap the intervals, then the split halves and their folds, and record the attrs.
    ``progress`` as in :func:`fit_expectiles` (not an option: it changes no number).
    """
    from dopafit._progress import check_progress, progress_bar
    from dopafit.kernels import expectile as kern

    progress = check_progress(progress)

    responses = schema.validate_responses(responses)  # a hand-built Dataset: completed, warned
    prep = _prepare(responses, opts)
    split_ss, boot_ss = seeds.fit_streams(opts.seed)
    data = _KernelData.of(prep, opts, kern)
    point = _point_fit(responses, prep, data, kern)
    if point.fit_ok.sum() < 3 and opts.n_splits > 0:
        warnings.warn(
            DopafitNote(
                f"only {int(point.fit_ok.sum())} fittable unit(s) here: the split-half "
                "population correlations need 3 or more and are NaN (expected for a small "
                "session; the per-unit estimates stand, and pooling sessions, as `dopafit fit` "
                "does in population.nc, gives the population statistics)",
                kind="few_units",
            ),
            stacklevel=3,
        )
    ds = _unit_dataset(responses, prep, point)
    n_unit = int(point.fit_ok.size)
    total = n_unit * (opts.n_boot + opts.n_splits)
    with progress_bar(total, "fit", progress=progress, unit="fit") as bar:
        if opts.n_boot > 0:
            bar.set_description("fit: bootstrap")
            _add_bootstrap(ds, kern, data, boot_ss, opts, bar)
        if opts.n_splits > 0:
            bar.set_description("fit: split halves")
            _add_splits(ds, kern, data, split_ss, point, opts, bar)
    ds.attrs = {**_attrs(responses, prep, opts, split_ss), **ds.attrs}
    _describe(ds)
    return ds


def _prepare(responses, opts: FitOptions) -> Prepared:
    """The data grouped for the kernels on the chosen axis; warns when a non-utility axis
    is not increasing in magnitude."""
    prep = prepare(responses, axis=opts.axis, pool_cued=opts.pool_cued)
    if not _increasing(prep) and prep.axis_name != "utility":
        # (the empirical utility curve is often flat and noisy between the two smallest
        # magnitudes: recorded in attrs['axis_increasing'], not warned about)
        warnings.warn(
            f"axis {prep.axis_name} is not increasing in magnitude ({np.round(prep.axis, 4)}): "
            "the counting rule follows magnitude order, the kink follows axis order",
            DopafitWarning,
            stacklevel=4,
        )
    return prep


def _increasing(prep: Prepared) -> bool:
    return bool(np.all(np.diff(prep.axis) > 0))


@dataclass(frozen=True)
class _KernelData:
    """What every fitting kernel takes: the grouped trials, the axis, the method, the caps."""

    args: tuple
    caps: tuple[float, float]

    @classmethod
    def of(cls, prep: Prepared, opts: FitOptions, kern) -> _KernelData:
        method_code = kern.METHOD_KINK if opts.method == "kink" else kern.METHOD_COUNT
        args = (prep.vals, prep.start, prep.cnt, prep.axis, prep.order, method_code)
        return cls(args, (float(opts.cap_low), float(opts.cap_high)))


@dataclass(frozen=True)
class _PointFit:
    """The all-trial fit of every unit."""

    reversal_point: np.ndarray
    alpha_neg: np.ndarray
    alpha_pos: np.ndarray
    tau: np.ndarray
    edge: np.ndarray
    fit_ok: np.ndarray
    reasons: list


def _point_fit(responses, prep: Prepared, data: _KernelData, kern) -> _PointFit:
    """Fit every unit on all its trials; a unit that cannot be fitted gets its reason."""
    z, a_neg, a_pos, tau, edge, status = kern.fit_units(*data.args, *data.caps)
    reasons = list(prep.unit_reason)
    for u in range(len(reasons)):
        if not reasons[u] and status[u] != kern.STATUS_OK:
            reasons[u] = _STATUS_TEXT[int(status[u])]
    fit_ok = np.array([r == "" for r in reasons])
    if not fit_ok.any():
        source = responses.attrs.get("source")
        raise FitError(
            "at least one fittable unit (finite responses at 2 or more magnitudes, with "
            "spread of the axis on both sides of its reversal point and a defined tau)",
            found=f"{len(reasons)} unit(s), none fittable ({'; '.join(sorted(set(reasons)))})",
            remedy="check the response and reward variables of the Dataset against the "
            "reasons found",
            file=source if isinstance(source, str) else None,
        )
    return _PointFit(z, a_neg, a_pos, tau, edge, fit_ok, reasons)


def _unit_dataset(responses, prep: Prepared, point: _PointFit) -> xr.Dataset:
    """The result Dataset with the per-unit and per-magnitude variables of the point fit."""
    unit_coords = {
        name: responses[name] for name in schema.UNIT_COORDS if name in responses.variables
    }
    ds = xr.Dataset(coords={schema.UNIT: responses[schema.UNIT].values, **unit_coords})
    ds = ds.assign_coords({MAGNITUDE: prep.magnitudes})
    tau = point.tau
    ds["reversal_point"] = (schema.UNIT, point.reversal_point)
    ds["alpha_neg"] = (schema.UNIT, point.alpha_neg)
    ds["alpha_pos"] = (schema.UNIT, point.alpha_pos)
    ds["tau"] = (schema.UNIT, tau)
    ds["edge_reversal"] = (schema.UNIT, point.edge.astype(np.int8))
    ds["tau_out_of_range"] = (schema.UNIT, np.isfinite(tau) & ((tau < 0) | (tau > 1)))
    ds["fit_ok"] = (schema.UNIT, point.fit_ok)
    ds["fit_status"] = (
        schema.UNIT,
        np.array(["ok" if ok else r for ok, r in zip(point.fit_ok, point.reasons)], dtype=object),
    )
    ds["n_trials"] = (schema.UNIT, prep.cnt.sum(axis=1).astype(np.int64))
    ds["n_magnitudes"] = (schema.UNIT, (prep.cnt > 0).sum(axis=1).astype(np.int64))
    ds["axis_value"] = (MAGNITUDE, prep.axis)
    ds["n_trials_magnitude"] = ((schema.UNIT, MAGNITUDE), prep.cnt.copy())
    ds["mean_response"] = ((schema.UNIT, MAGNITUDE), prep.mean_response)
    return ds


#: unit fits per kernel call when the bootstrap and the split halves run in chunks (for the
#: progress bar): about half a second of work, so small fits make one call
_CHUNK_FITS = 100_000


def _chunks(n: int, size: int):
    """``(start, stop)`` of consecutive chunks of at most ``size`` out of ``n``."""
    return [(i, min(n, i + size)) for i in range(0, n, max(1, size))]


def _add_bootstrap(ds, kern, data: _KernelData, boot_ss, opts: FitOptions, bar):
    """Percentile intervals from trial-level resamples within magnitude, and the per-unit
    precision of tau (:data:`TAU_PRECISION`): the median and robust SE of the resampled
    taus. Runs in chunks of units; ``bar`` advances by each chunk's unit resamples."""
    boot_seed = seeds.first_state(boot_ss)
    vals, start, cnt, *rest = data.args
    n_unit = cnt.shape[0]
    parts = []
    for u0, u1 in _chunks(n_unit, max(-(-n_unit // 10), -(-_CHUNK_FITS // max(opts.n_boot, 1)))):
        # chunks of units: unit u keeps its own stream (unit0), so the numbers do not change
        parts.append(
            kern.bootstrap_units(
                vals, start[u0:u1], cnt[u0:u1], *rest, *data.caps, boot_seed, int(opts.n_boot), u0
            )
        )
        bar.update((u1 - u0) * int(opts.n_boot))
    zb, anb, apb, taub = (np.concatenate(p) for p in zip(*parts))
    level = opts.level
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    for name, values in (
        ("reversal_point", zb),
        ("alpha_neg", anb),
        ("alpha_pos", apb),
    ):
        lo, hi = kern.percentile_rows(values, np.true_divide(q, 100)).T  # np.percentile's
        ds[f"{name}_lo"] = (schema.UNIT, lo)
        ds[f"{name}_hi"] = (schema.UNIT, hi)
    # tau: the interval, the median and the central 68.27% (+-1 SD of a normal) in one pass
    tau_q = np.concatenate([q, [50.0, _SE_LOW, _SE_HIGH]])
    lo, hi, center, se_lo, se_hi = kern.percentile_rows(taub, np.true_divide(tau_q, 100)).T
    ds["tau_lo"] = (schema.UNIT, lo)
    ds["tau_hi"] = (schema.UNIT, hi)
    ds["tau_center"] = (schema.UNIT, center)
    ds["tau_se"] = (schema.UNIT, (se_hi - se_lo) / 2.0)
    ds["n_boot_ok"] = (schema.UNIT, np.isfinite(taub).sum(axis=1).astype(np.int64))


def _add_splits(ds, kern, data: _KernelData, split_ss, point: _PointFit, opts: FitOptions, bar):
    """Split halves (and the folds drawn with them): per-split population statistics (run in
    chunks of splits; ``bar`` advances by each chunk's unit splits)."""
    split_seeds = split_ss.generate_state(int(opts.n_splits), dtype=np.uint64)
    n_unit = data.args[2].shape[0]
    size = max(-(-split_seeds.size // 10), -(-_CHUNK_FITS // max(n_unit, 1)))
    size = -(-size // 16) * 16  # whole blocks of the kernel
    parts = []
    for i0, i1 in _chunks(split_seeds.size, size):
        # chunks of splits: each (split, unit) has its own stream, so the numbers do not change
        parts.append(
            kern.split_half(
                *data.args, *data.caps, point.reversal_point, split_seeds[i0:i1], int(opts.n_folds)
            )
        )
        bar.update((i1 - i0) * n_unit)
    out = [np.concatenate(p) for p in zip(*parts)]
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
    if opts.n_folds > 0:
        _add_folds(ds, kern, tau_fold, point, opts.fold_exclude_edge)


def _add_folds(ds, kern, tau_fold, point: _PointFit, fold_exclude_edge):
    """The fold ANOVA per split and the original's per-unit fold statistics of tau from the
    first fold draw (faithful; the robust per-unit precision is the bootstrap's)."""
    from scipy import stats

    fit_ok, edge = point.fit_ok, point.edge
    n_folds = tau_fold.shape[1]
    exclude = ~fit_ok
    if fold_exclude_edge:
        exclude = exclude | (edge != 0)
    first = tau_fold[0].copy()  # (fold, unit): the per-unit precision below
    if exclude.any():  # in place: the kernel's array is not used again (saves a copy)
        tau_fold[:, :, exclude] = np.nan
    f_stat, k = kern.anova_rows(tau_fold)
    df1 = (k - 1).astype(np.int64)
    df2 = (k * (n_folds - 1)).astype(np.int64)
    with np.errstate(invalid="ignore"):
        f_p = np.where(np.isfinite(f_stat), stats.f.sf(f_stat, df1, np.maximum(df2, 1)), np.nan)
    ds["anova_f"] = (SPLIT, f_stat, _summary_attrs(f_stat, f_p))
    ds["anova_p"] = (SPLIT, f_p)
    ds["anova_df1"] = (SPLIT, df1)
    ds["anova_df2"] = (SPLIT, df2)

    # the original's per-unit fold mean, SEM and t-test from the first fold draw (split 0)
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
    ds["tau_fold_sem"] = (schema.UNIT, sem * fin)
    ds["tau_fold_t"] = (schema.UNIT, t * fin)
    ds["tau_fold_t_p"] = (schema.UNIT, tp * fin)
    ds["fold_included"] = (schema.UNIT, included)
    ds["fold_status"] = (schema.UNIT, status)
    ds.attrs["fold_grand_mean_tau"] = float(grand)


def _attrs(responses, prep: Prepared, opts: FitOptions, split_ss) -> dict:
    """Every choice of the fit: the options, the axis and pooling as resolved on the data,
    the seed, the rules, the provenance of the responses."""
    attrs = {
        schema.RESULT_KIND: schema.EXPECTILE_FIT,
        "analysis": "expectile",
        "axis": prep.axis_name,
        "axis_values": prep.axis.tolist(),
        "magnitudes": prep.magnitudes.tolist(),
        "axis_units": responses.attrs.get("response_units", "")
        if prep.axis_name == "utility"
        else responses.attrs.get("reward_units", ""),
        "axis_increasing": _increasing(prep),
        "response_transform": "zscore per unit" if prep.axis_name == "zscore" else "none",
        "pool_cued": prep.pool_mode,
        "uncued_offset": float(prep.offset),
        "seed": seeds.recorded(split_ss),
        "seed_derivation": seeds.FIT_DERIVATION,
        **opts.to_attrs(),
        "ci_method": "percentile, trial-level bootstrap within magnitude",
        "tau_precision": TAU_PRECISION if opts.n_boot > 0 else "none (n_boot = 0)",
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
    "tau_center": "median of the bootstrap taus: the per-unit centre (robust)",
    "tau_lo": "lower bound of the bootstrap percentile interval of tau (ci_level)",
    "tau_hi": "upper bound of the bootstrap percentile interval of tau (ci_level)",
    "tau_se": "robust bootstrap SE of tau: half the width of the central 68.27% of the taus",
    "tau_fold_mean": "mean of the fold taus (faithful; one degenerate fold dominates it)",
    "tau_fold_sem": "SD / sqrt(n_folds) of the fold taus (faithful; not robust)",
    "tau_fold_t": "t of tau_fold_mean against the grand mean of fold taus (faithful)",
    "tau_fold_t_p": "two-sided p of tau_fold_t, n_folds - 1 df (faithful; not robust)",
    "n_units_split": "units entering r_tau_reversal",
    # every other variable, so that each output describes itself (docs/reference/outputs.md)
    **schema.UNIT_COORD_DESCRIPTIONS,
    "split": "index of the random split of each unit's trials into halves A and B",
    "fold": "index of the fold of the first fold draw",
    "fit_ok": "the unit was fitted (fit_status is 'ok')",
    "n_trials": "trials used (finite response and reward)",
    "n_magnitudes": "magnitudes with at least one used trial",
    "axis_value": "position of the magnitude on the analysis axis (attrs 'axis', 'axis_units')",
    "n_trials_magnitude": "used trials of the unit at the magnitude",
    "mean_response": "mean response of the unit at the magnitude, after pooling cued and uncued trials",
    "reversal_point_lo": "lower bound of the bootstrap interval of reversal_point (attrs 'ci_level')",
    "reversal_point_hi": "upper bound of the bootstrap interval of reversal_point",
    "alpha_neg_lo": "lower bound of the bootstrap interval of alpha_neg",
    "alpha_neg_hi": "upper bound of the bootstrap interval of alpha_neg",
    "alpha_pos_lo": "lower bound of the bootstrap interval of alpha_pos",
    "alpha_pos_hi": "upper bound of the bootstrap interval of alpha_pos",
    "n_boot_ok": "bootstrap resamples in which tau was defined",
    "alpha_neg_b": "slope below half B's reversal point, from half B",
    "alpha_pos_b": "slope above half B's reversal point, from half B",
    "edge_reversal_a": "edge_reversal of the reversal point from half A",
    "edge_reversal_b": "edge_reversal of the reversal point from half B",
    "p_tau_reversal": "two-sided p of r_tau_reversal (t test of r)",
    "p_rho_tau_reversal": "two-sided p of rho_tau_reversal (t approximation)",
    "p_reliability": "two-sided p of r_reliability (t test of r)",
    "anova_p": "p of anova_f (upper tail of the F distribution)",
    "anova_df1": "numerator degrees of freedom of anova_f (units in the ANOVA - 1)",
    "anova_df2": "denominator degrees of freedom of anova_f (units x (folds - 1))",
    "fold_included": "the unit enters the fold ANOVA",
    "fold_status": "'ok' or why the unit is left out of the fold ANOVA",
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
        ``anova_f``) with columns ``median``, ``q05``, ``q95``, ``mean``, ``frac_p_lt_alpha``,
        ``n_splits`` (splits where the statistic is finite) and ``reason`` (why it is NaN in
        every split, else ""); printed whole whatever the pandas display options.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> fit = dopafit.fit_expectiles(ds, n_splits=50, n_boot=0)
    >>> dopafit.split_summary(fit).round(2)
                      median   q05    q95   mean  frac_p_lt_alpha  n_splits reason
    r_tau_reversal      0.71  0.57   0.85   0.71             1.00        50
    rho_tau_reversal    0.73  0.57   0.85   0.73             1.00        50
    r_reliability       0.74  0.58   0.86   0.73             1.00        50
    anova_f            24.85  1.50  40.90  23.60             0.92        50
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
    n_ok = int(fit["fit_ok"].sum()) if "fit_ok" in fit else 0
    for stat, pname in pairs.items():
        if stat not in fit:
            continue
        s = _summary_attrs(fit[stat].values, fit[pname].values, alpha)
        reason = ""
        if not s["n_finite"]:
            need = 2 if stat == "anova_f" else 3  # groups of an ANOVA, pairs of a correlation
            reason = (
                f"needs {need} or more fittable units, found {n_ok}"
                if n_ok < need
                else "undefined in every split (too few units with finite half or fold estimates)"
            )
        rows[stat] = {
            "median": s.get("median", np.nan),
            "q05": s.get("q05", np.nan),
            "q95": s.get("q95", np.nan),
            "mean": s.get("mean", np.nan),
            "frac_p_lt_alpha": next(v for k, v in s.items() if k.startswith("frac_p_lt")),
            "n_splits": s["n_finite"],
            "reason": reason,
        }
    if not rows:
        raise FitError(
            "a fit Dataset with split statistics",
            found="no r_tau_reversal / r_reliability / anova_f variables",
            remedy="call fit_expectiles with n_splits > 0",
        )
    return FullTable(pd.DataFrame.from_dict(rows, orient="index"))
