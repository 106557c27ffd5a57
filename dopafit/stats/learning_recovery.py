"""Could this task tell the learning models apart? Parameter and model recovery by simulation.

:func:`learning_recovery` simulates every learning model on a recording's own trial sequence
(its rewards, contexts, and the trials that have a response), with the parameters fitted to
the recording or given ones, fits every model to each simulated dataset with the same options,
and reports how well the parameters come back (correlation, bias, RMSE, coverage of the stated
intervals) and how often each model is chosen when another one generated the data (the
confusion matrix); its docstring has a worked example.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import ConfigError, whole_number
from dopafit.fit.learning import MODEL, best_models, fit_with_options
from dopafit.fit.learning_data import sequences
from dopafit.fit.learning_options import (
    MODEL_LEARNING,
    MODEL_SCALING,
    LearningOptions,
    resolve_models,
)

__all__ = ["learning_recovery", "recovery_summary", "PARAMETERS"]

TRUE_MODEL = "true_model"
REP = "rep"
PARAMETER = "parameter"
CRITERION = "criterion"
#: Parameters whose recovery is reported.
PARAMETERS = (
    "eta_pos",
    "eta_neg",
    "alpha_pos",
    "alpha_neg",
    "tau_learning",
    "tau_scaling",
    "baseline",
    "sigma",
)
_NATURAL = ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "baseline", "sigma")


def _free(model: str, name: str, noise: str) -> bool:
    """Whether ``name`` is estimated (not fixed by the model's constraints)."""
    if name == "tau_learning":
        return MODEL_LEARNING[model]
    if name == "tau_scaling":
        return MODEL_SCALING[model]
    if name == "sigma":
        return noise == "gaussian"
    return True


def _given_params(params: Mapping, models, n_unit: int, n_ctx: int) -> dict:
    """Per model, unit (and context) natural parameters from a mapping of given values."""
    known = {*_NATURAL, "v0"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(
            f"params among {', '.join(sorted(known))}", found=f"unknown {', '.join(unknown)}"
        )
    missing = [n for n in ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg") if n not in params]
    if missing:
        raise ConfigError(
            "params with eta_pos, eta_neg, alpha_pos, alpha_neg", found=f"no {missing}"
        )

    def per_unit(name, default):
        value = np.asarray(params.get(name, default), dtype=np.float64)
        try:
            return np.broadcast_to(value, (n_unit,)).copy()
        except ValueError:
            raise ConfigError(
                f"params[{name!r}] as a number or one value per unit ({n_unit})",
                found=f"shape {value.shape}",
            ) from None

    base = {name: per_unit(name, 0.0 if name == "baseline" else np.nan) for name in _NATURAL}
    v0 = np.asarray(params.get("v0", 0.0), dtype=np.float64)
    if v0.ndim == 1 and v0.size == n_unit:
        v0 = v0[:, None]  # one per unit, every context
    try:
        v0 = np.broadcast_to(v0, (n_unit, n_ctx)).copy()
    except ValueError:
        raise ConfigError(
            f"params['v0'] as a number, one per unit ({n_unit}) or an array (unit, context) "
            f"({n_unit}, {n_ctx})",
            found=f"shape {v0.shape}",
        ) from None
    out = {}
    for m in models:
        p = {k: v.copy() for k, v in base.items()}
        if not MODEL_LEARNING[m]:
            p["eta_pos"] = p["eta_neg"] = 0.5 * (base["eta_pos"] + base["eta_neg"])
        if not MODEL_SCALING[m]:
            p["alpha_pos"] = p["alpha_neg"] = 0.5 * (base["alpha_pos"] + base["alpha_neg"])
        p["v0"] = v0
        out[m] = p
    return out


def _fitted_params(fit: xr.Dataset, models) -> dict:
    missing = [m for m in models if m not in fit[MODEL].values]
    if missing:
        raise ConfigError(
            f"a learning fit with the models {', '.join(models)}",
            found=f"no {', '.join(missing)} in the fit",
            remedy="fit them (model='all') or pass models=",
        )
    out = {}
    for m in models:
        sel = fit.sel({MODEL: m})
        p = {name: sel[name].values.astype(np.float64) for name in _NATURAL}
        p["baseline"] = np.nan_to_num(p["baseline"])
        p["v0"] = np.nan_to_num(sel["v0"].values.astype(np.float64))
        out[m] = p
    return out


def _check_params(p: dict, noise: str, noise_fraction) -> None:
    for name in ("eta_pos", "eta_neg"):
        v = p[name][np.isfinite(p[name])]
        if np.any((v <= 0) | (v > 1)):
            raise ConfigError(f"{name} in (0, 1]", found=f"{v.min():g} to {v.max():g}")
    for name in ("alpha_pos", "alpha_neg"):
        v = p[name][np.isfinite(p[name])]
        if np.any(v <= 0):
            raise ConfigError(f"{name} > 0", found=f"min {v.min():g}")
    if noise == "gaussian" and noise_fraction is None:
        s = p["sigma"]
        if not np.any(np.isfinite(s) & (s > 0)):
            raise ConfigError(
                "a noise SD for the Gaussian model",
                found="no sigma",
                remedy="pass params['sigma'] or noise_fraction",
            )


def largest_response(seq, delta, alpha_pos, alpha_neg) -> np.ndarray:
    """Per unit, the peak of its noise-free tuning curve: the largest absolute mean response
    over reward values (trials with a response), the scale of ``noise_fraction``."""
    clean = np.where(delta > 0, alpha_pos[:, None], alpha_neg[:, None]) * delta
    out = np.ones(seq.n_trial.size)
    for u in range(seq.n_trial.size):
        k = seq.n_trial[u]
        keep = np.isfinite(seq.resp[u, :k]) & np.isfinite(clean[u, :k])
        if not keep.any():
            continue
        _, inverse = np.unique(np.round(seq.util[u, :k][keep], 9), return_inverse=True)
        means = np.bincount(inverse, weights=clean[u, :k][keep]) / np.bincount(inverse)
        out[u] = max(np.max(np.abs(means)), 1e-12)
    return out


def _simulate(responses, seq, p, opts: LearningOptions, noise_fraction, seeds) -> tuple:
    """One simulated responses Dataset (model parameters ``p`` on the recording's trials) and
    the truth it was simulated with (``sigma`` as used)."""
    from dopafit.fit.learning import unpack
    from dopafit.kernels import learning as K

    ok = np.isfinite(p["eta_pos"]) & np.isfinite(p["alpha_pos"])
    eta_p = np.where(ok, p["eta_pos"], 0.1)
    eta_n = np.where(ok, p["eta_neg"], 0.1)
    _, delta = K.value_trace(seq.util, seq.ctx, seq.n_trial, eta_p, eta_n, p["v0"], seq.learn)
    a_pos = np.where(ok, p["alpha_pos"], 0.0)
    a_neg = np.where(ok, p["alpha_neg"], 0.0)
    sigma = np.nan_to_num(p["sigma"], nan=1.0)
    if noise_fraction is not None:
        sigma = float(noise_fraction) * largest_response(seq, delta, a_pos, a_neg)
    poisson = opts.noise == "poisson"
    resp, count = K.simulate_responses(
        delta,
        a_pos,
        a_neg,
        p["baseline"],
        sigma,
        seq.base,
        K.NOISE_POISSON if poisson else K.NOISE_GAUSSIAN,
        float(seq.window) if poisson else 1.0,
        seeds,
    )
    keep = np.isfinite(seq.resp) & ok[:, None]
    n_trial = responses.sizes[schema.TRIAL]
    sim = responses.copy()
    sim[schema.RESPONSE] = (
        (schema.UNIT, schema.TRIAL),
        unpack(np.where(keep, resp, np.nan), seq, n_trial),
    )
    if poisson:
        sim["window_count"] = (
            (schema.UNIT, schema.TRIAL),
            unpack(np.where(keep, count, np.nan), seq, n_trial),
        )
    truth = dict(p)
    truth["sigma"] = np.full(sigma.shape, np.nan) if poisson else sigma
    return sim, truth


def learning_recovery(
    responses: xr.Dataset,
    fit: xr.Dataset | None = None,
    *,
    params: Mapping | None = None,
    models="all",
    n_rep: int = 1,
    noise_fraction: float | None = None,
    seed: int = 0,
    progress: bool | None = None,
    **options,
) -> xr.Dataset:
    """Simulate each learning model on a recording's trials, refit, and score the recovery.

    Parameters
    ----------
    responses : xarray.Dataset
        The recording (a responses Dataset): its rewards, contexts, trial order and which
        trials have a response are used; its responses are not.
    fit : xarray.Dataset, optional
        Output of :func:`dopafit.fit_learning` on ``responses``: each model is simulated with
        each unit's fitted parameters under that model. Fitted here with ``options`` when
        neither ``fit`` nor ``params`` is given.
    params : mapping, optional
        Given natural parameters instead of fitted ones: ``eta_pos``, ``eta_neg``,
        ``alpha_pos``, ``alpha_neg`` (required), ``baseline`` (default 0), ``sigma``, ``v0``
        (initial values, default 0: a number, one per unit, or an array (unit, context));
        each a number or one value per unit. A model without asymmetric learning (scaling)
        uses the mean of the two learning rates (slopes).
    models : str or sequence, default "all"
        Models simulated, and fitted to every simulated dataset.
    n_rep : int, default 1
        Simulated datasets per model.
    noise_fraction : float, optional
        Gaussian noise SD as this fraction of each unit's largest response: the peak of its
        noise-free tuning curve, the largest absolute mean response over reward values on
        the recording's trials (overrides ``sigma``).
    seed : int, default 0
        Seed of the simulations and of the fits' random starts.
    progress : bool or None, default None
        A progress bar over the simulated datasets' fits: None shows it in a notebook or
        when standard error is a terminal, True always, False never. The result does not
        depend on it and does not record it.
    **options
        Options of :func:`dopafit.fit_learning` (``axis``, ``noise``, ``n_starts``,
        ``cv_blocks``, ``select``, ...); ``model`` is set by ``models``, ``seed`` by ``seed``.

    Returns
    -------
    xarray.Dataset
        Dims ``true_model``, ``model``, ``rep``, ``unit``, ``parameter``.
        ``confusion(true_model, model)``: fraction of (rep, unit) whose best model is
        ``model`` when ``true_model`` generated the data; ``n_confusion`` the counts;
        ``confusion_by_criterion(criterion, true_model, model)`` the same for each selection
        criterion (``bic``, ``aic`` and, with cross-validation, ``cv``).
        ``true_<p>(true_model, unit)`` and ``estimate_<p>(true_model, rep, unit)`` (the
        fit of the true model) for every parameter ``p`` of :data:`PARAMETERS`, plus
        ``best_model(true_model, rep, unit)`` and ``identifiable(true_model, rep, unit)``.
        ``recovery_r``, ``recovery_bias``, ``recovery_rmse``, ``coverage`` and ``n_units``
        per ``(true_model, parameter)`` over units and reps (NaN for a parameter the model
        fixes). ``tau_learning`` is scored from the estimated learning rates of every unit;
        its coverage over the identifiable units, which alone have an interval.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_learning("flip", n_units=6, n_trials=300, seed=2)
    >>> rec = dopafit.learning_recovery(
    ...     ds, params={"eta_pos": 0.15, "eta_neg": 0.05, "alpha_pos": 1.0, "alpha_neg": 1.0,
    ...                 "sigma": 1.0}, models=("classical", "asymmetric_learning"),
    ...     n_starts=2, cv_blocks=0, seed=1,
    ... )
    >>> print(rec["confusion"].to_pandas().round(2).to_string())
    model                classical  asymmetric_learning
    true_model
    classical                  1.0                  0.0
    asymmetric_learning        0.0                  1.0
    """
    from dopafit._progress import check_progress, progress_bar

    if "model" in options:
        raise ConfigError("the models as models=", found="model= among the options")
    progress = check_progress(progress)
    opts = LearningOptions.from_dict({**options, "model": models, "seed": seed})
    models = resolve_models(opts.model)
    n_rep = _count_of_reps(n_rep)
    if noise_fraction is not None and not _positive(noise_fraction):
        raise ConfigError("noise_fraction > 0", found=repr(noise_fraction))
    seq = sequences(responses, opts)
    n_unit, n_ctx = seq.n_trial.size, len(seq.contexts)
    if params is not None:
        truth = _given_params(params, models, n_unit, n_ctx)
        source = "given"
    else:
        if fit is None:
            fit = fit_with_options(responses, opts, progress=progress)
        truth = _fitted_params(fit, models)
        source = "fitted"
    for p in truth.values():
        _check_params(p, opts.noise, noise_fraction)

    streams = seeds.master(seed).spawn(len(models) * n_rep)
    fits, truths = {}, {}
    bar = progress_bar(len(models) * n_rep, "learning recovery", progress=progress, unit="fit")
    with bar:
        for i, m in enumerate(models):
            bar.set_description(f"learning recovery: {m}")
            for r in range(n_rep):
                unit_seeds = streams[i * n_rep + r].generate_state(n_unit, dtype=np.uint64)
                sim, t = _simulate(responses, seq, truth[m], opts, noise_fraction, unit_seeds)
                truths[m] = t
                fits[(m, r)] = fit_with_options(sim, opts, progress=False)
                bar.update(1)
    return _score(responses, fits, truths, models, n_rep, opts, source, seed, noise_fraction)


def _count_of_reps(n_rep) -> int:
    """``n_rep`` as an int >= 1, or a ConfigError."""
    return whole_number("n_rep", n_rep)


def _positive(value) -> bool:
    """Whether ``value`` is a number > 0."""
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _score(responses, fits, truths, models, n_rep, opts, source, seed, noise_fraction):
    """Score the refits against the truths: confusion, recovery statistics and coverage."""
    criteria = ("bic", "aic", "cv") if opts.cv_blocks >= 2 else ("bic", "aic")
    true = _true_values(truths, models, responses.sizes[schema.UNIT])
    fitted = _fitted_values(fits, models, n_rep, criteria)
    counts, confusion = _confusion(fitted["best"], models)
    stats, n_used = _recovery_stats(models, true, fitted, opts.noise)
    ds = _recovery_coords(responses, models, n_rep)
    ds["confusion"] = ((TRUE_MODEL, MODEL), confusion)
    ds["n_confusion"] = ((TRUE_MODEL, MODEL), counts)
    ds = ds.assign_coords({CRITERION: list(criteria)})
    by_criterion = fitted["by_criterion"]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = by_criterion / by_criterion.sum(axis=2, keepdims=True)
    ds["confusion_by_criterion"] = ((CRITERION, TRUE_MODEL, MODEL), frac)
    dims_tu = (TRUE_MODEL, schema.UNIT)
    dims_tru = (TRUE_MODEL, REP, schema.UNIT)
    ds["best_model"] = (dims_tru, fitted["best"])
    ds["identifiable"] = (dims_tru, fitted["ident"])
    for p in PARAMETERS:
        ds[f"true_{p}"] = (dims_tu, true[p])
        ds[f"estimate_{p}"] = (dims_tru, fitted["est"][p])
    ds["recovery_r"] = ((TRUE_MODEL, PARAMETER), stats["r"])
    ds["recovery_bias"] = ((TRUE_MODEL, PARAMETER), stats["bias"])
    ds["recovery_rmse"] = ((TRUE_MODEL, PARAMETER), stats["rmse"])
    ds["coverage"] = ((TRUE_MODEL, PARAMETER), stats["coverage"])
    ds["n_units"] = ((TRUE_MODEL, PARAMETER), n_used)
    ident = fitted["ident"]
    ds["identifiable_fraction"] = (TRUE_MODEL, ident.reshape(len(models), -1).mean(axis=1))
    ds.attrs = {
        schema.RESULT_KIND: schema.LEARNING_RECOVERY,
        "analysis": "learning_recovery",
        "parameters_from": source,
        "n_rep": int(n_rep),
        "seed": int(seed),
        "noise_fraction": float("nan") if noise_fraction is None else float(noise_fraction),
        "fit_options": opts.record(),
        "selection": "best_model of each fit (fit option select)",
        "dopafit_version": __version__,
    }
    ds.attrs.update(schema.provenance_attrs(responses))
    return ds


def _true_values(truths: dict, models, n_unit: int) -> dict:
    """True value of every scored parameter, shape (true model, unit)."""
    true = {p: np.full((len(models), n_unit), np.nan) for p in PARAMETERS}
    for i, m in enumerate(models):
        t = truths[m]
        for p in _NATURAL:
            true[p][i] = t[p]
        true["tau_learning"][i] = t["eta_pos"] / (t["eta_pos"] + t["eta_neg"])
        true["tau_scaling"][i] = t["alpha_pos"] / (t["alpha_pos"] + t["alpha_neg"])
    return true


def _fitted_values(fits: dict, models, n_rep: int, criteria) -> dict:
    """Best models, identifiability, estimates and bounds of the true model's refits.

    Arrays (true model, rep, unit), and ``by_criterion`` (criterion, true model, model):
    how often each criterion chose each model.
    """
    n_m = len(models)
    n_unit = next(iter(fits.values())).sizes[schema.UNIT]
    shape = (n_m, n_rep, n_unit)
    by_criterion = np.zeros((len(criteria), n_m, n_m), dtype=np.int64)
    best = np.empty(shape, dtype=object)
    ident = np.zeros(shape, dtype=bool)
    est = {p: np.full(shape, np.nan) for p in PARAMETERS}
    lo = {p: np.full(shape, np.nan) for p in PARAMETERS}
    hi = {p: np.full(shape, np.nan) for p in PARAMETERS}
    for i, m in enumerate(models):
        for r in range(n_rep):
            f = fits[(m, r)]
            sel = f.sel({MODEL: m})
            best[i, r] = f["best_model"].values
            for k, crit in enumerate(criteria):
                chosen = best_models(f, crit)
                for j, m2 in enumerate(models):
                    by_criterion[k, i, j] += int(np.sum(chosen == m2))
            ident[i, r] = sel["identifiable"].values
            for p in PARAMETERS:
                est[p][i, r] = sel[p].values
                lo[p][i, r] = sel[f"{p}_lo"].values
                hi[p][i, r] = sel[f"{p}_hi"].values
            ep, en = sel["eta_pos"].values, sel["eta_neg"].values
            est["tau_learning"][i, r] = ep / (ep + en)  # every unit, identifiable or not
    return {
        "best": best,
        "ident": ident,
        "est": est,
        "lo": lo,
        "hi": hi,
        "by_criterion": by_criterion,
    }


def _confusion(best: np.ndarray, models) -> tuple[np.ndarray, np.ndarray]:
    """Counts and fractions of each best model (columns) per true model (rows)."""
    n_m = len(models)
    counts = np.zeros((n_m, n_m), dtype=np.int64)
    for i in range(n_m):
        for j, m in enumerate(models):
            counts[i, j] = int(np.sum(best[i] == m))
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        confusion = counts / total
    return counts, confusion


def _recovery_stats(models, true: dict, fitted: dict, noise: str) -> tuple[dict, np.ndarray]:
    """Correlation, bias, RMSE and interval coverage per (true model, parameter)."""
    est, lo, hi = fitted["est"], fitted["lo"], fitted["hi"]
    n_m = len(models)
    stats = {k: np.full((n_m, len(PARAMETERS)), np.nan) for k in ("r", "bias", "rmse", "coverage")}
    n_used = np.zeros((n_m, len(PARAMETERS)), dtype=np.int64)
    for i, m in enumerate(models):
        for k, p in enumerate(PARAMETERS):
            if not _free(m, p, noise):
                continue
            tt = np.broadcast_to(true[p][i], est[p][i].shape)
            ee = est[p][i]
            ok = np.isfinite(tt) & np.isfinite(ee)
            n_used[i, k] = int(ok.sum())
            if ok.sum() >= 3 and np.ptp(tt[ok]) > 0 and np.ptp(ee[ok]) > 0:
                stats["r"][i, k] = np.corrcoef(tt[ok], ee[ok])[0, 1]
            if ok.any():
                stats["bias"][i, k] = float(np.mean(ee[ok] - tt[ok]))
                stats["rmse"][i, k] = float(np.sqrt(np.mean((ee[ok] - tt[ok]) ** 2)))
            has = ok & np.isfinite(lo[p][i]) & np.isfinite(hi[p][i])
            if has.any():
                inside = (lo[p][i] <= tt) & (tt <= hi[p][i])
                stats["coverage"][i, k] = float(np.mean(inside[has]))
    return stats, n_used


def _recovery_coords(responses, models, n_rep: int) -> xr.Dataset:
    """An empty Dataset with the model, rep, unit and parameter coordinates."""
    return xr.Dataset(
        coords={
            TRUE_MODEL: list(models),
            MODEL: list(models),
            REP: np.arange(n_rep),
            schema.UNIT: responses[schema.UNIT].values,
            PARAMETER: list(PARAMETERS),
            **{n: responses[n] for n in schema.UNIT_COORDS if n in responses.variables},
        }
    )


def recovery_summary(recovery: xr.Dataset) -> str:
    """Text summary of :func:`learning_recovery`: the confusion matrix and parameter recovery.

    Parameters
    ----------
    recovery : xarray.Dataset
        Output of :func:`learning_recovery`.

    Returns
    -------
    str
        The fraction of simulated units whose chosen model is each model (rows: simulated
        model), then the Pearson r of true and fitted parameters per simulated model.
    """
    confusion = recovery["confusion"].to_pandas()
    r = recovery["recovery_r"].to_pandas()
    return "\n".join(
        [
            f"model recovery ({recovery.attrs.get('n_rep', 1)} repetition(s) per unit): "
            "fraction of simulated units choosing each model (rows: simulated model)",
            confusion.round(3).to_string(),
            "",
            "parameter recovery: Pearson r of true and fitted values",
            r.round(3).to_string(),
        ]
    )
