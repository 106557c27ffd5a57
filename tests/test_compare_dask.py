"""The comparison with its simulations as dask tasks: identical to the local run for any
number of workers and chunk size."""

from __future__ import annotations

import pytest
import xarray as xr

import dopafit
from dopafit.simulate import simulate_responses

distributed = pytest.importorskip("dask.distributed")

KW = dict(accounts=("bias", "sigmoid"), n_sim=12, n_splits=5, n_boot=20, mixed=False, seed=7)


@pytest.fixture(scope="module")
def local():
    ds = simulate_responses(population="distributional", n_units=12, seed=2)
    return ds, dopafit.compare(ds, **KW)


def _untimed(cmp: xr.Dataset) -> xr.Dataset:
    cmp = cmp.copy()
    cmp.attrs.pop("timing_s")
    return cmp


@pytest.mark.parametrize(
    ("processes", "n_workers", "chunk_size"),
    [(False, 1, 5), (False, 2, 3), (False, 2, 12), (True, 2, 1)],
)
def test_dask_comparison_is_identical_to_the_local_one(local, processes, n_workers, chunk_size):
    ds, expected = local
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = dopafit.compare(ds, chunk_size=chunk_size, client=client, **KW)
    assert set(got.attrs["timing_s"]) == set(expected.attrs["timing_s"])
    xr.testing.assert_identical(_untimed(got), _untimed(expected))


def _cli_comparison(folder, name: str, *args: str) -> xr.Dataset:
    """``dopafit compare`` on a sample session in a subprocess; the comparison it wrote,
    without its timings."""
    import subprocess
    import sys

    src = "data_samples/sub-sim01_ses-dist1.nwb"
    done = subprocess.run(
        [sys.executable, "-m", "dopafit", "compare", src, "-o", folder / name, *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return _untimed(dopafit.open_comparison(folder / name))


def test_cli_workers_write_the_same_comparison(tmp_path):
    common = ["--n-sim", "10", "--n-splits", "5", "--accounts", "classical,sigmoid"]
    local = _cli_comparison(tmp_path, "local.nc", *common)
    on_dask = _cli_comparison(tmp_path, "dask.nc", *common, "--workers", "2", "--chunk-size", "3")
    xr.testing.assert_identical(on_dask, local)


def test_cli_scheduler_address_writes_the_same_comparison(tmp_path):
    """A scheduler started here on 127.0.0.1 with two single-threaded worker processes, reached
    by address (as on a cluster); 12 simulations per account cut into 1, 2 and 4 chunks per
    worker give the comparison of the run without dask."""
    common = ["--n-sim", "12", "--n-splits", "5", "--accounts", "classical,bias"]

    def cli(name, *extra):
        return _cli_comparison(tmp_path, name, *common, *extra)

    local = cli("local.nc")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        for per_worker in (1, 2, 4):  # 12 simulations / 2 workers / chunks per worker
            size = str(12 // (2 * per_worker))
            got = cli(
                f"s{per_worker}.nc", "--scheduler", cluster.scheduler_address, "--chunk-size", size
            )
            xr.testing.assert_identical(got, local)


def _counting(monkeypatch):
    """Count the simulated datasets computed by the local path."""
    from dopafit.stats import accounts as acc

    counted = []
    real = acc.simulate

    def simulate(layout, fit, noise, sim_seeds, mode="gaussian"):
        counted.append(len(sim_seeds))
        return real(layout, fit, noise, sim_seeds, mode)

    monkeypatch.setattr(acc, "simulate", simulate)
    return counted


def test_resume_computes_only_the_missing_chunks(local, tmp_path, monkeypatch):
    ds, expected = local
    counted = _counting(monkeypatch)
    first = dopafit.compare(ds, chunk_size=5, resume=tmp_path, **KW)
    assert sum(counted) == 2 * KW["n_sim"]
    xr.testing.assert_identical(_untimed(first), _untimed(expected))
    files = sorted(tmp_path.glob("*/*.npy"))
    assert len(files) == 2 * 3  # two accounts, chunks of 5, 5 and 2
    assert not list(tmp_path.glob("*/.*"))  # no temporary file left
    for gone in files[::2]:  # as if killed before these chunks finished
        gone.unlink()
    counted.clear()
    again = dopafit.compare(ds, chunk_size=5, resume=tmp_path, **KW)
    assert len(counted) == 3
    xr.testing.assert_identical(_untimed(again), _untimed(expected))
    # a changed setting starts afresh (another key folder)
    counted.clear()
    dopafit.compare(ds, chunk_size=5, resume=tmp_path, **{**KW, "seed": 8})
    assert sum(counted) == 2 * KW["n_sim"]
    assert len(list(tmp_path.iterdir())) == 2


def test_resume_on_dask_reads_the_local_chunks(local, tmp_path):
    ds, expected = local
    dopafit.compare(ds, chunk_size=4, resume=tmp_path, **KW)
    for gone in sorted(tmp_path.glob("*/*.npy"))[1::2]:
        gone.unlink()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = dopafit.compare(ds, chunk_size=4, client=client, resume=tmp_path, **KW)
    assert len(list(tmp_path.glob("*/*.npy"))) == 2 * 3
    xr.testing.assert_identical(_untimed(got), _untimed(expected))


def test_cli_killed_midway_resumes_with_the_missing_chunks(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    from click.testing import CliRunner

    from dopafit.cli import cli

    src = "data_samples/sub-sim01_ses-dist1.nwb"
    args = ["--n-sim", "200", "--n-splits", "5", "--accounts", "classical", "--chunk-size", "2"]
    out = tmp_path / "killed.nc"
    chunks = tmp_path / ".killed.nc.chunks"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dopafit", "compare", src, "-o", out, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(list(chunks.glob("*/*.npy"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, "the comparison ended before it could be killed"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    saved = len(list(chunks.glob("*/*.npy")))
    assert 3 <= saved < 100
    counted = _counting(monkeypatch)
    runner = CliRunner()
    done = runner.invoke(cli, ["compare", src, "-o", str(out), *args])
    assert done.exit_code == 0, done.output
    assert len(counted) == 100 - saved
    assert not chunks.exists()
    whole = runner.invoke(cli, ["compare", src, "-o", str(tmp_path / "whole.nc"), *args])
    assert whole.exit_code == 0, whole.output
    xr.testing.assert_identical(
        _untimed(dopafit.open_comparison(out)),
        _untimed(dopafit.open_comparison(tmp_path / "whole.nc")),
    )
