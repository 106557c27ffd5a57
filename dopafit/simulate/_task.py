"""Tasks (reward distributions per context), exact expectiles and utility functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dopafit.errors import ConfigError

__all__ = [
    "Task",
    "get_task",
    "get_schedule",
    "SCHEDULES",
    "expectile",
    "expectile_level",
    "Utility",
    "resolve_utility",
]

#: Magnitudes (ul) and probabilities of the Dabney et al. (2020) variable-magnitude task.
DABNEY_MAGNITUDES = (0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0)
DABNEY_PROBABILITIES = (0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077)
#: Reward (ul) of the variable-probability task; a choice of this package, not from a paper.
VARIABLE_PROBABILITY_MAGNITUDE = 5.0
#: The "rich" and "lean" tasks of the flip schedule: the Dabney magnitudes with probabilities
#: weighted towards the large (rich, mean 10.3 ul) or the small ones (lean, mean 1.6 ul); a
#: choice of this package for simulating learning tasks, not from a paper.
RICH_PROBABILITIES = (0.02, 0.03, 0.05, 0.10, 0.20, 0.30, 0.30)
LEAN_PROBABILITIES = RICH_PROBABILITIES[::-1]
#: Named schedules of tasks that alternate in blocks of trials (learning tasks).
SCHEDULES = {"flip": ("rich", "lean")}


def _distribution(magnitudes, probabilities, what: str) -> tuple[tuple, tuple]:
    mags = np.atleast_1d(np.asarray(magnitudes, dtype=np.float64))
    probs = np.atleast_1d(np.asarray(probabilities, dtype=np.float64))
    if mags.ndim != 1 or mags.size == 0 or probs.shape != mags.shape:
        raise ConfigError(
            f"{what}: magnitudes and probabilities as 1-D sequences of equal, non-zero length",
            found=f"shapes {mags.shape} and {probs.shape}",
            remedy="give one probability per magnitude",
        )
    if not np.all(np.isfinite(mags)):
        raise ConfigError(f"{what}: finite magnitudes", found=f"{mags.tolist()}")
    if len(np.unique(mags)) != mags.size:
        raise ConfigError(
            f"{what}: distinct magnitudes",
            found=f"{mags.tolist()}",
            remedy="merge repeated magnitudes and add their probabilities",
        )
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or probs.sum() <= 0:
        raise ConfigError(
            f"{what}: non-negative probabilities with a positive sum",
            found=f"{probs.tolist()}",
            remedy="give probabilities (or counts) >= 0",
        )
    order = np.argsort(mags)
    probs = probs[order] / probs.sum()
    return tuple(mags[order].tolist()), tuple(probs.tolist())


def cue_frequencies(freq, ids: list[int], what: str) -> tuple[tuple[int, float], ...]:
    """How often each cue is presented: ``(cue id, probability)`` pairs, normalised; equal
    when ``freq`` is None, else a mapping (or pairs) with exactly the cue ids as keys."""
    freq = (
        {c: 1.0 for c in ids}
        if freq is None
        else dict(freq.items() if isinstance(freq, Mapping) else freq)
    )
    if set(freq) != set(ids):
        raise ConfigError(
            f"{what}: cue_probabilities for exactly the cue ids",
            found=f"keys {sorted(freq)} for cues {ids}",
        )
    _, pr = _distribution(ids, [freq[c] for c in ids], f"{what} cue_probabilities")
    return tuple(zip(ids, pr))


@dataclass(frozen=True)
class Task:
    """A Pavlovian task: the reward distribution of uncued trials and of each cue.

    Parameters
    ----------
    magnitudes : sequence of float
        Distinct reward magnitudes (``reward_units``) of uncued trials, and of cued trials when
        ``cues`` is not given. Stored sorted.
    probabilities : sequence of float
        One probability (or count) per magnitude; normalised to sum 1.
    name : str
        Short name recorded in outputs.
    reward_units : str, default "ul"
        Units of the magnitudes.
    cue_delay : float, default 1.5
        Seconds from cue (odour) onset to reward on cued trials.
    cues : mapping of int to (magnitudes, probabilities), optional
        Reward distribution predicted by each cue id (integers >= 1). Default: one cue (id 1)
        predicting the same distribution as ``magnitudes``/``probabilities``.
    cue_probabilities : mapping of int to float, optional
        How often each cue is presented on cued trials. Default: equally often.

    Attributes
    ----------
    mean, sd : float
        Mean and standard deviation of the uncued distribution (reward units).
    support : ndarray, shape (K,)
        Sorted union of every magnitude of the task.
    cue_ids : tuple of int
        The cue ids.

    Examples
    --------
    >>> import dopafit
    >>> task = dopafit.get_task("dabney")
    >>> round(task.mean, 2), round(task.sd, 2)
    (5.21, 5.27)
    >>> coin = dopafit.Task([0.0, 4.0], [3, 1], name="coin")  # counts are normalised
    >>> coin.probabilities, coin.mean
    ((0.75, 0.25), 1.0)
    >>> ds = dopafit.simulate_responses(coin, n_units=2, n_trials=20)
    >>> sorted(set(ds["reward"].values.ravel().tolist()))
    [0.0, 4.0]
    """

    magnitudes: tuple[float, ...]
    probabilities: tuple[float, ...]
    name: str = "custom"
    reward_units: str = "ul"
    cue_delay: float = 1.5
    cues: tuple[tuple[int, tuple[float, ...], tuple[float, ...]], ...] | None = field(default=None)
    cue_probabilities: tuple[tuple[int, float], ...] | None = field(default=None)

    def __post_init__(self):
        mags, probs = _distribution(self.magnitudes, self.probabilities, "Task")
        object.__setattr__(self, "magnitudes", mags)
        object.__setattr__(self, "probabilities", probs)
        delay = float(self.cue_delay)
        if not np.isfinite(delay) or delay <= 0:
            raise ConfigError("Task: cue_delay > 0 (s)", found=f"{self.cue_delay!r}")
        object.__setattr__(self, "cue_delay", delay)
        cues = self.cues
        if cues is None:
            cues = {1: (mags, probs)}
        items = cues.items() if isinstance(cues, Mapping) else [(c[0], (c[1], c[2])) for c in cues]
        normal = []
        for cue_id, dist in items:
            if isinstance(cue_id, bool) or not isinstance(cue_id, (int, np.integer)) or cue_id < 1:
                raise ConfigError("Task: cue ids as integers >= 1", found=f"cue id {cue_id!r}")
            if len(dist) != 2:
                raise ConfigError(
                    f"Task: cue {cue_id} as (magnitudes, probabilities)", found=f"{dist!r}"
                )
            normal.append((int(cue_id), *_distribution(dist[0], dist[1], f"Task cue {cue_id}")))
        normal.sort()
        object.__setattr__(self, "cues", tuple(normal))
        ids = [c[0] for c in normal]
        freq = cue_frequencies(self.cue_probabilities, ids, "Task")
        object.__setattr__(self, "cue_probabilities", freq)

    @property
    def mean(self) -> float:
        """Mean reward of the uncued distribution."""
        return float(np.dot(self.magnitudes, self.probabilities))

    @property
    def sd(self) -> float:
        """Standard deviation of the uncued distribution."""
        m = np.asarray(self.magnitudes)
        return float(np.sqrt(np.dot((m - self.mean) ** 2, self.probabilities)))

    @property
    def cue_ids(self) -> tuple[int, ...]:
        """Cue ids (>= 1)."""
        return tuple(c[0] for c in self.cues)

    @property
    def support(self) -> np.ndarray:
        """Sorted union of all magnitudes, shape (K,)."""
        allm = list(self.magnitudes)
        for _, mags, _ in self.cues:
            allm.extend(mags)
        return np.unique(np.asarray(allm, dtype=np.float64))

    def distribution(self, cue_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Magnitudes and probabilities of a context (0 = uncued, otherwise a cue id)."""
        if cue_id == 0:
            return np.asarray(self.magnitudes), np.asarray(self.probabilities)
        for c, mags, probs in self.cues:
            if c == cue_id:
                return np.asarray(mags), np.asarray(probs)
        raise ConfigError(f"a cue id of task {self.name!r}: {self.cue_ids}", found=f"{cue_id!r}")

    def to_dict(self) -> dict:
        """JSON-friendly description (recorded in the attrs of simulated data)."""
        return {
            "name": self.name,
            "magnitudes": list(self.magnitudes),
            "probabilities": list(self.probabilities),
            "reward_units": self.reward_units,
            "cue_delay": self.cue_delay,
            "cues": {str(c): [list(m), list(p)] for c, m, p in self.cues},
            "cue_probabilities": {str(c): p for c, p in self.cue_probabilities},
        }


def get_task(name: str | Task = "dabney", **options) -> Task:
    """A named task.

    Parameters
    ----------
    name : {"dabney", "variable_magnitude", "variable_probability", "rich", "lean"} or Task
        ``"dabney"`` (alias ``"variable_magnitude"``): seven magnitudes 0.1, 0.3, 1.2, 2.5, 5,
        10, 20 ul with probabilities 0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077 (mean
        5.21 ul, SD 5.27 ul), one odour cue predicting the same distribution, reward 1.5 s
        after odour onset. ``"variable_probability"``: three cues (ids 1, 2, 3) predicting a
        fixed reward with probability 0.1, 0.5 and 0.9 (0 ul otherwise: an omission); uncued
        trials deliver the reward for sure. The reward is 5 ul (a choice of this package;
        change it with ``magnitude=``). ``"rich"`` and ``"lean"``: the Dabney magnitudes with
        probabilities 0.02, 0.03, 0.05, 0.10, 0.20, 0.30, 0.30 (rich, mean 10.3 ul) or the
        same in reverse (lean, mean 1.6 ul): the two blocks of the ``"flip"`` schedule (see
        :func:`get_schedule`). A Task is returned unchanged.
    **options
        ``magnitude`` (variable_probability), or any :class:`Task` field to override
        (e.g. ``cue_delay=2.0``).

    Returns
    -------
    Task

    Raises
    ------
    ConfigError
        Unknown name or option.

    Examples
    --------
    >>> import dopafit
    >>> task = dopafit.get_task("dabney")
    >>> task.magnitudes
    (0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0)
    >>> round(task.mean, 2), round(task.sd, 2)
    (5.21, 5.27)
    >>> vp = dopafit.get_task("variable_probability", magnitude=4.0)
    >>> vp.cue_ids, vp.support.tolist()
    ((1, 2, 3), [0.0, 4.0])
    """
    if isinstance(name, Task):
        if options:
            raise ConfigError("no options with a Task instance", found=f"{sorted(options)}")
        return name
    key = str(name).lower().replace("-", "_")
    if key in ("dabney", "variable_magnitude"):
        base = {"magnitudes": DABNEY_MAGNITUDES, "probabilities": DABNEY_PROBABILITIES}
        base["name"] = "dabney"
    elif key in ("rich", "lean"):
        probs = RICH_PROBABILITIES if key == "rich" else LEAN_PROBABILITIES
        base = {"magnitudes": DABNEY_MAGNITUDES, "probabilities": probs, "name": key}
    elif key == "variable_probability":
        mag = float(options.pop("magnitude", VARIABLE_PROBABILITY_MAGNITUDE))
        base = {
            "magnitudes": (mag,),
            "probabilities": (1.0,),
            "name": "variable_probability",
            "cues": {c: ((0.0, mag), (1 - p, p)) for c, p in ((1, 0.1), (2, 0.5), (3, 0.9))},
        }
    else:
        raise ConfigError(
            "a task name: dabney, variable_magnitude, variable_probability, rich or lean",
            found=f"{name!r}",
            remedy="or build one with dopafit.Task(magnitudes, probabilities)",
        )
    fields = set(Task.__dataclass_fields__)
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ConfigError(f"options among {sorted(fields)}", found=f"{unknown}")
    base.update(options)
    return Task(**base)


def get_schedule(tasks) -> tuple[Task, ...]:
    """Tasks that alternate in blocks of trials (a learning task whose distribution changes).

    Parameters
    ----------
    tasks : str, Task or sequence of them
        A schedule name of :data:`SCHEDULES` (``"flip"``: rich and lean alternating), a task
        name or Task (a schedule of one task: stationary), or several tasks.

    Returns
    -------
    tuple of Task
        Every task has the same magnitudes (support) and cue ids as the first.

    Raises
    ------
    ConfigError
        Tasks with different supports or cues.

    Examples
    --------
    >>> [t.name for t in get_schedule("flip")]
    ['rich', 'lean']
    >>> round(get_schedule("flip")[0].mean, 2), round(get_schedule("flip")[1].mean, 2)
    (10.32, 1.56)
    """
    if isinstance(tasks, str) and tasks.lower() in SCHEDULES:
        tasks = SCHEDULES[tasks.lower()]
    if isinstance(tasks, (str, Task)):
        tasks = (tasks,)
    out = tuple(get_task(t) for t in tasks)
    if not out:
        raise ConfigError("at least one task in a schedule", found="none")
    first = out[0]
    for t in out[1:]:
        same = t.support.shape == first.support.shape and np.allclose(t.support, first.support)
        if not same or t.cue_ids != first.cue_ids:
            raise ConfigError(
                "tasks of a schedule with the same magnitudes and cue ids",
                found=f"{first.name} {first.support.tolist()} cues {first.cue_ids} and "
                f"{t.name} {t.support.tolist()} cues {t.cue_ids}",
                remedy="give every task the same magnitudes (probability 0 is allowed)",
            )
    return out


def expectile(values, probabilities, tau) -> float | np.ndarray:
    """Exact τ-expectile(s) of a discrete distribution.

    Parameters
    ----------
    values : array_like, shape (K,)
        Support points (any order).
    probabilities : array_like, shape (K,)
        Probabilities (or weights) of the points, >= 0, positive sum.
    tau : float or array_like
        Level(s) in [0, 1].

    Returns
    -------
    float or ndarray
        The expectile(s), same shape as ``tau``.

    Notes
    -----
    The τ-expectile :math:`e` solves

    .. math:: \\tau\\,E[(Z - e)_+] = (1 - \\tau)\\,E[(e - Z)_+].

    :math:`g(e) = \\tau E[(Z-e)_+] - (1-\\tau) E[(e-Z)_+]` is continuous, decreasing and
    linear between consecutive support points :math:`v_k \\le e \\le v_{k+1}`, where the root
    is

    .. math::
        e = \\frac{\\tau S_{>k} + (1-\\tau) S_{\\le k}}{\\tau P_{>k} + (1-\\tau) P_{\\le k}},

    with :math:`P` and :math:`S` the probability and the probability-weighted sum of the
    points above / at-or-below :math:`v_k`. The segment is the one where :math:`g` changes
    sign, so the answer is exact up to rounding. τ = 0.5 gives the mean, τ = 0 the minimum,
    τ = 1 the maximum.

    Examples
    --------
    >>> import dopafit
    >>> dopafit.expectile([0.0, 1.0], [0.5, 0.5], 0.5)  # tau = 0.5: the mean
    0.5
    >>> round(dopafit.expectile([0.0, 1.0], [0.9, 0.1], 0.9), 12)  # tau p / (tau p + (1-tau)(1-p))
    0.5
    >>> task = dopafit.get_task("dabney")
    >>> dopafit.expectile(task.magnitudes, task.probabilities, [0.1, 0.5, 0.9]).round(2).tolist()
    [2.01, 5.21, 10.85]
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if v.shape != p.shape or v.size == 0:
        raise ConfigError("values and probabilities of equal non-zero length", found=f"{v.shape}")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(p)) and np.all(p >= 0) and p.sum() > 0):
        raise ConfigError("finite values and non-negative probabilities with a positive sum")
    keep = p > 0
    v, p = v[keep], p[keep] / p[keep].sum()
    order = np.argsort(v, kind="stable")
    v, p = v[order], p[order]
    t = np.asarray(tau, dtype=np.float64)
    if np.any(~np.isfinite(t)) or np.any((t < 0) | (t > 1)):
        raise ConfigError("tau in [0, 1]", found=f"{np.ravel(t)[:5].tolist()}")
    shape = t.shape
    t = t.ravel()
    if v.size == 1:
        out = np.full(t.shape, v[0])
    else:
        p_lo = np.cumsum(p)  # P(Z <= v_k)
        s_lo = np.cumsum(p * v)
        p_hi = 1.0 - p_lo
        s_hi = s_lo[-1] - s_lo
        # g at every knot, shape (n_tau, K): g(v_k) = tau (S_hi - P_hi v_k) - (1-tau)(P_lo v_k - S_lo)
        g = t[:, None] * (s_hi - p_hi * v) - (1 - t[:, None]) * (p_lo * v - s_lo)
        k = np.clip((g > 0).sum(axis=1) - 1, 0, v.size - 2)
        num = t * s_hi[k] + (1 - t) * s_lo[k]
        den = t * p_hi[k] + (1 - t) * p_lo[k]
        out = num / den
        out = np.clip(out, v[k], v[k + 1])  # rounding only
    return float(out[0]) if shape == () else out.reshape(shape)


def expectile_level(values, probabilities, e) -> float | np.ndarray:
    """The level τ whose τ-expectile is ``e`` (inverse of :func:`expectile`).

    .. math:: \\tau(e) = \\frac{E[(e - Z)_+]}{E[(Z - e)_+] + E[(e - Z)_+]}

    Values of ``e`` outside the support are clipped to it (τ = 0 or 1).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    p = p / p.sum()
    ee = np.asarray(e, dtype=np.float64)
    shape = ee.shape
    ee = np.clip(ee.ravel(), v.min(), v.max())
    above = (np.maximum(v[None, :] - ee[:, None], 0) * p).sum(axis=1)
    below = (np.maximum(ee[:, None] - v[None, :], 0) * p).sum(axis=1)
    total = above + below
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, below / np.where(total > 0, total, 1.0), 0.5)
    return float(out[0]) if shape == () else out.reshape(shape)


@dataclass(frozen=True, eq=False)
class Utility:
    """A utility resolved on a task's support: one strictly increasing value per magnitude.

    Attributes
    ----------
    support : ndarray, shape (K,)
        Magnitudes.
    values : ndarray, shape (K,)
        Utility of each magnitude.
    zero : float
        Utility of "no reward" (reference of cue responses): ``u(0)`` when known, else 0.
    description : str
        ``"identity"``, ``"callable <name>"`` or ``"array"``.
    """

    support: np.ndarray
    values: np.ndarray
    zero: float
    description: str

    def __call__(self, magnitudes) -> np.ndarray:
        """Utility of magnitudes from the support (NaN stays NaN)."""
        m = np.asarray(magnitudes, dtype=np.float64)
        out = np.full(m.shape, np.nan)
        ok = np.isfinite(m)
        idx = np.searchsorted(self.support, m[ok])
        idx = np.clip(idx, 0, self.support.size - 1)
        if not np.allclose(self.support[idx], m[ok], rtol=1e-12, atol=1e-12):
            raise ConfigError(
                f"reward magnitudes from the task support {self.support.tolist()}",
                found="other magnitudes",
                remedy="use a callable utility or a task listing every magnitude",
            )
        out[ok] = self.values[idx]
        return out

    @property
    def is_identity(self) -> bool:
        """Whether utility equals magnitude."""
        return self.description == "identity"

    def to_dict(self) -> dict:
        """JSON-friendly record."""
        return {
            "description": self.description,
            "magnitudes": self.support.tolist(),
            "values": self.values.tolist(),
            "zero": self.zero,
        }


def resolve_utility(utility, task: Task) -> Utility:
    """Resolve a utility spec (None, callable, array or :class:`Utility`) on a task.

    Parameters
    ----------
    utility : None, callable, array_like of shape (K,), or Utility
        None: identity (utility = magnitude). A callable is applied to the support; an array
        gives the utility of each magnitude of ``task.support`` in increasing order.
    task : Task

    Raises
    ------
    ConfigError
        Wrong length, non-finite values, or values not strictly increasing.
    """
    support = task.support
    if isinstance(utility, Utility):
        if utility.support.shape != support.shape or not np.allclose(utility.support, support):
            raise ConfigError(
                f"a utility defined on the task support {support.tolist()}",
                found=f"one on {utility.support.tolist()}",
            )
        return utility
    if utility is None:
        values, zero, desc = support.copy(), 0.0, "identity"
    elif isinstance(utility, Callable):
        values = np.asarray([float(utility(m)) for m in support])
        zero = float(utility(0.0))
        desc = f"callable {getattr(utility, '__name__', type(utility).__name__)}"
    else:
        values = np.asarray(utility, dtype=np.float64).ravel()
        if values.shape != support.shape:
            raise ConfigError(
                f"one utility value per task magnitude ({support.size}: {support.tolist()})",
                found=f"{values.size} value(s)",
            )
        hit = np.nonzero(support == 0.0)[0]
        zero = float(values[hit[0]]) if hit.size else 0.0
        desc = "array"
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise ConfigError(
            "a strictly increasing utility over the magnitudes",
            found=f"values {np.round(values, 6).tolist()}",
            remedy="pass a monotone utility function or array",
        )
    return Utility(support=support, values=values, zero=zero, description=desc)
