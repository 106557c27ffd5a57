"""Hypothesis strategies of degenerate but valid inputs: tiny responses Datasets, sessions and
(tau, reversal point) pairs.

A drawn responses Dataset has one subject and one session, 1-3 units of 2-12 trials (padded
to the longest unit), rewards at 1-3 magnitudes, responses of one of the kinds in
:data:`RESPONSE_KINDS` per unit, cue layout all / none / mixed, and the probability-task
coordinate ``reward_probability`` (cue probabilities among 0.1, 0.5, 0.9, some absent).
Structure is drawn by hypothesis; values come from a numpy generator seeded by a drawn integer,
so that examples stay small and reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import dopafit
from dopafit.session import Session

MAGNITUDES = (0.1, 1.2, 5.0, 20.0, 0.0)
RESPONSE_KINDS = ("normal", "constant", "all_nan", "sprinkled_nan", "one_finite", "extreme")
CUE_LAYOUTS = ("all", "none", "mixed")
PROBABILITY_LEVELS = (0.1, 0.5, 0.9)


def _responses(rng, kind: str, reward: np.ndarray) -> np.ndarray:
    if kind == "constant":
        return np.full(reward.shape, float(rng.choice([0.0, 1.5])))
    if kind == "all_nan":
        return np.full(reward.shape, np.nan)
    resp = reward - np.nanmedian(reward) + rng.normal(0.0, 1.0, reward.shape)
    if kind == "sprinkled_nan":
        resp[rng.random(reward.shape) < 0.4] = np.nan
    elif kind == "one_finite":
        resp[np.arange(resp.size) != rng.integers(resp.size)] = np.nan
    elif kind == "extreme":  # far from any real rate, finite
        resp = resp * float(rng.choice([1e12, 1e160, 1e-160]))
    return resp


@st.composite
def responses_datasets(draw):
    """A degenerate responses Dataset with a ``reward_probability`` (unit, trial) coordinate."""
    n_unit = draw(st.integers(1, 3))
    n_trials = draw(st.lists(st.integers(2, 12), min_size=n_unit, max_size=n_unit))
    n_mag = draw(st.sampled_from((3, 2, 1)))
    mags = np.array(sorted(draw(st.permutations(MAGNITUDES))[:n_mag]))
    kinds = draw(st.lists(st.sampled_from(RESPONSE_KINDS), min_size=n_unit, max_size=n_unit))
    cues = draw(st.sampled_from(CUE_LAYOUTS))
    n_levels = draw(st.sampled_from((3, 2, 1, 3)))
    levels = np.array(PROBABILITY_LEVELS[:n_levels])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    width = max(n_trials)
    reward = np.full((n_unit, width), np.nan)
    response = np.full((n_unit, width), np.nan)
    cued = np.zeros((n_unit, width), dtype=bool)
    prob = np.full((n_unit, width), np.nan)
    for u, (n, kind) in enumerate(zip(n_trials, kinds)):
        reward[u, :n] = rng.choice(mags, size=n)
        response[u, :n] = _responses(rng, kind, reward[u, :n])
        if cues == "all":
            cued[u, :n] = True
        elif cues == "mixed":
            cued[u, :n] = rng.random(n) < 0.5
        prob[u, :n] = rng.choice(levels, size=n)
    ds = dopafit.make_responses(
        response,
        reward,
        cued=cued,
        unit_id=[f"u{u}" for u in range(n_unit)],
        session=["s0"] * n_unit,
        subject=["m0"] * n_unit,
        baseline_rate=np.where(rng.random(n_unit) < 0.3, np.nan, rng.uniform(2.0, 6.0, n_unit)),
    )
    return ds.assign_coords(reward_probability=(("unit", "trial"), prob))


@st.composite
def decode_inputs(draw):
    """``(tau, reversal_point, bounds)``: 1-5 pairs, with NaN, equal values or tau at 0 / 1."""
    n = draw(st.integers(1, 5))
    layout = draw(st.sampled_from(("random", "equal", "with_nan", "edges", "all_nan")))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    lo, hi = draw(st.sampled_from(((0.0, 1.0), (0.1, 20.0), (-1.0, 1.0))))
    tau = rng.uniform(0.0, 1.0, n)
    rev = rng.uniform(lo, hi, n)
    if layout == "equal":
        tau[:] = tau[0]
        rev[:] = rev[0]
    elif layout == "with_nan":
        tau[rng.random(n) < 0.5] = np.nan
        rev[rng.random(n) < 0.3] = np.nan
    elif layout == "edges":
        tau = rng.choice([0.0, 1.0], n)
        rev = rng.choice([lo, hi], n)
    elif layout == "all_nan":
        tau[:] = np.nan
    return tau, rev, (lo, hi)


@st.composite
def sessions(draw):
    """A tiny :class:`~dopafit.session.Session`: 1-3 units (silent, one spike, Poisson or
    reward-tuned), 2-16 trials at 1-3 magnitudes, all cued, none cued or mixed; one subject
    and session."""
    n_unit = draw(st.integers(1, 3))
    n_trial = draw(st.integers(2, 16))
    n_mag = draw(st.sampled_from((3, 2, 1, 3)))
    cues = draw(st.sampled_from(CUE_LAYOUTS))
    spikes = draw(
        st.lists(
            st.sampled_from(("tuned", "silent", "poisson", "one")), min_size=n_unit, max_size=n_unit
        )
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    mags = np.array(MAGNITUDES[:n_mag])

    start = 2.0 + 4.0 * np.arange(n_trial)
    reward = rng.permutation(np.resize(mags, n_trial))  # every magnitude present if it fits
    if cues == "all":
        cued = np.ones(n_trial, dtype=bool)
    elif cues == "none":
        cued = np.zeros(n_trial, dtype=bool)
    else:
        cued = rng.random(n_trial) < 0.5
    cue_time = np.where(cued, start + 0.5, np.nan)
    reward_time = start + 2.0
    trials = pd.DataFrame(
        {
            "start_time": start,
            "stop_time": start + 3.5,
            "reward": reward,
            "reward_time": reward_time,
            "cued": cued,
            "cue_time": cue_time,
            "cue_id": cued.astype(np.int64),
            "trial_type": cued.astype(np.int64),
        }
    )
    end = float(start[-1] + 4.0)
    spike_times = []
    for kind in spikes:
        if kind == "silent":
            times = np.array([], dtype=np.float64)
        elif kind == "one":
            times = np.array([float(reward_time[0]) + 0.3])
        elif kind == "poisson":
            times = np.sort(rng.uniform(0.0, end, rng.poisson(5.0 * end)))
        else:  # a burst after each reward, more spikes for larger rewards
            times = np.concatenate(
                [t + 0.25 + 0.3 * rng.random(1 + int(r)) for t, r in zip(reward_time, reward)]
            )
            times = np.sort(times)
        spike_times.append(times)
    units = pd.DataFrame({"unit_id": [f"u{u}" for u in range(n_unit)]})
    return Session(
        spike_times=spike_times,
        trials=trials,
        units=units,
        session_id="s0",
        subject_id="m0",
    )


POOL_MODES = ("auto", "offset", "none", "cued", "uncued")


@st.composite
def fit_options(draw):
    """Small split, fold and bootstrap counts and a cue pooling of :func:`fit_expectiles`."""
    return {
        "n_splits": draw(st.sampled_from((3, 1, 0))),
        "n_folds": draw(st.sampled_from((2, 0, 7))),
        "n_boot": draw(st.sampled_from((5, 0, 1))),
        "pool_cued": draw(st.sampled_from(POOL_MODES)),
    }


@st.composite
def compare_options(draw):
    """Fitting options and the noise model of :func:`dopafit.compare`."""
    return {
        "method": draw(st.sampled_from(("count", "kink"))),
        "axis": draw(st.sampled_from(("utility", "reward", "zscore"))),
        "pool_cued": draw(st.sampled_from(POOL_MODES)),
        "n_folds": draw(st.sampled_from((2, 0, 7))),
        "noise": draw(st.sampled_from(("gaussian", "residual"))),
    }
