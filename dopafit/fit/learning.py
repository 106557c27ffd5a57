"""Trial-by-trial learning models: asymmetric learning versus asymmetric scaling, per unit.

A unit keeps one value per context and learns it from every reward in chronological order;
its response on each trial is a scaled prediction error. The four models of Muller et al.
(2024) differ in which asymmetries they allow: learning rates after positive and negative
errors (``eta_pos``/``eta_neg``, :math:`\\tau_{learning} = \\eta^+/(\\eta^+ + \\eta^-)`) and
response slopes above and below zero error (``alpha_pos``/``alpha_neg``,
:math:`\\tau_{scaling} = \\alpha^+/(\\alpha^+ + \\alpha^-)`, the quantity
:func:`dopafit.fit_expectiles` calls ``tau``).

Examples
--------
>>> import dopafit
>>> ds = dopafit.simulate_learning(
...     "flip", n_units=4, n_trials=400, seed=1, noise=1.0, learning_rate=(0.05, 0.15)
... )
>>> fit = dopafit.fit_learning(ds, "asymmetric_learning", cv_blocks=0, n_starts=2)
>>> fit["eta_pos"].sizes["unit"], str(fit["fit_status"].values[0, 0])
(4, 'ok')
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import FitError
from dopafit.fit.learning_data import (
    ETA_BOUNDS,
    Layout,
    Sequences,
    parameter_layout,
    sequences,
)
from dopafit.fit.learning_estimates import (
    IDENTIFIABILITY_RULE,
    MAX_SE_LOGIT,
    apply_profiles,
    covariance,
    estimates,
    status,
)
from dopafit.fit.learning_options import (
    MODEL_CODES,
    MODELS,
    LearningOptions,
    first_scored_block,
)
from dopafit.kernels.learning_fit import CODE_DECREASE, CODE_GRADIENT

__all__ = [
    "fit_learning",
    "fit_with_options",
    "learning_summary",
    "concat_learning",
    "MODELS",
    "MODEL_CODES",
    "IDENTIFIABILITY_RULE",
    "MAX_SE_LOGIT",
]

MODEL = "model"
CONTEXT = "context"
VS_MODEL = "vs_model"

CV_RULE = (
    "leave-future-out: the unit's trials are cut into cv_blocks contiguous blocks; for each "
    "block k with max(1, cv_blocks // 2) <= k < cv_blocks the model is fitted on blocks "
    "0..k-1 and scored on block k (the values run through the fitted trials); cv_loglik is "
    "the sum of the held-out log-likelihoods"
)
OPTIMISER = (
    "projected limited-memory BFGS with box bounds on the transformed parameters (logit "
    "learning rates, log slopes and sigma), exact gradient through the recursion, backtracking "
    "Armijo line search; gtol 1e-6, ftol 1e-12 relative; best of n_starts starts (start 0 at "
    "eta 0.1, slopes from the response-utility regression, baseline the mean response, v0 the "
    "mean utility of the first v0_trials trials of the context)"
)
_GTOL = 1e-6
_FTOL = 1e-12

_PARAMS = ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "baseline", "sigma")
_DESCRIPTIONS = {
    "eta_pos": "learning rate after a positive prediction error",
    "eta_neg": "learning rate after a zero or negative prediction error",
    "alpha_pos": "response per unit of positive prediction error",
    "alpha_neg": "response per unit of zero or negative prediction error",
    "baseline": "response at zero prediction error",
    "sigma": "SD of the Gaussian response noise (NaN for the Poisson model)",
    "tau_learning": "eta_pos / (eta_pos + eta_neg); NaN where learning rates are not identifiable",
    "tau_scaling": "alpha_pos / (alpha_pos + alpha_neg) (fit_expectiles' tau)",
    "v0": "initial value of each context (NaN for a context the unit never sees)",
    "loglik": "maximised log-likelihood (all trials with a response)",
    "aic": "2 n_params - 2 loglik",
    "bic": "n_params log(n_obs) - 2 loglik",
    "cv_loglik": "leave-future-out held-out log-likelihood (see attrs cv_rule)",
    "converged": "the best start met the gradient or decrease tolerance",
    "identifiable": "the data pin the learning rates (see attrs identifiability_rule)",
    "fit_status": "'ok' or why the fit or its learning rates cannot be trusted",
    "n_starts_at_best": "starts that reached the best objective (1e-6 relative)",
    "best_model": "model with the best selection criterion (attrs select)",
    "value": "value of the trial's context before the trial's update",
    "rpe": "prediction error utility - value",
    "predicted": "expected response under the fitted model",
    "utility": "utility of the trial's reward (the values learn it)",
    "trial_context": "index on the context dim of the trial's context (-1: no trial)",
    "n_best": "units whose best model this is",
    "cv_diff_mean": "mean over units of cv_loglik[model] - cv_loglik[vs_model]",
    "cv_diff_median": "median over units of cv_loglik[model] - cv_loglik[vs_model]",
    "cv_diff_p_wilcoxon": "two-sided Wilcoxon signed-rank p of the per-unit cv differences",
    "cv_diff_p_t": "two-sided one-sample t-test p of the per-unit cv differences",
}


def fit_learning(
    responses: xr.Dataset,
    model="all",
    *,
    axis="reward",
    noise: str = "gaussian",
    uncued: str = "learned",
    v0: str = "free",
    v0_trials: int = 5,
    n_starts: int = 10,
    cv_blocks: int = 5,
    select: str = "bic",
    level: float = 0.95,
    intervals: str = "profile",
    min_trials: int = 20,
    max_iter: int = 500,
    seed: int = 0,
    progress: bool | None = None,
) -> xr.Dataset:
    """Fit trial-by-trial learning models to every unit by maximum likelihood.

    Parameters
    ----------
    responses : xarray.Dataset
        A responses Dataset (see :mod:`dopafit.schema`); each unit's trials in chronological
        order along ``trial`` (``event_time`` must not decrease).
    model : str or sequence of str, default "all"
        ``"classical"`` (SLSS: one learning rate, one slope), ``"asymmetric_learning"``
        (ALSS), ``"asymmetric_scaling"`` (SLAS), ``"asymmetric_both"`` (ALAS), or ``"all"``;
        the codes of Muller et al. are accepted.
    axis : {"reward", "utility", "zscore"}, callable or array-like, default "reward"
        What the values learn: the reward, the empirical utility axis of
        :func:`dopafit.fit_expectiles`, or the reward with responses z-scored per unit.
    noise : {"gaussian", "poisson"}, default "gaussian"
        Gaussian responses, or Poisson window counts (spike-count Datasets).
    uncued : {"learned", "zero"}, default "learned"
        Uncued trials have a learned value of their own, or a fixed value 0.
    v0 : {"free", "first"}, default "free"
        Initial context values estimated, or fixed at the mean utility of the first
        ``v0_trials`` trials of the context.
    v0_trials : int, default 5
    n_starts : int, default 10
        Optimiser starts per fit (start 0 deterministic, the others seeded draws; each
        start's baseline, slopes and sigma are set by least squares along its value trace).
    cv_blocks : int, default 5
        Contiguous blocks of the leave-future-out cross-validation (0: none).
    select : {"bic", "aic", "cv"}, default "bic"
        Criterion of ``best_model`` (BIC recovers the generating model best on simulated
        tasks; see docs/explanation/learning.md).
    level : float, default 0.95
        Level of the ``*_lo``/``*_hi`` intervals.
    intervals : {"profile", "wald"}, default "profile"
        Intervals of ``eta_pos``, ``eta_neg`` and ``tau_learning``: profile likelihood, or
        Wald on the logit scale (faster; too narrow at low signal-to-noise). Other parameters
        get Wald intervals.
    min_trials : int, default 20
        Units with fewer trials with a response are reported, not fitted.
    max_iter : int, default 500
    seed : int, default 0
    progress : bool or None, default None
        A progress bar over the units (fitted in chunks; the numbers do not depend on it):
        None shows it in a notebook or when standard error is a terminal, True always, False
        never. Not an option (not in :class:`LearningOptions`, not in attrs).

    Returns
    -------
    xarray.Dataset
        Dims ``model``, ``unit``, ``trial``, ``context``, ``vs_model``. Per model and unit:
        ``eta_pos``, ``eta_neg``, ``alpha_pos``, ``alpha_neg``, ``baseline``, ``sigma``,
        ``tau_learning``, ``tau_scaling`` (each with ``_se``, ``_lo``, ``_hi``), ``v0``
        (+ ``context``), ``loglik``, ``aic``, ``bic``, ``cv_loglik``, ``n_params``,
        ``converged``, ``identifiable``, ``fit_status``, ``n_starts_at_best``. Per unit:
        ``best_model``, ``n_obs``; ``utility(unit, trial)`` and ``trial_context(unit, trial)``
        (index on ``context``, -1 where no trial). Per model, unit and trial:
        ``value``, ``rpe``, ``predicted``. Per model: ``n_best``; per pair of models the
        paired tests ``cv_diff_mean``, ``cv_diff_median``, ``cv_diff_p_wilcoxon``,
        ``cv_diff_p_t``. attrs record
        every choice.

    Raises
    ------
    ResponsesError
        ``responses`` does not follow the data model.
    EventTimesError
        A unit's trials are out of chronological order.
    ConfigError
        An invalid option.
    FitError
        No unit can be fitted (each unit's reason is in the message).

    Notes
    -----
    Per unit, context ``c``, trial ``t``: :math:`\\delta_t = u(r_t) - V_{c_t}`,
    :math:`V_{c_t} \\leftarrow V_{c_t} + \\eta^\\pm \\delta_t`, response
    :math:`b + \\alpha^\\pm \\delta_t` plus noise (``+`` when :math:`\\delta_t > 0`). Learning
    rates are fitted on the logit scale, slopes and ``sigma`` on the log scale; standard
    errors come from the Hessian (delta method on the natural scale); intervals are profile
    likelihood intervals for the learning rates and ``tau_learning`` (``intervals``), Wald
    intervals on the transformed scale mapped back for the others. A stationary reward distribution hardly
    constrains the learning rates (values settle and stay); such units are flagged
    (``identifiable`` False) and get no ``tau_learning``.

    References
    ----------
    Muller T.H. et al. (2024) Distributional reinforcement learning in prefrontal cortex.
    Nature Neuroscience 27:403-408.
    Dabney W. et al. (2020) A distributional code for value in dopamine-based reinforcement
    learning. Nature 577:671-675.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_learning("flip", n_units=4, n_trials=600, learning_rate=0.2, seed=1)
    >>> fit = dopafit.fit_learning(ds, ("classical", "asymmetric_learning"), cv_blocks=0,
    ...                            n_starts=2)
    >>> fit["best_model"].values.tolist()
    ['classical', 'asymmetric_learning', 'classical', 'asymmetric_learning']
    >>> fit["tau_learning"].sel(model="asymmetric_learning").values.round(2).tolist()
    [nan, 0.33, 0.56, 0.92]
    >>> ds["true_tau"].values.round(2).tolist()  # unit 0: learning rates not identifiable
    [0.08, 0.49, 0.57, 0.82]
    """
    opts = LearningOptions(
        model=model,
        axis=axis,
        noise=noise,
        uncued=uncued,
        v0=v0,
        v0_trials=v0_trials,
        n_starts=n_starts,
        cv_blocks=cv_blocks,
        select=select,
        level=level,
        intervals=intervals,
        min_trials=min_trials,
        max_iter=max_iter,
        seed=seed,
    )
    return fit_with_options(responses, opts, progress=progress)


def fit_with_options(
    responses: xr.Dataset, opts: LearningOptions, *, progress: bool | None = None
) -> xr.Dataset:
    """:func:`fit_learning` with the options as one validated :class:`LearningOptions`
    (``progress`` as in :func:`fit_learning`)."""
    from dopafit._progress import check_progress

    progress = check_progress(progress)
    responses = schema.validate_responses(responses)  # a hand-built Dataset: completed, warned
    seq = sequences(responses, opts)
    unit_ok = np.array([r == "" for r in seq.unit_reason])
    if not unit_ok.any():
        reasons = sorted(set(seq.unit_reason))
        source = responses.attrs.get("source")
        raise FitError(
            "at least one unit with enough trials at 2 or more reward values",
            found=f"{unit_ok.size} unit(s), none fittable ({'; '.join(reasons)})",
            remedy="check the response and reward variables of the Dataset",
            file=source if isinstance(source, str) else None,
        )
    layout = parameter_layout(seq, opts, opts.model)
    raw = run_kernel(seq, layout, opts, unit_ok, progress=progress)
    return assemble(responses, seq, layout, opts, raw, unit_ok)


def kernel_seed(seed: int) -> np.uint64:
    """The kernel's uint64 seed derived from the user's seed."""
    return seeds.kernel_seed(seed)


def run_kernel(
    seq: Sequences, layout: Layout, opts: LearningOptions, unit_ok, *, progress=False
) -> tuple:
    """Run :func:`dopafit.kernels.learning_fit.fit_rows` on prepared sequences, in chunks of
    units (each unit keeps its random streams, so the numbers are those of one call)."""
    from dopafit._progress import progress_bar

    n_unit = int(seq.n_trial.size)
    size = max(4, -(-n_unit // 10))
    f_max = int(layout.n_free.max()) if layout.n_free.size else 0
    parts = []
    with progress_bar(n_unit, "fit_learning", progress=progress, unit="unit") as bar:
        for u0 in range(0, n_unit, size):
            u1 = min(n_unit, u0 + size)
            parts.append(_run_rows(seq, layout, opts, unit_ok, u0, u1))
            bar.update(u1 - u0)
    return _join_rows(parts, f_max)


def _join_rows(parts: list, f_max: int) -> tuple:
    """The chunks' outputs joined along the unit axis (axis 1); the Hessians padded with NaN
    to the largest number of free parameters over all units, as one call makes them."""
    out = []
    for i, pieces in enumerate(zip(*parts)):
        if i == 5:  # hess (model, unit, F, F)
            pieces = [
                np.pad(
                    h,
                    ((0, 0), (0, 0), (0, f_max - h.shape[2]), (0, f_max - h.shape[3])),
                    constant_values=np.nan,
                )
                for h in pieces
            ]
        out.append(np.concatenate(pieces, axis=1))
    return tuple(out)


def _run_rows(seq: Sequences, layout: Layout, opts: LearningOptions, unit_ok, u0, u1) -> tuple:
    """:func:`dopafit.kernels.learning_fit.fit_rows` on units ``u0:u1``."""
    from scipy import stats

    from dopafit.kernels import learning as K
    from dopafit.kernels.learning_fit import fit_rows

    q = float(stats.chi2.ppf(opts.level, 1)) if opts.intervals == "profile" else 0.0
    r = slice(u0, u1)
    return fit_rows(
        seq.util[r],
        seq.ctx[r],
        seq.resp[r],
        seq.count[r],
        seq.base[r],
        seq.n_trial[r],
        unit_ok[r],
        np.ascontiguousarray(layout.tie[:, r]),  # C order: the kernel compiled for it
        np.ascontiguousarray(layout.n_free[:, r]),
        layout.fixed[r],
        layout.start[r],
        layout.lo[r],
        layout.hi[r],
        seq.learn,
        K.NOISE_POISSON if opts.noise == "poisson" else K.NOISE_GAUSSIAN,
        float(seq.window) if opts.noise == "poisson" else 1.0,
        kernel_seed(opts.seed),
        opts.n_starts,
        opts.cv_blocks,
        first_scored_block(opts.cv_blocks),
        opts.max_iter,
        _GTOL,
        _FTOL,
        q,
        u0,
    )


# --------------------------------------------------------------------------------------------
# assembling the output


def latents(seq: Sequences, theta, est, opts: LearningOptions):
    """Per-trial value, prediction error and expected response of every model (packed)."""
    from dopafit.kernels import learning as K

    n_model = theta.shape[0]
    shape = (n_model, *seq.util.shape)
    value, rpe, pred = (np.full(shape, np.nan) for _ in range(3))
    for m in range(n_model):
        eta_p = np.nan_to_num(est["eta_pos"][0][m])
        eta_n = np.nan_to_num(est["eta_neg"][0][m])
        v0 = np.nan_to_num(est["v0"][0][m])
        value[m], rpe[m] = K.value_trace(
            seq.util, seq.ctx, seq.n_trial, eta_p, eta_n, v0, seq.learn
        )
        a = np.where(rpe[m] > 0, est["alpha_pos"][0][m][:, None], est["alpha_neg"][0][m][:, None])
        mean = est["baseline"][0][m][:, None] + a * rpe[m]
        if opts.noise == "poisson":  # the kernels' softplus rate, vectorised
            scale = K.SOFTPLUS_SCALE
            rate = scale * np.logaddexp(0.0, (seq.base + mean) / scale)
            mean = np.maximum(rate, K.MIN_RATE) - seq.base
        pred[m] = mean
    return value, rpe, pred


def unpack(packed: np.ndarray, seq: Sequences, n_trial: int) -> np.ndarray:
    """Put packed per-trial arrays (..., n_unit, width) back on the Dataset's trial dim."""
    out = np.full((*packed.shape[:-1], n_trial), np.nan)
    for u in range(seq.n_trial.size):
        k = seq.n_trial[u]
        out[..., u, seq.position[u, :k]] = packed[..., u, :k]
    return out


def assemble(responses, seq: Sequences, layout: Layout, opts: LearningOptions, raw, unit_ok):
    """The output Dataset of :func:`fit_learning`."""
    theta = raw[0]
    est, text, ident = _final_estimates(raw, seq, layout, opts)
    ds = _result_coords(responses, seq, opts.model)
    _add_estimates(ds, est, seq)
    _add_fit_quality(ds, raw, seq, layout, opts, unit_ok)
    ds["identifiable"] = ((MODEL, schema.UNIT), ident)
    ds["fit_status"] = ((MODEL, schema.UNIT), text)
    ds["n_starts_at_best"] = ((MODEL, schema.UNIT), raw[4])
    ds["n_obs"] = (schema.UNIT, seq.n_obs.astype(np.int64))
    ds["n_trials"] = (schema.UNIT, seq.n_trial.astype(np.int64))
    ds["best_model"] = (schema.UNIT, best_models(ds, opts.select))
    _population(ds, opts.model)
    _add_latents(ds, seq, theta, est, opts, unit_ok)
    ds.attrs = _attrs(responses, seq, opts)
    _describe(ds)
    return ds


def _final_estimates(raw, seq: Sequences, layout: Layout, opts: LearningOptions) -> tuple:
    """Estimates with intervals, status texts and identifiability of every (model, unit)."""
    theta, hess = raw[0], raw[5]
    models = opts.model
    cov, pd = covariance(hess, layout.tie, layout.n_free)
    est = estimates(theta, cov, layout.tie, models, opts.level)
    if opts.intervals == "profile":
        apply_profiles(est, raw[7], models)
    text, ident = status(raw, est, pd, theta, seq, opts)
    tl = est["tau_learning"]
    est["tau_learning"] = tuple(np.where(ident, x, np.nan) for x in tl)
    return est, text, ident


def _result_coords(responses, seq: Sequences, models) -> xr.Dataset:
    """An empty Dataset with the model, unit, trial and context coordinates."""
    unit_coords = {
        name: responses[name] for name in schema.UNIT_COORDS if name in responses.variables
    }
    return xr.Dataset(
        coords={
            MODEL: list(models),
            schema.UNIT: responses[schema.UNIT].values,
            schema.TRIAL: responses[schema.TRIAL].values,
            CONTEXT: seq.contexts,
            VS_MODEL: list(models),
            **unit_coords,
        }
    )


def _add_estimates(ds: xr.Dataset, est: dict, seq: Sequences) -> None:
    """Add each parameter's estimate, standard error and interval (v0 per context seen)."""
    dims = (MODEL, schema.UNIT)
    for name in (*_PARAMS, "tau_learning", "tau_scaling"):
        value, se, lo, hi = est[name]
        ds[name] = (dims, value)
        ds[f"{name}_se"] = (dims, se)
        ds[f"{name}_lo"] = (dims, lo)
        ds[f"{name}_hi"] = (dims, hi)
    seen = seq.seen()
    for suffix, arr in zip(("", "_se", "_lo", "_hi"), est["v0"]):
        ds[f"v0{suffix}"] = ((*dims, CONTEXT), np.where(seen[None], arr, np.nan))


def _add_fit_quality(ds: xr.Dataset, raw, seq: Sequences, layout: Layout, opts, unit_ok) -> None:
    """Add the log-likelihoods, parameter counts, AIC, BIC, CV log-likelihood, convergence."""
    nll, code, cv = raw[1], raw[2], raw[6]
    dims = (MODEL, schema.UNIT)
    n_obs = seq.n_obs.astype(np.int64)
    k = layout.n_free.astype(np.int64)
    ds["loglik"] = (dims, -nll)
    ds["n_params"] = (dims, np.where(unit_ok[None, :], k, 0))
    ds["aic"] = (dims, 2 * k + 2 * nll)
    with np.errstate(divide="ignore"):
        ds["bic"] = (dims, k * np.log(np.maximum(n_obs, 1))[None, :] + 2 * nll)
    if opts.cv_blocks >= 2:
        ds["cv_loglik"] = (dims, cv[:, :, first_scored_block(opts.cv_blocks) :].sum(axis=2))
    else:
        ds["cv_loglik"] = (dims, np.full(nll.shape, np.nan))
    ds["converged"] = (dims, np.isin(code, (CODE_GRADIENT, CODE_DECREASE)))


def _add_latents(ds: xr.Dataset, seq: Sequences, theta, est: dict, opts, unit_ok) -> None:
    """Add the per-trial values, RPEs, predictions, utilities and contexts."""
    n_trial_ds = ds.sizes[schema.TRIAL]
    value, rpe, pred = latents(seq, theta, est, opts)
    trial_dims = (MODEL, schema.UNIT, schema.TRIAL)
    ds["value"] = (trial_dims, unpack(value, seq, n_trial_ds))
    ds["rpe"] = (trial_dims, unpack(rpe, seq, n_trial_ds))
    ds["predicted"] = (trial_dims, unpack(pred, seq, n_trial_ds))
    ds["utility"] = ((schema.UNIT, schema.TRIAL), unpack(seq.util, seq, n_trial_ds))
    ctx = unpack(seq.ctx.astype(np.float64), seq, n_trial_ds)
    ds["trial_context"] = ((schema.UNIT, schema.TRIAL), np.nan_to_num(ctx, nan=-1).astype(np.int8))
    for name in ("value", "rpe", "predicted"):
        ds[name] = ds[name].where(unit_ok[None, :, None])


def _describe(ds: xr.Dataset) -> None:
    for name, text in _DESCRIPTIONS.items():
        if name in ds:
            ds[name].attrs["description"] = text


def best_models(ds: xr.Dataset, select: str) -> np.ndarray:
    """Per unit the model with the best criterion (ties: the simpler model), "" if none."""
    if select == "cv":
        score = ds["cv_loglik"].values
    else:
        score = -ds[select].values
    score = np.where(np.isfinite(score), score, -np.inf)
    best = np.argmax(score, axis=0)
    names = np.asarray(ds[MODEL].values, dtype=object)[best]
    return np.where(np.isfinite(score.max(axis=0)), names, "").astype(object)


def _population(ds: xr.Dataset, models) -> None:
    from scipy import stats

    best = ds["best_model"].values
    ds["n_best"] = (MODEL, np.array([int(np.sum(best == m)) for m in models], dtype=np.int64))
    n = len(models)
    mean, median, p_w, p_t = (np.full((n, n), np.nan) for _ in range(4))
    cvl = ds["cv_loglik"].values
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            d = cvl[a] - cvl[b]
            d = d[np.isfinite(d)]
            if d.size < 3:
                continue
            mean[a, b] = d.mean()
            median[a, b] = np.median(d)
            if np.any(d != 0):
                p_w[a, b] = stats.wilcoxon(d).pvalue
                p_t[a, b] = stats.ttest_1samp(d, 0.0).pvalue
    ds["cv_diff_mean"] = ((MODEL, VS_MODEL), mean)
    ds["cv_diff_median"] = ((MODEL, VS_MODEL), median)
    ds["cv_diff_p_wilcoxon"] = ((MODEL, VS_MODEL), p_w)
    ds["cv_diff_p_t"] = ((MODEL, VS_MODEL), p_t)


def _attrs(responses, seq: Sequences, opts: LearningOptions) -> dict:
    from dopafit.kernels.learning import SOFTPLUS_SCALE

    attrs = {
        schema.RESULT_KIND: schema.LEARNING_FIT,
        "analysis": "learning",
        "models": list(opts.model),
        "options": opts.record(),
        **{k: v for k, v in opts.record().items() if k != "model"},
        "axis": seq.axis_name,
        "axis_values": seq.axis_values.tolist(),
        "magnitudes": seq.magnitudes.tolist(),
        "contexts": list(seq.contexts),
        "response_transform": "zscore per unit" if seq.axis_name == "zscore" else "none",
        "poisson_link": f"rate = softplus(baseline_rate + response mean), scale {SOFTPLUS_SCALE}",
        "window_seconds": float(seq.window) if opts.noise == "poisson" else float("nan"),
        "eta_bounds": list(ETA_BOUNDS),
        "identifiability_rule": IDENTIFIABILITY_RULE,
        "cv_rule": CV_RULE,
        "optimiser": OPTIMISER,
        "interval_method": (
            "eta_pos, eta_neg, tau_learning: "
            + (
                "profile likelihood (chi-square(1) quantile of the level)"
                if opts.intervals == "profile"
                else "Wald on the logit scale"
            )
            + "; other parameters: Wald on the transformed scale (log, identity), mapped back"
        ),
        "seed_derivation": "SeedSequence(seed).generate_state(1); splitmix64 stream per "
        "(unit, model, cv fold, start)",
        "dopafit_version": __version__,
    }
    attrs.update(schema.provenance_attrs(responses))
    return attrs


def learning_summary(fit: xr.Dataset):
    """One row per model: units fitted, converged, identifiable, best, and the asymmetries.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`fit_learning`.

    Returns
    -------
    pandas.DataFrame
        Printed whole (every column). Index ``model``; columns ``n_fitted``,
        ``n_converged``, ``n_identifiable``, ``n_best``, ``median_tau_learning`` (identifiable units), ``median_tau_scaling``,
        ``median_cv_loglik``, ``cv_vs_classical`` (median per-unit difference: one unit whose
        fitted model forecasts a held-out block badly cannot swamp it) and the Wilcoxon
        ``p_vs_classical`` of those differences.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_learning("flip", n_units=4, n_trials=600, learning_rate=0.2, seed=1)
    >>> fit = dopafit.fit_learning(ds, ("classical", "asymmetric_learning"), cv_blocks=0,
    ...                            n_starts=2)
    >>> print(dopafit.learning_summary(fit).iloc[:, :5].round(2).to_string())
                         n_fitted  n_converged  n_identifiable  n_best  median_tau_learning
    model
    classical                   4            4               4       2                 0.50
    asymmetric_learning         4            4               3       2                 0.56
    """
    import pandas as pd

    from dopafit._table import FullTable

    if "eta_pos" not in fit or MODEL not in fit.dims:
        raise FitError(
            "a learning fit Dataset (output of fit_learning)",
            found=f"variables {sorted(fit.data_vars)[:6]}",
        )
    rows = {}
    for m in fit[MODEL].values:
        sel = fit.sel({MODEL: m})
        fitted = np.isfinite(sel["loglik"].values)
        row = {
            "n_fitted": int(fitted.sum()),
            "n_converged": int(sel["converged"].values.sum()),
            "n_identifiable": int(sel["identifiable"].values.sum()),
            "n_best": int(fit["n_best"].sel({MODEL: m})),
            "median_tau_learning": float(np.nanmedian(sel["tau_learning"].values))
            if np.isfinite(sel["tau_learning"].values).any()
            else np.nan,
            "median_tau_scaling": float(np.nanmedian(sel["tau_scaling"].values))
            if fitted.any()
            else np.nan,
            "median_cv_loglik": float(np.nanmedian(sel["cv_loglik"].values))
            if np.isfinite(sel["cv_loglik"].values).any()
            else np.nan,
        }
        if "classical" in fit[MODEL].values and m != "classical":
            row["cv_vs_classical"] = float(
                fit["cv_diff_median"].sel({MODEL: m, VS_MODEL: "classical"})
            )
            row["p_vs_classical"] = float(
                fit["cv_diff_p_wilcoxon"].sel({MODEL: m, VS_MODEL: "classical"})
            )
        rows[str(m)] = row
    return FullTable(pd.DataFrame.from_dict(rows, orient="index").rename_axis(MODEL))


def concat_learning(parts) -> xr.Dataset:
    """Pool learning fits of several sessions (same options) along ``unit``.

    Trials are padded at the end, contexts are aligned by name (``trial_context`` is
    re-indexed), and the population statistics (``n_best`` and the paired tests of the CV
    differences) are recomputed over the pooled units. Each unit's fit is its session's:
    units are fitted independently (with ``axis="utility"`` each session used its own axis,
    recorded per session in ``session_axis_values``).

    Parameters
    ----------
    parts : sequence of xarray.Dataset
        Outputs of :func:`fit_learning` with the same models.

    Returns
    -------
    xarray.Dataset
    """
    parts = list(parts)
    if not parts:
        raise FitError("at least one learning fit to pool", found="none")
    models = [tuple(p[MODEL].values) for p in parts]
    if len(set(models)) != 1:
        raise FitError("learning fits with the same models", found=f"{sorted(set(models))}")
    labels = sorted({str(c) for p in parts for c in p[CONTEXT].values}, key=_context_order)
    n_trial = max(p.sizes[schema.TRIAL] for p in parts)
    population = [n for n, v in parts[0].data_vars.items() if VS_MODEL in v.dims or n == "n_best"]
    padded = []
    for p in parts:
        remap = np.array([labels.index(str(c)) for c in p[CONTEXT].values] + [-1], dtype=np.int8)
        q = p.drop_vars(population)
        q["trial_context"] = (q["trial_context"].dims, remap[q["trial_context"].values])
        q = q.reindex({schema.TRIAL: np.arange(n_trial), CONTEXT: labels})
        q["trial_context"] = q["trial_context"].fillna(-1).astype(np.int8)
        q = q.drop_vars(VS_MODEL)
        padded.append(q.drop_vars(schema.UNIT))
    out = xr.concat(padded, dim=schema.UNIT, combine_attrs="override", data_vars="all")
    out = out.assign_coords(
        {schema.UNIT: np.arange(out.sizes[schema.UNIT]), VS_MODEL: list(models[0])}
    )
    _population(out, models[0])
    out.attrs["session_axis_values"] = [list(p.attrs.get("axis_values", [])) for p in parts]
    _describe(out)
    return out


def _context_order(label: str):
    return (0, 0) if label == "uncued" else (1, int(label[3:]) if label[3:].isdigit() else 0)
