"""NWB writer: valid (nwbinspector), faithful (pynwb round trip), reproducible, atomic."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pandas as pd
import pytest

from dopafit.errors import OutputExistsError, SpikeTimesError
from dopafit.io.nwb_write import session_identifier, write_nwb
from dopafit.session import TRIAL_COLUMNS, Session
from dopafit.simulate import simulate_session


@pytest.fixture(scope="module")
def session() -> Session:
    return simulate_session(n_units=6, n_trials=40, seed=2, clock=32768.0)


@pytest.fixture(scope="module")
def written(session, tmp_path_factory):
    return write_nwb(session, tmp_path_factory.mktemp("nwb") / "sub-sim_ses-test.nwb")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nwbinspector_finds_no_violation(written):
    from nwbinspector import Importance, inspect_nwbfile

    messages = list(inspect_nwbfile(nwbfile_path=str(written)))
    serious = [
        f"{m.importance.name} {m.check_function_name}: {m.message}"
        for m in messages
        if m.importance.value >= Importance.BEST_PRACTICE_VIOLATION.value
    ]
    assert not serious, serious


def test_round_trip_with_pynwb(session, written):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(written), "r") as io:
        nwb = io.read()
        assert nwb.identifier == session_identifier(session)
        assert nwb.session_id == session.session_id
        assert nwb.subject.subject_id == session.subject_id
        assert nwb.subject.species == "Mus musculus"
        assert json.loads(nwb.notes)["seed"] == session.attrs["seed"]
        units = nwb.units
        assert len(units) == session.n_units
        assert units.resolution == pytest.approx(1 / 32768.0)
        for i, st in enumerate(session.spike_times):
            np.testing.assert_array_equal(units["spike_times"][i], st)
        got_units = units.to_dataframe().drop(columns="spike_times").reset_index(drop=True)
        pd.testing.assert_frame_equal(
            got_units[session.units.columns], session.units, check_dtype=False
        )
        trials = nwb.trials.to_dataframe().reset_index(drop=True)
        assert list(trials.columns) == list(TRIAL_COLUMNS)
        pd.testing.assert_frame_equal(trials, session.trials, check_dtype=False)
        assert trials["cued"].dtype == bool
        assert "ul" in nwb.trials["reward"].description


def test_rewriting_is_byte_identical(session, written, tmp_path):
    time.sleep(1.1)  # HDF5 timestamps have one-second resolution
    again = write_nwb(session, tmp_path / "again.nwb")
    assert _sha(again) == _sha(written)
    other = simulate_session(n_units=6, n_trials=40, seed=3, clock=32768.0)
    assert _sha(write_nwb(other, tmp_path / "other.nwb")) != _sha(written)


def test_overwrite_and_atomic_write(session, tmp_path, monkeypatch):
    path = tmp_path / "s.nwb"
    write_nwb(session, path)
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_nwb(session, path)
    assert write_nwb(session, path, overwrite=True) == path

    import pynwb

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", broken)
    target = tmp_path / "new.nwb"
    with pytest.raises(RuntimeError, match="disk full"):
        write_nwb(session, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.nwb"]  # no partial file


def test_bad_spike_times_are_refused(session, tmp_path):
    bad = Session(
        spike_times=[np.array([0.3, 0.1])],
        trials=session.trials,
        units=session.units.iloc[:1],
    )
    with pytest.raises(SpikeTimesError):
        write_nwb(bad, tmp_path / "bad.nwb")
    assert not (tmp_path / "bad.nwb").exists()


@pytest.mark.parametrize("population", ["sigmoid", "bias"])
def test_every_ground_truth_column_is_read_back(population, tmp_path):
    """Regression: load_nwb once read back only seven of the true_* columns write_nwb wrote."""
    from dopafit import schema
    from dopafit.io.nwb import load_nwb

    session = simulate_session(population=population, n_units=4, n_trials=30, seed=5)
    path = write_nwb(session, tmp_path / f"sub-sim_ses-{population}.nwb")
    written = [c for c in session.units.columns if schema.is_truth(c)]
    assert "true_reversal_tau" in written
    if population == "sigmoid":
        assert {"true_sigmoid_threshold", "true_sigmoid_slope"} <= set(written)
    ds = load_nwb(path)
    for name in written:
        assert name in ds, name
        np.testing.assert_allclose(ds[name].values, session.units[name].to_numpy())
