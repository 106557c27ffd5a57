"""Batch at scale: how worker processes start and die; 50 sessions + 3 broken files, rerun,
workers 1 vs 2 (slow: ``make test-slow``, about 3 minutes on 2 cores)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dopafit import schema
from dopafit.batch import BatchSettings, run_batch

SAMPLES = sorted((Path(__file__).parents[1] / "data_samples").glob("*.nwb"))

START_METHOD = """
import numpy as np
from numba import njit, prange
from dopafit.batch import _start_method

@njit(parallel=True)
def total(x):
    s = 0.0
    for i in prange(x.size):
        s += x[i]
    return s

print(_start_method())
total(np.ones(10))
print(_start_method())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_workers_fork_only_before_numba_starts_its_threads():
    out = subprocess.run(
        [sys.executable, "-c", START_METHOD], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["fork", "spawn"]


class _KillsItsWorker(BatchSettings):
    """Settings whose use in a worker process ends that process (a crash, an OOM kill)."""

    def learning_options(self, *, file=None):
        if os.getpid() != self.learning_recovery:  # the parent's pid, stored below
            os._exit(3)
        return None


def test_a_dying_worker_fails_its_sessions_and_the_batch_returns(tmp_path):
    settings = _KillsItsWorker(fit={"n_splits": 2, "n_boot": 2})
    settings.learning_recovery = os.getpid()
    results = run_batch(SAMPLES[:3], tmp_path, settings, workers=2)
    assert len(results) == 3
    for result in results:
        assert result.status == "failed"
        assert "worker failed" in result.reason
        assert "BrokenProcessPool" in result.reason


def _fit(folder, out, workers):
    cmd = [sys.executable, "-m", "dopafit", "fit", str(folder), "-o", str(out)]
    cmd += ["--workers", str(workers), "--n-splits", "200", "--n-boot", "100"]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.mark.slow
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
