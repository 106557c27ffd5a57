"""Trial sequences: cued and uncued reward trials with inter-trial intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dopafit.errors import ConfigError
from dopafit.session import TRIAL_COLUMNS
from dopafit.simulate._population import number
from dopafit.simulate._task import Task, get_schedule, get_task

__all__ = ["make_trials", "make_block_trials", "trial_type_codes"]


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _pick(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: index of the category of each uniform ``u``."""
    return np.minimum(np.searchsorted(np.cumsum(probs), u, side="right"), probs.size - 1)


def trial_type_codes(task: str | Task) -> pd.DataFrame:
    """The trial-type code of every (cue, magnitude) pair of a task.

    Codes follow the Uchida-lab convention: with ``K`` magnitudes in ``task.support``
    (index ``k = 0 .. K-1``), an uncued trial of magnitude ``k`` has code ``1 + k`` and a trial
    cued by cue ``c`` (1, 2, ...) has code ``1 + K c + k``. For the Dabney task: 1-7 uncued,
    8-14 cued, magnitude index 1-7.

    Returns
    -------
    pandas.DataFrame
        Columns ``trial_type``, ``cue_id`` (0 = uncued), ``reward``, ``description``.
    """
    task = get_task(task)
    support = task.support
    rows = []
    for c in (0, *task.cue_ids):
        for k, m in enumerate(support):
            what = "uncued" if c == 0 else f"cue {c}"
            rows.append(
                (1 + support.size * c + k, c, m, f"{what}, reward {m:g} {task.reward_units}")
            )
    return pd.DataFrame(rows, columns=["trial_type", "cue_id", "reward", "description"])


def make_trials(
    task: str | Task,
    n_trials: int,
    *,
    cued_fraction: float = 0.5,
    seed=None,
    iti: tuple[float, float] = (5.0, 1.0),
    pre: float = 1.0,
    post: float = 1.0,
    start: float = 1.0,
) -> pd.DataFrame:
    """Draw a chronological sequence of reward trials.

    Each trial is cued with probability ``cued_fraction``; a cued trial presents a cue
    (drawn with ``task.cue_probabilities``) at ``cue_time`` and delivers a reward drawn
    from that cue's distribution ``task.cue_delay`` s later; an uncued trial delivers a
    reward drawn from the uncued distribution. The trial's first event (cue or uncued
    reward) comes ``pre`` s after ``start_time`` (so the baseline before it lies inside the
    trial), ``stop_time`` is ``post`` s after the reward, and the next trial starts after a
    gap of ``min + Exponential(mean - min)`` s, ``(mean, min) = iti``.

    Parameters
    ----------
    task : str or Task
        See :func:`get_task`.
    n_trials : int
        Number of trials.
    cued_fraction : float, default 0.5
        Probability that a trial is cued.
    seed : int, numpy.random.Generator or None
        Source of randomness.
    iti : (mean, min), default (5.0, 1.0)
        Gap between one trial's stop and the next one's start (s); with the defaults trial
        onsets are ~8 s apart, as in the Dabney recordings.
    pre, post : float, default 1.0
        Seconds before the first event and after the reward inside the trial.
    start : float, default 1.0
        Start time of the first trial (s).

    Returns
    -------
    pandas.DataFrame
        One row per trial with the columns of :data:`dopafit.session.TRIAL_COLUMNS`:
        ``start_time``, ``stop_time``, ``reward`` (a reward of 0 is an omission; its
        ``reward_time`` is the time it was due), ``reward_time``, ``cued``, ``cue_time`` (NaN uncued), ``cue_id`` (0 uncued), ``trial_type`` (see
        :func:`trial_type_codes`).

    Examples
    --------
    >>> import dopafit
    >>> trials = dopafit.make_trials("dabney", 4, seed=1)
    >>> columns = ["reward", "reward_time", "cued", "cue_time", "trial_type"]
    >>> print(trials[columns].round(2).to_string())
       reward  reward_time   cued  cue_time  trial_type
    0     5.0         2.00  False       NaN           5
    1     0.1         5.92  False       NaN           1
    2     5.0        17.13   True     15.63          12
    3     5.0        20.97  False       NaN           5
    """
    task = get_task(task)
    n, f, iti_mean, iti_min = _checked_options(n_trials, cued_fraction, iti, pre, post, start)
    cued, cue_id, u, gaps = _draws(_rng(seed), task, n, f, iti_mean, iti_min)
    reward = _rewards(task, cue_id, u)
    k_support = np.searchsorted(task.support, reward)
    trial_type = 1 + task.support.size * cue_id + k_support
    delay = np.where(cued, task.cue_delay, 0.0)
    durations = pre + delay + post
    starts = np.empty(n)
    if n:
        starts[0] = float(start)
        starts[1:] = start + np.cumsum(durations[:-1] + gaps[:-1])
    first = starts + pre
    out = pd.DataFrame(
        {
            "start_time": starts,
            "stop_time": starts + durations,
            "reward": reward,
            "reward_time": first + delay,
            "cued": cued,
            "cue_time": np.where(cued, first, np.nan),
            "cue_id": cue_id.astype(np.int64),
            "trial_type": trial_type.astype(np.int64),
        }
    )
    return out[list(TRIAL_COLUMNS)]


def _checked_options(n_trials, cued_fraction, iti, pre, post, start) -> tuple:
    """The trial count, cued fraction and ITI (mean, min), or a ConfigError."""
    n = int(number(n_trials, "n_trials"))
    if n < 0:
        raise ConfigError("n_trials >= 0", found=f"{n_trials!r}")
    f = number(cued_fraction, "cued_fraction")
    if not 0.0 <= f <= 1.0:
        raise ConfigError("cued_fraction in [0, 1]", found=f"{cued_fraction!r}")
    try:
        iti_mean, iti_min = (float(v) for v in iti)
    except (TypeError, ValueError):
        raise ConfigError("iti as (mean, min) seconds", found=f"{iti!r}") from None
    if not 0 <= iti_min <= iti_mean:
        raise ConfigError("iti (mean, min) with 0 <= min <= mean", found=f"{iti!r}")
    if not (number(pre, "pre") >= 0 and number(post, "post") >= 0):
        raise ConfigError("pre and post >= 0 (s)", found=f"pre={pre!r}, post={post!r}")
    number(start, "start")
    return n, f, iti_mean, iti_min


def _draws(rng: np.random.Generator, task: Task, n: int, f: float, iti_mean, iti_min) -> tuple:
    """Cued flags, cue ids, reward uniforms and gaps, drawn in this fixed order."""
    cued = rng.random(n) < f
    ids = np.asarray(task.cue_ids)
    cue_p = np.asarray([p for _, p in task.cue_probabilities])
    cue_id = np.where(cued, ids[_pick(cue_p, rng.random(n))], 0)
    u = rng.random(n)
    gaps = (
        iti_min + rng.exponential(iti_mean - iti_min, n)
        if iti_mean > iti_min
        else np.full(n, iti_min)
    )
    return cued, cue_id, u, gaps


def _rewards(task: Task, cue_id: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Reward of each trial: its uniform drawn through its cue's (or the uncued) distribution."""
    reward = np.empty(u.size)
    for c in (0, *task.cue_ids):
        sel = cue_id == c
        if not sel.any():
            continue
        mags, probs = task.distribution(c)
        reward[sel] = mags[_pick(probs, u[sel])]
    return reward


def make_block_trials(
    tasks,
    n_trials: int,
    *,
    block_trials: int = 100,
    cued_fraction: float = 0.5,
    seed=None,
    iti: tuple[float, float] = (5.0, 1.0),
    **options,
) -> pd.DataFrame:
    """Draw a trial sequence whose reward distribution changes every ``block_trials`` trials.

    Blocks cycle through the tasks of the schedule (``"flip"``: rich, lean, rich, ...); each
    block is drawn by :func:`make_trials` with that block's task, and the next block starts one
    mean inter-trial interval after the last trial of the previous one.

    Parameters
    ----------
    tasks : str, Task or sequence
        A schedule (see :func:`dopafit.simulate.get_schedule`).
    n_trials : int
        Trials in all.
    block_trials : int, default 100
        Trials per block.
    cued_fraction, seed, iti
        As :func:`make_trials`.
    **options
        Passed to :func:`make_trials` (``pre``, ``post``, ``start``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`make_trials` plus ``block`` (block index) and ``block_task``
        (the block's task name).

    Examples
    --------
    >>> import dopafit
    >>> trials = dopafit.make_block_trials("flip", 250, block_trials=100, seed=0)
    >>> trials.groupby("block")["block_task"].first().tolist()
    ['rich', 'lean', 'rich']
    """
    schedule = get_schedule(tasks)
    n = int(n_trials)
    k = int(block_trials)
    if n < 0 or k < 1:
        raise ConfigError(
            "n_trials >= 0 and block_trials >= 1", found=f"{n_trials!r}, {block_trials!r}"
        )
    rng = _rng(seed)
    start = float(options.pop("start", 1.0))
    parts = []
    for b, first in enumerate(range(0, n, k)):
        task = schedule[b % len(schedule)]
        part = make_trials(
            task,
            min(k, n - first),
            cued_fraction=cued_fraction,
            seed=rng,
            iti=iti,
            start=start,
            **options,
        )
        part["block"] = b
        part["block_task"] = task.name
        parts.append(part)
        start = float(part["stop_time"].iloc[-1]) + float(iti[0])
    if not parts:
        empty = make_trials(schedule[0], 0)
        return empty.assign(block=np.zeros(0, dtype=np.int64), block_task=np.zeros(0, dtype=object))
    return pd.concat(parts, ignore_index=True)
