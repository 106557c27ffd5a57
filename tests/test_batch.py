"""Batch fitting from the CLI: outputs, failures, resumability, workers, atomic writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dopafit import schema
from dopafit.batch import BatchSettings, atomic_path, find_inputs, run_batch
from dopafit.cli import main
from dopafit.errors import ConfigError, FileNotFoundError_
from dopafit.fit.options import FitOptions

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data_samples").glob("*.nwb"))
FAST = ["--n-splits", "20", "--n-boot", "20", "--seed", "3"]


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    """Two sample sessions plus three broken files in one folder."""
    folder = tmp_path_factory.mktemp("batch")
    for src in SAMPLES[:2]:
        shutil.copy(src, folder / src.name)
    rng = np.random.default_rng(0)
    (folder / "random_bytes.nwb").write_bytes(rng.bytes(4096))
    good = SAMPLES[0].read_bytes()
    (folder / "truncated.nwb").write_bytes(good[: len(good) // 3])
    _write_without_trials(folder / "no_trials.nwb")
    return folder


def _write_without_trials(path):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    nwb = NWBFile(
        session_description="units, no trials",
        identifier="no-trials",
        session_start_time=pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime(),
        subject=Subject(subject_id="m1", species="Mus musculus"),
    )
    nwb.add_unit(spike_times=np.sort(np.random.default_rng(1).uniform(0, 100, 500)))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def _run(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_batch_failures_outputs_and_resume(batch_dir, tmp_path, capsys):
    out = tmp_path / "fits"
    code, stdout, stderr = _run(["fit", str(batch_dir), "-o", str(out), *FAST], capsys)
    assert code == 1
    outputs = sorted(p.name for p in (out / "sessions").glob("*.nc"))
    assert outputs == sorted(p.stem + ".nc" for p in SAMPLES[:2])
    for name in ("random_bytes.nwb", "truncated.nwb", "no_trials.nwb"):
        line = next(line for line in stderr.splitlines() if name in line)
        assert "expected" in line  # a one-line reason from the named error
    assert "Traceback" not in stderr + stdout
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) == 3
    assert "trials" in failures.loc[failures.path.str.endswith("no_trials.nwb"), "reason"].item()
    assert (out / "population.nc").exists()
    units = pd.read_csv(out / "units.csv")
    population = schema.open_responses(out / "population.nc", group="responses")
    assert (
        len(units)
        == population.sizes["unit"]
        == sum(
            schema.open_responses(p, group="responses").sizes["unit"]
            for p in (out / "sessions").glob("*.nc")
        )
    )
    fit = schema.open_responses(out / "population.nc", group="fit", validate=False)
    assert fit.attrs["settings"]["fit"]["n_splits"] == 20
    assert np.isfinite(fit["reversal_point"]).mean() > 0.8

    mtimes = {p: p.stat().st_mtime_ns for p in (out / "sessions").glob("*.nc")}
    code, stdout, _ = _run(["fit", str(batch_dir), "-o", str(out), *FAST], capsys)
    assert code == 1
    assert "0 fitted, 2 up to date, 3 failed" in stdout
    assert mtimes == {p: p.stat().st_mtime_ns for p in (out / "sessions").glob("*.nc")}

    code, stdout, _ = _run(["fit", str(batch_dir), "-o", str(out), "--n-splits", "21"], capsys)
    assert "2 fitted, 0 up to date" in stdout  # changed settings redo the sessions


def test_workers_give_identical_numbers(tmp_path):
    settings = BatchSettings(fit={"n_splits": 20, "n_boot": 20, "seed": 5})
    one = run_batch(SAMPLES[:2], tmp_path / "w1", settings, workers=1)
    two = run_batch(SAMPLES[:2], tmp_path / "w2", settings, workers=2)
    assert [r.status for r in one] == [r.status for r in two] == ["done", "done"]
    for a, b in zip(one, two):
        fa = schema.open_responses(a.output, group="fit", validate=False)
        fb = schema.open_responses(b.output, group="fit", validate=False)
        for name in ("reversal_point", "tau", "r_tau_reversal", "reversal_point_a"):
            np.testing.assert_array_equal(fa[name].values, fb[name].values)


def test_all_good_exits_zero_and_no_temp_files(tmp_path, capsys):
    code, stdout, _ = _run(["fit", str(SAMPLES[0]), "-o", str(tmp_path), *FAST], capsys)
    assert code == 0
    assert "1 fitted" in stdout
    assert not list(tmp_path.rglob(".*.tmp-*"))
    assert not (tmp_path / "failures.csv").exists()


def test_usage_errors_exit_two(tmp_path, capsys):
    code, _, err = _run(["fit", "-o", str(tmp_path)], capsys)
    assert code == 2
    code, _, err = _run(
        ["fit", str(SAMPLES[0]), "-o", str(tmp_path), "--window", "0.6,0.2"], capsys
    )
    assert code == 2
    assert "--window" in err


def test_missing_path_is_one_line_error(tmp_path, capsys):
    code, _, err = _run(["fit", str(tmp_path / "nope.nwb"), "-o", str(tmp_path)], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "nope.nwb" in err and "Traceback" not in err


def test_find_inputs_expands_dirs_and_globs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.nwb", "a/b/y.nwb", "a/b/z.txt"):
        (tmp_path / name).write_bytes(b"")
    found = find_inputs([tmp_path / "a"])
    assert [p.name for p in found] == ["y.nwb", "x.nwb"] or {p.name for p in found} == {
        "x.nwb",
        "y.nwb",
    }
    assert {p.name for p in find_inputs([str(tmp_path / "a" / "**" / "*.nwb")])} == {
        "x.nwb",
        "y.nwb",
    }
    with pytest.raises(FileNotFoundError_, match="no match"):
        find_inputs([str(tmp_path / "*.none")])


def test_config_file(tmp_path):
    cfg = tmp_path / "lab.toml"
    cfg.write_text('[load]\nwindow = [0.2, 0.5]\n[fit]\nn_splits = 10\naxis = "reward"\n')
    settings = BatchSettings.from_toml(cfg)
    assert settings.load == {"window": [0.2, 0.5]}
    assert settings.fit == FitOptions(n_splits=10, axis="reward")
    assert settings.sha256 != BatchSettings().sha256
    cfg.write_text("[plot]\nx = 1\n")
    with pytest.raises(ConfigError, match="plot"):
        BatchSettings.from_toml(cfg)
    cfg.write_text("[load\n")
    with pytest.raises(ConfigError, match="valid TOML"):
        BatchSettings.from_toml(cfg)


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.nc"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_killed_batch_resumes_without_corrupt_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for src in SAMPLES:
        shutil.copy(src, folder / src.name)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dopafit", "fit", str(folder), "-o", str(out), *FAST]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    for line in proc.stdout:  # kill as soon as the first session is done
        if b"done" in line:
            proc.kill()
            break
    proc.wait()
    partial = list((out / "sessions").glob("*.nc"))
    assert 1 <= len(partial) < len(SAMPLES)
    for path in partial:  # every file present is complete and readable
        schema.open_responses(path, group="responses")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert len(list((out / "sessions").glob("*.nc"))) == len(SAMPLES)
    assert f"{len(partial)} up to date" in result.stdout
    assert not list(out.rglob(".*.tmp-*"))


def test_a_folder_gives_the_same_sessions_to_load_nwb_and_the_batch(tmp_path):
    """Regression: load_nwb(folder) once read only the top level, dopafit fit searched it
    recursively."""
    from dopafit.io.nwb import load_nwb, nwb_files

    (tmp_path / "day2").mkdir()
    shutil.copy(SAMPLES[0], tmp_path / SAMPLES[0].name)
    shutil.copy(SAMPLES[1], tmp_path / "day2" / SAMPLES[1].name)
    batch = find_inputs([tmp_path])
    assert [p.name for p in nwb_files(tmp_path)] == [p.name for p in batch]
    assert len(batch) == 2
    ds = load_nwb(tmp_path)
    assert set(ds["session"].values) == {str(s) for s in load_nwb(SAMPLES[:2])["session"].values}


def test_a_misspelt_config_key_is_one_usage_error_before_any_work(tmp_path, capsys):
    """Regression: `[fit] n_split = 100` once failed every session separately."""
    config = tmp_path / "lab.toml"
    out = tmp_path / "fits"
    for table, text, key, close in (
        ("fit", "n_split = 100", "n_split", "n_splits"),
        ("load", "faithfull = true", "faithfull", "faithful"),
    ):
        config.write_text(f"[{table}]\n{text}\n")
        code, _, err = _run(
            ["fit", *map(str, SAMPLES[:2]), "-o", str(out), "--config", str(config)], capsys
        )
        assert code == 2
        assert f"unknown key '{key}'" in err and f"did you mean '{close}'" in err
        assert str(config) in err
        assert not out.exists()  # no session was attempted
    config.write_text("[fit]\nmethod = 'kinky'\n")
    code, _, err = _run(["fit", str(SAMPLES[0]), "-o", str(out), "--config", str(config)], capsys)
    assert code == 2 and "method one of count, kink" in err
    with pytest.raises(ConfigError, match="did you mean 'n_boot'"):
        BatchSettings(fit={"n_boots": 10})


def test_worker_warnings_print_as_one_line_each(tmp_path):
    """Regression: with --workers 2 the workers' warnings printed as Python warning records
    (file path and source line), once per session."""
    config = tmp_path / "two_units.toml"
    config.write_text('[load]\nunit_ids = ["u00", "u01"]\n')
    cmd = [
        sys.executable, "-m", "dopafit", "fit", *map(str, SAMPLES[:2]), "-o", str(tmp_path / "o"),
        *FAST, "--config", str(config), "--workers", "2", "--no-population", "-q",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    # an expected condition (issue 15): not printed per session, counted once at the end
    assert "fittable unit" not in out.stderr
    lines = [line for line in out.stdout.splitlines() if "fittable unit" in line]
    assert len(lines) == 1 and lines[0].startswith("notes (expected, nothing to do): 2 session")
    assert "DopafitWarning" not in out.stderr and ".py:" not in out.stderr


def test_flags_override_the_config_file_table_by_table(tmp_path):
    import click

    from dopafit.cli.fit import _settings

    config = tmp_path / "lab.toml"
    config.write_text('[load]\nwindow = [0.2, 0.5]\nalign = "cue"\n[fit]\nn_splits = 10\n')
    flags = {"window": "0.1,0.4", "n_boot": 7, "seed": None, "learning": None}
    settings = _settings(str(config), flags)
    assert settings.load == {"window": [0.1, 0.4], "align": "cue"}
    assert settings.fit == FitOptions(n_splits=10, n_boot=7)
    assert settings.learning == {} and settings.sha256 != BatchSettings.from_toml(config).sha256
    assert _settings(None, {}).fit == FitOptions()
    with pytest.raises(click.UsageError, match="method one of count, kink"):
        _settings(str(config), {"method": "kinky"})
