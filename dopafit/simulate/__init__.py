"""Simulate dopamine-neuron data with known ground truth.

Tasks × populations → trial responses (:func:`simulate_responses`), trial-by-trial learning
(:func:`simulate_learning`) or spike-train sessions (:func:`simulate_session`, written to NWB
by :func:`dopafit.write_nwb`); delay tasks give cue responses that discount the reward delay
(:func:`simulate_discounting`) or spike-train sessions (:func:`simulate_delay_session`).

Model
-----
A unit ``i`` responds to a reward of utility ``u`` (``u = r`` by default) with

.. math::

    f_i(u) = \\begin{cases} \\alpha^+_i (u - z_i) & u > z_i \\\\
                           \\alpha^-_i (u - z_i) & u \\le z_i \\end{cases}
    \\qquad \\tau_i = \\frac{\\alpha^+_i}{\\alpha^+_i + \\alpha^-_i}

(Hz). Populations differ in how reversal points ``z_i`` and slopes are set:

- ``classical``: ``z_i`` = the mean reward for everyone, τ = 0.5;
- ``distributional``: ``z_i`` = the τ_i-expectile of the reward distribution;
- ``bias``: diverse ``z_i``, symmetric slopes (τ = 0.5);
- ``sigmoid``: ``f_i(u) = A_i (s_i(u) - E[s_i(U)])`` with sigmoid ``s_i`` (efficient coding).

All randomness comes from one ``numpy.random.Generator`` seeded by ``seed``: the same seed
gives identical output whatever the thread count.

Examples
--------
>>> from dopafit.simulate import expectile, get_task
>>> task = get_task("dabney")
>>> round(expectile(task.magnitudes, task.probabilities, 0.5), 4)
5.209
"""

from dopafit.simulate._delay import (
    DISCOUNT_KINDS,
    DelayTask,
    get_delay_task,
    simulate_discounting,
)
from dopafit.simulate._delay_session import simulate_delay_session
from dopafit.simulate._population import KINDS, POPULATION_COLUMNS, make_population
from dopafit.simulate._responses import simulate_learning, simulate_responses
from dopafit.simulate._session import PRESETS, preset_sessions, simulate_session
from dopafit.simulate._task import (
    SCHEDULES,
    Task,
    Utility,
    expectile,
    expectile_level,
    get_schedule,
    get_task,
    resolve_utility,
)
from dopafit.simulate._trials import make_block_trials, make_trials, trial_type_codes

__all__ = [
    "Task",
    "get_task",
    "get_schedule",
    "SCHEDULES",
    "expectile",
    "expectile_level",
    "Utility",
    "resolve_utility",
    "KINDS",
    "POPULATION_COLUMNS",
    "make_population",
    "make_trials",
    "make_block_trials",
    "trial_type_codes",
    "simulate_responses",
    "simulate_session",
    "simulate_learning",
    "PRESETS",
    "preset_sessions",
    "DelayTask",
    "get_delay_task",
    "DISCOUNT_KINDS",
    "simulate_discounting",
    "simulate_delay_session",
]
