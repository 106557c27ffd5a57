"""The calibrated comparison on a dask cluster: 2 workers against 1 on this machine.

Usage: ``python benchmarks/bench_compare_dask.py [--units 2000] [--n-sim 48] [--n-splits 100]``.
Prints only (it writes no page): the seconds of ``dopafit.compare(..., client=)`` for the
classical account on a simulated distributional population of ``--units`` units, on a local
cluster of 1 and of 2 single-threaded worker processes (best of ``--repeat`` runs each, after a
warm-up run that starts the workers and loads the numba cache), the ratio of the two from this
one run, and the time per core of 4 accounts x 1,000 simulations of an 8,000-unit population
extrapolated linearly in units and simulations from the 1-worker time. Both results are checked
identical. ``--units 200 --n-sim 20`` is a quick check. Measured here (2 cores, load
average 2.4 at the end): 22.0 s and 12.1 s, 1.81x (simulation stage 1.83x); 8,000 units x 4 x
1,000 simulations about 2.0 core-hours.
"""

from __future__ import annotations

import argparse
import time

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common


def run(n_workers: int, ds, kw: dict, repeat: int):
    from dask.distributed import Client, LocalCluster

    import dopafit

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        dopafit.compare(ds, **{**kw, "n_sim": 2 * n_workers}, client=client)  # warm-up
        times, result = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = dopafit.compare(ds, **kw, client=client)
            times.append(time.perf_counter() - t0)
    return min(times), result


def main(argv=None) -> None:
    import xarray as xr

    from dopafit.simulate import simulate_responses

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--n-sim", type=int, default=48)
    parser.add_argument("--n-splits", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    ds = simulate_responses(population="distributional", n_units=args.units, seed=0)
    kw = dict(
        accounts=("classical",),
        n_sim=args.n_sim,
        n_splits=args.n_splits,
        n_boot=0,
        mixed=False,
        chunk_size=max(1, args.n_sim // 8),  # 4 chunks per worker with 2 workers
        progress=False,
    )
    one, r1 = run(1, ds, kw, args.repeat)
    two, r2 = run(2, ds, kw, args.repeat)
    stage = [r.attrs.pop("timing_s")["classical"] for r in (r1, r2)]
    xr.testing.assert_identical(r1, r2)
    per_core = one * (8000 / args.units) * (4 * 1000 / args.n_sim)
    print(f"{args.units} units, 1 account x {args.n_sim} simulations x {args.n_splits} splits")
    print(f"1 worker:  {one:.2f} s")
    print(f"2 workers: {two:.2f} s")
    print(f"ratio 2 workers / 1: {one / two:.2f}x (identical results)")
    print(
        f"simulation stage (fit, chunks): {stage[0]:.2f} s and {stage[1]:.2f} s, ratio "
        f"{stage[0] / stage[1]:.2f}x (the rest, observed statistics and assembly, is serial)"
    )
    print(
        f"8,000 units, 4 accounts x 1,000 simulations: about {per_core / 3600:.1f} core-hours "
        f"(extrapolated from 1 worker)"
    )
    print(common.machine(("numpy", "numba", "dask")))


if __name__ == "__main__":
    main()
