"""Spike-train sessions of a delay task: cue responses that discount the reward delay.

The session counterpart of :func:`dopafit.simulate_discounting`: the same populations
(``single``, ``multi``, ``hyperbolic``) and the same mean cue response
``b_i + A_i E_c[D_i(d)]``, as the rate change of inhomogeneous Poisson spike trains in the
cue window, with a trials table carrying each trial's ``delay``. Written with
:func:`dopafit.write_nwb`, loaded back with ``dopafit.load_nwb(file, align="cue_time")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dopafit.errors import ConfigError
from dopafit.session import Session
from dopafit.simulate._delay import (
    _magnitude_population,
    _mean_discount,
    _population,
    _truth,
    get_delay_task,
)
from dopafit.simulate._population import (
    _param,
    context_reversal_points,
    jsonable,
    reward_response,
)
from dopafit.simulate._session import (
    SIM_SUBJECT,
    _check_clock,
    _check_window,
    _spike_trains,
)

__all__ = ["simulate_delay_session", "DELAY_TRIAL_DESCRIPTIONS"]

#: Descriptions of the trials columns of a delay session (written to NWB).
DELAY_TRIAL_DESCRIPTIONS = {
    "delay": "cue-to-reward delay (s): reward_time - cue_time",
    "cue_id": "cue identity: cue c (1..n_delays) predicts reward after the task's c-th "
    "delay; higher ids predict a distribution of delays",
    "trial_type": "the cue id",
    "reward": "reward magnitude (task units, e.g. ul)",
}


def simulate_delay_session(
    task="delay",
    population: str = "multi",
    n_units: int = 40,
    n_trials: int = 200,
    *,
    seed=0,
    window: tuple[float, float] = (0.2, 0.6),
    gamma: float = 0.8,
    gammas=(0.4, 0.95),
    amplitude=(5.0, 15.0),
    asymptote=(-0.5, 0.5),
    noise=(1.5, 3.0),
    hyperbolic_k=(0.2, 2.0),
    baseline_rate=(4.0, 8.0),
    trial_noise: bool = False,
    axes: str = "independent",
    iti: tuple[float, float] = (2.0, 3.0),
    clock: float | None = None,
    session_id: str | None = None,
    subject_id: str = "sim",
    description: str | None = None,
    **magnitude_options,
) -> Session:
    """Simulate a recording session of a delay task: spike trains and a trials table.

    Every trial presents cue ``c`` at ``cue_time`` and delivers reward ``r`` at
    ``reward_time = cue_time + delay``. Unit ``i`` fires as an inhomogeneous Poisson
    process at its baseline rate except where these rate changes add up:

    - ``[cue + w0, cue + w1)``: the cue response ``b_i + A_i E_c[D_i(d)]`` (+
      ``N(0, noise_i^2)`` per trial with ``trial_noise``), with ``D_i(d) = gamma_i ** d``
      (hyperbolic units: ``1 / (1 + k_i d)``), the expectation over the delays cue ``c``
      predicts, exactly as in :func:`dopafit.simulate_discounting`;
    - ``[reward + w0, reward + w1)``, only when the task has several magnitudes: the reward
      response of a distributional unit (:func:`dopafit.make_population`, the model of
      :func:`dopafit.simulate_session`) to the trial's magnitude.

    So the mean rate change in the cue window, measured against the second before the cue
    (``dopafit.load_nwb(file, align="cue_time")``), is the unit's mean cue response. Rates
    below 0 are clipped at 0 (reported in ``attrs['rate_clip_fraction']``).

    Parameters
    ----------
    task : str or DelayTask, default "delay"
        A :class:`~dopafit.simulate.DelayTask` or a name of
        :func:`~dopafit.simulate.get_delay_task`.
    population : {"single", "multi", "hyperbolic"}, default "multi"
        One shared discount factor, one per unit, or hyperbolic units.
    n_units, n_trials : int
        Units (all recorded simultaneously) and trials of the session.
    seed : int, numpy.random.Generator or None, default 0
        Source of all randomness; the same seed gives the same session.
    window : (w0, w1), default (0.2, 0.6)
        Response window after the cue and after the reward (s).
    gamma, gammas, amplitude, asymptote, noise, hyperbolic_k
        The population's parameters, as in :func:`dopafit.simulate_discounting`, except
        the amplitude's default range (5, 15) Hz: the Poisson noise of a 0.4-s window
        against a 1-s baseline at 4-8 Hz has an SD near 5 Hz per trial, above the Gaussian
        noise of the responses simulator. With these defaults (40 units, 200 trials, seed
        2) fit_discounting recovers gamma with r = 0.84 (bias 0.04, RMSE 0.13); with
        amplitudes of 2-6 Hz r falls to 0.42.
    baseline_rate : float or (low, high), default (4.0, 8.0)
        Baseline firing rate of each unit (Hz), drawn uniformly in a range.
    trial_noise : bool, default False
        Add ``N(0, noise_i^2)`` Hz to each trial's cue-window rate. Without it the only
        variability is Poisson spiking and ``true_noise`` is 0.
    axes : {"independent", "aligned"}, default "independent"
        With several magnitudes: tau_i independent of gamma_i or in the same rank order.
    iti : (fixed, mean), default (2.0, 3.0)
        After each reward window, ``fixed`` s plus an exponential wait of mean ``mean`` s
        before the next trial's baseline second.
    clock : float, optional
        Acquisition clock (Hz): spike times rounded to multiples of ``1 / clock``.
    session_id, subject_id, description : str
        Identifiers; ``session_id`` defaults to ``"<population>-<task>-seed<seed>"``.
    **magnitude_options
        Passed to :func:`dopafit.make_population` for the reward responses (several
        magnitudes only), e.g. ``tau_range``.

    Returns
    -------
    dopafit.session.Session
        ``trials`` with ``start_time``, ``stop_time``, ``cue_time``, ``reward_time``,
        ``delay``, ``cue_id``, ``trial_type`` (the cue id), ``reward`` and ``cued`` (True);
        ``units`` with ``unit_id``, ``kind``, the ground truth ``true_gamma``,
        ``true_hyperbolic_k``, ``true_amplitude``, ``true_asymptote``, ``true_noise``,
        ``true_discount`` (and ``true_tau``, ``true_reversal_point``, ... with several
        magnitudes) and ``baseline_rate``; ``attrs`` record every setting.

    Raises
    ------
    ConfigError
        An unknown task or population, a bad window, ``n_trials`` < 1.

    Examples
    --------
    >>> import dopafit
    >>> from dopafit.simulate import simulate_delay_session
    >>> session = simulate_delay_session(n_units=3, n_trials=40, seed=0)
    >>> session.n_units, session.n_trials, session.session_id
    (3, 40, 'multi-delay-seed0')
    >>> sorted(session.trials["delay"].unique().tolist())
    [0.5, 1.5, 3.0, 6.0]
    >>> trials = session.trials
    >>> bool(((trials["reward_time"] - trials["cue_time"]) == trials["delay"]).all())
    True
    >>> print(dopafit.write_nwb(session, "delay.nwb"))
    delay.nwb
    >>> ds = dopafit.load_nwb("delay.nwb", align="cue_time")
    >>> ds.attrs["align"], ds.attrs["delay_units"], ds["delay"].dims
    ('cue_time', 's', ('unit', 'trial'))
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    task = get_delay_task(task)
    w0, w1 = _check_window(window)
    clock = _check_clock(clock)
    if axes not in ("independent", "aligned"):
        raise ConfigError('axes as "independent" or "aligned"', found=repr(axes))
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ConfigError("n_trials as an integer >= 1", found=repr(n_trials))
    pop = _population(
        population, n_units, rng, gamma, gammas, amplitude, asymptote, noise, hyperbolic_k
    )
    n = len(pop)
    base = _param(baseline_rate, n, rng.random(n), "baseline_rate")
    trials = _delay_trials(task, int(n_trials), rng, (w0, w1), iti)
    eps = rng.standard_normal((n, len(trials)))
    several = len(task.magnitudes) > 1
    mag_pop = _magnitude_population(task, pop, rng, axes, magnitude_options) if several else None
    cue = trials["cue_id"].to_numpy(np.float64)
    cue_amp = pop["asymptote"].to_numpy()[:, None] + pop["amplitude"].to_numpy()[
        :, None
    ] * _mean_discount(task, pop, np.broadcast_to(cue, (n, cue.size)))
    noise_sd = pop["noise"].to_numpy(np.float64) if trial_noise else np.zeros(n)
    cue_amp = cue_amp + noise_sd[:, None] * eps
    c_time = trials["cue_time"].to_numpy(np.float64)
    r_time = trials["reward_time"].to_numpy(np.float64)
    starts, stops, amps = [c_time + w0], [c_time + w1], [cue_amp]
    if mag_pop is not None:
        z = context_reversal_points(mag_pop, task.magnitudes, task.probabilities)
        reward = np.broadcast_to(trials["reward"].to_numpy(np.float64), (n, len(trials)))
        starts.append(r_time + w0)
        stops.append(r_time + w1)
        amps.append(reward_response(mag_pop, reward, z[:, None]))
    changes = (np.concatenate(starts), np.concatenate(stops), np.concatenate(amps, axis=1))
    clipped = base[:, None] + cue_amp < 0
    t_end = float(trials["stop_time"].max()) + 1.0
    spikes = _spike_trains(changes, base, t_end, rng, clock)
    units = pd.DataFrame({"unit_id": pop["unit_id"].astype(str), "kind": pop["kind"].astype(str)})
    truth = _truth(pop, mag_pop)
    truth["true_noise"] = noise_sd
    for name, col in truth.items():
        units[name] = col
    units["baseline_rate"] = base
    units["rate_clip_fraction"] = clipped.mean(axis=1)
    name = session_id or f"{population}-{task.name}-seed{seed}"
    desc = description or (
        f"Simulated {population} population of {n} units in the {task.name} delay task "
        f"({len(trials)} trials, seed {seed}), made by "
        "dopafit.simulate.simulate_delay_session."
    )
    attrs = _attrs(task, population, seed, (w0, w1), trial_noise, axes, iti, clock, clipped)
    attrs["magnitude_options"] = jsonable(magnitude_options)
    return Session(
        spike_times=spikes,
        trials=trials,
        units=units,
        session_id=name,
        subject_id=str(subject_id),
        description=desc,
        attrs=attrs,
    )


def _delay_trials(task, n_trials: int, rng, window, iti) -> pd.DataFrame:
    """The trials table: cue, delay, magnitude and times of each trial, in time order."""
    w1 = window[1]
    fixed, mean = (float(v) for v in iti)
    if fixed < 0 or mean < 0:
        raise ConfigError("iti as (fixed, mean) seconds >= 0", found=repr(iti))
    ids = np.asarray(task.cue_ids)
    cue_p = np.asarray([p for _, p in task.cue_probabilities])
    cue = ids[rng.choice(ids.size, size=n_trials, p=cue_p)]
    delay = np.empty(n_trials)
    for c, d, p in task.cues:
        mask = cue == c
        delay[mask] = np.asarray(d)[rng.choice(len(d), size=int(mask.sum()), p=np.asarray(p))]
    mags = np.asarray(task.magnitudes)
    reward = mags[rng.choice(mags.size, size=n_trials, p=np.asarray(task.probabilities))]
    # each trial: 1.5 s before the cue (the baseline second and a margin), the cue, the
    # delay, the reward window (at least 1 s), then the inter-trial wait
    after = max(1.0, w1)
    length = 1.5 + delay + after + fixed + rng.exponential(mean, size=n_trials)
    start = np.concatenate([[0.0], np.cumsum(length)[:-1]])
    cue_time = start + 1.5
    reward_time = cue_time + delay
    return pd.DataFrame(
        {
            "start_time": start,
            "stop_time": reward_time + after,
            "reward": reward,
            "reward_time": reward_time,
            "cued": np.ones(n_trials, dtype=bool),
            "cue_time": cue_time,
            "cue_id": cue.astype(np.int64),
            "trial_type": cue.astype(np.int64),
            "delay": delay,
        }
    )


def _attrs(task, population, seed, window, trial_noise, axes, iti, clock, clipped) -> dict:
    """The settings recorded in the session (NWB ``notes``)."""
    return {
        "source": "dopafit.simulate.simulate_delay_session",
        "mode": "spikes",
        "task": task.name,
        "task_spec": task.to_dict(),
        "population": str(population),
        "kind": str(population),
        "seed": jsonable(seed) if not isinstance(seed, np.random.Generator) else "generator",
        "spike_model": "inhomogeneous Poisson, piecewise-constant rate clipped at 0",
        "window": list(window),
        "baseline": [-1.0, 0.0],
        "trial_noise": bool(trial_noise),
        "axes": axes,
        "iti": [float(v) for v in iti],
        "clock": None if not clock else float(clock),
        "rate_clip_fraction": float(clipped.mean()),
        "response_units": "spikes/s",
        "reward_units": task.reward_units,
        "delay_units": task.delay_units,
        "trial_column_descriptions": dict(DELAY_TRIAL_DESCRIPTIONS),
        "unit_column_descriptions": {
            "baseline_rate": "simulated baseline firing rate (Hz)",
            "kind": "simulated population kind (single, multi, hyperbolic)",
        },
        "subject": dict(SIM_SUBJECT),
        "keywords": ["dopamine", "simulation", "temporal discounting", "multi-timescale TD"],
        "experiment_description": (
            "Simulated VTA dopamine units in a Pavlovian delay task: each cue predicts reward "
            "after a delay; ground truth in the units table (true_* columns), settings in "
            "notes."
        ),
    }
