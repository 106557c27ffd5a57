"""responses_from_spikes / responses_from_signal: column mapping, extraction, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dopafit import schema
from dopafit.errors import (
    ConfigError,
    DopafitWarning,
    EventTimesError,
    MissingColumnError,
    NoDataError,
    SpikeTimesError,
)
from dopafit.io.photometry import responses_from_signal
from dopafit.io.tables import responses_from_spikes

MAGS = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])


def _task(rng, n_trial=80, gap=8.0):
    onset = 2.0 + gap * np.arange(n_trial) + rng.uniform(0, 1, n_trial)
    cued = rng.random(n_trial) < 0.5
    reward = MAGS[rng.integers(0, 7, n_trial)]
    return pd.DataFrame(
        {
            "start_time": onset - 1.0,
            "stop_time": onset + 3.0,
            "reward": reward,
            "reward_time": np.where(cued, onset + 1.5, onset),
            "cued": cued,
            "cue_time": np.where(cued, onset, np.nan),
            "cue_id": cued.astype(int),
            "trial_type": np.where(cued, 8, 1) + np.searchsorted(MAGS, reward),
        }
    )


def _spikes(rng, trials, n_unit=3, rate=5.0):
    t_end = float(trials["stop_time"].max()) + 5
    out = []
    for _ in range(n_unit):
        s = rng.uniform(0, t_end, rng.poisson(rate * t_end))
        extra = np.concatenate(
            [
                r + rng.uniform(0.2, 0.6, rng.poisson(0.2 * m))
                for r, m in zip(trials["reward_time"], trials["reward"])
            ]
        )
        out.append(np.sort(np.concatenate([s, extra])))
    return out


def _reference(train, trials, window=(0.2, 0.6), baseline=(-1.0, 0.0)):
    a = trials["reward_time"].to_numpy()
    first = np.where(np.isfinite(trials["cue_time"]), trials["cue_time"], a)
    n_w = np.searchsorted(train, a + window[1]) - np.searchsorted(train, a + window[0])
    n_b = np.searchsorted(train, first + baseline[1]) - np.searchsorted(train, first + baseline[0])
    return n_w, n_b, n_w / (window[1] - window[0]) - n_b / (baseline[1] - baseline[0])


def test_counts_and_responses_match_a_numpy_reference():
    rng = np.random.default_rng(0)
    trials = _task(rng)
    trains = _spikes(rng, trials)
    ds = responses_from_spikes(trains, trials, unit_ids=["a", "b", "c"], session="s1")
    schema.validate_responses(ds)
    for u, train in enumerate(trains):
        n_w, n_b, resp = _reference(train, trials)
        np.testing.assert_array_equal(ds["window_count"].values[u], n_w)
        np.testing.assert_array_equal(ds["baseline_count"].values[u], n_b)
        np.testing.assert_allclose(ds["response"].values[u], resp, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ds["reward"].values[0], trials["reward"])
    np.testing.assert_array_equal(ds["cued"].values[1], trials["cued"])
    assert ds.attrs["window"] == [0.2, 0.6] and ds.attrs["align"] == "reward_time"
    assert ds.attrs["columns"]["cue_time"] == "cue_time"
    assert list(ds["unit_id"].values) == ["a", "b", "c"]
    assert ds["baseline_rate"].values[0] == pytest.approx(ds["baseline"].values[0].mean())


def test_dict_input_aliases_and_relative_times():
    rng = np.random.default_rng(1)
    trials = _task(rng, 30)
    for c in ("start_time", "stop_time", "reward_time", "cue_time"):
        trials[c] += 100.0  # the session starts late: relative times precede every trial
    trains = _spikes(rng, trials, 1)
    ref = responses_from_spikes(trains, trials)
    renamed = trials.rename(columns={"reward": "reward_volume", "cue_time": "odor_time"})
    alias = responses_from_spikes({"u": trains[0]}, renamed)
    np.testing.assert_array_equal(alias["response"].values, ref["response"].values)
    assert alias.attrs["columns"]["reward"] == "reward_volume"
    rel = trials.copy()
    for c in ("reward_time", "cue_time"):
        rel[c] = rel[c] - rel["start_time"]
    with pytest.warns(DopafitWarning, match="times_relative_to"):
        responses_from_spikes(trains, rel)
    fixed = responses_from_spikes(trains, rel, times_relative_to="start_time")
    np.testing.assert_allclose(fixed["response"].values, ref["response"].values, atol=1e-9)


def test_align_offset_baseline_event_and_window_options():
    rng = np.random.default_rng(2)
    trials = _task(rng, 40)
    trains = _spikes(rng, trials, 1)
    trials["onset"] = np.where(trials["cued"], trials["cue_time"], trials["reward_time"])
    ds = responses_from_spikes(
        trains,
        trials,
        align="start_time",
        offset=1.0,
        baseline_event="align",
        window=(0.0, 0.5),
        baseline=(-0.5, 0.0),
    )
    s = trains[0]
    a = trials["start_time"].to_numpy() + 1.0
    n_w = np.searchsorted(s, a + 0.5) - np.searchsorted(s, a)
    n_b = np.searchsorted(s, a) - np.searchsorted(s, a - 0.5)
    np.testing.assert_allclose(ds["response"].values[0], (n_w - n_b) / 0.5)
    by_col = responses_from_spikes(trains, trials, baseline_event="onset")
    first = responses_from_spikes(trains, trials)
    np.testing.assert_array_equal(by_col["response"].values, first["response"].values)
    assert ds.attrs["offset"] == 1.0 and ds.attrs["baseline_event"] == "align"


def test_reward_map_constant_and_selection():
    rng = np.random.default_rng(3)
    trials = _task(rng, 30)
    trials["outcome"] = np.where(np.arange(30) % 3 == 0, "miss", "hit")
    trials["good"] = (np.arange(30) % 2).astype(np.int32)
    trains = _spikes(rng, trials, 1)
    ds = responses_from_spikes(trains, trials, reward="outcome", reward_map={"hit": 1.0})
    assert np.isfinite(ds["reward"].values).sum() == 20
    assert ds.attrs["n_trials_dropped"]["no_reward"] == 10
    ds = responses_from_spikes(trains, trials, reward=2.0, select="good")
    assert (ds["reward"].values == 2.0).sum() == 15
    assert ds.attrs["n_trials_dropped"]["selection"] == 15
    ds = responses_from_spikes(trains, trials, select="good == 1 and outcome == 'hit'")
    keep = (trials["good"] == 1) & (trials["outcome"] == "hit")
    np.testing.assert_array_equal(ds["trial_index"].values[0], np.nonzero(keep)[0])
    with pytest.raises(ConfigError, match="reward_map"):
        responses_from_spikes(trains, trials, reward="outcome")
    with pytest.raises(ConfigError, match="outcome"):
        responses_from_spikes(trains, trials, select="nonexistent > 1")
    with pytest.raises(ConfigError, match="boolean"):
        responses_from_spikes(trains, trials, select="outcome")
    with pytest.raises(ConfigError, match="a dict") as info:  # a mapping is not a selection
        responses_from_spikes(trains, trials, select={"good": 1})
    assert "query string" in str(info.value) and "select=" in str(info.value)
    with pytest.raises(ConfigError, match="30 booleans") as info:
        responses_from_spikes(trains, trials, select=[True] * 29)
    assert "found 29 values" in str(info.value)
    mask = (trials["good"] == 1).to_numpy()
    assert (
        responses_from_spikes(trains, trials, select=mask).attrs["n_trials_dropped"]["selection"]
        == 15
    )


def test_missing_columns_list_what_exists():
    trials = pd.DataFrame({"start_time": [1.0], "odor": ["a"], "go_time": [2.0]})
    with pytest.raises(MissingColumnError) as info:
        responses_from_spikes([np.array([1.0])], trials)
    msg = str(info.value)
    assert "reward" in msg and "start_time" in msg and "odor" in msg and "Fix:" in msg
    trials["reward"] = 1.0
    with pytest.raises(MissingColumnError, match="go_time") as info:
        responses_from_spikes([np.array([1.0])], trials)
    assert "align=" in str(info.value)


def test_nan_event_times_dropped_with_warning():
    rng = np.random.default_rng(4)
    trials = _task(rng, 20)
    trains = _spikes(rng, trials, 1)
    trials.loc[[3, 7], "reward_time"] = np.nan
    with pytest.warns(DopafitWarning, match="dropped 2 trial"):
        ds = responses_from_spikes(trains, trials)
    assert ds.attrs["n_trials_dropped"]["nan_event"] == 2
    assert np.isfinite(ds["reward"].values).sum() == 18
    trials["reward_time"] = np.nan
    with pytest.raises(EventTimesError, match="NaN on all"):
        responses_from_spikes([np.array([1.0])], trials)


def test_unrewarded_only_is_no_data():
    trials = pd.DataFrame({"reward": [np.nan, np.nan], "reward_time": [1.0, 2.0]})
    with pytest.raises(NoDataError, match="no_reward 2"):
        responses_from_spikes([np.array([1.0])], trials)


def test_spike_time_errors_and_sort_option():
    trials = pd.DataFrame({"reward": [1.0, 2.0], "reward_time": [2.0, 6.0]})
    bad = [np.array([1.0, 3.0, 2.0, 6.3]), np.array([1.0, np.nan, 6.25])]
    with pytest.raises(SpikeTimesError) as info:
        responses_from_spikes(bad, trials, unit_ids=["x", "y"])
    msg = str(info.value)
    assert "unit x: 1 decreasing" in msg and "unit y: 1 NaN" in msg and "sort_spikes=True" in msg
    ds = responses_from_spikes(bad, trials, sort_spikes=True)
    assert ds.attrs["spike_fixes"] == {"nan_spikes_removed": 1, "units_sorted": 1}
    assert ds["n_spikes"].values.tolist() == [4, 2]


def test_unit_flags_for_silent_units_and_missing_magnitudes():
    trials = pd.DataFrame({"reward": [1.0, 5.0], "reward_time": [2.0, 6.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = responses_from_spikes([np.zeros(0), np.array([50.0]), np.array([6.3])], trials)
    flags = ds["unit_flags"].values.tolist()
    assert flags == ["no_spikes", "no_trial_spikes", ""]
    texts = [str(w.message) for w in caught if issubclass(w.category, DopafitWarning)]
    assert any("no spikes at all" in t for t in texts)
    assert ds["response"].values[0].tolist() == [0.0, 0.0]  # kept, not dropped


def test_faithful_cap_keeps_the_first_trials_per_type():
    rng = np.random.default_rng(5)
    trials = _task(rng, 150, gap=5.0)
    trials["trial_type"] = 1 + (np.arange(150) % 2)  # two types, 75 trials each
    trains = _spikes(rng, trials, 1)
    ds = responses_from_spikes(trains, trials, faithful=True)
    assert ds.attrs["max_trials_per_type"] == 60 and ds.attrs["n_trials_dropped"]["cap"] == 30
    idx = ds["trial_index"].values[0]
    assert idx.tolist() == list(range(120))
    ds = responses_from_spikes(trains, trials, faithful=True, max_trials_per_type=None)
    assert np.isfinite(ds["response"].values).sum() == 150
    default = responses_from_spikes(trains, trials)
    assert default.attrs["max_trials_per_type"] is None


def test_faithful_mode_close_to_count_mode():
    # the smoothed PSTH spreads spikes by ~20 ms, so on the same trials the two modes agree
    # up to edge spill-over; averaged over many trials the difference is small
    rng = np.random.default_rng(6)
    trials = _task(rng, 120)
    trains = _spikes(rng, trials, 2, rate=6.0)
    f = responses_from_spikes(trains, trials, faithful=True, max_trials_per_type=None)
    c = responses_from_spikes(trains, trials)
    diff = (f["response"] - c["response"]).values
    assert abs(np.nanmean(diff)) < 0.5
    assert np.corrcoef(f["response"].values.ravel(), c["response"].values.ravel())[0, 1] > 0.9


def test_psth_window_mean_equals_response():
    rng = np.random.default_rng(7)
    trials = _task(rng, 25)
    trains = _spikes(rng, trials, 2)
    ds = responses_from_spikes(trains, trials, psth=True, psth_bin=0.05, psth_range=(-1.0, 1.0))
    assert ds["psth"].dims == ("unit", "trial", "time") and ds["time"].size == 40
    in_win = (ds["time"] > 0.2) & (ds["time"] < 0.6)
    np.testing.assert_allclose(
        ds["psth"].where(in_win).mean("time").values, ds["response"].values, atol=1e-4
    )
    ff = responses_from_spikes(
        trains, trials, psth=True, faithful=True, psth_bin=0.001, psth_range=(0.2, 0.6)
    )
    np.testing.assert_allclose(ff["psth"].mean("time").values, ff["response"].values, atol=1e-3)


def test_bad_options():
    trials = pd.DataFrame({"reward": [1.0], "reward_time": [2.0]})
    with pytest.raises(ConfigError, match="window"):
        responses_from_spikes([np.array([1.0])], trials, window=(0.6, 0.2))
    with pytest.raises(ConfigError, match="max_trials_per_type"):
        responses_from_spikes([np.array([1.0])], trials, max_trials_per_type=0)


def test_signal_responses():
    rng = np.random.default_rng(8)
    t = np.arange(0, 200, 0.01)
    trials = _task(rng, 20)
    true = rng.normal(size=20)
    y = np.zeros((t.size, 2))
    for r, amp in zip(trials["reward_time"], true):
        y[(t >= r + 0.2) & (t < r + 0.6), 0] += amp
    y[:, 1] = 2 * y[:, 0] + 1.0
    ds = responses_from_signal(t, y, trials, channel_ids=["g", "r"], response_units="dF/F")
    np.testing.assert_allclose(ds["response"].values[0], true, atol=1e-9)
    np.testing.assert_allclose(ds["response"].values[1], 2 * true, atol=1e-9)
    assert ds.attrs["response_units"] == "dF/F"
    with pytest.raises(ConfigError, match="faithful"):
        responses_from_signal(t, y, trials, faithful=True)
    with pytest.raises(EventTimesError, match="increasing, finite sample timestamps; found decr"):
        responses_from_signal(t[::-1], y, trials)


def test_loaders_take_every_extraction_option_as_a_keyword():
    import dataclasses
    import inspect

    from dopafit.io.nwb import load_nwb
    from dopafit.io.tables import ExtractionOptions

    names = {f.name for f in dataclasses.fields(ExtractionOptions)} - {"extra"}
    defaults = ExtractionOptions()
    for loader in (load_nwb, responses_from_spikes):
        params = inspect.signature(loader).parameters
        assert names <= set(params), (loader.__name__, names - set(params))
        for name in names:  # the loaders' defaults are the options' defaults
            assert params[name].default == getattr(defaults, name), (loader.__name__, name)
    picked = ExtractionOptions.pick({"window": (0.1, 0.5), "faithful": True, "paths": "x"})
    assert picked.window == (0.1, 0.5) and picked.faithful and picked.baseline == (-1.0, 0.0)


@pytest.mark.parametrize(
    "option",
    [
        {"window": "ab"},
        {"window": 5},
        {"baseline": (None, 1.0)},
        {"psth_range": ("a", "b")},
        {"psth_bin": "x"},
        {"offset": "0.1"},
        {"offset": None},
    ],
)
def test_malformed_times_are_config_errors(option):
    trials = pd.DataFrame({"reward": [1.0, 5.0], "reward_time": [2.0, 6.0]})
    (name,) = option
    with pytest.raises(ConfigError, match=name) as info:
        responses_from_spikes([np.array([1.5, 2.3])], trials, **option)
    assert repr(option[name]) in str(info.value)
