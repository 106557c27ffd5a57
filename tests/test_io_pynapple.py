"""responses_from_pynapple: pynapple objects built here and read by pynapple.load_file give the
numbers of the matching responses_from_spikes / responses_from_signal / load_nwb call."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dandi import DANDI_FILES, DANDI_OPTIONS

import dopafit
from dopafit import schema
from dopafit.errors import ConfigError, DopafitWarning, MissingColumnError

nap = pytest.importorskip("pynapple", reason="the pynapple extra is not installed")

#: pynapple sorts the spike times itself: the mapping without sort_spikes
PYNAPPLE_OPTIONS = {k: v for k, v in DANDI_OPTIONS.items() if k != "sort_spikes"}

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data_samples").glob("*.nwb"))
MAGS = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
#: the variables (unit, trial) both extractions give
SAME = ("response", "reward", "cued", "event_time", "baseline", "window_count", "baseline_count")


def _task(rng, n_trial=60, gap=8.0):
    onset = 2.0 + gap * np.arange(n_trial) + rng.uniform(0, 1, n_trial)
    cued = rng.random(n_trial) < 0.5
    return pd.DataFrame(
        {
            "start_time": onset - 1.0,
            "stop_time": onset + 3.0,
            "reward": MAGS[rng.integers(0, 7, n_trial)],
            "reward_time": np.where(cued, onset + 1.5, onset),
            "cued": cued,
            "cue_time": np.where(cued, onset, np.nan),
            "outcome": np.where(rng.random(n_trial) < 0.8, "correct", "miss"),
        }
    )


def _trains(rng, trials, n_unit=3):
    t_end = float(trials["stop_time"].max()) + 5
    trains = []
    for _ in range(n_unit):
        s = rng.uniform(0, t_end, rng.poisson(5 * t_end))
        extra = np.concatenate(
            [
                r + rng.uniform(0.2, 0.6, rng.poisson(m))
                for r, m in trials[["reward_time", "reward"]].to_numpy()
            ]
        )
        trains.append(np.sort(np.concatenate([s, extra])))
    return trains


def _intervals(trials: pd.DataFrame):
    meta = trials.drop(columns=["start_time", "stop_time"])
    return nap.IntervalSet(
        start=trials["start_time"].to_numpy(),
        end=trials["stop_time"].to_numpy(),
        metadata={c: meta[c].to_numpy() for c in meta.columns},
    )


def _assert_same(ds, ref, names=SAME):
    for name in names:
        np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)
    assert ds["unit_id"].values.tolist() == ref["unit_id"].values.tolist()
    for key in ("window", "baseline", "align", "response_units", "reward_units"):
        assert ds.attrs[key] == ref.attrs[key], key


def test_tsgroup_and_intervalset_equal_responses_from_spikes():
    rng = np.random.default_rng(0)
    trials = _task(rng)
    trains = _trains(rng, trials)
    units = nap.TsGroup(
        {k: nap.Ts(t) for k, t in zip((3, 7, 9), trains)},
        metadata={
            "depth": [120.0, 250.0, 310.0],
            "location": ["VTA", "VTA", "SNc"],
            "true_tau": [0.2, 0.5, 0.8],  # ground truth: a per-unit variable, as load_nwb
            "session": ["x", "y", "z"],  # a name dopafit uses: renamed
        },
    )
    options = dict(
        reward="outcome",
        reward_map={"correct": 1.0, "miss": 0.0},
        select="cued == False",
        window=(0.1, 0.5),
        baseline=(-0.5, 0.0),
        psth=True,
    )
    ds = dopafit.responses_from_pynapple(units, _intervals(trials), session="s1", **options)
    ref = dopafit.responses_from_spikes(
        trains,
        trials,
        unit_ids=["3", "7", "9"],
        session="s1",
        unit_vars={"true_tau": [0.2, 0.5, 0.8]},
        **options,
    )
    _assert_same(ds, ref, (*SAME, "psth", "trial_index"))
    np.testing.assert_array_equal(ds["true_tau"].values, [0.2, 0.5, 0.8])
    assert "true_tau" in ds.data_vars
    assert ds["location"].values.tolist() == ["VTA", "VTA", "SNc"]
    assert ds["depth"].dims == ("unit",) and "depth" in ds.coords
    assert ds["pynapple_session"].values.tolist() == ["x", "y", "z"]
    assert ds["session"].values.tolist() == ["s1"] * 3
    np.testing.assert_allclose(ds["rate"].values, units.metadata["rate"].to_numpy())
    assert ds.attrs["input"] == "pynapple TsGroup with IntervalSet trials"
    assert ds.attrs["n_trials_dropped"]["selection"] == int(trials["cued"].sum())


def test_unit_id_metadata_a_single_ts_and_a_dataframe_of_trials():
    rng = np.random.default_rng(1)
    trials = _task(rng, 30)
    trains = _trains(rng, trials, 2)
    units = nap.TsGroup(
        {0: nap.Ts(trains[0]), 1: nap.Ts(trains[1])}, metadata={"unit_id": ["a", "b"]}
    )
    ds = dopafit.responses_from_pynapple(units, trials)  # a DataFrame is taken as it is
    assert ds["unit_id"].values.tolist() == ["a", "b"] and "pynapple_unit_id" not in ds
    one = dopafit.responses_from_pynapple(nap.Ts(trains[1]), _intervals(trials))
    np.testing.assert_array_equal(one["response"].values[0], ds["response"].values[1])
    assert one["unit_id"].values.tolist() == ["0"]


def test_tsd_and_tsdframe_equal_responses_from_signal():
    rng = np.random.default_rng(2)
    trials = _task(rng, 25)
    t = np.arange(0.0, float(trials["stop_time"].max()) + 2, 1 / 30)
    y = np.column_stack([np.sin(t) + rng.normal(0, 0.1, t.size), rng.normal(0, 1, t.size)])
    frame = nap.TsdFrame(t=t, d=y, columns=["green", "red"], metadata={"fibre": ["f1", "f2"]})
    ds = dopafit.responses_from_pynapple(frame, _intervals(trials), window=(0.1, 0.6))
    ref = dopafit.responses_from_signal(
        t, y, trials, channel_ids=["green", "red"], window=(0.1, 0.6)
    )
    _assert_same(ds, ref)
    assert ds["fibre"].values.tolist() == ["f1", "f2"]
    single = dopafit.responses_from_pynapple(
        nap.Tsd(t=t, d=y[:, 0]), _intervals(trials), response_units="dF/F", window=(0.1, 0.6)
    )
    np.testing.assert_array_equal(single["response"].values[0], ref["response"].values[0])
    assert single.attrs["response_units"] == "dF/F"


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_files_read_by_pynapple_equal_load_nwb(path):
    nwb = nap.load_file(str(path))
    ref = dopafit.load_nwb(path)
    ds = dopafit.responses_from_pynapple(
        nwb["units"],
        nwb["trials"],
        session=ref["session"].values[0],
        subject=ref["subject"].values[0],
        source=str(path),
    )
    _assert_same(ds, ref, (*SAME, "trial_type", "cue_id", "trial_index"))
    assert ds.attrs["source"] == ref.attrs["source"]
    for name in ref.data_vars:  # ground truth and the per-unit flags alike
        np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)
    fit = dopafit.fit_expectiles(ds, n_splits=0, n_boot=0)
    fit_ref = dopafit.fit_expectiles(ref, n_splits=0, n_boot=0)
    np.testing.assert_array_equal(fit["tau"].values, fit_ref["tau"].values)


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore:timestamps are not sorted")
@pytest.mark.parametrize("name", DANDI_FILES)
def test_dandi_files_trials_dropped_by_pynapple_then_read_as_a_dataframe(shared_data, name):
    path = shared_data / "nwb" / name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nwb = nap.load_file(str(path))
        trials = nwb["trials"]
    # every trial has stop_time NaN: pynapple drops them all, with their columns
    assert len(trials) == 0 and not len(trials.metadata_columns)
    assert any("NaN start/end" in str(w.message) for w in caught)
    with pytest.raises(MissingColumnError) as info:
        dopafit.responses_from_pynapple(nwb["units"], trials, **PYNAPPLE_OPTIONS)
    text = str(info.value)
    assert "no metadata" in text and "nwb.nwb.trials.to_dataframe()" in text and "\n" not in text
    frame = nwb.nwb.trials.to_dataframe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DopafitWarning)
        ds = dopafit.responses_from_pynapple(nwb["units"], frame, **PYNAPPLE_OPTIONS)
        ref = dopafit.load_nwb(path, **DANDI_OPTIONS)
    # pynapple sorts the unsorted spike times itself: no sort_spikes=True needed
    _assert_same(ds, ref, SAME)
    assert ds.sizes == ref.sizes


@pytest.mark.realdata
def test_photometry_file_tsd_equals_load_nwb(shared_data):
    path = shared_data / "nwb" / "neuroconv_doric_fiber_photometry.nwb"
    nwb = nap.load_file(str(path))
    series = nwb["FiberPhotometryResponseSeries"]
    trials = pd.DataFrame({"reward": [1.0, 2.0], "reward_time": [1.2, 2.4]})
    options = dict(window=(0.1, 0.5), baseline=(-0.5, 0.0))
    ds = dopafit.responses_from_pynapple(series, trials, **options)
    ref = dopafit.load_nwb(path, trials=trials, **options)
    for name in SAME:
        np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)


def test_wrong_types_and_missing_columns_are_named_errors():
    rng = np.random.default_rng(3)
    trials = _task(rng, 10)
    units = nap.TsGroup({0: nap.Ts(_trains(rng, trials, 1)[0])})
    with pytest.raises(ConfigError, match="TsGroup or Ts") as info:
        dopafit.responses_from_pynapple(np.zeros(3), trials)
    assert "ndarray" in str(info.value)
    with pytest.raises(ConfigError, match="IntervalSet"):
        dopafit.responses_from_pynapple(units, {"reward": [1.0]})
    with pytest.raises(MissingColumnError) as info:
        dopafit.responses_from_pynapple(units, _intervals(trials), align="reward_tim")
    assert "did you mean align='reward_time'?" in str(info.value)
    assert "start_time" in str(info.value) and "start (float64)" in str(info.value)
    bare = nap.IntervalSet(start=trials["start_time"], end=trials["stop_time"])
    with pytest.raises(MissingColumnError, match="no metadata"):
        dopafit.responses_from_pynapple(units, bare)
    ds = dopafit.responses_from_pynapple(units, bare, reward=1.0, align="start")
    schema.validate_responses(ds)
    assert ds.attrs["columns"]["align"] == "start"
