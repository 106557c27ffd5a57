"""Spike-train sessions: inhomogeneous Poisson spiking around cue and reward events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd

from dopafit.errors import ConfigError
from dopafit.session import TRIAL_COLUMNS, Session
from dopafit.simulate._population import number, reward_response
from dopafit.simulate._responses import (
    _rng,
    base_attrs,
    check_cue_ids,
    context_table,
    cue_truth,
    setup_population,
    truth_vars,
)
from dopafit.simulate._task import Task
from dopafit.simulate._trials import make_trials

__all__ = ["simulate_session", "PRESETS", "preset_sessions", "rate_segments", "poisson_spikes"]

#: Metadata of the simulated animals, written to NWB ``Subject``.
SIM_SUBJECT = {
    "species": "Mus musculus",
    "sex": "U",
    "age": "P90D",
    "description": "simulated animal (dopafit.simulate); no real subject",
}


def rate_segments(
    starts: np.ndarray, stops: np.ndarray, amplitudes: np.ndarray, baseline: np.ndarray, t_end
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant rates of every unit from additive rate changes on intervals.

    Parameters
    ----------
    starts, stops : ndarray, shape (E,)
        Interval of each rate change (s), ``0 <= start < stop <= t_end``.
    amplitudes : ndarray, shape (n_unit, E)
        Rate change (Hz) of each unit during each interval (overlaps add up).
    baseline : ndarray, shape (n_unit,)
        Rate outside every interval (Hz).
    t_end : float
        End of the session (s); the session starts at 0.

    Returns
    -------
    edges : ndarray, shape (K + 1,)
        Segment boundaries, from 0 to ``t_end``.
    rates : ndarray, shape (n_unit, K)
        Rate of each unit in each segment, clipped at 0.
    """
    edges = np.unique(np.concatenate([[0.0], starts, stops, [float(t_end)]]))
    diff = np.zeros((edges.size, amplitudes.shape[0]))
    np.add.at(diff, np.searchsorted(edges, starts), amplitudes.T)
    np.add.at(diff, np.searchsorted(edges, stops), -amplitudes.T)
    change = np.cumsum(diff, axis=0)[:-1].T
    rates = np.maximum(baseline[:, None] + change, 0.0)
    return edges, rates


def poisson_spikes(edges: np.ndarray, rates: np.ndarray, rng: np.random.Generator) -> list:
    """Spike times of inhomogeneous Poisson processes with piecewise-constant rates.

    For each unit in turn: the spike count is ``Poisson(Λ)`` with ``Λ`` the integrated rate,
    the points are sorted uniforms on ``[0, Λ]`` and are mapped to time by
    :func:`dopafit.kernels.simulate.rescaled_to_times` (time rescaling). All draws come from
    ``rng`` in unit order.

    Returns
    -------
    list of ndarray
        Sorted spike times (s) per unit.
    """
    from dopafit.kernels.simulate import rescaled_to_times

    dur = np.diff(edges)
    out = []
    for rate in rates:
        cum = np.concatenate([[0.0], np.cumsum(rate * dur)])
        n = rng.poisson(cum[-1])
        points = np.sort(rng.uniform(0.0, cum[-1], n))
        out.append(rescaled_to_times(points, edges, cum))
    return out


def simulate_session(
    task: str | Task = "dabney",
    population: str | pd.DataFrame = "distributional",
    n_units: int = 30,
    n_trials: int = 250,
    *,
    seed=0,
    cued_fraction: float = 0.5,
    window: tuple[float, float] = (0.2, 0.6),
    utility=None,
    cue_scale: float = 0.5,
    burst: float = 0.0,
    trial_noise: bool = False,
    uncued_offset: float = 0.0,
    iti: tuple[float, float] = (5.0, 1.0),
    clock: float | None = None,
    trials: pd.DataFrame | None = None,
    session_id: str | None = None,
    subject_id: str = "sim",
    description: str | None = None,
    **population_options,
) -> Session:
    """Simulate a recording session: spike trains of simultaneously recorded units.

    Every unit fires as an inhomogeneous Poisson process at its baseline rate ``b_i``
    except in these intervals, where rate changes add up:

    - ``[reward + w0, reward + w1)``: the reward response ``f_i(u(r); z_{i,c})`` (+
      ``uncued_offset`` on uncued trials; + ``N(0, noise_i^2)`` per trial when
      ``trial_noise``), so the mean rate change in the response window equals the configured
      response;
    - ``[reward, reward + w0)``: a phasic ``burst`` (Hz) on rewarded trials (default 0);
    - ``[cue + w0, cue + w1)`` on cued trials: the cue response ``cue_scale * f_i(z_{i,c};
      u(0))``, the unit's response to the cue's predicted value (its reversal point for
      that cue) relative to no reward.

    Rates below 0 are clipped at 0 (a unit cannot fire below zero): then the expected
    window rate change is ``max(b + f, 0) - b`` instead of ``f``. Default baselines
    (3-8 Hz) and gains keep clipping rare; ``attrs['rate_clip_fraction']`` and the units
    column ``rate_clip_fraction`` report how often reward windows were clipped.

    Parameters
    ----------
    task, population, n_units, seed, cued_fraction, utility
        As :func:`simulate_responses`.
    n_trials : int, default 250
        Trials of the session (all units share them).
    window : (w0, w1), default (0.2, 0.6)
        Response window after the event (s).
    cue_scale : float, default 0.5
        Scale of the cue response (0 disables it).
    burst : float, default 0.0
        Phasic rate increase (Hz) in the first ``w0`` s after a delivered reward.
    trial_noise : bool, default False
        Add ``N(0, noise_i^2)`` Hz to each trial's window rate (doubly stochastic). Without
        it the only variability is Poisson spiking; ``true_noise`` is then 0.
    uncued_offset : float, default 0.0
        Hz added to the reward response of uncued trials.
    iti : (mean, min), default (5.0, 1.0)
        Gaps between trials (see :func:`make_trials`).
    clock : float, optional
        Acquisition clock (Hz): spike times are rounded to multiples of ``1 / clock`` s, as a
        recording system does (``1 / clock`` is the NWB ``Units.resolution``).
    trials : DataFrame, optional
        A trials table (columns of :data:`dopafit.session.TRIAL_COLUMNS`) instead of a drawn
        one; trials must be at least ``w1`` s apart from the next trial's baseline.
    session_id, subject_id, description : str
        Identifiers; ``session_id`` defaults to ``"<kind>-<task>-seed<seed>"``.
    **population_options
        Passed to :func:`make_population`.

    Returns
    -------
    dopafit.session.Session
        ``units`` holds ``unit_id``, ``kind``, the ground truth ``true_*`` (as in
        :func:`simulate_responses`; ``true_reversal_point_cue<c>`` for cues whose
        distribution differs from the uncued one) and ``rate_clip_fraction``; ``attrs``
        record every setting.

    Examples
    --------
    >>> import dopafit
    >>> session = dopafit.simulate_session(n_units=3, n_trials=40, seed=0)
    >>> session.n_units, session.n_trials, session.session_id
    (3, 40, 'distributional-dabney-seed0')
    >>> print(session.units[["unit_id", "true_tau", "true_reversal_point"]].round(2).to_string())
      unit_id  true_tau  true_reversal_point
    0     u00      0.66                 6.68
    1     u01      0.05                 1.45
    2     u02      0.59                 5.99
    >>> print(dopafit.write_nwb(session, "sim.nwb"))  # then dopafit.load_nwb("sim.nwb")
    sim.nwb
    """
    rng = _rng(seed)
    task, util, pop, kind = setup_population(
        task, population, n_units, rng, utility, population_options
    )
    w0, w1 = _check_window(window)
    clock = _check_clock(clock)
    scalars = {
        name: number(value, name)
        for name, value in (
            ("cue_scale", cue_scale),
            ("burst", burst),
            ("uncued_offset", uncued_offset),
        )
    }
    trials = _session_trials(task, trials, n_trials, cued_fraction, rng, iti, w1)
    events = _Events.of(trials, task)
    eps = rng.standard_normal((len(pop), len(trials)))
    z_ctx = context_table(pop, task, util)
    noise = pop["noise"].to_numpy(np.float64) if trial_noise else None
    amp_r = _reward_amplitudes(pop, events, z_ctx, util, task, scalars["uncued_offset"], noise, eps)
    base = pop["baseline_rate"].to_numpy(np.float64)
    clipped = (base[:, None] + amp_r < 0) & events.has_r
    changes = _rate_changes(pop, events, z_ctx, util, amp_r, (w0, w1), scalars)
    spikes = _spike_trains(changes, base, _session_end(trials), rng, clock)
    units = _units_table(pop, task, z_ctx, noise, clipped, events.has_r)
    attrs = base_attrs(task, util, kind, seed, cued_fraction, pop)
    attrs.update(_session_attrs((w0, w1), scalars, trial_noise, iti, clock, clipped, events.has_r))
    desc = description or (
        f"Simulated {kind} population of {len(pop)} units in the {task.name} task "
        f"({len(trials)} trials, seed {seed}), made by dopafit.simulate.simulate_session."
    )
    return Session(
        spike_times=spikes,
        trials=trials,
        units=units,
        session_id=session_id or f"{kind}-{task.name}-seed{seed}",
        subject_id=str(subject_id),
        description=desc,
        attrs=attrs,
    )


def _check_window(window) -> tuple[float, float]:
    """The response window ``(w0, w1)`` (s), checked: ``0 <= w0 < w1``."""
    want = "window (start, stop) with 0 <= start < stop (s)"
    try:
        w0, w1 = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ConfigError(want, found=f"{window!r}") from None
    if not 0.0 <= w0 < w1:
        raise ConfigError(want, found=f"{window!r}")
    return w0, w1


def _check_clock(clock) -> float | None:
    """The acquisition clock (Hz): None, or a finite number > 0."""
    if clock is None:
        return None
    value = number(clock, "clock")
    if not (np.isfinite(value) and value > 0):
        raise ConfigError("clock (Hz) as a finite number > 0, or None", found=repr(clock))
    return value


def _session_trials(task, trials, n_trials, cued_fraction, rng, iti, w1) -> pd.DataFrame:
    """The trials table: drawn from ``rng``, or the given one checked and put in column order."""
    if trials is None:
        return make_trials(
            task, n_trials, cued_fraction=cued_fraction, seed=rng, iti=iti, post=max(1.0, w1)
        )
    if not isinstance(trials, pd.DataFrame):
        raise ConfigError("trials as a pandas DataFrame", found=f"{type(trials).__name__}")
    missing = sorted(set(TRIAL_COLUMNS) - set(trials.columns))
    if missing:
        raise ConfigError(
            f"a trials table with columns {list(TRIAL_COLUMNS)}", found=f"missing {missing}"
        )
    stop = trials["stop_time"].to_numpy(np.float64)
    if not np.all(np.isfinite(stop)):
        raise ConfigError(
            "a finite stop_time for every trial",
            found=f"{int((~np.isfinite(stop)).sum())} trial(s) without one",
            remedy="give each trial its end time (s); the session ends 1 s after the last",
        )
    return trials.reset_index(drop=True)[list(TRIAL_COLUMNS)]


class _Events(NamedTuple):
    """Per-trial event arrays of a trials table, shape (n_trial,)."""

    reward: np.ndarray
    r_time: np.ndarray
    cued: np.ndarray
    ctx: np.ndarray
    c_time: np.ndarray
    has_r: np.ndarray  # a reward and its time are known

    @classmethod
    def of(cls, trials: pd.DataFrame, task: Task) -> _Events:
        """Read the events of ``trials`` and check their cue ids against ``task``."""
        reward = trials["reward"].to_numpy(np.float64)
        r_time = trials["reward_time"].to_numpy(np.float64)
        ctx = trials["cue_id"].to_numpy(np.int64)
        check_cue_ids(task, ctx)
        return cls(
            reward=reward,
            r_time=r_time,
            cued=trials["cued"].to_numpy(bool),
            ctx=ctx,
            c_time=trials["cue_time"].to_numpy(np.float64),
            has_r=np.isfinite(reward) & np.isfinite(r_time),
        )


def _reward_amplitudes(pop, events, z_ctx, util, task, offset, noise, eps) -> np.ndarray:
    """Rate change (Hz) of each unit in each trial's reward window, shape (n_unit, n_trial)."""
    n, has_r = len(pop), events.has_r
    z = z_ctx[:, events.ctx]
    u = np.where(has_r, util(np.where(has_r, events.reward, task.support[0])), 0.0)
    amp_r = reward_response(pop, np.broadcast_to(u, (n, u.size)), np.where(has_r, z, 0.0))
    amp_r = amp_r + offset * (~events.cued)
    if noise is not None:
        amp_r = amp_r + noise[:, None] * eps
    return amp_r


def _rate_changes(pop, events, z_ctx, util, amp_r, window, scalars) -> tuple:
    """Intervals and amplitudes of every rate change: reward windows, bursts, cue windows."""
    (w0, w1), has_r, r_time = window, events.has_r, events.r_time
    starts = [r_time[has_r] + w0]
    stops = [r_time[has_r] + w1]
    amps = [amp_r[:, has_r]]
    if scalars["burst"]:
        got = has_r & (events.reward > 0)
        starts.append(r_time[got])
        stops.append(r_time[got] + w0)
        amps.append(np.full((len(pop), int(got.sum())), scalars["burst"]))
    has_c = events.cued & np.isfinite(events.c_time)
    if scalars["cue_scale"] and has_c.any():
        zc = z_ctx[:, events.ctx][:, has_c]
        cue_amp = scalars["cue_scale"] * reward_response(pop, zc, np.full(zc.shape, util.zero))
        starts.append(events.c_time[has_c] + w0)
        stops.append(events.c_time[has_c] + w1)
        amps.append(cue_amp)
    return np.concatenate(starts), np.concatenate(stops), np.concatenate(amps, axis=1)


def _session_end(trials: pd.DataFrame) -> float:
    """End of the session (s): 1 s after the last trial (1 s without trials)."""
    if not len(trials):
        return 1.0
    return float(np.nanmax(trials["stop_time"].to_numpy(np.float64))) + 1.0


def _spike_trains(changes, base, t_end, rng, clock) -> list:
    """Poisson spike times of every unit, rounded to the acquisition clock if given."""
    edges, rates = rate_segments(*changes, base, t_end)
    spikes = poisson_spikes(edges, rates, rng)
    if clock:
        spikes = [np.round(s * float(clock)) / float(clock) for s in spikes]
    return spikes


def _units_table(pop, task, z_ctx, noise, clipped, has_r) -> pd.DataFrame:
    """The units table: ids, kinds, ground truth and the fraction of clipped reward windows."""
    units = pd.DataFrame({"unit_id": pop["unit_id"].astype(str), "kind": pop["kind"].astype(str)})
    truth = truth_vars(pop, noise=noise if noise is not None else np.zeros(len(pop)))
    for name, col in truth.items():
        units[name] = col
    for name, col in cue_truth(task, z_ctx).items():
        units[name] = col
    n_rew = max(int(has_r.sum()), 1)
    units["rate_clip_fraction"] = clipped.sum(axis=1) / n_rew
    return units


def _session_attrs(window, scalars, trial_noise, iti, clock, clipped, has_r) -> dict:
    """The settings of the spike model recorded in the session's attrs."""
    n_rew = max(int(has_r.sum()), 1)
    return {
        "source": "dopafit.simulate.simulate_session",
        "mode": "spikes",
        "spike_model": "inhomogeneous Poisson, piecewise-constant rate clipped at 0",
        "window": list(window),
        "baseline": [-1.0, 0.0],
        "cue_scale": scalars["cue_scale"],
        "burst": scalars["burst"],
        "trial_noise": bool(trial_noise),
        "uncued_offset": scalars["uncued_offset"],
        "iti": [float(v) for v in iti],
        "clock": None if not clock else float(clock),
        "rate_clip_fraction": float(clipped.sum() / (n_rew * clipped.shape[0])),
        "response_units": "spikes/s",
        "subject": dict(SIM_SUBJECT),
        "keywords": ["dopamine", "simulation", "reward prediction error", "distributional TD"],
        "experiment_description": (
            "Simulated VTA dopamine units in a Pavlovian reward task; ground truth in the "
            "units table (true_* columns), settings in notes."
        ),
    }


#: The empirical utility axis of the 40 public neurons (Dabney et al. 2020; faithful responses,
#: Hz): sample responses then span the range of the real ones.
DABNEY_UTILITY = (-3.577, -3.288, -2.765, -1.759, 0.242, 4.428, 8.324)

_SAMPLE_COMMON = {
    "task": "dabney",
    "n_units": 25,
    "iti": (2.0, 1.0),
    "clock": 32768.0,
    "utility": DABNEY_UTILITY,
    "response_range": 15.0,
}

#: Named sets of sessions: preset -> list of (file name, simulate_session keyword arguments).
PRESETS: dict[str, list[tuple[str, dict]]] = {
    "samples": [
        (
            "sub-sim01_ses-dist1.nwb",
            {
                "population": "distributional",
                "tau_range": (0.1, 0.9),
                "n_trials": 260,
                "seed": 101,
                "subject_id": "sim01",
                "session_id": "dist1",
            },
        ),
        (
            "sub-sim02_ses-dist2.nwb",
            {
                "population": "distributional",
                "tau_range": (0.1, 0.9),
                "n_trials": 240,
                "seed": 102,
                "subject_id": "sim02",
                "session_id": "dist2",
            },
        ),
        (
            "sub-sim03_ses-dist3.nwb",
            {
                "population": "distributional",
                "tau_range": (0.1, 0.9),
                "n_trials": 280,
                "seed": 103,
                "subject_id": "sim03",
                "session_id": "dist3",
            },
        ),
        (
            "sub-sim04_ses-classical1.nwb",
            {
                "population": "classical",
                "n_units": 20,
                "n_trials": 250,
                "seed": 104,
                "subject_id": "sim04",
                "session_id": "classical1",
            },
        ),
    ]
}


def preset_sessions(name: str = "samples") -> Iterator[tuple[str, Session]]:
    """Simulate the sessions of a preset, one at a time.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS` (``"samples"``: the files of ``data_samples/``).

    Yields
    ------
    (str, Session)
        File name and session.
    """
    if name not in PRESETS:
        raise ConfigError(f"a preset among {sorted(PRESETS)}", found=f"{name!r}")
    for filename, kwargs in PRESETS[name]:
        yield filename, simulate_session(**{**_SAMPLE_COMMON, **kwargs})
