"""Trial responses with ground truth: the static model and the trial-by-trial learning model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError
from dopafit.simulate._population import (
    context_reversal_points,
    finalize_population,
    floats_of,
    jsonable,
    make_population,
    number,
    number_pair,
    reward_response,
)
from dopafit.simulate._task import Task, Utility, get_schedule, get_task, resolve_utility
from dopafit.simulate._trials import make_block_trials, make_trials

__all__ = ["simulate_responses", "simulate_learning"]

#: Default range of per-unit reward-trial counts (Dabney recordings: ~150-300 per neuron).
TRIAL_COUNT_RANGE = (200, 300)


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def setup_population(task, population, n_units, rng, utility, options):
    """Resolve task, utility and population (drawn, or a given table checked)."""
    task = get_task(task)
    util = resolve_utility(utility, task)
    if isinstance(population, pd.DataFrame):
        if options:
            raise ConfigError(
                "no population options with a population table", found=f"{sorted(options)}"
            )
        attrs = dict(population.attrs)
        pop = finalize_population(population.reset_index(drop=True), task, util)
        pop.attrs = attrs
        kind = "+".join(sorted(set(pop["kind"])))
    else:
        pop = make_population(str(population), n_units, task, seed=rng, utility=util, **options)
        kind = str(population)
    return task, util, pop, kind


def context_table(pop: pd.DataFrame, task: Task, util: Utility) -> np.ndarray:
    """Reversal point of each unit in each context, shape (n_unit, max cue id + 1); column 0
    is the uncued context, column ``c`` cue ``c`` (NaN for ids that are not cues)."""
    n_ctx = max(task.cue_ids) + 1
    out = np.full((len(pop), n_ctx), np.nan)
    for c in (0, *task.cue_ids):
        mags, probs = task.distribution(c)
        out[:, c] = context_reversal_points(pop, util(mags), probs)
    return out


def check_cue_ids(task: Task, cue_id: np.ndarray) -> None:
    """Every trial's cue id must be 0 (uncued) or a cue of the task."""
    bad = sorted(set(np.unique(cue_id).tolist()) - {0, *task.cue_ids})
    if bad:
        raise ConfigError(
            f"trials with cue_id 0 or a cue of task {task.name!r} {task.cue_ids}",
            found=f"cue ids {bad}",
            remedy="pass the task that the trials come from",
        )


def cue_truth(task: Task, z_ctx: np.ndarray) -> dict[str, np.ndarray]:
    """``true_reversal_point_cue<c>`` for each cue whose distribution differs from uncued."""
    v0, p0 = task.distribution(0)
    out = {}
    for c in task.cue_ids:
        vc, pc = task.distribution(c)
        if vc.shape != v0.shape or not (np.allclose(vc, v0) and np.allclose(pc, p0)):
            out[f"true_reversal_point_cue{c}"] = z_ctx[:, c]
    return out


def unit_trials(
    task, n_units, n_trials, trials, rng, cued_fraction, schedule=None, block_trials=100
) -> list[pd.DataFrame]:
    """One trials table per unit (drawn, or given); a schedule of several tasks draws blocks."""
    if trials is not None:
        tables = [trials] * n_units if isinstance(trials, pd.DataFrame) else list(trials)
        if len(tables) != n_units:
            raise ConfigError(
                f"one trials table per unit ({n_units})", found=f"{len(tables)} tables"
            )
        for t in tables:
            missing = {"reward", "cued", "cue_id", "reward_time"} - set(t.columns)
            if missing:
                raise ConfigError(
                    "trials tables with reward, cued, cue_id, reward_time",
                    found=f"missing {sorted(missing)}",
                    remedy="build them with dopafit.simulate.make_trials",
                )
        return [t.reset_index(drop=True) for t in tables]
    if n_trials is None:
        counts = rng.integers(TRIAL_COUNT_RANGE[0], TRIAL_COUNT_RANGE[1] + 1, n_units)
    elif np.ndim(n_trials) == 0:
        counts = np.full(n_units, int(number(n_trials, "n_trials")))
    else:
        counts = floats_of(n_trials, "n_trials").astype(np.int64).ravel()
        if counts.size != n_units:
            raise ConfigError(f"n_trials: one count per unit ({n_units})", found=f"{counts.size}")
    if np.any(counts < 1):
        raise ConfigError("n_trials >= 1 per unit", found=f"{counts.min()}")
    if schedule is not None and len(schedule) > 1:
        return [
            make_block_trials(
                schedule, int(c), block_trials=block_trials, cued_fraction=cued_fraction, seed=rng
            )
            for c in counts
        ]
    return [make_trials(task, int(c), cued_fraction=cued_fraction, seed=rng) for c in counts]


def padded(tables: Sequence[pd.DataFrame], column: str, fill, dtype) -> np.ndarray:
    """Stack one column of per-unit tables into a left-aligned (unit, trial) array."""
    width = max(len(t) for t in tables)
    out = np.full((len(tables), width), fill, dtype=dtype)
    for i, t in enumerate(tables):
        out[i, : len(t)] = t[column].to_numpy(dtype=dtype)
    return out


def truth_vars(pop: pd.DataFrame, noise=None) -> dict[str, np.ndarray]:
    """Per-unit ground-truth variables (schema.TRUTH_VARS and extras)."""
    out = {
        "true_reversal_point": pop["reversal_point"],
        "true_tau": pop["tau"],
        "true_alpha_pos": pop["alpha_pos"],
        "true_alpha_neg": pop["alpha_neg"],
        "true_baseline": pop["baseline_rate"],
        "true_gain": pop["gain"],
        "true_noise": pop["noise"] if noise is None else noise,
        "true_reversal_tau": pop["reversal_tau"],
    }
    for col in ("sigmoid_threshold", "sigmoid_slope", "sigmoid_amplitude"):
        if col in pop:
            out[f"true_{col}"] = pop[col]
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def base_attrs(task: Task, util: Utility, kind: str, seed, cued_fraction, pop) -> dict:
    """Settings recorded in the attrs of every simulated output."""
    return {
        "simulated": True,
        "task": task.name,
        "task_spec": task.to_dict(),
        "reward_units": task.reward_units,
        "population": kind,
        "population_options": jsonable(pop.attrs.get("options", {})),
        "seed": jsonable(seed) if not isinstance(seed, np.random.Generator) else "generator",
        "cued_fraction": float(cued_fraction),
        "utility": util.description,
        "utility_spec": util.to_dict(),
        "reversal_point_space": "reward" if util.is_identity else "utility",
    }


def _trial_grid(task, n, n_trials, trials, rng, cued_fraction, schedule=None, block_trials=100):
    """Each unit's trials as padded (unit, trial) arrays: reward, cued, cue id, reward time;
    and the per-unit trials tables."""
    tables = unit_trials(task, n, n_trials, trials, rng, cued_fraction, schedule, block_trials)
    reward = padded(tables, "reward", np.nan, np.float64)
    cued = padded(tables, "cued", False, bool)
    ctx = padded(tables, "cue_id", 0, np.int64)
    check_cue_ids(task, ctx)
    event = padded(tables, "reward_time", np.nan, np.float64)
    return reward, cued, ctx, event, tables


def _dataset(resp, reward, cued, event, pop, attrs, unit_vars, session, subject) -> xr.Dataset:
    """The simulated responses as a responses Dataset (Gaussian noise, rates aligned on reward)."""
    n = len(pop)
    attrs = {
        "window": list(schema.DEFAULT_ATTRS["window"]),  # the rates a window would measure
        "baseline": list(schema.DEFAULT_ATTRS["baseline"]),
        **attrs,
        "noise_model": "gaussian",
        "response_units": "spikes/s",
        "align": "reward",
    }
    return schema.make_responses(
        resp,
        reward,
        cued=cued,
        event_time=event,
        unit_id=pop["unit_id"].astype(str).tolist(),
        session=[session] * n,
        subject=[subject] * n,
        baseline_rate=pop["baseline_rate"].to_numpy(),
        attrs=attrs,
        unit_vars=unit_vars,
    )


def simulate_responses(
    task: str | Task = "dabney",
    population: str | pd.DataFrame = "distributional",
    n_units: int = 40,
    n_trials=None,
    *,
    seed=0,
    cued_fraction: float = 0.5,
    utility=None,
    uncued_offset: float = 0.0,
    trials=None,
    session: str = "sim",
    subject: str = "sim",
    **population_options,
) -> xr.Dataset:
    """Simulate single-trial reward responses of a population, with ground truth.

    Each unit ``i`` answers a reward of utility ``u`` in context ``c`` (uncued or cue
    ``c``) with :math:`f_i(u; z_{i,c}) + \\epsilon`, :math:`\\epsilon \\sim N(0,
    \\sigma_i^2)` (see :func:`make_population` for :math:`f_i`). ``z_{i,c}`` is the unit's
    reversal point for that context (for the Dabney task every context has the same
    distribution, so one reversal point). Uncued responses get ``uncued_offset`` Hz added
    (the real data show larger uncued responses; default 0).

    Parameters
    ----------
    task : str or Task, default "dabney"
    population : str or DataFrame, default "distributional"
        A kind (see :func:`make_population`) or a population table to reuse.
    n_units : int, default 40
        Ignored when ``population`` is a table.
    n_trials : None, int or sequence of int
        Reward trials per unit. None: drawn uniformly in 200-300 per unit (ragged, as in the
        Dabney recordings); an int for every unit; or one count per unit.
    seed : int, numpy.random.Generator or None, default 0
        Source of all randomness; the same seed gives identical data.
    cued_fraction : float, default 0.5
    utility : None, callable or array_like
        Monotone utility (default identity); reversal points are in utility space.
    uncued_offset : float, default 0.0
        Hz added to every uncued response.
    trials : DataFrame or list of DataFrame, optional
        Trials to use instead of drawing them (one table shared by all units, or one per
        unit), e.g. from :func:`make_trials` or a real session.
    session, subject : str
        Identifiers written to every unit.
    **population_options
        Passed to :func:`make_population` (e.g. ``noise=0.0`` for noise-free responses,
        ``taus=[...]``, ``baseline=5.0``).

    Returns
    -------
    xarray.Dataset
        A responses Dataset (:mod:`dopafit.schema`), trials in chronological order per unit,
        ``reward`` in reward units, ``event_time`` = reward time. Ground truth per unit:
        ``true_reversal_point``, ``true_tau``, ``true_alpha_pos``, ``true_alpha_neg``,
        ``true_baseline``, ``true_gain``, ``true_noise``, ``true_reversal_tau`` (+
        ``true_sigmoid_*``), and ``true_reversal_point_cue<c>`` for each cue ``c`` whose
        reward distribution differs from the uncued one. attrs record every setting.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_responses(n_units=3, n_trials=50, seed=1)
    >>> dict(ds.sizes)
    {'unit': 3, 'trial': 50}
    >>> ds["true_tau"].values.round(2).tolist()  # the ground truth travels with the data
    [0.09, 0.63, 0.74]
    """
    rng = _rng(seed)
    task, util, pop, kind = setup_population(
        task, population, n_units, rng, utility, population_options
    )
    n = len(pop)
    reward, cued, ctx, event, _ = _trial_grid(task, n, n_trials, trials, rng, cued_fraction)
    z_ctx = context_table(pop, task, util)
    z = np.take_along_axis(z_ctx, ctx, axis=1)
    eps = rng.standard_normal(reward.shape)
    valid = np.isfinite(reward)
    u = util(reward)
    resp = reward_response(pop, np.where(valid, u, 0.0), np.where(valid, z, 0.0))
    resp = resp + float(uncued_offset) * (~cued) + pop["noise"].to_numpy()[:, None] * eps
    resp[~valid] = np.nan
    attrs = base_attrs(task, util, kind, seed, cued_fraction, pop)
    attrs.update(
        {
            "source": "dopafit.simulate.simulate_responses",
            "mode": "static",
            "uncued_offset": float(uncued_offset),
        }
    )
    unit_vars = {**truth_vars(pop), **cue_truth(task, z_ctx)}
    return _dataset(resp, reward, cued, event, pop, attrs, unit_vars, session, subject)


def simulate_learning(
    task="dabney",
    population: str | pd.DataFrame = "distributional",
    n_units: int = 40,
    n_trials=None,
    *,
    seed=0,
    cued_fraction: float = 0.5,
    utility=None,
    learning_rate=(0.02, 0.1),
    lr_pos=None,
    lr_neg=None,
    scaling: str | None = None,
    v0="zero",
    block_trials: int = 100,
    trials=None,
    session: str = "sim",
    subject: str = "sim",
    **population_options,
) -> xr.Dataset:
    """Simulate responses of units that learn values trial by trial (asymmetric TD learning).

    Each unit ``i`` keeps a value per context (uncued, each cue); on each trial, in
    chronological order,

    .. math::

        \\delta_{i,t} = u(r_t) - V_{i,c_t},\\qquad
        V_{i,c_t} \\leftarrow V_{i,c_t} + \\eta^{\\pm}_i \\delta_{i,t}

    with :math:`\\eta^+_i` when :math:`\\delta > 0` and :math:`\\eta^-_i` otherwise; the
    response is the scaled prediction error plus noise,
    :math:`\\alpha^{\\pm}_i \\delta_{i,t} + \\epsilon`. Learning rates are
    :math:`\\eta^+ = 2\\eta\\tau`, :math:`\\eta^- = 2\\eta(1-\\tau)` with an overall rate
    :math:`\\eta` and the unit's τ; the value converges (in mean) to the τ-expectile of the
    reward distribution, :math:`\\tau = \\eta^+/(\\eta^+ + \\eta^-)`.

    Parameters
    ----------
    task : str, Task or sequence of them, default "dabney"
        A task (stationary reward distribution) or a schedule of tasks alternating every
        ``block_trials`` trials (see :func:`get_schedule`): ``"flip"`` alternates a rich and
        a lean distribution, so that values move and learning rates can be estimated.
    population, n_units, n_trials, seed, cued_fraction, utility, trials, session, subject
        As :func:`simulate_responses`; kinds ``classical`` (τ = 0.5 and one learning rate
        shared by all units), ``distributional`` (the unit's τ) or ``bias`` (τ = the
        expectile level of the unit's reversal point, symmetric response scaling).
        Populations are drawn on the schedule's first task.
    learning_rate : float, (low, high) or per-unit array, default (0.02, 0.1)
        Overall rate η (drawn per unit; once for the whole classical population).
    lr_pos, lr_neg : array_like, optional
        Per-unit learning rates given directly (both; then τ = lr_pos / (lr_pos + lr_neg)).
    scaling : {"asymmetric", "symmetric"}, optional
        Response slopes: asymmetric ``α+ = 2 g τ``, ``α- = 2 g (1 - τ)`` (default for
        distributional), symmetric ``α± = g`` (default for classical and bias), with ``g``
        the unit's gain.
    v0 : "zero", "expectile" or float, default "zero"
        Initial values: the utility of no reward, the converged values (first task), or a
        number.
    block_trials : int, default 100
        Trials per block of a schedule of several tasks.
    **population_options
        Passed to :func:`make_population`.

    Returns
    -------
    xarray.Dataset
        A responses Dataset as :func:`simulate_responses`, plus the coordinate
        ``cue_id(unit, trial)`` (0 uncued), ``true_value(unit, trial)`` (the value before
        each trial's update), ``block(unit, trial)`` for a schedule, and per unit
        ``true_eta_pos``, ``true_eta_neg``, ``true_tau_learning`` (= ``true_tau``, the
        learning-rate asymmetry), ``true_tau_scaling``, ``true_alpha_pos``/``true_alpha_neg``
        (the response slopes) and ``true_reversal_point`` (the asymptotic value under the
        first task, uncued context). The response is ``alpha * delta`` plus noise (no
        offset: a fitted ``baseline`` should be 0).

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_learning("flip", n_units=2, n_trials=300, seed=0)
    >>> ds["block"].values[0, [0, 100, 200]].tolist()  # rich, lean, rich blocks of 100 trials
    [0, 1, 2]
    """
    rng = _rng(seed)
    schedule = get_schedule(task)
    task, util, pop, kind = setup_population(
        schedule[0], population, n_units, rng, utility, population_options
    )
    _check_learning_kinds(pop)
    lp, ln, tau = _learning_rates(pop, rng.random(len(pop)), learning_rate, lr_pos, lr_neg)
    scaling, a_pos, a_neg = _response_slopes(pop, tau, scaling)
    learn = _learning_truth(pop, tau, a_pos, a_neg, task, util)
    z_ctx = context_table(learn, task, util)
    reward, cued, ctx, event, tables = _trial_grid(
        task, len(pop), n_trials, trials, rng, cued_fraction, schedule, block_trials
    )
    eps = rng.standard_normal(reward.shape)
    init = _initial_values(v0, z_ctx, util)
    values, resp = _learned_responses(util(reward), ctx, lp, ln, init, a_pos, a_neg)
    resp = resp + pop["noise"].to_numpy()[:, None] * eps
    attrs = base_attrs(task, util, kind, seed, cued_fraction, pop)
    attrs.update(
        {
            "source": "dopafit.simulate.simulate_learning",
            "mode": "learning",
            "scaling": scaling,
            "learning_rate": jsonable(learning_rate),
            "v0": jsonable(v0),
            "schedule": [t.name for t in schedule],
            "block_trials": int(block_trials) if len(schedule) > 1 else None,
        }
    )
    unit_vars = _learning_unit_vars(learn, (lp, ln, tau), a_pos, a_neg, task, z_ctx)
    ds = _dataset(resp, reward, cued, event, pop, attrs, unit_vars, session, subject)
    dims = (schema.UNIT, schema.TRIAL)
    ds = ds.assign_coords(cue_id=(dims, np.where(np.isfinite(reward), ctx, 0)))
    if len(schedule) > 1:
        ds = ds.assign_coords(block=(dims, padded(tables, "block", -1, np.int64)))
    ds["true_value"] = (dims, values)
    return ds


def _check_learning_kinds(pop: pd.DataFrame) -> None:
    """Learning needs units with a reversal point and slopes: no sigmoid units."""
    if (pop["kind"] == "sigmoid").any():
        raise ConfigError(
            "a classical, distributional or bias population for learning",
            found="sigmoid units",
            remedy="simulate sigmoid populations with simulate_responses",
        )


def _per_unit(value, n: int, name: str) -> np.ndarray:
    """A number or one number per unit, as a float64 array of shape (n,)."""
    arr = floats_of(value, name)
    if arr.ndim > 1 or arr.size not in (1, n):
        raise ConfigError(f"{name}: a number or one value per unit ({n})", found=f"{value!r}")
    return np.broadcast_to(arr, (n,)).copy()


def _learning_rates(pop, eta_draw, learning_rate, lr_pos, lr_neg):
    """Per-unit learning rates ``(eta_pos, eta_neg, tau)`` (given, or from η and the unit's τ)."""
    n = len(pop)
    classical = (pop["kind"] == "classical").to_numpy()
    if classical.all():
        eta_draw[:] = eta_draw[0]
    if (lr_pos is None) != (lr_neg is None):
        raise ConfigError("lr_pos and lr_neg together", found="only one of them")
    if lr_pos is not None:
        lp = _per_unit(lr_pos, n, "lr_pos")
        ln = _per_unit(lr_neg, n, "lr_neg")
        tau = lp / (lp + ln)
    else:
        if isinstance(learning_rate, tuple):
            lo, hi = number_pair(learning_rate, "learning_rate")
            eta = lo + (hi - lo) * eta_draw
        else:
            eta = _per_unit(learning_rate, n, "learning_rate")
        tau = np.where(pop["kind"] == "distributional", pop["tau"], pop["reversal_tau"])
        tau = np.where(classical, 0.5, tau)
        lp, ln = 2 * eta * tau, 2 * eta * (1 - tau)
    if np.any(~np.isfinite(lp) | ~np.isfinite(ln) | (lp <= 0) | (ln <= 0) | (lp > 1) | (ln > 1)):
        raise ConfigError(
            "learning rates in (0, 1]",
            found=f"lr_pos {np.round(lp[:4], 4).tolist()}, lr_neg {np.round(ln[:4], 4).tolist()}",
            remedy="lower learning_rate or use taus away from 0 and 1",
        )
    return lp, ln, tau


def _response_slopes(pop, tau, scaling):
    """The scaling rule and the response slopes ``alpha_pos``, ``alpha_neg`` it gives."""
    if scaling is None:
        scaling = "asymmetric" if (pop["kind"] == "distributional").all() else "symmetric"
    if scaling not in ("asymmetric", "symmetric"):
        raise ConfigError('scaling "asymmetric" or "symmetric"', found=f"{scaling!r}")
    gain = pop["gain"].to_numpy(np.float64)
    if scaling == "asymmetric":
        return scaling, 2 * gain * tau, 2 * gain * (1 - tau)
    return scaling, gain, gain


def _learning_truth(pop, tau, a_pos, a_neg, task, util) -> pd.DataFrame:
    """The population as learners: reversal points at the learning-rate expectiles."""
    learn = pop.copy()
    learn["kind"] = "distributional"
    learn["reversal_point"] = np.nan
    learn["reversal_tau"] = tau
    learn["alpha_pos"], learn["alpha_neg"] = a_pos, a_neg
    learn = finalize_population(learn, task, util)
    learn["tau"] = tau  # the learning-rate asymmetry (slopes may be symmetric)
    return learn


def _initial_values(v0, z_ctx: np.ndarray, util: Utility) -> np.ndarray:
    """Initial value of each unit in each context, shape of ``z_ctx``."""
    if isinstance(v0, str) and v0 == "zero":
        return np.full(z_ctx.shape, util.zero)
    if isinstance(v0, str) and v0 == "expectile":
        return np.nan_to_num(z_ctx, nan=util.zero)
    if np.ndim(v0) == 0 and not isinstance(v0, str):
        return np.full(z_ctx.shape, number(v0, "v0"))
    raise ConfigError('v0 "zero", "expectile" or a number', found=f"{v0!r}")


def _learning_unit_vars(learn, rates, a_pos, a_neg, task, z_ctx) -> dict[str, np.ndarray]:
    """Per-unit ground truth of a learning population: slopes, learning rates, asymmetries."""
    lp, ln, tau = rates
    unit_vars = truth_vars(learn)
    unit_vars["true_eta_pos"] = lp
    unit_vars["true_eta_neg"] = ln
    unit_vars["true_tau_learning"] = tau
    unit_vars["true_tau_scaling"] = a_pos / (a_pos + a_neg)
    unit_vars.update(cue_truth(task, z_ctx))
    return unit_vars


def _learned_responses(u, ctx, lp, ln, init, a_pos, a_neg):
    """Values before each trial and the noise-free responses ``alpha * delta``, (unit, trial)."""
    from dopafit.kernels.learning import value_trace

    n_trial = np.full(u.shape[0], u.shape[1], dtype=np.int64)
    learn_all = np.ones(init.shape[1], dtype=np.int64)
    values, deltas = value_trace(u, ctx, n_trial, lp, ln, np.ascontiguousarray(init), learn_all)
    resp = np.where(deltas > 0, a_pos[:, None] * deltas, a_neg[:, None] * deltas)
    return values, resp
