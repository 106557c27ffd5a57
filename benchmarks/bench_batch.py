"""Batch fitting: `dopafit fit --workers 2` vs `--workers 1` on many simulated sessions.

Usage: ``python benchmarks/bench_batch.py [--sessions 200] [--units 40] [--no-write]``.
Prints the section and replaces the "Batch fitting" section of docs/reference/performance.md (not with
``--no-write``); ``--sessions 8`` is a quick check.

Simulated NWB sessions are written once to ``benchmarks/results/batch_inputs_<S>x<U>`` (reused
on later runs). Each configuration runs the real command line in a fresh process, as a user
would, with the default fit settings; wall time includes process start, imports, numba cache
loading, the worker processes' start (workers > 1), reading, fitting, writing and (end to end)
the final population fit. The two ratios are printed last, from this one
run: the session stage (``--no-population``) and end to end, 2 workers against 1. Per-session
costs (load, fit, write) are measured separately in this process.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common

RESULTS = common.RESULTS


def make_inputs(folder: Path, n_sessions: int, n_units: int) -> list[Path]:
    from dopafit import simulate_session, write_nwb

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_sessions):
        path = folder / f"sim{i:03d}.nwb"
        if not path.exists():
            kind = "distributional" if i % 4 else "classical"
            session = simulate_session(
                "dabney", kind, n_units=n_units, n_trials=250, seed=1000 + i, session_id=f"s{i}"
            )
            write_nwb(session, path)
        paths.append(path)
    return paths


def run_cli(inputs: Path, out: Path, workers: int, population: bool = True) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "dopafit", "fit", str(inputs), "-o", str(out), "-q"]
    cmd += ["--workers", str(workers), "--seed", "0"]
    if not population:
        cmd.append("--no-population")
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def overhead(paths: list[Path], out: Path) -> tuple[float, float]:
    """Seconds per session to load + write without fitting, and to fit alone."""
    from dopafit import fit_expectiles, load_nwb, to_netcdf

    out.mkdir(parents=True, exist_ok=True)
    load_nwb(paths[0])  # imports, compilation
    fit_expectiles(load_nwb(paths[0]), n_splits=10, n_boot=10)
    io_time = fit_time = 0.0
    for path in paths:
        t0 = time.perf_counter()
        ds = load_nwb(path)
        to_netcdf(ds, out / f"{path.stem}.nc")
        t1 = time.perf_counter()
        fit_expectiles(ds, seed=0)
        fit_time += time.perf_counter() - t1
        io_time += t1 - t0
    return io_time / len(paths), fit_time / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()
    inputs = RESULTS / f"batch_inputs_{args.sessions}x{args.units}"
    t0 = time.perf_counter()
    paths = make_inputs(inputs, args.sessions, args.units)
    print(f"inputs: {len(paths)} sessions x {args.units} units ({time.perf_counter() - t0:.1f} s)")
    io_s, fit_s = overhead(paths[:10], RESULTS / "batch_overhead")
    startup = run_cli(paths[0], RESULTS / "batch_one", 1)
    load_start = f"{os.getloadavg()[0]:.2f}"
    s1 = run_cli(inputs, RESULTS / "batch_w1", 1, population=False)
    s2 = run_cli(inputs, RESULTS / "batch_w2", 2, population=False)
    w1 = run_cli(inputs, RESULTS / "batch_w1", 1)
    w2 = run_cli(inputs, RESULTS / "batch_w2", 2)
    load_end = f"{os.getloadavg()[0]:.2f}"
    lines = [
        "## Batch fitting",
        "",
        f"`python benchmarks/bench_batch.py --sessions {args.sessions} --units {args.units}`"
        f" on {common.cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"{args.sessions} simulated sessions of {args.units} units and 250 trials, default fit"
        " settings (1,000 splits, 1,000 bootstrap resamples), the real command line in a fresh"
        " process.",
        "",
        "| run | `--workers 1` | `--workers 2` | speed-up |",
        "|---|---|---|---|",
        f"| sessions only (`--no-population`) | {s1:.1f} s ({s1 / args.sessions:.3f} s/session)"
        f" | {s2:.1f} s ({s2 / args.sessions:.3f} s/session) | **{s1 / s2:.2f}x** |",
        f"| sessions + population fit of all {args.sessions * args.units} units (default) |"
        f" {w1:.1f} s | {w2:.1f} s | {w1 / w2:.2f}x |",
        "",
        f"Load average (1 min) {load_start} before the four runs, {load_end} after (the"
        " ratios need an otherwise idle machine).",
        "",
        "Each worker fits one session at a time with single-threaded kernels, so the session"
        " stage scales with the number of cores. On Linux the worker processes are forked from"
        " the command's process, so they start with its imports done; each loads the cached"
        " numba kernels once, at its first session, and writes its sessions' outputs itself. The population fit that follows pools every"
        " unit of every session into one fit (the utility axis and the split-half statistics"
        " are population quantities): it runs once, in the command's process, with"
        " multi-threaded kernels, identical for any `--workers`, and so bounds the end-to-end"
        " speed-up of a batch this large; skip it with `--no-population` when only per-session"
        " fits are wanted.",
        "",
        f"Per-session costs (mean of 10 sessions, in one process): load NWB + extract responses +"
        f" write netCDF {io_s:.3f} s; fit {fit_s:.3f} s. A one-session run of the command takes"
        f" {startup:.1f} s in all (process start, imports, numba cache loading, population fit).",
        f"The one-worker command spends {s1 / args.sessions:.3f} s per session and the two"
        f" workers {2 * s2 / args.sessions:.3f} core-seconds per session, both more than these"
        f" {io_s + fit_s:.3f} s: the rest (input hashing, output stamps, the command's"
        " bookkeeping) is not itemised here, and a speed-up above 2 means the one-worker run"
        " carried more of it per session than the workers did.",
        "",
    ]
    print("\n".join(lines))
    print(f"session stage, 2 workers vs 1: {s1 / s2:.2f}x ({s1:.1f} s vs {s2:.1f} s)")
    print(f"end to end,    2 workers vs 1: {w1 / w2:.2f}x ({w1:.1f} s vs {w2:.1f} s)")
    if not args.no_write:
        common.write_section("Batch fitting", "\n".join(lines))


if __name__ == "__main__":
    main()
