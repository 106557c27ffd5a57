"""Recovery of per-unit discount factors and of reward timing on simulated populations.

Reproduces the recovery and decoding tables of ``docs/explanation/timescales.md``:

- ``fit_discounting`` on multi- and single-timescale populations (4 delays, 40 units) at the
  simulator's noise and at several trial counts: Pearson r(fitted, true gamma), bias, RMSE,
  coverage of the 95% bootstrap interval, the median split-half reliability;
- ``decode_timing`` of the bimodal cue (reward after 1 s or 6 s) on the session's delays and
  on a continuous grid: Wasserstein-1 distance to the truth against the references'.

Run: ``python -m benchmarks.eval_timescale_recovery [--seeds 10] [--quick]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import dopafit


def recovery(population: str, n_trials: int, seeds, n_boot: int) -> dict:
    """Recovery numbers over datasets (one per seed)."""
    r, err, cover, rel = [], [], [], []
    for seed in seeds:
        ds = dopafit.simulate_discounting(population=population, n_trials=n_trials, seed=seed)
        fit = dopafit.fit_discounting(ds, n_splits=200, n_boot=n_boot, seed=seed, progress=False)
        g, t = fit["gamma"].values, ds["true_gamma"].values
        if population == "multi":
            r.append(np.corrcoef(g, t)[0, 1])
        err.append(g - t)
        if n_boot:
            cover.append((fit["gamma_lo"].values <= t) & (t <= fit["gamma_hi"].values))
        rel.append(float(fit["gamma_reliability"].median()))
    err = np.concatenate(err)
    return {
        "r": (min(r), float(np.mean(r)), max(r)) if r else None,
        "bias": float(err.mean()),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "coverage": float(np.mean(np.concatenate(cover))) if cover else np.nan,
        "reliability": (min(rel), float(np.median(rel)), max(rel)),
    }


def decoding(seeds, grid: str) -> dict:
    """The bimodal cue decoded per seed: W1 to the truth against the references'."""
    rows = []
    for seed in seeds:
        ds = dopafit.simulate_discounting("delay-bimodal", "multi", 40, 200, seed=seed)
        fit = dopafit.fit_discounting(ds, n_splits=0, n_boot=0, seed=seed, progress=False)
        res = dopafit.decode_timing(fit, ds, cue_id=5, n_boot=0, seed=seed, time_grid=grid)
        w = res["wasserstein"].to_series()
        ref = res["reference_to_truth"].to_series()
        rows.append([w["truth"], ref["uniform"], ref["gaussian"], res.attrs["mean_time"]])
    a = np.array(rows)
    return {
        "better": int(np.sum(a[:, 0] < np.minimum(a[:, 1], a[:, 2]))),
        "n": len(a),
        "w1": float(a[:, 0].mean()),
        "uniform": float(a[:, 1].mean()),
        "gaussian": float(a[:, 2].mean()),
        "mean_time": (float(a[:, 3].min()), float(a[:, 3].max())),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 200 and 800 trials")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    seeds = range(2 if args.quick else args.seeds)
    start = time.perf_counter()
    print("fit_discounting: 4 delays (0.5, 1.5, 3, 6 s), 40 units, simulator noise")
    print(f"{'trials':>7} {'r (min/mean/max)':>20} {'bias':>7} {'RMSE':>6} {'cover':>6} "
          f"{'reliability multi':>22} {'reliability single':>22}")  # fmt: skip
    for n_trials in (200, 800) if args.quick else (200, 400, 800, 1600):
        m = recovery("multi", n_trials, seeds, n_boot=400)
        s = recovery("single", n_trials, seeds, n_boot=0)
        rel_m = "{:.2f} [{:.2f}, {:.2f}]".format(m["reliability"][1], *m["reliability"][::2])
        rel_s = "{:.2f} [{:.2f}, {:.2f}]".format(s["reliability"][1], *s["reliability"][::2])
        r = "{:.2f}/{:.2f}/{:.2f}".format(*m["r"])
        print(f"{n_trials:>7} {r:>20} {m['bias']:>+7.3f} {m['rmse']:>6.3f} "
              f"{m['coverage']:>6.1%} {rel_m:>22} {rel_s:>22}")  # fmt: skip
    print("\ndecode_timing, bimodal cue (1 s or 6 s), 40 units, 200 trials")
    for grid in ("delays", "continuous"):
        d = decoding(seeds, grid)
        print(
            f"  {grid:<10}: W1 to truth below both references' in {d['better']}/{d['n']}; "
            f"W1 {d['w1']:.2f} (uniform {d['uniform']:.2f}, Gaussian {d['gaussian']:.2f}); "
            f"mean time {d['mean_time'][0]:.2f}-{d['mean_time'][1]:.2f} s (truth 3.5)"
        )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
