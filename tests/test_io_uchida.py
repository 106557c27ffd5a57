"""Uchida-lab CommonFormat MAT converter, and the 40 Dabney neurons through load_nwb."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.io import savemat

from dopafit.errors import FileNotFoundError_, MissingColumnError, NotNWBError
from dopafit.io.nwb import load_nwb
from dopafit.io.uchida import MAGNITUDES, convert_uchida_mat, uchida_sessions

MAGS = np.array(MAGNITUDES)


def _mat(path, odor_on, trial_type, odor_id, spikes):
    savemat(
        path,
        {
            "events": {
                "odorOn": np.asarray(odor_on, float),
                "odorID": np.asarray(odor_id, np.uint8),
                "trialType": np.asarray(trial_type, float),
            },
            "responses": {"spike": np.asarray(spikes, float)},
        },
    )
    return path


@pytest.fixture
def fake_cells(tmp_path):
    on = 10000.0 + 8000.0 * np.arange(6)
    tt = [1, 9, 15, np.nan, 14, 7]
    odor = [0, 1, 2, 1, 1, 1]  # last: uncued type with odour 1 (trust trialType)
    rng = np.random.default_rng(0)
    spk = np.sort(rng.uniform(0, 60000, 300))
    cells = tmp_path / "cells"
    cells.mkdir()
    _mat(cells / "D_05-07_15-42-29_TT1_1_Common.mat", on, tt, odor, spk)
    _mat(cells / "D_05-07_15-42-29_TT8_2_Common.mat", on, tt, odor, spk[::2])
    _mat(cells / "03_05_TT6_1_CommonFormat_verified.mat", on + 1.0, tt, odor, spk)
    return cells


def test_sessions_trials_and_subjects(fake_cells):
    sessions = uchida_sessions(sorted(fake_cells.glob("*.mat")))
    assert [s.session_id for s in sessions] == ["03_05", "D_05-07_15-42-29"]
    assert [s.subject_id for s in sessions] == ["unknown", "D"]
    d = sessions[1]
    assert d.units["unit_id"].tolist() == ["TT1_1", "TT8_2"] and d.n_units == 2
    tr = d.trials
    np.testing.assert_allclose(tr["reward"], [0.1, 0.3, np.nan, np.nan, 20.0, 20.0])
    on = 10.0 + 8.0 * np.arange(6)
    np.testing.assert_allclose(
        tr["reward_time"], [on[0], on[1] + 1.5, np.nan, np.nan, on[4] + 1.5, on[5]]
    )
    np.testing.assert_allclose(tr["cue_time"], [np.nan, on[1], on[2], on[3], on[4], np.nan])
    assert tr["cued"].tolist() == [False, True, False, False, True, False]
    assert tr["cue_id"].tolist() == [0, 1, 2, 1, 1, 0]
    np.testing.assert_allclose(tr["start_time"], on - 1.0)
    assert np.isnan(tr["trial_type"][3])
    np.testing.assert_allclose(
        d.spike_times[1] * 1000.0, np.sort(np.random.default_rng(0).uniform(0, 60000, 300))[::2]
    )
    other = uchida_sessions(
        sorted(fake_cells.glob("*.mat")), subjects={"03_05_TT6_1_CommonFormat_verified.mat": "X"}
    )
    assert other[0].subject_id == "X"


def test_convert_then_load(fake_cells, tmp_path):
    paths = convert_uchida_mat(fake_cells, tmp_path / "nwb")
    assert [p.name for p in paths] == ["03_05.nwb", "D_05-07_15-42-29.nwb"]
    ds = load_nwb(paths)
    assert ds.sizes["unit"] == 3 and ds.attrs["n_trials_dropped"]["no_reward"] == 4
    assert ds["subject"].values.tolist() == ["unknown", "D", "D"]
    np.testing.assert_allclose(ds["reward"].values[1], [0.1, 0.3, 20.0, 20.0])


def test_converter_errors(tmp_path):
    with pytest.raises(FileNotFoundError_, match="no such path"):
        convert_uchida_mat([tmp_path / "x.mat"], tmp_path / "out")
    bad = tmp_path / "bad.mat"
    bad.write_text("not a mat file")
    with pytest.raises(NotNWBError, match="MATLAB"):
        convert_uchida_mat([bad], tmp_path / "out")
    other = tmp_path / "other.mat"
    savemat(other, {"x": np.arange(3)})
    with pytest.raises(MissingColumnError) as info:
        convert_uchida_mat([other], tmp_path / "out")
    assert "events" in str(info.value) and "other.mat" in str(info.value)
    res = subprocess.run(
        [sys.executable, "-m", "dopafit", "convert", "uchida-mat", str(bad), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("dopafit: error:") and res.stderr.strip().count("\n") == 0


def test_converter_folder_errors_name_the_folder(fake_cells, tmp_path, monkeypatch):
    """A relative folder is searched from the working folder; a missing or empty folder is
    an error naming the absolute path searched and what it holds."""
    monkeypatch.chdir(fake_cells.parent)
    assert convert_uchida_mat(fake_cells.name, tmp_path / "ok")  # the natural call on a folder
    work = tmp_path / "notebooks"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(FileNotFoundError_) as info:
        convert_uchida_mat("../shared/data/cells", tmp_path / "out")
    msg = str(info.value)
    assert str((work / "../shared/data/cells").resolve()) in msg
    assert f"working folder {work}" in msg and "no such path" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError_, match=r"no \*\.mat file in .*empty \(empty\)"):
        convert_uchida_mat(empty, tmp_path / "out")
    (empty / "a.nwb").write_text("x")
    with pytest.raises(FileNotFoundError_, match=r"1 other entries: a\.nwb"):
        convert_uchida_mat(empty, tmp_path / "out")


def _convert_cli(cells, out, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dopafit",
            "convert",
            "uchida-mat",
            str(cells),
            "-o",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
    )


def test_cli_convert_rerun_reports_unchanged_and_overwrite_replaces_only_differing(
    fake_cells, tmp_path
):
    out = tmp_path / "o"
    names = [out / "03_05.nwb", out / "D_05-07_15-42-29.nwb"]
    res = _convert_cli(fake_cells, out)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(names[0]), "written", str(names[1]), "written"]
    assert "2 session file(s)" in res.stderr and "2 written" in res.stderr
    stamps = [p.stat().st_mtime_ns for p in names]
    # a second run into the same folder succeeds and leaves the identical files alone
    res = _convert_cli(fake_cells, out)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(names[0]), "unchanged", str(names[1]), "unchanged"]
    assert [p.stat().st_mtime_ns for p in names] == stamps
    # a file that differs is refused without --overwrite, replaced with it; the other stays
    names[0].write_bytes(b"not the same file")
    res = _convert_cli(fake_cells, out)
    assert res.returncode == 1 and "overwrite" in res.stderr and "Traceback" not in res.stderr
    assert names[0].read_bytes() == b"not the same file"
    res = _convert_cli(fake_cells, out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(names[0]), "replaced", str(names[1]), "unchanged"]
    assert [p.stat().st_mtime_ns for p in names][1] == stamps[1]
    assert not list(out.glob(".*"))  # no temporary file left


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="session")
def dabney_nwb(dabney_cells, tmp_path_factory):
    return convert_uchida_mat(dabney_cells, tmp_path_factory.mktemp("dabney_nwb"))


def _axis(ds):
    """Uncued offset and population mean response per magnitude (Dabney et al. 2020)."""
    r, rw, c = ds["response"].values, ds["reward"].values, ds["cued"].values
    per = {}
    for cued in (True, False):
        per[cued] = np.array(
            [[r[u][(rw[u] == m) & (c[u] == cued)].mean() for m in MAGS] for u in range(r.shape[0])]
        )
    offset = per[True].mean() - per[False].mean()
    shifted = np.where(c, r, r + offset)
    u_axis = np.array(
        [[shifted[u][rw[u] == m].mean() for m in MAGS] for u in range(r.shape[0])]
    ).mean(axis=0)
    return offset, u_axis


@pytest.mark.realdata
def test_dabney_trial_counts(dabney_nwb):
    assert len(dabney_nwb) == 30  # 40 neurons in 30 sessions
    ds = load_nwb(dabney_nwb)
    assert ds.sizes["unit"] == 40
    rw = ds["reward"].values
    assert int(np.isfinite(rw).sum()) == 8877
    assert [int((rw == m).sum()) for m in MAGS] == [587, 807, 1318, 1375, 2766, 1340, 684]
    assert int((ds["subject"].values == "D").sum()) == 16
    per_unit = np.isfinite(rw).sum(1)
    assert ds.attrs["n_trials_dropped"]["no_reward"] > 0 and per_unit.min() > 0


@pytest.mark.realdata
def test_dabney_faithful_utility_axis(dabney_nwb):
    ds = load_nwb(dabney_nwb, faithful=True)
    offset, u_axis = _axis(ds)
    assert offset == pytest.approx(-1.498, abs=0.005)
    np.testing.assert_allclose(
        u_axis, [-3.577, -3.288, -2.765, -1.759, 0.242, 4.428, 8.324], atol=0.01
    )
    # the 60-trial cap never binds on these data (at most 53 trials per neuron and type)
    assert ds.attrs["n_trials_dropped"]["cap"] == 0


@pytest.mark.realdata
def test_dabney_count_mode_is_close_to_faithful(dabney_nwb):
    f = load_nwb(dabney_nwb, faithful=True)
    c = load_nwb(dabney_nwb)
    _, uf = _axis(f)
    _, uc = _axis(c)
    assert np.all(np.diff(uc) > 0)  # monotone in magnitude, like the faithful axis
    assert np.max(np.abs(uc - uf)) < 1.0
