"""Simulation-calibrated comparison of accounts of a recording: classical TD, diverse
symmetric biases, distributional TD and an efficient-coding sigmoid population.

For every account, :func:`compare` fits the account's generative parameters to the
recording (:mod:`dopafit.stats.accounts`), simulates ``n_sim`` datasets with the
recording's own trials, rewards, cue structure, padding and per-unit, per-magnitude noise,
runs the identical fitting pipeline on each (:mod:`dopafit.stats.statistics`), and places
every observed statistic in each account's simulated distribution.

Calibrated p-values use ``(1 + #{sim at least as extreme}) / (1 + n_sim)``. Their direction
depends on the account's role:

- ``classical`` and ``bias`` (the nulls) lack the signature of distributional coding:
  one-sided in the statistic's distributional direction (large ``r_tau_reversal``, small
  ``expectile_misfit``, ...): "the data show more of it than the account produces".
- ``distributional`` and ``sigmoid`` (accounts that produce the signature): two-sided,
  ``min(1, 2 min(p_greater, p_less))``: a fitted account is contradicted by data showing
  either less or more of the signature than it predicts (``p_greater`` and ``p_less`` are
  reported beside it).
- ``tau_baseline_r`` is two-sided and ``loao_range`` one-sided ("greater") for every account.

Two pre-specified combined statistics merge several statistics by non-parametric
combination (Fisher's ``-2 sum log p`` of the per-statistic tail p-values, calibrated on the
same simulations): ``combined_diversity`` (reliability, r_tau_reversal, anova_f,
sign_prediction; the test against classical TD) and ``combined_asymmetry`` (r_tau_reversal,
anova_f, asymmetry_llr, expectile_misfit; the test against diverse symmetric biases).

Examples
--------
>>> import dopafit
>>> from dopafit.simulate import simulate_responses
>>> ds = simulate_responses(population="distributional", n_units=20, seed=0)
>>> cmp = dopafit.compare(ds, accounts=("classical",), n_sim=19, n_splits=5, n_boot=0,
...                       mixed=False)
>>> cmp.dopafit.kind
'comparison'
>>> sorted(cmp.dopafit.to_dataframe().columns[:5])
['account', 'observed', 'p_calibrated', 'p_nominal', 'statistic']
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from os import PathLike

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import ConfigError
from dopafit.stats import accounts as acc
from dopafit.stats import simulations as sims_run
from dopafit.stats import statistics as st
from dopafit.stats.accounts import ACCOUNTS, simulate_account
from dopafit.stats.compare_options import CompareOptions
from dopafit.stats.compare_tables import (  # re-exported: the accessor's readers
    account_names,
    accounts_table,
    comparison_summary,
    comparison_table,
    mixed_table,
    mixed_tests,
    verdict,
)
from dopafit.stats.statistics import STATISTICS, computability
from dopafit.stats.verdict import verdict_text

__all__ = [
    "ACCOUNTS",
    "COMBINED",
    "CompareOptions",  # re-exported from dopafit.stats.compare_options
    "account_names",
    "accounts_table",
    "compare",
    "comparison_summary",
    "comparison_table",
    "mixed_table",
    "mixed_tests",
    "open_comparison",
    "run_comparison",
    "simulate_account",  # re-exported from dopafit.stats.accounts
    "verdict",
]

#: combined statistics: name -> component statistics
COMBINED = {
    "combined_diversity": ("reliability", "r_tau_reversal", "anova_f", "sign_prediction"),
    "combined_asymmetry": ("r_tau_reversal", "anova_f", "asymmetry_llr", "expectile_misfit"),
}
ROLES = {
    "classical": "null",
    "bias": "null",
    "distributional": "alternative",
    "sigmoid": "alternative",
}
#: fixed seed-stream index of every account, so that an account's simulations do not depend
#: on which other accounts are requested
_FIXED_ALTERNATIVE = {"tau_baseline_r": "two-sided", "loao_range": "greater"}


def _alternative(account: str, statistic: str) -> str:
    if statistic in _FIXED_ALTERNATIVE:
        return _FIXED_ALTERNATIVE[statistic]
    direction = STATISTICS[statistic].direction if statistic in STATISTICS else +1
    if direction == 0 or ROLES[account] != "null":
        return "two-sided"
    return "greater" if direction > 0 else "less"


# --------------------------------------------------------------------------------------------
# the comparison


def compare(
    responses: xr.Dataset,
    accounts: Sequence[str] = ACCOUNTS,
    n_sim: int = 1000,
    n_splits: int = 100,
    seed: int | None = 0,
    *,
    axis="utility",
    method: str = "count",
    n_folds: int = 7,
    pool_cued: str = "auto",
    noise: str = "gaussian",
    n_boot: int = 1000,
    level: float = 0.95,
    alpha: float = 0.05,
    mixed: bool = True,
    cap_low: float = 0.01,
    cap_high: float = 0.1,
    fold_exclude_edge: bool = True,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client=None,
    resume: str | PathLike | None = None,
) -> xr.Dataset:
    """Compare accounts of a recording by simulation-calibrated statistics.

    The analysis options are validated once, as a :class:`CompareOptions`;
    :func:`run_comparison` takes such an object directly.

    Parameters
    ----------
    responses : xarray.Dataset
        A responses Dataset (:mod:`dopafit.schema`).
    accounts : sequence of str, default all four
        Among ``"classical"``, ``"bias"``, ``"distributional"``, ``"sigmoid"``.
    n_sim : int, default 1000
        Simulated datasets per account. The smallest attainable p-value is
        ``1 / (n_sim + 1)``.
    n_splits : int, default 100
        Split halves per dataset (observed and simulated alike).
    seed : int or None, default 0
        Master seed. The observed split halves use the seeds
        :func:`dopafit.fit_expectiles` uses for the same seed (so the observed split
        statistics equal the fitter's); every account draws from its own fixed stream
        (:mod:`dopafit.seeds`).
    axis, method, n_folds, pool_cued, cap_low, cap_high, fold_exclude_edge
        Options of the fitting pipeline (see :func:`dopafit.fit_expectiles`).
    noise : {"gaussian", "residual"}, default "gaussian"
        Simulated noise: Gaussian with the residual SD of every unit and magnitude, or the
        unit's standardised residuals resampled (see :mod:`dopafit.stats.accounts`).
    n_boot : int, default 1000
        Neuron-level bootstrap resamples of the observed statistics (0 skips them).
    level : float, default 0.95
        Level of the bootstrap intervals and of the simulated ranges (``sim_lo``,
        ``sim_hi``).
    alpha : float, default 0.05
        Threshold used by the verdict.
    mixed : bool, default True
        Also fit the mixed-effects models (:mod:`dopafit.stats.mixed`).
    chunk_size : int, optional
        Simulated datasets processed at once (memory); the result does not depend on it.
    progress : bool or None, default None
        A progress bar per account and chunk of simulations: None shows it in a notebook or
        when standard error is a terminal, True always, False never (see
        :mod:`dopafit._progress`). Not an analysis option: the result does not depend on it
        and does not record it.
    client : dask.distributed.Client, optional
        Run every chunk of simulations as a dask task of this client (each worker with
        single-threaded kernels); the fits of the accounts, the observed statistics and the
        assembly stay in this process. The result is identical without a client and for any
        number of workers and ``chunk_size`` (only ``timing_s`` differs). None: everything
        runs here.
    resume : str or path-like, optional
        A folder where every finished chunk of simulations is saved (atomically) as it
        completes, under a key of the responses, the options and the dopafit version; a rerun
        with the same folder computes only the chunks not yet there (after a crash or Ctrl-C),
        a changed input or setting starts afresh. The result is identical. None: nothing saved.

    Returns
    -------
    xarray.Dataset
        A result of kind ``"comparison"`` (:mod:`dopafit.results`): ``observed``,
        ``simulated``, ``p_calibrated``, ``p_greater``, ``p_less``, ``alternative``,
        ``quantile``, ``sim_median``/``sim_lo``/``sim_hi`` per (account, statistic);
        ``p_nominal``, ``computable``, ``reason``, ``direction``, ``boot_lo``/``boot_hi`` per
        statistic; ``account_*`` per (account, unit); mixed-model results per ``model`` and
        ``mixed_test``; the verdict and every option in ``attrs``. ``ds.dopafit`` gives
        ``summary()``, ``to_dataframe()``, ``verdict``, ``accounts``, ``accounts_table()``,
        ``mixed_table()``, ``mixed_tests()`` and ``to_netcdf()``.

    Raises
    ------
    ResponsesError, ConfigError, FitError
        Invalid responses or options, or responses the fitter cannot prepare (e.g. trials
        at fewer than 2 magnitudes). Units that are prepared but cannot be fitted leave the
        statistics that need them not computable, with the reason, and the verdict says so.

    Notes
    -----
    The statistics and their directions are listed in :mod:`dopafit.stats.statistics`.
    A statistic that cannot be computed on the recording (too few units, magnitudes or
    subjects) is reported with ``computable=False`` and the reason; the others still run.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> cmp = dopafit.compare(ds, accounts=("classical", "distributional"), n_sim=39,
    ...                       n_splits=5, n_boot=0, mixed=False)
    >>> print(cmp.dopafit.verdict)
    The data reject classical TD (calibrated p = 0.025, combined_diversity). Distributional TD
    (as fitted) is consistent with the data (two-sided p = 0.1, combined_diversity, Bonferroni
    x2). (alpha = 0.05; 39 simulations per account, ...)
    >>> cmp["p_calibrated"].sel(statistic="combined_diversity").values.tolist()
    [0.025, 0.05]
    """
    options = CompareOptions(
        accounts=accounts,
        n_sim=n_sim,
        n_splits=n_splits,
        seed=seed,
        axis=axis,
        method=method,
        n_folds=n_folds,
        pool_cued=pool_cued,
        noise=noise,
        n_boot=n_boot,
        level=level,
        alpha=alpha,
        mixed=mixed,
        cap_low=cap_low,
        cap_high=cap_high,
        fold_exclude_edge=fold_exclude_edge,
    )
    return run_comparison(
        responses, options, chunk_size=chunk_size, progress=progress, client=client, resume=resume
    )


def run_comparison(
    responses: xr.Dataset,
    options: CompareOptions,
    *,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client=None,
    resume: str | PathLike | None = None,
) -> xr.Dataset:
    """:func:`compare` with its options already gathered in a :class:`CompareOptions`.

    Parameters
    ----------
    responses : xarray.Dataset
    options : CompareOptions
    chunk_size : int, optional
        Simulated datasets processed at once (memory); the result does not depend on it.
    progress : bool or None, default None
        Progress bar (see :func:`compare`).
    client : dask.distributed.Client, optional
        Run the chunks of simulations as dask tasks (see :func:`compare`).
    resume : str or path-like, optional
        Folder of the saved chunks (see :func:`compare`).

    Returns
    -------
    xarray.Dataset
        The comparison (see :func:`compare`).
    """
    from dopafit._progress import check_progress, progress_bar

    if not isinstance(options, CompareOptions):
        raise ConfigError("options as a CompareOptions", found=type(options).__name__)
    progress = check_progress(progress)
    t0 = time.perf_counter()
    responses = schema.validate_responses(responses)  # a hand-built Dataset: completed, warned
    layout = _layout(responses, options)
    root = seeds.master(options.seed)
    obs = _observed(layout, root, options.n_splits)
    reasons = computability(layout, obs)
    noise_model = acc.fit_noise(layout)
    chunk_size = sims_run.resolve_chunk_size(layout, options, chunk_size)
    store = None if resume is None else sims_run.ChunkStore(resume, responses, options)
    fits, sims, timing = {}, {}, {}
    total = options.n_sim * len(options.accounts)
    with progress_bar(total, "compare", progress=progress, unit="sim") as bar:
        if client is not None:
            fits, sims, timing = sims_run.run_accounts_dask(
                client, layout, noise_model, root, options, chunk_size, bar, store
            )
        for name in options.accounts if client is None else ():
            bar.set_description(f"compare: {name}")
            t1 = time.perf_counter()
            fits[name], sims[name] = sims_run.run_account(
                layout, noise_model, name, root, options, chunk_size, bar, store
            )
            timing[name] = time.perf_counter() - t1
    boot = _bootstrap(obs, root, options)
    mixed_tables, mixed_error = _mixed(layout, options, timing)
    ds = _assemble(
        responses, layout, obs, reasons, fits, sims, noise_model, boot, mixed_tables, options
    )
    timing["total"] = time.perf_counter() - t0
    ds.attrs.update(_attrs(responses, layout, options, root, mixed_error, timing))
    ds.attrs["verdict"] = verdict_text(ds)
    return ds


def _layout(responses: xr.Dataset, options: CompareOptions) -> st.Layout:
    """The observed recording prepared as the fitter prepares it."""
    return st.build_layout(
        responses,
        axis=options.axis,
        method=options.method,
        pool_cued=options.pool_cued,
        n_folds=options.n_folds,
        cap_low=options.cap_low,
        cap_high=options.cap_high,
        fold_exclude_edge=options.fold_exclude_edge,
    )


def _observed(layout: st.Layout, root, n_splits: int) -> st.PipelineResult:
    """The statistics of the recording, on the fitter's own split halves and preparation."""
    obs_seeds = seeds.split_seeds(root.entropy, n_splits)
    prep = layout.prep
    return st.run_pipeline(
        layout,
        layout.raw[None, :],
        obs_seeds[None, :],
        keep_splits=True,
        nominal=True,
        prepared=(prep.vals[None, :], prep.axis[None, :]),
    )


def _bootstrap(obs: st.PipelineResult, root, options: CompareOptions) -> dict:
    """Neuron-bootstrap intervals of the observed split statistics."""
    stream = seeds.compare_bootstrap(root.entropy)
    return st.neuron_bootstrap(obs.splits, options.n_boot, stream, options.level)


def _mixed(layout: st.Layout, options: CompareOptions, timing: dict):
    """The mixed-model tables (or None) and the error that stopped them ("" if none)."""
    if not options.mixed:
        return None, ""
    from dopafit.stats.mixed import fit_mixed_models

    t1 = time.perf_counter()
    tables, error = None, ""
    try:
        tables = fit_mixed_models(layout)
    except (ValueError, np.linalg.LinAlgError) as exc:  # reported, the rest stands
        error = f"{exc.__class__.__name__}: {exc}"
    timing["mixed"] = time.perf_counter() - t1
    return tables, error


def _attrs(responses, layout, options: CompareOptions, root, mixed_error: str, timing) -> dict:
    """Every choice of the comparison, as recorded in the result's attrs."""
    prep = layout.prep
    return {
        schema.RESULT_KIND: schema.COMPARISON,
        "analysis": "compare",
        "accounts": ",".join(options.accounts),
        "n_sim": options.n_sim,
        "n_splits": options.n_splits,
        "n_folds": options.n_folds,
        "n_boot": options.n_boot,
        "seed": seeds.recorded(root),
        "mixed_error": mixed_error,
        "seed_derivation": seeds.COMPARE_DERIVATION,
        "axis": prep.axis_name,
        "axis_values": prep.axis.tolist(),
        "magnitudes": prep.magnitudes.tolist(),
        "reward_probabilities": layout.probs.tolist(),
        "method": options.method,
        "pool_cued": prep.pool_mode,
        "uncued_offset": float(prep.offset),
        "noise": options.noise,
        "level": options.level,
        "alpha": options.alpha,
        "cap_low": float(options.cap_low),
        "cap_high": float(options.cap_high),
        "fold_exclude_edge": options.fold_exclude_edge,
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
        "dopafit_version": __version__,
        "source": str(responses.attrs.get("source", "")),
    }


# --------------------------------------------------------------------------------------------
# assembling the result

#: float variables per (account, statistic)
_PAIR_VARIABLES = (
    "observed",
    "p_calibrated",
    "p_greater",
    "p_less",
    "quantile",
    "sim_median",
    "sim_lo",
    "sim_hi",
)


def _sim_summary(sim: np.ndarray, level: float):
    """Median and central ``level`` range of the finite simulated values."""
    finite = sim[np.isfinite(sim)]
    if not finite.size:
        return np.nan, np.nan, np.nan
    q = 100 * np.array([(1 - level) / 2, 0.5, (1 + level) / 2])
    lo, med, hi = np.percentile(finite, q)
    return med, lo, hi


def _assemble(
    responses, layout, obs, reasons, fits, sims, noise_model, boot, mixed_tables, options
) -> xr.Dataset:
    """The comparison Dataset: per-pair, per-statistic and per-unit tables, mixed models."""
    names = list(STATISTICS)
    all_stats = names + list(COMBINED)
    accounts = list(fits)
    per_stat = _statistic_table(names, obs, reasons)
    pairs = _pair_tables(accounts, sims, obs, reasons, per_stat["computable"], options.level)
    per_stat.update(_bootstrap_intervals(boot, all_stats, per_stat["computable"]))
    coords = _coords(responses, layout, accounts, all_stats, options.n_sim)
    AS = ("account", "statistic")
    data = {
        "observed": (AS, pairs["observed"]),
        "simulated": (("account", "sim", "statistic"), pairs["simulated"]),
        **{v: (AS, pairs[v]) for v in ("p_calibrated", "p_greater", "p_less")},
        "alternative": (AS, pairs["alternative"].astype(str)),
        **{v: (AS, pairs[v]) for v in ("quantile", "sim_median", "sim_lo", "sim_hi")},
        "p_nominal": ("statistic", per_stat["p_nominal"]),
        "computable": ("statistic", per_stat["computable"]),
        "reason": ("statistic", per_stat["reason"].astype(str)),
        "direction": ("statistic", per_stat["direction"]),
        "boot_lo": ("statistic", per_stat["boot_lo"]),
        "boot_hi": ("statistic", per_stat["boot_hi"]),
        "statistic_description": ("statistic", _descriptions(all_stats)),
        "axis_value": ("magnitude", layout.prep.axis),
        "noise_sd": ((schema.UNIT, "magnitude"), noise_model.sd),
        "cue_diff": (schema.UNIT, noise_model.cue_diff),
        "cue_effect": ((schema.UNIT, "magnitude"), noise_model.cue_effect),
    }
    data.update(_account_variables(fits, accounts, coords[schema.UNIT].size))
    data.update(_observed_variables(obs))
    coords["subject_left_out"] = np.array(layout.subjects, dtype=object)
    attrs = {}
    if mixed_tables is not None:
        _add_mixed(mixed_tables, data, coords, attrs)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for name, text in _DESCRIPTIONS.items():
        if name in ds.variables:
            ds[name].attrs["description"] = text
    return ds


#: the description of every variable of the comparison (``attrs["description"]``)
_DESCRIPTIONS = {
    "account": "account of the data: a model of the units' mean responses, fitted and simulated",
    "statistic": "statistic of the suite (single, then the combined statistics)",
    "sim": "index of the dataset simulated from each account",
    **schema.UNIT_COORD_DESCRIPTIONS,
    "subject_left_out": "subject left out of the leave-one-subject-out statistics",
    "model": "mixed-effects model of single trials (dopafit.stats.mixed)",
    "mixed_test": "likelihood-ratio test of two nested mixed models",
    "observed": "value of the statistic on the recording (combined: the Fisher statistic)",
    "simulated": "value of the statistic on each dataset simulated from the account",
    "p_calibrated": "p of the observed value in the account's simulated distribution "
    "(tail: alternative)",
    "p_greater": "(1 + #{simulated >= observed}) / (1 + n_sim)",
    "p_less": "(1 + #{simulated <= observed}) / (1 + n_sim)",
    "alternative": "tail of p_calibrated for this account and statistic",
    "quantile": "fraction of the simulated values below the observed one (ties count half)",
    "sim_median": "median of the simulated values",
    "sim_lo": "lower bound of the central range of the simulated values (attrs 'level')",
    "sim_hi": "upper bound of the central range of the simulated values (attrs 'level')",
    "p_nominal": "textbook p of the statistic, without calibration (NaN where none exists)",
    "computable": "the statistic could be computed on the recording",
    "reason": "why the statistic could not be computed ('' when it could)",
    "direction": "+1: larger values look distributional; -1: smaller; 0: two-sided",
    "boot_lo": "lower bound of the statistic's interval when resampling units",
    "boot_hi": "upper bound of the statistic's interval when resampling units",
    "statistic_description": "what the statistic measures",
    "axis_value": "position of the magnitude on the analysis axis (attrs 'axis')",
    "noise_sd": "residual SD of the unit's responses at the magnitude, used by the simulations",
    "cue_diff": "mean uncued minus cued response of the unit (after pooling)",
    "cue_effect": "uncued minus cued difference the simulations use (unit plus magnitude effect)",
    "account_alpha_neg": "slope below the reversal point under the account (NaN if none)",
    "account_alpha_pos": "slope above the reversal point under the account (NaN if none)",
    "account_gain": "gain of the unit under the account (NaN if none)",
    "account_reversal_point": "reversal point of the unit under the account (NaN if none)",
    "account_tau": "tau of the unit under the account (NaN if none)",
    "account_sigmoid_offset": "offset a of the sigmoid account (NaN for other accounts)",
    "account_sigmoid_amplitude": "amplitude b of the sigmoid account (NaN for other accounts)",
    "account_sigmoid_slope": "slope k of the sigmoid account (NaN for other accounts)",
    "account_sigmoid_threshold": "threshold c of the sigmoid account (NaN for other accounts)",
    "account_misfit": "trial-weighted squared error of the account's means against the unit's",
    "account_mean": "mean response of the unit at the magnitude under the account",
    "account_notes": "fallbacks and remarks of the account's fit",
    "observed_split_r_tau_reversal": "r_tau_reversal of the recording in each split",
    "observed_split_rho_tau_reversal": "rho_tau_reversal of the recording in each split",
    "observed_split_r_reliability": "split-half reliability of the recording in each split",
    "observed_split_anova_f": "fold ANOVA F of the recording in each split",
    "observed_loao": "r_tau_reversal of the recording with the subject left out",
    "mixed_llf": "maximised log-likelihood of the mixed model",
    "mixed_aic": "AIC of the mixed model",
    "mixed_bic": "BIC of the mixed model",
    "mixed_n_params": "parameters of the mixed model",
    "mixed_converged": "the mixed model's optimiser converged",
    "mixed_warnings": "warnings of the mixed model's fit",
    "mixed_formula": "formula of the mixed model",
    "mixed_lr": "likelihood-ratio statistic of the test",
    "mixed_df": "degrees of freedom of the test",
    "mixed_p_naive": "p of the test from chi-square(df) (conservative)",
    "mixed_p_mixture": "p of the test from the mixture 1/2 chi2(df - 1) + 1/2 chi2(df)",
}


def _statistic_table(names: list, obs, reasons: dict) -> dict:
    """Per statistic (single then combined): computable, reason, nominal p, direction."""
    n_stat = len(names) + len(COMBINED)
    computable = np.zeros(n_stat, dtype=bool)
    reason = np.empty(n_stat, dtype=object)
    p_nom = np.full(n_stat, np.nan)
    direction = np.zeros(n_stat, dtype=np.int64)
    for j, s in enumerate(names):
        reason[j] = reasons.get(s, "")
        computable[j] = reason[j] == ""
        direction[j] = STATISTICS[s].direction
        if s in obs.nominal and computable[j]:
            p_nom[j] = obs.nominal[s][0]
    for j, parts in enumerate(COMBINED.values(), start=len(names)):
        usable = [c for c in parts if reasons.get(c, "") == ""]
        direction[j] = +1
        if len(usable) < 2:
            reason[j] = "needs 2 or more computable components"
        else:
            reason[j] = ""
            computable[j] = True
    return {"computable": computable, "reason": reason, "p_nominal": p_nom, "direction": direction}


def _pair_tables(accounts, sims, obs, reasons, computable, level: float) -> dict:
    """Every variable per (account, statistic), with the simulated values of each account."""
    n_acc, n_stat = len(accounts), computable.size
    n_sim = next(iter(sims.values())).shape[0]
    pairs = {v: np.full((n_acc, n_stat), np.nan) for v in _PAIR_VARIABLES}
    pairs["simulated"] = np.full((n_acc, n_sim, n_stat), np.nan)
    pairs["alternative"] = np.empty((n_acc, n_stat), dtype=object)
    for a, name in enumerate(accounts):
        row = {v: pairs[v][a] for v in pairs}  # views of the account's row
        _single_statistics(name, sims[name], obs, computable, level, row)
        _combined_statistics(name, sims[name], obs, reasons, computable, level, row)
    return pairs


def _single_statistics(account, sim, obs, computable, level: float, row: dict) -> None:
    """Fill an account's row for every single statistic: calibrated p, quantile, range."""
    for j, s in enumerate(STATISTICS):
        row["alternative"][j] = _alternative(account, s)
        row["simulated"][:, j] = sim[:, j]
        if not computable[j]:
            continue
        o = obs.stats[s][0]
        row["observed"][j] = o
        p = st.calibrated_p(o, sim[:, j], row["alternative"][j])
        row["p_calibrated"][j], row["p_greater"][j], row["p_less"][j] = p
        finite = sim[:, j][np.isfinite(sim[:, j])]
        row["quantile"][j] = (np.sum(finite < o) + 0.5 * np.sum(finite == o)) / max(finite.size, 1)
        row["sim_median"][j], row["sim_lo"][j], row["sim_hi"][j] = _sim_summary(sim[:, j], level)


def _combined_statistics(account, sim, obs, reasons, computable, level: float, row) -> None:
    """Fill an account's row for the combined statistics (Fisher combination, calibrated)."""
    names = list(STATISTICS)
    for j, parts in enumerate(COMBINED.values(), start=len(names)):
        row["alternative"][j] = "greater" if ROLES[account] == "null" else "two-sided"
        if not computable[j]:
            continue
        idx = [names.index(c) for c in parts if reasons.get(c, "") == ""]
        o_vec = np.array([obs.stats[names[i]][0] for i in idx])
        dirs = np.array([STATISTICS[names[i]].direction for i in idx], dtype=float)
        # "greater": evidence for the signature; "less": evidence against it
        t_up, ts_up = st.npc_fisher(o_vec, sim[:, idx], dirs)
        t_dn, ts_dn = st.npc_fisher(o_vec, sim[:, idx], -dirs)
        pg = st.calibrated_p(t_up, ts_up, "greater")[0]
        pl = st.calibrated_p(t_dn, ts_dn, "greater")[0]
        p = pg if row["alternative"][j] == "greater" else min(1.0, 2 * min(pg, pl))
        row["observed"][j], row["simulated"][:, j] = t_up, ts_up
        row["p_calibrated"][j], row["p_greater"][j], row["p_less"][j] = p, pg, pl
        row["quantile"][j] = np.mean(row["simulated"][:, j] < row["observed"][j])
        summary = _sim_summary(row["simulated"][:, j], level)
        row["sim_median"][j], row["sim_lo"][j], row["sim_hi"][j] = summary


def _bootstrap_intervals(boot: dict, all_stats: list, computable) -> dict:
    """Bootstrap interval bounds per statistic (NaN where none was drawn)."""
    boot_lo = np.full(len(all_stats), np.nan)
    boot_hi = np.full(len(all_stats), np.nan)
    for j, s in enumerate(all_stats):
        if s in boot and computable[j]:
            boot_lo[j], boot_hi[j] = boot[s]
    return {"boot_lo": boot_lo, "boot_hi": boot_hi}


def _descriptions(all_stats: list) -> np.ndarray:
    """One description per statistic, single and combined."""
    return np.array(
        [
            STATISTICS[s].description
            if s in STATISTICS
            else "Fisher combination of " + ", ".join(COMBINED[s]) + " (T = -2 sum log p)"
            for s in all_stats
        ]
    )


def _coords(responses, layout, accounts, all_stats, n_sim: int) -> dict:
    """Coordinates of the result: accounts, statistics, simulations, units, magnitudes."""
    coords = {
        "account": accounts,
        "statistic": all_stats,
        "sim": np.arange(n_sim),
        schema.UNIT: responses[schema.UNIT].values,
        "magnitude": layout.prep.magnitudes,
    }
    for name in schema.UNIT_COORDS:
        if name in responses.variables:
            coords[name] = (schema.UNIT, responses[name].values)
    return coords


def _account_variables(fits: dict, accounts: list, n_unit: int) -> dict:
    """Per (account, unit) fitted parameters, misfit and means; notes per account."""
    data = {}
    for k in sorted({k for f in fits.values() for k in f.params}):
        arr = np.full((len(accounts), n_unit), np.nan)
        for a, name in enumerate(accounts):
            if k in fits[name].params:
                arr[a] = fits[name].params[k]
        data[f"account_{k}"] = (("account", schema.UNIT), arr)
    data["account_misfit"] = (
        ("account", schema.UNIT),
        np.stack([fits[name].misfit for name in accounts]),
    )
    data["account_mean"] = (
        ("account", schema.UNIT, "magnitude"),
        np.stack([fits[name].mean for name in accounts]),
    )
    data["account_notes"] = ("account", np.array(["; ".join(fits[n].notes) for n in accounts]))
    return data


def _observed_variables(obs) -> dict:
    """Per-split statistics and leave-one-subject-out values of the recording."""
    data = {}
    for s in ("r_tau_reversal", "rho_tau_reversal", "r_reliability", "anova_f"):
        data[f"observed_split_{s}"] = ("split", obs.splits[s])
    data["observed_loao"] = ("subject_left_out", obs.extra["loao"][0])
    return data


def _add_mixed(mixed_tables, data: dict, coords: dict, attrs: dict) -> None:
    """Add the mixed-model fits and likelihood-ratio tests to the result's pieces."""
    models, tests = mixed_tables
    coords["model"] = models["model"].to_numpy().astype(str)
    for col in ("llf", "aic", "bic", "n_params"):
        data[f"mixed_{col}"] = ("model", models[col].to_numpy(dtype=float))
    data["mixed_converged"] = ("model", models["converged"].to_numpy(dtype=bool))
    data["mixed_warnings"] = ("model", models["warnings"].to_numpy().astype(str))
    data["mixed_formula"] = ("model", models["formula"].to_numpy().astype(str))
    coords["mixed_test"] = [f"{m} vs {n}" for m, n in zip(tests["model"], tests["null"])]
    for col in ("lr", "df", "p_naive", "p_mixture"):
        data[f"mixed_{col}"] = ("mixed_test", tests[col].to_numpy(dtype=float))
    attrs["mixed_note"] = str(tests["note"].iloc[0]) if len(tests) else ""
    attrs["mixed_shared_reversal_point"] = float(models.attrs.get("shared_reversal_point", np.nan))


def open_comparison(path: str | PathLike) -> xr.Dataset:
    """Read a comparison written by ``ds.dopafit.to_netcdf`` (or ``dopafit compare``).

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` file holding a comparison.

    Returns
    -------
    xarray.Dataset
        The comparison, attrs decoded, with its ``dopafit`` accessor.

    Raises
    ------
    ResultKindError
        If the file holds another kind of result.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> cmp = dopafit.compare(ds, accounts=("classical",), n_sim=19, n_splits=5, n_boot=0,
    ...                       mixed=False)
    >>> print(cmp.dopafit.to_netcdf("comparison.nc"))
    comparison.nc
    >>> back = dopafit.open_comparison("comparison.nc")
    >>> back.dopafit.kind, back.dopafit.verdict == cmp.dopafit.verdict
    ('comparison', True)
    """
    from dopafit.results import check_kind

    ds = schema.open_responses(path, validate=False)
    if schema.RESULT_KIND not in ds.attrs and ds.attrs.get("analysis") == "compare":
        ds.attrs[schema.RESULT_KIND] = schema.COMPARISON  # written before results had kinds
    check_kind(ds, schema.COMPARISON, "open_comparison", file=path)
    return ds
