"""load_nwb / describe_nwb / `dopafit inspect`: round trips, layouts, real files, errors."""

from __future__ import annotations

import subprocess
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from _dandi import DANDI_FILES, DANDI_OPTIONS

import dopafit
from dopafit import schema
from dopafit.errors import (
    ConfigError,
    DopafitWarning,
    FileNotFoundError_,
    MissingColumnError,
    MissingTableError,
    NoDataError,
    NotNWBError,
    NWBVersionError,
    SpikeTimesError,
)
from dopafit.io.nwb import describe_nwb, format_description, load_nwb
from dopafit.io.nwb_write import write_nwb
from dopafit.io.tables import responses_from_spikes
from dopafit.session import Session

START = datetime(2021, 5, 1, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- helpers
def _session(seed=0, n_unit=3, n_trial=40, session_id="s0"):
    rng = np.random.default_rng(seed)
    onset = 5.0 + 8.0 * np.arange(n_trial) + rng.uniform(0, 1, n_trial)
    cued = rng.random(n_trial) < 0.5
    reward = rng.choice([0.1, 1.2, 5.0, 20.0], n_trial)
    reward[::10] = np.nan  # unrewarded trials
    trials = pd.DataFrame(
        {
            "start_time": onset - 1.0,
            "stop_time": onset + 3.0,
            "reward": reward,
            "reward_time": np.where(np.isnan(reward), np.nan, np.where(cued, onset + 1.5, onset)),
            "cued": cued,
            "cue_time": np.where(cued, onset, np.nan),
            "cue_id": cued.astype(np.int64),
            "trial_type": np.where(cued, 8, 1).astype(np.int64),
        }
    )
    t_end = onset[-1] + 10
    spikes = [np.sort(rng.uniform(0, t_end, rng.poisson(6 * t_end))) for _ in range(n_unit)]
    units = pd.DataFrame(
        {"unit_id": [f"u{i}" for i in range(n_unit)], "true_tau": rng.uniform(0.2, 0.8, n_unit)}
    )
    return Session(
        spike_times=spikes,
        trials=trials,
        units=units,
        session_id=session_id,
        subject_id="m1",
        start_time=START,
    )


def _nwbfile(**kw):
    from pynwb import NWBFile
    from pynwb.file import Subject

    return NWBFile(
        session_description="test",
        identifier=kw.pop("identifier", "id-1"),
        session_start_time=START,
        subject=Subject(subject_id="m9"),
        **kw,
    )


def _write(nwb, path):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _add_trials(nwb, table_name="trials", n=12):
    from pynwb.epoch import TimeIntervals

    table = TimeIntervals(name=table_name, description="task trials")
    table.add_column("reward", "reward (ul)")
    table.add_column("reward_time", "reward delivery (s)")
    for i in range(n):
        t = 2.0 + 3.0 * i
        table.add_row(start_time=t - 1.0, stop_time=t + 1.0, reward=float(1 + i % 3), reward_time=t)
    if table_name == "trials":
        nwb.trials = table
    else:
        nwb.add_time_intervals(table)
    return table


# ----------------------------------------------------------------------------- round trips
def test_round_trip_hand_built_session(tmp_path):
    sess = _session()
    path = write_nwb(sess, tmp_path / "s0.nwb")
    ds = load_nwb(path)
    schema.validate_responses(ds)
    ref = responses_from_spikes(sess.spike_times, sess.trials, unit_ids=list(sess.units.unit_id))
    np.testing.assert_array_equal(ds["window_count"].values, ref["window_count"].values)
    np.testing.assert_array_equal(ds["response"].values, ref["response"].values)
    # exact counts against a plain numpy reference
    kept = sess.trials.dropna(subset=["reward"]).sort_values("reward_time")
    a = kept["reward_time"].to_numpy()
    first = np.where(kept["cued"], kept["cue_time"], a)
    for u, s in enumerate(sess.spike_times):
        n_w = np.searchsorted(s, a + 0.6) - np.searchsorted(s, a + 0.2)
        n_b = np.searchsorted(s, first) - np.searchsorted(s, first - 1.0)
        np.testing.assert_array_equal(ds["window_count"].values[u], n_w)
        np.testing.assert_allclose(ds["response"].values[u], n_w / 0.4 - n_b, rtol=1e-12)
    np.testing.assert_array_equal(ds["true_tau"].values, sess.units["true_tau"].values)
    assert ds["session"].values.tolist() == ["s0"] * 3
    assert ds["subject"].values.tolist() == ["m1"] * 3
    assert ds["unit_id"].values.tolist() == ["u0", "u1", "u2"]
    assert ds.attrs["n_trials_dropped"]["no_reward"] == 4
    assert ds.attrs["files"] == [str(path)] and ds.attrs["trials_table"] == "trials"


def test_spike_time_storage_layouts_load_alike(tmp_path):
    # write_nwb compresses spike times, plain pynwb writes them chunked, other writers
    # contiguous (which load_nwb maps from the file): all three give the same responses
    import shutil

    from pynwb.misc import Units

    from dopafit.io.nwb import _read_floats

    sess = _session(seed=4)
    files = {"gzip": write_nwb(sess, tmp_path / "gzip.nwb")}
    nwb = _nwbfile()
    nwb.units = Units(name="units")
    for s in sess.spike_times:
        nwb.units.add_unit(spike_times=s)
    files["chunked"] = _write(nwb, tmp_path / "chunked.nwb")
    with h5py.File(files["chunked"], "a") as h, h5py.File(files["gzip"], "r") as src:
        h.copy(src["intervals/trials"], "intervals/trials")
    files["contiguous"] = shutil.copy(files["chunked"], tmp_path / "contiguous.nwb")
    with h5py.File(files["contiguous"], "a") as h:
        data = h["units/spike_times"][()]
        del h["units/spike_times"]
        h["units/spike_times"] = data
    for kind, path in files.items():
        with h5py.File(path, "r") as h:
            got = _read_floats(h["units/spike_times"])
            assert isinstance(got.base, np.memmap) == (kind == "contiguous"), kind
            np.testing.assert_array_equal(got, np.concatenate(sess.spike_times))
    loaded = {kind: load_nwb(path) for kind, path in files.items()}
    for kind in ("chunked", "contiguous"):
        for name in ("response", "window_count", "baseline_count"):
            np.testing.assert_array_equal(loaded[kind][name].values, loaded["gzip"][name].values)


@pytest.mark.parametrize("dtype", [">f8", "<f4", ">f4"])
def test_contiguous_spike_times_of_any_float_type(tmp_path, dtype):
    # other writers may store spike times big-endian or as float32: mapped, then converted
    sess = _session(seed=5)
    path = write_nwb(sess, tmp_path / "s.nwb")
    ref = load_nwb(path, unit_ids=["u2", "u0"])
    with h5py.File(path, "a") as h:
        data = h["units/spike_times"][()]
        del h["units/spike_times"]
        h.create_dataset("units/spike_times", data=data.astype(dtype))
    got = load_nwb(path, unit_ids=["u2", "u0"])
    assert got["unit_id"].values.tolist() == ["u2", "u0"]
    if dtype.endswith("8"):
        np.testing.assert_array_equal(got["window_count"].values, ref["window_count"].values)
    else:  # float32 spike times move by < 1 us: counts change only for spikes at an edge
        assert np.mean(got["window_count"].values == ref["window_count"].values) > 0.99


def test_round_trip_simulated_session_recovers_responses(tmp_path):
    from dopafit.simulate import simulate_session

    sess = simulate_session("dabney", "distributional", n_units=6, n_trials=200, seed=3)
    path = write_nwb(sess, tmp_path / "sim.nwb")
    ds = load_nwb(path)
    units = sess.units.set_index("unit_id").loc[ds["unit_id"].values]
    for name in ("true_tau", "true_reversal_point", "true_alpha_pos"):
        np.testing.assert_allclose(ds[name].values, units[name].values)
    # the simulator adds f_i(r) Hz in the window: mean(response - f) ~ 0 within Poisson error
    z = units["true_reversal_point"].to_numpy()[:, None]
    r = ds["reward"].values
    f = np.where(
        r > z,
        units["true_alpha_pos"].to_numpy()[:, None] * (r - z),
        units["true_alpha_neg"].to_numpy()[:, None] * (r - z),
    )
    resid = (ds["response"].values - f)[np.isfinite(r)]
    se = resid.std() / np.sqrt(resid.size)
    assert abs(resid.mean()) < 4 * se
    assert np.corrcoef(ds["response"].values[np.isfinite(r)], f[np.isfinite(r)])[0, 1] > 0.3


def test_many_files_are_stacked_and_padded(tmp_path):
    p1 = write_nwb(_session(1, n_unit=2, n_trial=30, session_id="a"), tmp_path / "a.nwb")
    p2 = write_nwb(_session(2, n_unit=3, n_trial=50, session_id="b"), tmp_path / "b.nwb")
    ds = load_nwb(tmp_path)  # a directory: its *.nwb files, sorted
    assert ds.sizes["unit"] == 5 and ds.sizes["trial"] == 45  # 50 trials, 5 unrewarded
    assert ds["session"].values.tolist() == ["a", "a", "b", "b", "b"]
    assert (
        np.isnan(ds["reward"].values[0, 27:]).all()
        and np.isnan(ds["response"].values[0, 27:]).all()
    )
    assert set(ds.attrs["per_file"]) == {"a.nwb", "b.nwb"}
    assert ds.attrs["n_trials_dropped"]["no_reward"] == 3 + 5
    one = load_nwb([p2], unit_ids=["u2", "u0"])
    assert one["unit_id"].values.tolist() == ["u2", "u0"]
    np.testing.assert_array_equal(one["response"].values[0], ds["response"].values[4, :45])
    with pytest.raises(ConfigError, match="unknown ids"):
        load_nwb(p1, unit_ids=["zz"])
    with pytest.raises(ConfigError, match="duplicates"):
        load_nwb([p1, p1])


def test_faithful_and_psth_options_through_nwb(tmp_path):
    path = write_nwb(_session(4), tmp_path / "s.nwb")
    ds = load_nwb(path, faithful=True, psth=True, psth_bin=0.02, psth_range=(-0.5, 1.0))
    assert ds.attrs["faithful"] is True and ds.attrs["max_trials_per_type"] == 60
    assert ds["psth"].shape[2] == 75 and ds.attrs["extraction"] == "faithful smoothed PSTH"


# ----------------------------------------------------------------------------- layouts
def test_units_in_processing_module_and_other_trials_table(tmp_path):
    from pynwb.misc import Units

    nwb = _nwbfile()
    mod = nwb.create_processing_module("ecephys", "spikes")
    units = Units(name="units")
    rng = np.random.default_rng(0)
    for _ in range(2):
        units.add_unit(spike_times=np.sort(rng.uniform(0, 40, 200)))
    mod.add(units)
    _add_trials(nwb, "encoding_table")
    path = _write(nwb, tmp_path / "proc.nwb")
    with pytest.raises(MissingTableError) as info:
        load_nwb(path)
    assert "intervals/encoding_table" in str(info.value) and "trials_table=" in str(info.value)
    ds = load_nwb(path, trials_table="encoding_table")
    assert ds.sizes["unit"] == 2 and ds.sizes["trial"] == 12
    assert ds["subject"].values[0] == "m9" and ds["session"].values[0] == "id-1"
    ds2 = load_nwb(path, trials_table="encoding_table", units="processing/ecephys/units")
    np.testing.assert_array_equal(ds["response"].values, ds2["response"].values)
    with pytest.raises(MissingTableError, match="processing/ecephys/units"):
        load_nwb(path, trials_table="encoding_table", units="units")


def test_photometry_series_with_rate_and_roi(tmp_path):
    from pynwb import TimeSeries

    nwb = _nwbfile()
    rate = 100.0
    t = np.arange(4000) / rate + 0.5
    y = np.zeros((t.size, 2))
    _add_trials(nwb)
    for i, rt in enumerate(nwb.trials["reward_time"][:]):
        y[(t >= rt + 0.2) & (t < rt + 0.6), 0] += 1 + i % 3
    y[:, 1] = -y[:, 0]
    nwb.add_acquisition(TimeSeries(name="dff", data=y, unit="dF/F", rate=rate, starting_time=0.5))
    path = _write(nwb, tmp_path / "phot.nwb")
    with pytest.raises(NoDataError) as info:
        load_nwb(path)
    assert "acquisition/dff" in str(info.value) and "photometry=" in str(info.value)
    ds = load_nwb(path, photometry="dff")
    assert ds["unit_id"].values.tolist() == ["dff[0]", "dff[1]"]
    np.testing.assert_allclose(ds["response"].values[0], ds["reward"].values[0], atol=1e-9)
    np.testing.assert_allclose(ds["response"].values[1], -ds["reward"].values[0], atol=1e-9)
    assert ds.attrs["response_units"] == "dF/F"


def test_describe_and_inspect_cli(tmp_path):
    path = write_nwb(_session(5), tmp_path / "s.nwb")
    info = describe_nwb(path)
    assert info["units_tables"][0]["n_units"] == 3
    cols = {c["name"]: c for c in info["tables"][0]["columns"]}
    assert cols["reward"]["dtype"] == "float64" and "cue_time" in cols
    assert info["mapping"]["columns"]["reward"] == "reward" and not info["mapping"]["missing"]
    text = format_description(info)
    assert "reward      -> reward" in text and "intervals/trials" in text
    res = subprocess.run(
        [sys.executable, "-m", "dopafit", "inspect", str(path)], capture_output=True, text=True
    )
    assert res.returncode == 0 and "load_nwb would use" in res.stdout


# ----------------------------------------------------------------------------- errors
def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "dopafit", *map(str, args)], capture_output=True, text=True
    )


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError_) as info:
        load_nwb(tmp_path / "nope.nwb")
    assert "nope.nwb" in str(info.value) and "no such path" in str(info.value)
    res = _cli("inspect", tmp_path / "nope.nwb")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0 and "dopafit: error:" in res.stderr


def test_not_hdf5_and_truncated(tmp_path):
    text = tmp_path / "notes.nwb"
    text.write_text("hello")
    with pytest.raises(NotNWBError, match="cannot open as HDF5"):
        load_nwb(text)
    good = write_nwb(_session(6), tmp_path / "good.nwb")
    cut = tmp_path / "cut.nwb"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(NotNWBError) as info:
        load_nwb(cut)
    assert "cut.nwb" in str(info.value) and "Fix:" in str(info.value)
    res = _cli("inspect", cut)
    assert res.returncode == 1 and "Traceback" not in res.stderr


def test_plain_hdf5_and_old_nwb_version(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as h:
        h["x"] = np.arange(3)
    with pytest.raises(NotNWBError, match="without NWB metadata"):
        load_nwb(plain)
    old = tmp_path / "old.nwb"
    with h5py.File(old, "w") as h:
        h["nwb_version"] = "NWB-1.0.6"
    with pytest.raises(NWBVersionError, match="NWB-1.0.6") as info:
        load_nwb(old)
    assert "NWB 2" in str(info.value)
    newer = tmp_path / "v3.nwb"
    with h5py.File(newer, "w") as h:
        h.attrs["nwb_version"] = "3.0.0"
    with pytest.raises(NWBVersionError, match="3.0.0"):
        load_nwb(newer)


def test_no_units_no_photometry(tmp_path):
    nwb = _nwbfile()
    _add_trials(nwb)
    path = _write(nwb, tmp_path / "empty.nwb")
    with pytest.raises(NoDataError) as info:
        load_nwb(path)
    assert "Units table" in str(info.value) and "empty.nwb" in str(info.value)


def test_missing_reward_column_lists_columns(tmp_path):
    path = write_nwb(_session(7), tmp_path / "s.nwb")
    with pytest.raises(MissingColumnError) as info:
        load_nwb(path, reward="volume")
    msg = str(info.value)
    assert "volume" in msg and "cue_time (float64)" in msg and "s.nwb" in msg


def test_unsorted_spikes_in_file(tmp_path):
    from pynwb.misc import Units

    nwb = _nwbfile()
    nwb.units = Units(name="units")
    nwb.units.add_unit(spike_times=np.array([3.0, 2.5, 5.2, 8.3]))
    _add_trials(nwb)
    path = _write(nwb, tmp_path / "uns.nwb")
    with pytest.raises(SpikeTimesError, match="sort_spikes=True"):
        load_nwb(path)
    ds = load_nwb(path, sort_spikes=True)
    assert ds.attrs["per_file"]["uns.nwb"]["spike_fixes"]["units_sorted"] == 1


# ----------------------------------------------------------------------------- real files


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::dopafit.errors.DopafitWarning")
def test_dandi_files_fail_clearly_then_load_with_mapping(shared_data):
    files = [shared_data / "nwb" / f for f in DANDI_FILES]
    with pytest.raises(SpikeTimesError, match="sort_spikes=True"):
        load_nwb(files[0], reward=1.0, align="cue_start_time")
    with pytest.raises(MissingColumnError) as info:
        load_nwb(files[0], sort_spikes=True)
    assert "cue_start_time (float64)" in str(info.value) and "response (str)" in str(info.value)
    ds = load_nwb(files, **DANDI_OPTIONS)
    schema.validate_responses(ds)
    assert ds["subject"].values.tolist() == ["anm369963", "anm372793"]
    assert ds["session"].values.tolist() == ["anm369963_2017-02-28_2", "anm372793_2017-05-08_2"]
    # check one file against trials and spikes read independently with h5py
    with h5py.File(files[0], "r") as h:
        spikes = np.sort(h["units/spike_times"][()])
        g = h["intervals/trials"]
        start = g["start_time"][()]
        cue = g["cue_start_time"][()] + start
        good = g["is_good"][()] == 1
        resp = g["response"].asstr()[()]
    keep = good & np.isin(resp, ["correct", "incorrect"])
    a = np.sort(cue[keep])
    n_w = np.searchsorted(spikes, a + 0.6) - np.searchsorted(spikes, a + 0.2)
    n_b = np.searchsorted(spikes, a) - np.searchsorted(spikes, a - 1.0)
    n = int(keep.sum())
    np.testing.assert_array_equal(ds["window_count"].values[0, :n], n_w)
    np.testing.assert_allclose(ds["response"].values[0, :n], n_w / 0.4 - n_b)
    assert np.isnan(ds["response"].values[0, n:]).all()
    assert ds.attrs["per_file"][DANDI_FILES[0]]["n_trials_dropped"]["selection"] == int(
        (~good).sum()
    )


@pytest.mark.realdata
def test_dandi_relative_times_warn_and_describe(shared_data):
    path = shared_data / "nwb" / DANDI_FILES[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_nwb(path, reward=1.0, align="cue_start_time", sort_spikes=True)
    texts = " ".join(str(w.message) for w in caught if issubclass(w.category, DopafitWarning))
    assert "times_relative_to" in texts and "no spikes in any window" in texts
    assert ds["unit_flags"].values[0] == "no_trial_spikes"
    info = describe_nwb(path)
    hints = " ".join(info["mapping"]["hints"])
    assert "sort_spikes=True" in hints and "times_relative_to='start_time'" in hints
    assert info["mapping"]["columns"]["reward"] is None


@pytest.mark.realdata
def test_photometry_file(shared_data):
    path = shared_data / "nwb" / "neuroconv_doric_fiber_photometry.nwb"
    with pytest.raises(MissingTableError) as info:
        load_nwb(path)
    assert "no tables" in str(info.value) and "trials=" in str(info.value)
    with h5py.File(path, "r") as h:
        t = h["acquisition/FiberPhotometryResponseSeries/timestamps"][()]
        y = h["acquisition/FiberPhotometryResponseSeries/data"][()]
    trials = pd.DataFrame({"reward": [1.0, 2.0], "reward_time": [1.2, 2.4]})
    ds = load_nwb(path, trials=trials, window=(0.1, 0.5), baseline=(-0.5, 0.0))
    assert ds["unit_id"].values.tolist() == ["FiberPhotometryResponseSeries"]
    assert ds.attrs["response_units"] == "a.u."
    for j, rt in enumerate([1.2, 2.4]):
        w = y[(t >= rt + 0.1) & (t < rt + 0.5)].mean()
        b = y[(t >= rt - 0.5) & (t < rt)].mean()
        assert ds["response"].values[0, j] == pytest.approx(w - b)
    res = _cli("inspect", path)
    assert res.returncode == 0 and "FiberPhotometryResponseSeries" in res.stdout
    assert "30.12 Hz" in res.stdout and "missing: trials table" in res.stdout


def test_version_attr_is_public():
    assert callable(dopafit.load_nwb) and callable(dopafit.describe_nwb)


def test_magnitude_missing_in_one_session_is_flagged(tmp_path):
    a = _session(8, n_unit=1, session_id="a")
    b = _session(9, n_unit=1, session_id="b")
    b.trials.loc[b.trials["reward"] == 20.0, "reward"] = 5.0
    pa = write_nwb(a, tmp_path / "a.nwb")
    pb = write_nwb(b, tmp_path / "b.nwb")
    with pytest.warns(DopafitWarning, match="no trials of some reward magnitude"):
        ds = load_nwb([pa, pb])
    assert ds["unit_flags"].values.tolist() == ["", "missing_magnitudes=20"]


def test_describe_rejects_unknown_mapping_options():
    path = Path(__file__).parents[1] / "data_samples" / "sub-sim01_ses-dist1.nwb"
    with pytest.raises(ConfigError, match="rewrd") as info:
        describe_nwb(path, rewrd="outcome")
    assert "reward" in str(info.value) and "units" in str(info.value)
    assert describe_nwb(path, units="units", reward="reward")["mapping"]["units"] == "units"
