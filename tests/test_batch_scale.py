"""Issue-scale batch check (slow): 50 sessions + 3 broken files, rerun, workers 1 vs 2.

Run with ``make test-slow`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from dopafit import schema

pytestmark = pytest.mark.slow


def _fit(folder, out, workers):
    cmd = [sys.executable, "-m", "dopafit", "fit", str(folder), "-o", str(out)]
    cmd += ["--workers", str(workers), "--n-splits", "200", "--n-boot", "100"]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_fifty_sessions_three_broken(tmp_path):
    folder = tmp_path / "in"
    cmd = [sys.executable, "-m", "dopafit", "simulate", "-o", str(folder)]
    cmd += ["--n-sessions", "50", "--n-units", "40", "--seed", "7"]
    subprocess.run(cmd, check=True, capture_output=True)
    good = sorted(folder.glob("*.nwb"))
    assert len(good) == 50
    (folder / "random_bytes.nwb").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "truncated.nwb").write_bytes(good[0].read_bytes()[:100_000])
    shutil.copy(good[0], folder / "no_trials.nwb")
    import h5py

    with h5py.File(folder / "no_trials.nwb", "a") as handle:
        del handle["intervals/trials"]

    first = _fit(folder, tmp_path / "w1", 1)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert len(list((tmp_path / "w1" / "sessions").glob("*.nc"))) == 50
    failed = [ln for ln in first.stderr.splitlines() if ln.startswith("  ")]
    assert sorted(ln.split()[0] for ln in failed) == [
        "no_trials.nwb",
        "random_bytes.nwb",
        "truncated.nwb",
    ]

    again = _fit(folder, tmp_path / "w1", 1)
    assert "0 fitted, 50 up to date, 3 failed" in again.stdout

    two = _fit(folder, tmp_path / "w2", 2)
    assert two.returncode == 1
    for path in (tmp_path / "w1" / "sessions").glob("*.nc"):
        a = schema.open_responses(path, group="fit", validate=False)
        b = schema.open_responses(
            tmp_path / "w2" / "sessions" / path.name, group="fit", validate=False
        )
        for name in ("reversal_point", "tau", "r_tau_reversal", "tau_b"):
            np.testing.assert_array_equal(a[name].values, b[name].values)
