"""The statistic suite of the calibrated comparison, computed by the fitter's own pipeline.

Every statistic is a number per dataset. The observed recording and every simulated dataset
go through the same code (:func:`run_pipeline`): pooling, axis, all-trial fit, split halves
and folds exactly as :func:`dopafit.fit.fit_expectiles` computes them (the observed values
of ``r_tau_reversal``, ``rho_tau_reversal``, ``reliability`` and ``anova_f`` equal the medians
of the fitter's per-split statistics for the same seed).

Statistics (``direction`` +1: larger values are the signature of diverse, asymmetric,
expectile-like coding; -1: smaller values are)

=====================  ===  ====================================================================
name                   dir  definition
=====================  ===  ====================================================================
reliability            +1   median over splits of Pearson r(reversal A, reversal B)
r_tau_reversal         +1   median over splits of Pearson r(tau B, reversal A)
rho_tau_reversal       +1   the same with Spearman rho
anova_f                +1   median over splits of the one-way ANOVA F of fold tau across units
sign_prediction        +1   median over splits of the held-out sign accuracy with one reversal
                            point per unit minus with one shared reversal point
opposite_sign_pairs    +1   pairs of units of one subject with significantly opposite-sign mean
                            responses at the same magnitude (t test, two-sided 0.05), summed
                            over subjects and magnitudes
asymmetry_llr          +1   median over splits of the held-out Gaussian log-likelihood ratio of
                            asymmetric vs symmetric slopes, summed over units
expectile_misfit       -1   median over splits of mean (reversal A - expectile(tau B))^2, in
                            units of the variance of the axis under the reward distribution
tau_baseline_r          0   Pearson r(all-trial tau, baseline firing rate) (two-sided)
loao_range             +1   range over subjects of r_tau_reversal with that subject left out
                            (larger: less stable than the account predicts)
loao_min               +1   smallest r_tau_reversal with one subject left out
=====================  ===  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import FitError
from dopafit.fit.expectile import p_from_r

__all__ = [
    "STATISTICS",
    "StatisticInfo",
    "Layout",
    "build_layout",
    "run_pipeline",
    "computability",
    "p_from_r",
    "calibrated_p",
    "npc_fisher",
    "neuron_bootstrap",
]


#: subject labels that mean "not known" (never treated as one animal)
UNKNOWN_SUBJECTS = frozenset({"", "unknown", "nan", "none", "n/a", "na"})


_MIN_UNITS = 3
_MIN_MAGNITUDES = 3


@dataclass(frozen=True)
class StatisticInfo:
    """Description of one statistic of the suite."""

    name: str
    direction: int  # +1 larger is distributional-like, -1 smaller, 0 two-sided
    description: str
    nominal: str  # the nominal test beside the calibrated one, "" if none


STATISTICS: dict[str, StatisticInfo] = {
    s.name: s
    for s in (
        StatisticInfo(
            "reliability",
            +1,
            "median over splits of Pearson r between half-A and half-B reversal points",
            "two-sided t test of Pearson r, median over splits",
        ),
        StatisticInfo(
            "r_tau_reversal",
            +1,
            "median over splits of Pearson r between tau (half B) and reversal point (half A)",
            "two-sided t test of Pearson r, median over splits",
        ),
        StatisticInfo(
            "rho_tau_reversal",
            +1,
            "median over splits of Spearman rho between tau (half B) and reversal point (half A)",
            "two-sided t approximation of Spearman rho, median over splits",
        ),
        StatisticInfo(
            "anova_f",
            +1,
            "median over splits of the one-way ANOVA F of fold tau across units",
            "F distribution upper tail, median over splits",
        ),
        StatisticInfo(
            "sign_prediction",
            +1,
            "held-out sign accuracy, one reversal point per unit minus one shared (median over splits)",
            "",
        ),
        StatisticInfo(
            "opposite_sign_pairs",
            +1,
            "same-subject unit pairs with significantly opposite-sign responses at a magnitude",
            "",
        ),
        StatisticInfo(
            "asymmetry_llr",
            +1,
            "held-out log-likelihood ratio, asymmetric vs symmetric slopes (median over splits)",
            "",
        ),
        StatisticInfo(
            "expectile_misfit",
            -1,
            "mean squared distance of reversal points (A) from the expectile at tau (B), "
            "per axis variance (median over splits)",
            "",
        ),
        StatisticInfo(
            "tau_baseline_r",
            0,
            "Pearson r between all-trial tau and baseline firing rate",
            "two-sided t test of Pearson r",
        ),
        StatisticInfo(
            "loao_range",
            +1,
            "range of r_tau_reversal over leave-one-subject-out populations",
            "",
        ),
        StatisticInfo(
            "loao_min",
            +1,
            "smallest r_tau_reversal over leave-one-subject-out populations",
            "",
        ),
    )
}


@dataclass
class Layout:
    """The observed recording in the grouped layout, with everything the pipeline needs.

    Attributes
    ----------
    prep : dopafit.fit.axes.Prepared
        The fitter's preparation of the observed responses.
    raw : ndarray of float64, shape (n_used,)
        Observed responses before pooling, grouped like ``prep.vals``.
    cued : ndarray of bool, shape (n_used,)
    unit_of, mag_of, trial_of : ndarray of int64, shape (n_used,)
        Unit, magnitude and trial (column of the responses Dataset) of every grouped trial.
    pool, zscore : bool
        Whether the pipeline pools with the offset and z-scores per unit.
    axis_mode : int
        ``AXIS_UTILITY`` or ``AXIS_FIXED`` (:mod:`dopafit.kernels.compare`).
    probs : ndarray of float64, shape (n_mag,)
        Pooled trial proportions per magnitude (the reward distribution).
    subject_idx : ndarray of int64, shape (n_unit,)
        Index into ``subjects``; -1 for units of unknown subject (see
        :data:`UNKNOWN_SUBJECTS`), which enter no within-subject statistic and are never
        left out as a group.
    subjects : list of str
        Known subjects.
    baseline : ndarray of float64, shape (n_unit,)
    method_code : int
    cap_lo, cap_hi : float
    n_folds : int
    fold_exclude_edge : bool
    """

    prep: object
    raw: np.ndarray
    cued: np.ndarray
    unit_of: np.ndarray
    mag_of: np.ndarray
    trial_of: np.ndarray
    pool: bool
    zscore: bool
    axis_mode: int
    probs: np.ndarray
    subject_idx: np.ndarray
    subjects: list
    baseline: np.ndarray
    method_code: int
    cap_lo: float
    cap_hi: float
    n_folds: int
    fold_exclude_edge: bool
    unit_ok: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def start(self) -> np.ndarray:
        return self.prep.start

    @property
    def cnt(self) -> np.ndarray:
        return self.prep.cnt

    @property
    def n_unit(self) -> int:
        return int(self.prep.cnt.shape[0])

    @property
    def n_mag(self) -> int:
        return int(self.prep.cnt.shape[1])


def build_layout(
    responses: xr.Dataset,
    *,
    axis="utility",
    method: str = "count",
    pool_cued: str = "auto",
    n_folds: int = 7,
    cap_low: float = 0.01,
    cap_high: float = 0.1,
    fold_exclude_edge: bool = True,
) -> Layout:
    """Prepare the observed responses as the fitter does and keep the raw grouped trials.

    Returns
    -------
    Layout

    Raises
    ------
    FitError
        The pipeline's own preparation of the raw trials does not reproduce the fitter's
        (an internal consistency check).
    """
    from dopafit.fit.axes import prepare
    from dopafit.kernels import compare as ck
    from dopafit.kernels import expectile as kern

    prep = prepare(responses, axis=axis, pool_cued=pool_cued)
    grouped = _grouped_trials(responses, prep, pool_cued)
    subjects, subject_idx = _known_subjects(responses)
    cnt_total = prep.cnt.sum(axis=0).astype(float)
    layout = Layout(
        prep=prep,
        **grouped,
        pool=prep.pool_mode == "offset",
        zscore=prep.axis_name == "zscore",
        axis_mode=ck.AXIS_UTILITY if prep.axis_name == "utility" else ck.AXIS_FIXED,
        probs=cnt_total / cnt_total.sum(),
        subject_idx=subject_idx,
        subjects=subjects,
        baseline=responses[schema.BASELINE_RATE].values.astype(float),
        method_code=kern.METHOD_KINK if method == "kink" else kern.METHOD_COUNT,
        cap_lo=float(cap_low),
        cap_hi=float(cap_high),
        n_folds=int(n_folds),
        fold_exclude_edge=bool(fold_exclude_edge),
        unit_ok=np.array([r == "" for r in prep.unit_reason]),
    )
    _check_preparation(layout)
    return layout


def _grouped_trials(responses: xr.Dataset, prep, pool_cued: str) -> dict:
    """The trials the fitter uses, grouped by unit then magnitude: raw responses, cue flags,
    unit, magnitude and trial of each (the ``Layout`` fields of the same names)."""
    from dopafit.fit.axes import magnitude_grid, response_arrays

    resp, reward, cued, used = response_arrays(responses, pool_cued)
    n_unit = resp.shape[0]
    if prep.axis_name == "zscore":
        bad = np.array([r.startswith("z-score undefined") for r in prep.unit_reason])
        used &= ~bad[:, None]
    magnitudes, midx = magnitude_grid(reward, used)
    n_mag = magnitudes.size
    unit_of = np.broadcast_to(np.arange(n_unit)[:, None], resp.shape)
    key = (unit_of * n_mag + midx)[used]
    order = np.argsort(key, kind="stable")
    trial_of = np.broadcast_to(np.arange(resp.shape[1])[None, :], resp.shape)
    return {
        "raw": resp[used][order].astype(np.float64),
        "cued": cued[used][order],
        "unit_of": unit_of[used][order].astype(np.int64),
        "mag_of": midx[used][order].astype(np.int64),
        "trial_of": trial_of[used][order].astype(np.int64),
    }


def _known_subjects(responses: xr.Dataset):
    """The known subjects (sorted) and every unit's index among them (-1: unknown)."""
    subj = responses[schema.SUBJECT].values.astype(str)
    subjects = sorted({s for s in subj.tolist() if s.strip().lower() not in UNKNOWN_SUBJECTS})
    subject_idx = np.array(
        [subjects.index(s) if s in subjects else -1 for s in subj], dtype=np.int64
    )
    return subjects, subject_idx


def _check_preparation(layout: Layout) -> None:
    """Raise unless the pipeline's preparation of the raw trials reproduces the fitter's."""
    prep = layout.prep
    vals, ax, _ = prepare_raw(layout, layout.raw[None, :])
    if vals.shape[1] != prep.vals.shape[0] or not (
        np.allclose(vals[0], prep.vals, rtol=1e-9, atol=1e-9)
        and np.allclose(ax[0], prep.axis, rtol=1e-9, atol=1e-9)
    ):
        raise FitError(
            "the comparison pipeline to reproduce the fitter's preparation of the responses",
            found="different pooled responses or axis values",
            remedy="report this as a bug with the responses Dataset",
        )


def prepare_raw(layout: Layout, raw: np.ndarray):
    """Pool / z-score / axis of raw rows ``(n_data, n_used)`` (see :func:`prepare_rows`)."""
    from dopafit.kernels import compare as ck

    return ck.prepare_rows(
        np.ascontiguousarray(raw, dtype=np.float64),
        layout.start,
        layout.cnt,
        layout.cued,
        layout.pool,
        layout.zscore,
        layout.axis_mode,
        np.ascontiguousarray(layout.prep.axis, dtype=np.float64),
    )


def _nanmedian_rows(x: np.ndarray) -> np.ndarray:
    """Median of the finite values of every row (NaN for a row without any)."""
    import warnings

    x = np.where(np.isfinite(x), x, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=1)


def _t_crit(max_n: int, alpha: float = 0.05) -> np.ndarray:
    from scipy import stats

    df = np.arange(max(max_n, 2), dtype=float)
    with np.errstate(invalid="ignore"):
        out = stats.t.ppf(1.0 - alpha / 2.0, np.maximum(df, 1.0))
    out[0] = np.inf
    return out


@dataclass
class PipelineResult:
    """Statistics of many datasets (one value per dataset) and, optionally, their splits."""

    stats: dict  # name -> ndarray (n_data,)
    nominal: dict  # name -> ndarray (n_data,) nominal p (observed use)
    splits: dict | None = None  # per-split arrays of the first dataset (keep_splits)
    extra: dict | None = None


def run_pipeline(
    layout: Layout,
    raw: np.ndarray,
    split_seeds: np.ndarray,
    *,
    keep_splits: bool = False,
    nominal: bool = False,
    prepared: tuple | None = None,
) -> PipelineResult:
    """Run the fitting pipeline and every statistic on raw rows.

    The steps: prepare the rows (pool, z-score, axis), fit every unit on all its trials,
    fit the split halves and folds, correlate the halves, run the fold ANOVA, relate tau to
    the baseline rate, leave each subject out, then reduce to one value per dataset.

    Parameters
    ----------
    layout : Layout
    raw : ndarray of float64, shape (n_data, n_used)
        Raw responses in the grouped layout (before pooling).
    split_seeds : ndarray of uint64, shape (n_data, n_split)
    keep_splits : bool, default False
        Also return the per-split arrays (for the neuron bootstrap of the observed data).
    nominal : bool, default False
        Also return nominal p-values.
    prepared : (vals, axis), optional
        Already prepared rows (``(n_data, n_used)`` and ``(n_data, n_mag)``) to use instead
        of preparing ``raw``; the observed data pass the fitter's own preparation here, so
        that their split-half arrays are bit-identical to :func:`dopafit.fit.fit_expectiles`.

    Returns
    -------
    PipelineResult
    """
    shape = (raw.shape[0], split_seeds.shape[1])
    vals, axis = _prepared_rows(layout, raw, prepared)
    full = _full_fits(layout, vals, axis)
    halves = _split_halves(layout, vals, axis, full, split_seeds)
    corr = _split_correlations(halves)
    f_rows, k_rows = _fold_anova(layout, halves, full)
    tb_r, tb_n = _tau_baseline(layout, full)
    loao = _leave_one_subject_out(layout, corr, shape)
    stats = _statistics(layout, vals, halves, corr, f_rows, tb_r, loao, shape)
    nom = _nominal_p(layout, corr, f_rows, k_rows, tb_r, tb_n, shape) if nominal else {}
    splits = _kept_splits(layout, halves, corr, f_rows, shape) if keep_splits else None
    extra = {
        "axis": axis,
        "z_full": full["z_full"],
        "tau_full": full["tau_full"],
        "edge": full["edge"],
        "fit_ok": full["fit_ok"],
        "loao": loao,
        "n_units_ok": full["fit_ok"].sum(axis=1),
    }
    return PipelineResult(stats=stats, nominal=nom, splits=splits, extra=extra)


@dataclass
class _Halves:
    """Per-split arrays of :func:`dopafit.kernels.compare.split_rows`, ``(n_data, n_split,
    ...)``."""

    z_a: np.ndarray
    z_b: np.ndarray
    tau_b: np.ndarray
    tau_fold: np.ndarray
    sign_gain: np.ndarray
    asym: np.ndarray
    misfit: np.ndarray


def _prepared_rows(layout: Layout, raw: np.ndarray, prepared: tuple | None):
    """Pooled responses and axis of every row: the ones given, else prepared from ``raw``."""
    if prepared is None:
        vals, axis, _offset = prepare_raw(layout, raw)
        return vals, axis
    vals = np.ascontiguousarray(prepared[0], dtype=np.float64)
    axis = np.ascontiguousarray(prepared[1], dtype=np.float64)
    return vals, axis


def _full_fits(layout: Layout, vals: np.ndarray, axis: np.ndarray) -> dict:
    """All-trial fit of every unit of every row, which units count, and their weights."""
    from dopafit.kernels import compare as ck
    from dopafit.kernels import expectile as kern

    z_full, tau_full, edge, status, rvar = ck.fit_rows(
        vals, layout.start, layout.cnt, axis, layout.method_code, layout.cap_lo, layout.cap_hi
    )
    fit_ok = layout.unit_ok[None, :] & (status == kern.STATUS_OK)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(fit_ok & (rvar > 0), 0.5 / rvar, 0.0)
    return {
        "z_full": z_full,
        "tau_full": tau_full,
        "edge": edge,
        "fit_ok": fit_ok,
        "weight": weight,
    }


def _split_halves(layout: Layout, vals, axis, full: dict, split_seeds) -> _Halves:
    """Fits of the split halves and folds of every row (the random part of the pipeline)."""
    from dopafit.kernels import compare as ck

    out = ck.split_rows(
        vals,
        layout.start,
        layout.cnt,
        axis,
        layout.method_code,
        layout.cap_lo,
        layout.cap_hi,
        full["z_full"],
        np.ascontiguousarray(split_seeds, dtype=np.uint64),
        layout.n_folds,
        layout.probs,
        full["weight"],
    )
    return _Halves(*out)


def _split_correlations(halves: _Halves) -> dict:
    """Per (row, split): reliability, r and rho of tau (B) with reversal points (A)."""
    from dopafit.kernels import fit_stats as fs

    n_data, n_split, n_unit = halves.z_a.shape
    rows = n_data * n_split
    za = halves.z_a.reshape(rows, n_unit)
    zb = halves.z_b.reshape(rows, n_unit)
    tb = halves.tau_b.reshape(rows, n_unit)
    rel, n_rel = fs.pearson_rows(za, zb)
    r, n_r = fs.pearson_rows(tb, za)
    rho, n_rho = fs.spearman_rows(tb, za)
    return {
        "za": za,
        "tb": tb,
        "rel": rel,
        "n_rel": n_rel,
        "r": r,
        "n_r": n_r,
        "rho": rho,
        "n_rho": n_rho,
    }


def _fold_anova(layout: Layout, halves: _Halves, full: dict):
    """F and number of units of the fold ANOVA per (row, split); masks ``tau_fold`` in place
    (units not fitted, and edge units when ``fold_exclude_edge``)."""
    from dopafit.kernels import fit_stats as fs

    n_data, n_split, _, n_unit = halves.tau_fold.shape
    rows = n_data * n_split
    if layout.n_folds == 0:
        return np.full(rows, np.nan), np.zeros(rows, dtype=np.int64)
    exclude = ~full["fit_ok"]
    if layout.fold_exclude_edge:
        exclude = exclude | (full["edge"] != 0)
    np.copyto(halves.tau_fold, np.nan, where=exclude[:, None, None, :])
    return fs.anova_rows(halves.tau_fold.reshape(rows, layout.n_folds, n_unit))


def _tau_baseline(layout: Layout, full: dict):
    """Pearson r of all-trial tau with the baseline rate per row, and its number of units."""
    tau_full, fit_ok = full["tau_full"], full["fit_ok"]
    n_data = tau_full.shape[0]
    tb_r = np.full(n_data, np.nan)
    tb_n = np.zeros(n_data, dtype=np.int64)
    base = layout.baseline
    for d in range(n_data):
        keep = fit_ok[d] & np.isfinite(tau_full[d]) & np.isfinite(base)
        if keep.sum() >= 3 and np.ptp(base[keep]) > 0 and np.ptp(tau_full[d][keep]) > 0:
            tb_r[d] = np.corrcoef(tau_full[d][keep], base[keep])[0, 1]
            tb_n[d] = keep.sum()
    return tb_r, tb_n


def _leave_one_subject_out(layout: Layout, corr: dict, shape: tuple) -> np.ndarray:
    """r_tau_reversal per row with each known subject left out, ``(n_data, n_subject)``."""
    from dopafit.kernels import fit_stats as fs

    loao = np.full((shape[0], len(layout.subjects)), np.nan)
    if len(layout.subjects) < 2:
        return loao
    for g in range(len(layout.subjects)):
        drop = layout.subject_idx == g
        if (~drop).sum() < 3:
            continue
        tb_g = corr["tb"].copy()
        tb_g[:, drop] = np.nan
        r_g, _ = fs.pearson_rows(tb_g, corr["za"])
        loao[:, g] = _nanmedian_rows(r_g.reshape(shape))
    return loao


def _loao_summary(loao: np.ndarray):
    """Range and minimum over subjects left out (NaN with fewer than 2 finite values)."""
    n_data = loao.shape[0]
    lo = np.full(n_data, np.nan)  # no known subject: nothing to leave out (reported as such)
    hi = np.full(n_data, np.nan)
    if loao.shape[1]:
        finite = np.isfinite(loao).sum(axis=1) >= 2
        lo = np.where(finite, np.min(np.where(np.isfinite(loao), loao, np.inf), axis=1), np.nan)
        hi = np.where(finite, np.max(np.where(np.isfinite(loao), loao, -np.inf), axis=1), np.nan)
    return hi - lo, lo


def _statistics(layout, vals, halves: _Halves, corr, f_rows, tb_r, loao, shape) -> dict:
    """Every statistic of the suite, one value per row."""
    from dopafit.kernels import compare as ck

    t_crit = _t_crit(int(layout.cnt.max()) + 1)
    stats = {
        "reliability": _nanmedian_rows(corr["rel"].reshape(shape)),
        "r_tau_reversal": _nanmedian_rows(corr["r"].reshape(shape)),
        "rho_tau_reversal": _nanmedian_rows(corr["rho"].reshape(shape)),
        "anova_f": _nanmedian_rows(f_rows.reshape(shape)),
        "sign_prediction": _nanmedian_rows(halves.sign_gain),
        "asymmetry_llr": _nanmedian_rows(halves.asym),
        "expectile_misfit": _nanmedian_rows(halves.misfit),
        # opposite-sign pairs within subjects
        "opposite_sign_pairs": ck.opposite_sign_rows(
            vals, layout.start, layout.cnt, layout.subject_idx, len(layout.subjects), t_crit
        ),
        "tau_baseline_r": tb_r,
    }
    stats["loao_range"], stats["loao_min"] = _loao_summary(loao)
    return stats


def _nominal_p(layout, corr: dict, f_rows, k_rows, tb_r, tb_n, shape) -> dict:
    """Nominal p-values of the statistics that have a textbook test, one per row."""
    from scipy import stats as sst

    nom = {
        "reliability": _nanmedian_rows(p_from_r(corr["rel"], corr["n_rel"]).reshape(shape)),
        "r_tau_reversal": _nanmedian_rows(p_from_r(corr["r"], corr["n_r"]).reshape(shape)),
        "rho_tau_reversal": _nanmedian_rows(p_from_r(corr["rho"], corr["n_rho"]).reshape(shape)),
    }
    df1 = k_rows - 1
    df2 = k_rows * (layout.n_folds - 1)
    with np.errstate(invalid="ignore"):
        f_p = np.where(
            np.isfinite(f_rows) & (df1 > 0),
            sst.f.sf(f_rows, np.maximum(df1, 1), np.maximum(df2, 1)),
            np.nan,
        )
    nom["anova_f"] = _nanmedian_rows(f_p.reshape(shape))
    nom["tau_baseline_r"] = p_from_r(tb_r, tb_n)
    return nom


def _kept_splits(layout, halves: _Halves, corr: dict, f_rows, shape) -> dict:
    """The per-split arrays of the first row (the observed data's, for the bootstrap)."""
    n_split, n_unit = shape[1], halves.z_a.shape[-1]
    return {
        "z_a": halves.z_a[0],
        "z_b": halves.z_b[0],
        "tau_b": halves.tau_b[0],
        "tau_fold_masked": (
            halves.tau_fold[0] if layout.n_folds > 0 else np.zeros((n_split, 0, n_unit))
        ),
        "sign_gain": halves.sign_gain[0],
        "asym_llr": halves.asym[0],
        "misfit": halves.misfit[0],
        "r_reliability": corr["rel"].reshape(shape)[0],
        "r_tau_reversal": corr["r"].reshape(shape)[0],
        "rho_tau_reversal": corr["rho"].reshape(shape)[0],
        "anova_f": f_rows.reshape(shape)[0],
    }


# --------------------------------------------------------------------------------------------
# computability of each statistic


def computability(layout, obs) -> dict[str, str]:
    """Reason why each statistic cannot be computed ("" when it can)."""
    n_ok = int(obs.extra["n_units_ok"][0])
    n_mag = int((layout.cnt.sum(axis=0) > 0).sum())
    reasons = {}
    few_units = f"needs {_MIN_UNITS} or more fittable units, found {n_ok}"
    few_mags = f"needs {_MIN_MAGNITUDES} or more reward magnitudes, found {n_mag}"
    for name in ("reliability", "r_tau_reversal", "rho_tau_reversal", "sign_prediction"):
        reasons[name] = (
            few_units if n_ok < _MIN_UNITS else few_mags if n_mag < _MIN_MAGNITUDES else ""
        )
    reasons["asymmetry_llr"] = (
        few_mags if n_mag < _MIN_MAGNITUDES else ("no fittable unit" if n_ok < 1 else "")
    )
    reasons["expectile_misfit"] = reasons["reliability"]
    if layout.n_folds < 2:
        reasons["anova_f"] = "folds switched off (n_folds < 2)"
    else:
        reasons["anova_f"] = reasons["reliability"]
    known = layout.unit_ok & (layout.subject_idx >= 0)
    per_subject = np.bincount(layout.subject_idx[known], minlength=len(layout.subjects))
    reasons["opposite_sign_pairs"] = (
        "" if (per_subject >= 2).any() else "needs a known subject with 2 or more fittable units"
    )
    n_base = int((np.isfinite(layout.baseline) & layout.unit_ok).sum())
    reasons["tau_baseline_r"] = (
        "" if n_base >= 3 else f"needs 3 or more units with a baseline rate, found {n_base}"
    )
    n_subj = int((per_subject > 0).sum())
    loao_ok = int(np.isfinite(obs.extra["loao"][0]).sum())
    if n_subj < 2:
        reason = f"needs 2 or more known subjects, found {n_subj}"
    elif loao_ok < 2:
        reason = "fewer than 2 subjects leave 3 or more units when left out"
    else:
        reason = reasons["r_tau_reversal"]
    reasons["loao_range"] = reasons["loao_min"] = reason
    for name, value in obs.stats.items():
        if not reasons.get(name) and not np.isfinite(value[0]):
            reasons[name] = "observed value undefined (no finite split statistic)"
    return reasons


# --------------------------------------------------------------------------------------------
# calibration


def calibrated_p(observed: float, simulated: np.ndarray, alternative: str) -> tuple:
    """Simulation-calibrated p-value with the ``(1 + count) / (1 + n)`` rule.

    Parameters
    ----------
    observed : float
    simulated : ndarray, shape (n_sim,)
        Values under the account; non-finite values are left out (``n`` counts the rest).
    alternative : {"greater", "less", "two-sided"}

    Returns
    -------
    p : float
        NaN when ``observed`` is not finite or no simulation is.
    p_greater, p_less : float
        ``(1 + #{sim >= obs}) / (1 + n)`` and ``(1 + #{sim <= obs}) / (1 + n)``.
    """
    sim = np.asarray(simulated, dtype=float)
    sim = sim[np.isfinite(sim)]
    if not np.isfinite(observed) or sim.size == 0:
        return np.nan, np.nan, np.nan
    n = sim.size
    pg = (1.0 + np.sum(sim >= observed)) / (1.0 + n)
    pl = (1.0 + np.sum(sim <= observed)) / (1.0 + n)
    if alternative == "greater":
        p = pg
    elif alternative == "less":
        p = pl
    else:
        p = min(1.0, 2.0 * min(pg, pl))
    return float(p), float(pg), float(pl)


def _tail_p_matrix(values: np.ndarray, reference: np.ndarray, leave_one_out: bool) -> np.ndarray:
    """Upper-tail p of each value within ``reference`` (NaN reference entries left out)."""
    ref = np.sort(reference[np.isfinite(reference)])
    n = ref.size
    # number of reference values >= v
    ge = n - np.searchsorted(ref, values, side="left")
    if leave_one_out:
        p = ge / max(n, 1)  # (1 + #{others >= v}) / (1 + (n - 1)), v itself counted once
    else:
        p = (1.0 + ge) / (1.0 + n)
    return np.where(np.isfinite(values), p, 1.0)


def npc_fisher(observed: np.ndarray, simulated: np.ndarray, directions: np.ndarray):
    """Non-parametric combination (Fisher) of several statistics, calibrated by simulation.

    Each component is turned into an upper-tail p-value in its direction, within the
    simulated distribution (leave-one-out for the simulations themselves); the combined
    statistic is ``T = -2 sum log p``. ``T`` of the observation is then placed in the
    distribution of ``T`` over the simulations with the ``(1 + count) / (1 + n)`` rule.
    Under the account the observation is exchangeable with the simulations, so the combined
    p-value is exact whatever the dependence between components.

    Parameters
    ----------
    observed : ndarray, shape (k,)
    simulated : ndarray, shape (n_sim, k)
    directions : ndarray, shape (k,)
        +1 (large values count as evidence) or -1.

    Returns
    -------
    t_obs : float
    t_sim : ndarray, shape (n_sim,)

    References
    ----------
    Pesarin F. & Salmaso L. (2010) Permutation Tests for Complex Data. Wiley.
    """
    observed = np.asarray(observed, dtype=float) * directions
    simulated = np.asarray(simulated, dtype=float) * directions[None, :]
    n_sim = simulated.shape[0]
    t_sim = np.zeros(n_sim)
    t_obs = 0.0
    for c in range(observed.size):
        ref = simulated[:, c]
        t_sim += -2.0 * np.log(_tail_p_matrix(ref, ref, leave_one_out=True))
        t_obs += -2.0 * np.log(_tail_p_matrix(np.array([observed[c]]), ref, False)[0])
    return float(t_obs), t_sim


def neuron_bootstrap(splits: dict, n_boot: int, seed, level: float = 0.95) -> dict:
    """Percentile intervals of the split statistics when resampling units with replacement.

    Parameters
    ----------
    splits : dict
        Per-split arrays of the observed data (``run_pipeline(..., keep_splits=True)``).
    n_boot : int
    seed : int or SeedSequence
    level : float

    Returns
    -------
    dict
        ``name -> (lo, hi)`` for ``reliability``, ``r_tau_reversal``, ``rho_tau_reversal``
        and ``anova_f`` (medians over splits of each resampled population).
    """
    from dopafit.kernels import fit_stats as fs

    if n_boot <= 0:
        return {}
    z_a, z_b, tau_b = splits["z_a"], splits["z_b"], splits["tau_b"]
    n_split, n_unit = z_a.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_unit, size=(n_boot, n_unit))
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    out = {}

    def take(x):
        return x[:, idx].transpose(1, 0, 2).reshape(n_boot * n_split, n_unit)

    za, zb, tb = take(z_a), take(z_b), take(tau_b)
    for name, fun, args in (
        ("reliability", fs.pearson_rows, (za, zb)),
        ("r_tau_reversal", fs.pearson_rows, (tb, za)),
        ("rho_tau_reversal", fs.spearman_rows, (tb, za)),
    ):
        vals = _nanmedian_rows(fun(*args)[0].reshape(n_boot, n_split))
        vals = vals[np.isfinite(vals)]
        out[name] = tuple(np.percentile(vals, q)) if vals.size else (np.nan, np.nan)
    tf = splits["tau_fold_masked"]
    if tf.shape[1] > 1:
        f_med = np.full(n_boot, np.nan)
        step = max(1, int(2e7 // max(1, tf.size)))
        for b0 in range(0, n_boot, step):
            b1 = min(n_boot, b0 + step)
            sub = tf[:, :, idx[b0:b1]]  # (split, fold, nb, unit)
            sub = sub.transpose(2, 0, 1, 3).reshape((b1 - b0) * n_split, tf.shape[1], n_unit)
            f, _ = fs.anova_rows(np.ascontiguousarray(sub))
            f_med[b0:b1] = _nanmedian_rows(f.reshape(b1 - b0, n_split))
        f_med = f_med[np.isfinite(f_med)]
        out["anova_f"] = tuple(np.percentile(f_med, q)) if f_med.size else (np.nan, np.nan)
    return out
