"""Delay tasks and cue responses that discount reward delay, with ground truth.

A cue predicts reward after a delay ``d`` (seconds). Unit ``i`` answers the cue with

.. math::

    R_i(c) = b_i + A_i \\, E_c[D_i(d)] + \\epsilon, \\qquad
    D_i(d) = \\gamma_i^{d} \\ \\text{(exponential)} \\quad\\text{or}\\quad
    \\frac{1}{1 + k_i d} \\ \\text{(hyperbolic)},

where the expectation is over the delays cue ``c`` predicts (one delay for a plain cue, a
distribution for a mixture cue) and :math:`\\epsilon \\sim N(0, \\sigma_i^2)`. ``b_i`` is the
delay-independent asymptote (the response to a cue whose reward never comes), ``A_i`` the
amplitude. Populations:

- ``single``: one discount factor γ shared by every unit (classical single-timescale TD);
  units differ only in amplitude, asymptote and noise;
- ``multi``: a discount factor γ_i per unit (multi-timescale TD);
- ``hyperbolic``: a hyperbolic rate k_i per unit.

With several magnitudes the task also gives reward responses (``align="reward"``): the
piecewise-linear distributional units of :func:`dopafit.make_population`, whose asymmetry
τ_i is drawn independently of γ_i (``axes="independent"``) or in the same rank order
(``axes="aligned"``), and whose reversal point is the τ_i-expectile ``e_i(M)`` of the
magnitudes. Each unit then values a cue at the τ_i-expectile of its discounted reward
``D_i(T) M`` over the cue's delays and the magnitudes (Sousa et al. 2025), relative to an
immediate reward:

.. math::

    R_i(c) = b_i + A_i \\, \\frac{e_i(D_i(T) M)}{e_i(M)},

which for a plain cue (one delay ``d``) is again ``b_i + A_i D_i(d)``; only mixture cues
differ from the one-magnitude case, where the expectation over delays is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError
from dopafit.simulate._population import (
    _param,
    _stratified,
    context_reversal_points,
    jsonable,
    make_population,
    number,
    reward_response,
)
from dopafit.simulate._task import Task, _distribution, cue_frequencies, expectile

__all__ = ["DelayTask", "get_delay_task", "DISCOUNT_KINDS", "simulate_discounting"]

#: Population kinds of :func:`simulate_discounting`.
DISCOUNT_KINDS = ("single", "multi", "hyperbolic")
#: Delays (s) of the default delay task: a choice of this package, four delays spanning
#: a decade, as in the delay tasks of the literature (0.5 to 10 s).
DEFAULT_DELAYS = (0.5, 1.5, 3.0, 6.0)
#: Named delay tasks.
DELAY_TASKS = ("delay", "delay-bimodal")
#: Mixture cue of the "delay-bimodal" task: reward after 1 s or 6 s, equally often.
BIMODAL_CUE = (5, (1.0, 6.0), (0.5, 0.5))


def _delays(values, what: str) -> tuple[float, ...]:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64)) if _numeric(values) else None
    if arr is None or arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{what}: a 1-D sequence of finite delays (s)", found=f"{values!r}")
    if np.any(arr < 0):
        raise ConfigError(
            f"{what}: delays >= 0 (s)",
            found=f"{arr.tolist()}",
            remedy="give the time from cue onset to reward, which cannot be negative",
        )
    return tuple(arr.tolist())


def _numeric(values) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class DelayTask:
    """A Pavlovian delay task: each cue predicts reward after a delay.

    Parameters
    ----------
    delays : sequence of float, default (0.5, 1.5, 3.0, 6.0)
        Distinct delays (``delay_units``) from cue onset to reward; cue ``c`` (1, 2, ...)
        predicts ``delays[c - 1]``. Stored sorted.
    magnitudes : sequence of float, default (1.0,)
        Reward magnitudes (``reward_units``), drawn independently of the cue on each trial.
    probabilities : sequence of float, optional
        One probability (or count) per magnitude; default equal.
    mixtures : mapping of int to (delays, probabilities), optional
        Extra cues that predict a *distribution* of delays (ids must differ from the plain
        cues' ``1..len(delays)``), e.g. ``{5: ((1.0, 6.0), (0.5, 0.5))}``. Their trials carry
        the realised delay; they are for decoding reward timing, not for fitting γ.
    cue_probabilities : mapping of int to float, optional
        How often each cue is presented. Default: equally often.
    name : str, default "delay"
    reward_units : str, default "ul"
    delay_units : str, default "s"

    Attributes
    ----------
    cues : tuple of (int, tuple, tuple)
        ``(cue_id, delays, probabilities)`` of every cue, plain then mixture.
    cue_ids : tuple of int
    delay_grid : ndarray
        Sorted union of every delay of the task.

    Examples
    --------
    >>> from dopafit.simulate import DelayTask
    >>> task = DelayTask(mixtures={5: ((1.0, 6.0), (1, 1))})
    >>> task.cue_ids
    (1, 2, 3, 4, 5)
    >>> task.cues[-1]
    (5, (1.0, 6.0), (0.5, 0.5))
    >>> task.delay_grid.tolist()
    [0.5, 1.0, 1.5, 3.0, 6.0]
    """

    delays: tuple[float, ...] = DEFAULT_DELAYS
    magnitudes: tuple[float, ...] = (1.0,)
    probabilities: tuple[float, ...] | None = None
    mixtures: tuple | None = field(default=None)
    cue_probabilities: tuple | None = field(default=None)
    name: str = "delay"
    reward_units: str = "ul"
    delay_units: str = "s"

    def __post_init__(self):
        delays = _delays(self.delays, "DelayTask delays")
        if len(set(delays)) != len(delays):
            raise ConfigError("DelayTask: distinct delays", found=f"{list(delays)}")
        object.__setattr__(self, "delays", tuple(sorted(delays)))
        probs = self.probabilities
        if probs is None:
            probs = [1.0] * len(np.atleast_1d(self.magnitudes))
        mags, probs = _distribution(self.magnitudes, probs, "DelayTask")
        if len(mags) > 1 and mags[0] <= 0:
            raise ConfigError(
                "DelayTask: magnitudes > 0 when there are several",
                found=f"{list(mags)}",
                remedy="give the reward sizes the cues predict (a cue's value is relative to "
                "the value of an immediate reward)",
            )
        object.__setattr__(self, "magnitudes", mags)
        object.__setattr__(self, "probabilities", probs)
        cues = [(c + 1, (d,), (1.0,)) for c, d in enumerate(self.delays)]
        mixtures = self.mixtures or {}
        items = (
            mixtures.items() if isinstance(mixtures, Mapping) else [(m[0], m[1:]) for m in mixtures]
        )
        for cue_id, dist in items:
            if isinstance(cue_id, bool) or not isinstance(cue_id, (int, np.integer)) or cue_id < 1:
                raise ConfigError("DelayTask: mixture cue ids as integers >= 1", found=repr(cue_id))
            if int(cue_id) <= len(self.delays) or int(cue_id) in [c[0] for c in cues]:
                raise ConfigError(
                    f"DelayTask: mixture cue ids other than the plain cues 1..{len(self.delays)}",
                    found=f"cue id {cue_id}",
                    remedy=f"number mixture cues from {len(self.delays) + 1}",
                )
            if len(dist) != 2:
                raise ConfigError(
                    f"DelayTask: mixture {cue_id} as (delays, probabilities)", found=repr(dist)
                )
            d = _delays(dist[0], f"DelayTask mixture {cue_id}")
            d, p = _distribution(d, dist[1], f"DelayTask mixture {cue_id}")
            cues.append((int(cue_id), d, p))
        cues.sort()
        object.__setattr__(self, "mixtures", tuple(c for c in cues if c[0] > len(self.delays)))
        object.__setattr__(self, "cues", tuple(cues))
        freq = cue_frequencies(self.cue_probabilities, [c[0] for c in cues], "DelayTask")
        object.__setattr__(self, "cue_probabilities", freq)
        for name in ("name", "reward_units", "delay_units"):
            object.__setattr__(self, name, str(getattr(self, name)))

    cues: tuple = field(init=False, repr=False, compare=False, default=())

    @property
    def cue_ids(self) -> tuple[int, ...]:
        """Cue ids, plain cues first."""
        return tuple(c[0] for c in self.cues)

    @property
    def delay_grid(self) -> np.ndarray:
        """Sorted union of every delay of the task."""
        return np.unique(np.concatenate([np.asarray(c[1]) for c in self.cues]))

    def cue_delays(self, cue_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The delays a cue predicts and their probabilities."""
        for c, d, p in self.cues:
            if c == cue_id:
                return np.asarray(d), np.asarray(p)
        raise ConfigError(f"a cue id of task {self.name!r}: {self.cue_ids}", found=f"{cue_id!r}")

    def magnitude_task(self) -> Task:
        """The magnitude distribution as a :class:`Task` (for the reward responses)."""
        return Task(
            self.magnitudes, self.probabilities, name=self.name, reward_units=self.reward_units
        )

    def to_dict(self) -> dict:
        """JSON-friendly description (recorded in the attrs of simulated data)."""
        return {
            "name": self.name,
            "delays": list(self.delays),
            "magnitudes": list(self.magnitudes),
            "probabilities": list(self.probabilities),
            "reward_units": self.reward_units,
            "delay_units": self.delay_units,
            "cues": {str(c): [list(d), list(p)] for c, d, p in self.cues},
            "cue_probabilities": {str(c): p for c, p in self.cue_probabilities},
        }


def get_delay_task(task: str | DelayTask = "delay") -> DelayTask:
    """A delay task by name, or ``task`` itself.

    Parameters
    ----------
    task : {"delay", "delay-bimodal"} or DelayTask
        ``delay``: four cues with delays 0.5, 1.5, 3 and 6 s, reward 1 ul.
        ``delay-bimodal``: the same plus cue 5, which predicts reward after 1 s or 6 s
        equally often (a bimodal timing distribution to decode).

    Returns
    -------
    DelayTask

    Examples
    --------
    >>> from dopafit.simulate import get_delay_task
    >>> get_delay_task("delay-bimodal").cue_delays(5)
    (array([1., 6.]), array([0.5, 0.5]))
    """
    if isinstance(task, DelayTask):
        return task
    if task == "delay":
        return DelayTask()
    if task == "delay-bimodal":
        return DelayTask(mixtures={BIMODAL_CUE[0]: BIMODAL_CUE[1:]})
    raise ConfigError(
        f"a delay task: one of {DELAY_TASKS} or a dopafit.simulate.DelayTask",
        found=repr(task),
    )


def discount(kind: np.ndarray, gamma: np.ndarray, k: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """Discount of each unit at ``delay``: ``gamma ** d`` or ``1 / (1 + k d)`` by kind.

    ``kind`` is a bool array per unit (True = hyperbolic); ``gamma``, ``k`` per unit;
    ``delay`` broadcasts against ``(n_unit, 1)``.
    """
    g = np.asarray(gamma, dtype=np.float64)[:, None]
    kk = np.asarray(k, dtype=np.float64)[:, None]
    hyp = np.asarray(kind, dtype=bool)[:, None]
    with np.errstate(invalid="ignore"):
        exp_part = np.power(np.where(hyp, 1.0, g), delay)
        hyp_part = 1.0 / (1.0 + np.where(hyp, kk, 0.0) * delay)
    return np.where(hyp, hyp_part, exp_part)


def _population(kind, n, rng, gamma, gammas, amplitude, asymptote, noise, hyperbolic_k):
    if kind not in DISCOUNT_KINDS:
        raise ConfigError(f"a population kind among {DISCOUNT_KINDS}", found=repr(kind))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError("n_units as an integer >= 1", found=repr(n))
    u = rng.random((5, n))
    perm = rng.permutation(n).astype(np.float64)
    out = pd.DataFrame({"unit_id": [f"u{i:02d}" for i in range(n)], "kind": kind})
    g = np.full(n, np.nan)
    k = np.full(n, np.nan)
    if kind == "single":
        g[:] = number(gamma, "gamma")
    elif kind == "multi":
        g = (
            _stratified(perm, u[0], gammas, "gammas")
            if isinstance(gammas, tuple)
            else _param(list(np.ravel(gammas)), n, u[0], "gammas")
        )
    else:
        k = _param(hyperbolic_k, n, u[0], "hyperbolic_k")
    if kind != "hyperbolic" and np.any((g <= 0) | (g > 1)):
        raise ConfigError("discount factors in (0, 1]", found=f"{np.round(g[:5], 4).tolist()}")
    out["gamma"] = g
    out["hyperbolic_k"] = k
    out["amplitude"] = _param(amplitude, n, u[1], "amplitude")
    out["asymptote"] = _param(asymptote, n, u[2], "asymptote", positive=False)
    out["noise"] = _param(noise, n, u[3], "noise")
    return out


def _trials(task: DelayTask, n_unit: int, n_trials, rng) -> dict[str, np.ndarray]:
    """Each unit's trials as padded (unit, trial) arrays: cue id, delay, reward, cue time."""
    if n_trials is None or np.ndim(n_trials) == 0:
        count = np.full(n_unit, 200 if n_trials is None else n_trials)
    else:
        count = np.asarray(n_trials).ravel()
    if count.size != n_unit or not np.all(count == np.round(count)) or np.any(count < 1):
        raise ConfigError("n_trials as an integer >= 1 or one per unit", found=repr(n_trials))
    count = count.astype(np.int64)
    width = int(count.max())
    ids = np.asarray(task.cue_ids)
    cue_p = np.asarray([p for _, p in task.cue_probabilities])
    cue = ids[rng.choice(ids.size, size=(n_unit, width), p=cue_p)]
    delay = np.empty((n_unit, width))
    for c, d, p in task.cues:
        mask = cue == c
        delay[mask] = np.asarray(d)[rng.choice(len(d), size=int(mask.sum()), p=np.asarray(p))]
    mags = np.asarray(task.magnitudes)
    reward = mags[rng.choice(mags.size, size=(n_unit, width), p=np.asarray(task.probabilities))]
    # cue onsets: reward after the delay, then an inter-trial interval of 2 s + Exp(3 s)
    gaps = delay + 2.0 + rng.exponential(3.0, size=(n_unit, width))
    cue_time = 5.0 + np.cumsum(gaps, axis=1) - gaps
    absent = np.arange(width)[None, :] >= count[:, None]
    out = {"cue_id": cue.astype(np.float64), "delay": delay, "reward": reward, "time": cue_time}
    for value in out.values():
        value[absent] = np.nan
    return out


def _mean_discount(
    task: DelayTask, pop: pd.DataFrame, cue: np.ndarray, levels: np.ndarray | None = None
) -> np.ndarray:
    """Each unit's value of the cue of each trial relative to an immediate reward, shape of
    ``cue``: ``E_c[D_i(d)]``, or with several magnitudes (``levels`` = each unit's expectile
    level) ``e_i(D_i(T) M) / e_i(M)`` (see :func:`simulate_discounting`)."""
    hyp = (pop["kind"] == "hyperbolic").to_numpy()
    gamma, k = pop["gamma"].to_numpy(), pop["hyperbolic_k"].to_numpy()
    out = np.full(cue.shape, np.nan)
    for c, d, p in task.cues:
        disc = discount(hyp, gamma, k, np.asarray(d)[None, :])
        if levels is None or len(d) == 1:
            expected = disc @ np.asarray(p)
        else:
            expected = _expectile_ratio(task, disc, np.asarray(p), levels)
        mask = cue == c
        out[mask] = np.broadcast_to(expected[:, None], cue.shape)[mask]
    return out


def _expectile_ratio(task: DelayTask, disc: np.ndarray, p: np.ndarray, levels) -> np.ndarray:
    """Per unit ``e_tau(D(T) M) / e_tau(M)``: the tau-expectile of the discounted reward of a
    cue over its delays and the task's magnitudes, relative to that of an immediate reward."""
    mags, probs = np.asarray(task.magnitudes), np.asarray(task.probabilities)
    weights = np.outer(p, probs).ravel()
    out = np.empty(disc.shape[0])
    for i, level in enumerate(levels):
        now = expectile(mags, probs, level)
        out[i] = expectile(np.outer(disc[i], mags).ravel(), weights, level) / now
    return out


def simulate_discounting(
    task: str | DelayTask = "delay",
    population: str = "multi",
    n_units: int = 40,
    n_trials=200,
    *,
    seed=0,
    gamma: float = 0.8,
    gammas=(0.4, 0.95),
    amplitude=(2.0, 6.0),
    asymptote=(-0.5, 0.5),
    noise=(1.5, 3.0),
    hyperbolic_k=(0.2, 2.0),
    align: str = "cue",
    axes: str = "independent",
    session: str = "sim",
    subject: str = "sim",
    **magnitude_options,
) -> xr.Dataset:
    """Simulate single-trial responses of a population in a delay task, with ground truth.

    Unit ``i`` answers cue ``c`` with :math:`b_i + A_i E_c[D_i(d)] + \\epsilon`, where
    :math:`D_i(d) = \\gamma_i^d` (or :math:`1/(1 + k_i d)` for hyperbolic units), the
    expectation runs over the delays the cue predicts and :math:`\\epsilon \\sim N(0,
    \\sigma_i^2)`. With several magnitudes a mixture cue's value is the unit's
    τ_i-expectile of the discounted reward relative to an immediate reward's (see
    :mod:`dopafit.simulate._delay`); plain cues are unchanged.

    Parameters
    ----------
    task : str or DelayTask, default "delay"
        A :class:`DelayTask` or a name of :func:`get_delay_task`.
    population : {"single", "multi", "hyperbolic"}, default "multi"
        One shared discount factor (``gamma``), one per unit (drawn in ``gammas``), or
        hyperbolic units (rates drawn in ``hyperbolic_k``).
    n_units : int, default 40
    n_trials : int or sequence of int, default 200
        Trials per unit (all cues together), or one count per unit.
    seed : int, numpy.random.Generator or None, default 0
        Source of all randomness; the same seed gives identical data. For a given seed the
        trials, amplitudes, asymptotes, noise levels and noise draws are the same whatever
        the population kind (paired designs).
    gamma : float, default 0.8
        The shared discount factor (per ``delay_units``) of ``single``.
    gammas : (low, high) or sequence, default (0.4, 0.95)
        ``multi``: a range (one γ in each of ``n_units`` equal strata, shuffled) or one γ
        per unit.
    amplitude, asymptote, noise, hyperbolic_k
        Per-unit parameters (Hz, Hz, Hz SD, 1 / delay unit): a number, a ``(low, high)``
        range drawn uniformly, or one value per unit.
    align : {"cue", "reward"}, default "cue"
        ``cue``: the cue responses (the discounting signal). ``reward``: the reward
        responses of the same units and trials (same seed), from distributional units
        (:func:`dopafit.make_population`) over the task's magnitudes; needs at least two
        magnitudes.
    axes : {"independent", "aligned"}, default "independent"
        With several magnitudes: τ_i drawn independently of γ_i, or given the same rank
        order as γ_i (the more patient units are the more optimistic).
    session, subject : str
        Identifiers written to every unit.
    **magnitude_options
        Passed to :func:`dopafit.make_population` for the reward responses (e.g.
        ``tau_range``).

    Returns
    -------
    xarray.Dataset
        A responses Dataset (:mod:`dopafit.schema`) with coordinates ``delay`` (unit, trial;
        ``attrs['delay_units']``), ``cue_id`` and ``reward`` (the trial's magnitude);
        ``cued`` is True and ``event_time`` is the cue time (``align='cue'``) or the reward
        time. Ground truth per unit: ``true_gamma`` (NaN for hyperbolic units),
        ``true_hyperbolic_k`` (NaN otherwise), ``true_amplitude``, ``true_asymptote``,
        ``true_noise``, ``true_discount``; with several magnitudes also ``true_tau``,
        ``true_reversal_point``, ``true_alpha_pos``, ``true_alpha_neg``. attrs record every
        setting, the task (``task_spec``) included.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="multi", n_units=3, n_trials=100, seed=1)
    >>> dict(ds.sizes), ds.attrs["align"], ds.attrs["delay_units"]
    ({'unit': 3, 'trial': 100}, 'cue_time', 's')
    >>> sorted(set(ds["delay"].values.ravel().tolist()))
    [0.5, 1.5, 3.0, 6.0]
    >>> ds["true_gamma"].values.round(2).tolist()
    [0.68, 0.57, 0.79]

    The mean response to each delay follows ``b + A * gamma ** d``:

    >>> import numpy as np
    >>> unit = ds.isel(unit=2)
    >>> means = unit["response"].groupby(unit["delay"]).mean().values
    >>> d = np.array([0.5, 1.5, 3.0, 6.0])
    >>> b, a, g = (float(unit[f"true_{name}"]) for name in ("asymptote", "amplitude", "gamma"))
    >>> bool(abs(means - (b + a * g**d)).max() < 1.5)
    True
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    task = get_delay_task(task)
    if align not in ("cue", "reward"):
        raise ConfigError('align as "cue" or "reward"', found=repr(align))
    if axes not in ("independent", "aligned"):
        raise ConfigError('axes as "independent" or "aligned"', found=repr(axes))
    # one draw order for every kind, so that the same seed pairs the populations
    pop = _population(
        population, n_units, rng, gamma, gammas, amplitude, asymptote, noise, hyperbolic_k
    )
    n = len(pop)
    trials = _trials(task, n, n_trials, rng)
    eps = rng.standard_normal(trials["delay"].shape)
    several = len(task.magnitudes) > 1
    mag_pop = _magnitude_population(task, pop, rng, axes, magnitude_options) if several else None
    valid = np.isfinite(trials["delay"])
    levels = None if mag_pop is None else mag_pop["reversal_tau"].to_numpy(np.float64)
    if align == "cue":
        mean = pop["asymptote"].to_numpy()[:, None] + pop["amplitude"].to_numpy()[
            :, None
        ] * _mean_discount(task, pop, np.where(valid, trials["cue_id"], 0), levels)
        resp = mean + pop["noise"].to_numpy()[:, None] * eps
        event = trials["time"]
    else:
        if mag_pop is None:
            raise ConfigError(
                "a task with at least two magnitudes for align='reward'",
                found=f"magnitudes {list(task.magnitudes)}",
                remedy="give DelayTask(magnitudes=[...]) with several magnitudes",
            )
        z = context_reversal_points(mag_pop, task.magnitudes, task.probabilities)
        mean = reward_response(mag_pop, np.where(valid, trials["reward"], 0.0), z[:, None])
        resp = mean + mag_pop["noise"].to_numpy()[:, None] * eps
        event = trials["time"] + trials["delay"]
    resp[~valid] = np.nan
    attrs = _attrs(task, population, seed, align, axes, pop, magnitude_options)
    unit_vars = _truth(pop, mag_pop)
    ds = schema.make_responses(
        resp,
        np.where(valid, trials["reward"], np.nan),
        cued=valid,
        event_time=event,
        unit_id=pop["unit_id"].tolist(),
        session=[session] * n,
        subject=[subject] * n,
        baseline_rate=np.full(n, np.nan),
        attrs=attrs,
        unit_vars=unit_vars,
    )
    return ds.assign_coords(
        {
            schema.DELAY: ((schema.UNIT, schema.TRIAL), trials["delay"]),
            "cue_id": ((schema.UNIT, schema.TRIAL), trials["cue_id"]),
        }
    )


def _magnitude_population(task, pop, rng, axes, options) -> pd.DataFrame:
    """Distributional units over the task's magnitudes, τ independent of or ranked as γ."""
    mag = make_population("distributional", len(pop), task.magnitude_task(), seed=rng, **options)
    if axes == "aligned":
        patience = pop["gamma"].fillna(1.0 / (1.0 + pop["hyperbolic_k"])).to_numpy()
        order = np.argsort(np.argsort(patience, kind="stable"), kind="stable")
        ranked = mag.sort_values("tau", kind="stable").reset_index(drop=True)
        mag = ranked.iloc[order].reset_index(drop=True)
    mag["unit_id"] = pop["unit_id"].to_numpy()
    return mag


def _truth(pop: pd.DataFrame, mag_pop: pd.DataFrame | None) -> dict[str, np.ndarray]:
    out = {
        "true_gamma": pop["gamma"].to_numpy(np.float64),
        "true_hyperbolic_k": pop["hyperbolic_k"].to_numpy(np.float64),
        "true_amplitude": pop["amplitude"].to_numpy(np.float64),
        "true_asymptote": pop["asymptote"].to_numpy(np.float64),
        "true_noise": pop["noise"].to_numpy(np.float64),
        "true_discount": np.where(pop["kind"] == "hyperbolic", "hyperbolic", "exponential").astype(
            object
        ),
    }
    if mag_pop is not None:
        for name in ("tau", "reversal_point", "alpha_pos", "alpha_neg"):
            out[f"true_{name}"] = mag_pop[name].to_numpy(np.float64)
    return out


def _attrs(task, population, seed, align, axes, pop, magnitude_options) -> dict:
    return {
        "simulated": True,
        "source": "dopafit.simulate.simulate_discounting",
        "mode": "discounting",
        "task": task.name,
        "task_spec": task.to_dict(),
        "population": str(population),
        "seed": jsonable(seed) if not isinstance(seed, np.random.Generator) else "generator",
        "axes": axes,
        "magnitude_options": jsonable(magnitude_options),
        "response_units": "spikes/s",
        "reward_units": task.reward_units,
        "delay_units": task.delay_units,
        "align": "cue_time" if align == "cue" else "reward_time",
        "window": list(schema.DEFAULT_ATTRS["window"]),
        "baseline": list(schema.DEFAULT_ATTRS["baseline"]),
        "noise_model": "gaussian",
        "n_units": len(pop),
    }
