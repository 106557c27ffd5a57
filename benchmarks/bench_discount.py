"""Discounting fit: per-unit exponential + hyperbolic fits and 1,000 split halves for 1,000 units,
numba kernels against a plain numpy implementation of the same rules, in the same process.

Run: ``.venv/bin/python benchmarks/bench_discount.py`` (``--no-write`` to leave the docs alone,
``--numpy-splits`` to time the numpy reference on fewer splits: it is then scaled to 1,000, its
cost being the same for every split). Prints the machine, the library versions, the compile
time (fresh process) and the times as ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import dopafit
from dopafit.kernels import discount as kd
from dopafit.kernels.fit_stats import pearson_rows

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common

LIBRARIES = ("numpy", "scipy", "numba")
COMPILE_SCRIPT = """
import time
import dopafit
ds = dopafit.simulate_discounting(n_units=4, n_trials=40, seed=0)
t = time.perf_counter()
dopafit.fit_discounting(ds, n_splits=16, n_boot=4, progress=False)
print(time.perf_counter() - t)
"""
_INV_PHI = 0.6180339887498949


# ------------------------------------------------------------------------------------------
# the numpy reference: the same rules, vectorised over units with numpy


def np_profile(x, n, y, fit_asym):
    """Weighted least squares of y on x per unit (x: (..., D) broadcast against n, y)."""
    w = n.astype(float)
    yy = np.where(n > 0, y, 0.0)
    if fit_asym:
        sw = w.sum(-1)
        xm = (w * x).sum(-1) / sw
        ym = (w * yy).sum(-1) / sw
        dx = x - xm[..., None]
        sxx = (w * dx * dx).sum(-1)
        sxy = (w * dx * (yy - ym[..., None])).sum(-1)
        flat = sxx <= 1e-24 * sw
        a = np.where(flat, 0.0, sxy / np.where(flat, 1.0, sxx))
        b = ym - a * xm
    else:
        sxx = (w * x * x).sum(-1)
        a = (w * x * yy).sum(-1) / sxx
        b = np.zeros_like(a)
    e = yy - b[..., None] - a[..., None] * x
    return a, b, (w * e * e).sum(-1)


def np_design(kind, p, delays):
    p = np.asarray(p)[..., None]
    return p**delays if kind == "exponential" else 1.0 / (1.0 + p * delays)


def np_fit(kind, delays, n, y, fit_asym, grid):
    """Grid over the parameter, then golden section between the minimum's neighbours."""
    x = np_design(kind, grid, delays)  # (G, D)
    rss = np_profile(x[None, :, :], n[:, None, :], y[:, None, :], fit_asym)[2]  # (U, G)
    best = np.argmin(rss, axis=1)
    best_rss = rss[np.arange(rss.shape[0]), best]
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, grid.size - 1)]

    def f(p):
        return np_profile(np_design(kind, p, delays), n, y, fit_asym)[2]

    c = hi - _INV_PHI * (hi - lo)
    d = lo + _INV_PHI * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(48):
        left = fc <= fd
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new_c = hi - _INV_PHI * (hi - lo)
        new_d = lo + _INV_PHI * (hi - lo)
        c, d = np.where(left, new_c, d), np.where(left, c, new_d)
        f_new = f(np.where(left, c, d))
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    p = np.where(fc <= fd, c, d)
    fp = np.minimum(fc, fd)
    p = np.where(fp < best_rss, p, grid[best])
    a, b, r = np_profile(np_design(kind, p, delays), n, y, fit_asym)
    return p, a, b, r


def np_padded(response, didx, n_delay):
    """Trials padded per (unit, delay): values (U, D, W) with NaN pads, counts (U, D)."""
    n_unit = response.shape[0]
    count = np.zeros((n_unit, n_delay), dtype=np.int64)
    for j in range(n_delay):
        count[:, j] = ((didx == j) & np.isfinite(response)).sum(1)
    width = int(count.max())
    vals = np.full((n_unit, n_delay, width), np.nan)
    for u in range(n_unit):
        for j in range(n_delay):
            r = response[u, (didx[u] == j) & np.isfinite(response[u])]
            vals[u, j, : r.size] = r
    return vals, count


def numpy_analysis(response, didx, delays, grid, k_grid, n_splits, seed=0):
    """Point fits (exponential, hyperbolic) and split-half gammas with numpy."""
    vals, count = np_padded(response, didx, delays.size)
    mean = np.nanmean(vals, axis=2)
    g = np_fit("exponential", delays, count, mean, True, grid)[0]
    k = np_fit("hyperbolic", delays, count, mean, True, k_grid)[0]
    rng = np.random.default_rng(seed)
    h = count // 2
    pos = np.arange(vals.shape[2])
    ga = np.empty((n_splits, count.shape[0]))
    gb = np.empty_like(ga)
    for i in range(n_splits):
        keys = np.where(np.isnan(vals), np.inf, rng.random(vals.shape))
        order = np.argsort(keys, axis=2)
        perm = np.take_along_axis(vals, order, axis=2)
        in_a = pos < h[..., None]
        in_b = (pos >= h[..., None]) & (pos < 2 * h[..., None])
        ya = np.where(in_a, perm, 0.0).sum(2) / np.maximum(h, 1)
        yb = np.where(in_b, perm, 0.0).sum(2) / np.maximum(h, 1)
        ga[i] = np_fit("exponential", delays, h, ya, True, grid)[0]
        gb[i] = np_fit("exponential", delays, h, yb, True, grid)[0]
    rel = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(ga, gb)])
    return g, k, rel


# ------------------------------------------------------------------------------------------
# dopafit's kernels


def numba_analysis(data, opts, split_seeds):
    vals, start, cnt, delays, count, mean, ss = data
    grid, k_grid = opts.gamma_grid(), opts.k_grid()
    g = kd.fit_exponential(delays, count, mean, ss, True, 0.0, grid)[0]
    k = kd.fit_hyperbolic(delays, count, mean, ss, True, 0.0, k_grid)[0]
    ga, gb = kd.split_half_exponential(vals, start, cnt, delays, True, 0.0, grid, split_seeds)
    rel = pearson_rows(ga, gb)[0]
    return g, k, rel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--splits", type=int, default=1000)
    parser.add_argument("--numpy-splits", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    print(f"machine: {common.machine(LIBRARIES, load=False)}")
    ds = dopafit.simulate_discounting(population="multi", n_units=args.units, seed=0)
    d = ds["delay"].values
    r = np.ascontiguousarray(ds["response"].values)
    delays = np.unique(d[np.isfinite(d)])
    didx = np.where(np.isfinite(d), np.searchsorted(delays, np.nan_to_num(d)), -1).astype(np.int64)
    opts = dopafit.DiscountOptions()
    compile_s = common.compile_seconds(COMPILE_SCRIPT)

    def prepare():
        count, mean, ss = kd.delay_stats(r, didx, delays.size)
        vals, start, cnt = kd.group_trials(r, didx, delays.size)
        return vals, start, cnt, delays, count, mean, ss

    data = prepare()
    split_seeds = np.random.SeedSequence(0).generate_state(args.splits, dtype=np.uint64)
    numba_analysis(data, opts, split_seeds[:16])  # load the compiled kernels
    t_nb, (g_nb, k_nb, rel_nb) = common.best_of(
        lambda: numba_analysis(prepare(), opts, split_seeds), repeat=2
    )
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t_nb1, _ = common.best_of(lambda: numba_analysis(prepare(), opts, split_seeds), repeat=1)
    finally:
        numba.set_num_threads(threads)
    n_np = min(args.numpy_splits, args.splits)
    t0 = time.perf_counter()
    g_np, k_np, rel_np = numpy_analysis(
        r, didx, delays, opts.gamma_grid(), opts.k_grid(), n_np, seed=1
    )
    t_np = (time.perf_counter() - t0) * (args.splits / n_np if n_np else 1.0)
    dopafit.fit_discounting(ds.isel(unit=slice(0, 4)), n_splits=16, n_boot=4, progress=False)
    t_full, _ = common.best_of(lambda: dopafit.fit_discounting(ds, progress=False), repeat=1)
    info = common.machine_info(LIBRARIES)

    dg = float(np.max(np.abs(g_nb - g_np)))
    dk = float(np.max(np.abs(k_nb - k_np) / np.maximum(k_np, 1e-3)))
    scaled = "" if n_np == args.splits else f" (timed on {n_np} splits, scaled to {args.splits})"
    print(f"data: simulate_discounting(n_units={args.units}), {int(data[2].sum())} trials")
    print(f"  numba, {info['numba threads']} threads: {t_nb:.3f} s")
    print(f"  numba, 1 thread:  {t_nb1:.3f} s")
    print(f"  numpy:            {t_np:.3f} s{scaled}")
    print(f"  speed-up x{t_np / t_nb:.0f} (1 thread x{t_np / t_nb1:.0f})")
    print(f"  fit_discounting defaults (1000 splits, 1000 bootstrap): {t_full:.2f} s")
    print(f"  compile (fresh process, empty cache): {compile_s:.1f} s")
    print(f"  max |gamma numba - numpy| {dg:.2e}; max relative k difference {dk:.2e}")
    print(
        f"  median reliability: numba {np.nanmedian(rel_nb):.3f}, numpy {np.nanmedian(rel_np):.3f}"
    )
    print("  " + ", ".join(f"{k}: {v}" for k, v in info.items()))
    if args.no_write:
        return
    text = [
        "## Discounting fit\n",
        "\n",
        "`benchmarks/bench_discount.py`: the discounting fit of `fit_discounting` on\n",
        f"{args.units:,} simulated units (`simulate_discounting`, 4 delays, 200 trials per unit):\n",
        "per unit the exponential and the hyperbolic least-squares fits (grid of 200, then golden\n",
        f"section) and gamma on both halves of {args.splits:,} random split halves within delay,\n",
        "with the per-split reliability r(gamma_A, gamma_B); against a numpy implementation of the\n",
        "same rules vectorised over units (padded trials, argsort permutations), in the same\n",
        f"process{scaled}. Random draws differ; the point fits agree to {max(dg, dk):.0e}.\n",
        "The machine is shared (read the load average in the machine line): times are best of 2\n",
        "(numba, 2 threads) and of 1 (numba on 1 thread, numpy).\n",
        "\n",
        "| | time |\n|---|---|\n",
        f"| fits + {args.splits:,} split halves, dopafit (numba, {info['numba threads']} threads) "
        f"| {t_nb:.2f} s |\n",
        f"| same, plain numpy | {t_np:.1f} s |\n",
        f"| **speed-up** | **{t_np / t_nb:.0f}x** |\n",
        f"| same, dopafit on 1 thread | {t_nb1:.2f} s ({t_np / t_nb1:.0f}x) |\n",
        f"| `fit_discounting` with defaults (1000 splits, 1000 bootstrap) | {t_full:.2f} s |\n",
        f"| first call in a fresh process with an empty numba cache | {compile_s:.1f} s |\n",
        f"| median reliability r(gamma_A, gamma_B): dopafit / numpy | "
        f"{np.nanmedian(rel_nb):.3f} / {np.nanmedian(rel_np):.3f} |\n",
        "\n",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".\n",
    ]
    common.write_section("Discounting fit", "".join(text))


if __name__ == "__main__":
    main()
