"""Calibration and power of :func:`dopafit.compare_timescales` (not a timing benchmark).

Simulated delay-task populations (``dopafit.simulate_discounting``: 4 delays 0.5, 1.5, 3,
6 s; 40 units; 200 trials per unit), each dataset compared with its own seed:

- ``single`` populations (one shared gamma = 0.8): the false-positive rate of
  "multi-timescale" (``p_multi < alpha``, per statistic) and of "hyperbolic"
  (``p_hyperbolic < alpha``: single-timescale populations discount exponentially), with the
  two-sided 95% binomial band around alpha at the number of datasets;
- ``multi`` populations (gamma_i stratified in 0.4-0.95): the power of the single-timescale
  test (fraction with ``p_multi < alpha``) and the false-positive rate of "hyperbolic";
- ``hyperbolic`` populations (k_i in 0.2-2 /s): the power of "hyperbolic"
  (``p_hyperbolic < alpha``) and the fraction the data cannot decide (neither
  ``p_hyperbolic`` nor ``p_exponential`` below alpha).

The exponential-against-hyperbolic test uses the double bootstrap (``n_inner``) and is run
on half as many exponential datasets (each costs ``n_sim x n_inner`` simulated datasets);
the single-level p is printed beside it.

Usage: ``python benchmarks/eval_timescale_calibration.py [--datasets 200] [--power-datasets
100] [--n-sim 199] [--n-splits 20] [--shape-sim 99] [--n-inner 49] [--part all|timescales|
shape]`` (about 5 min per part on 2 cores with the defaults).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import dopafit
from dopafit.stats.timescales import compare_timescales


def simulate(population, n_units, n_trials, seed):
    return dopafit.simulate_discounting(
        population=population, n_units=n_units, n_trials=n_trials, seed=seed
    )


def band(n: int, alpha: float = 0.05, level: float = 0.95) -> tuple[int, int]:
    """Two-sided binomial band of the number of rejections among n datasets at rate alpha."""
    lo = int(stats.binom.ppf((1 - level) / 2, n, alpha))
    hi = int(stats.binom.ppf((1 + level) / 2, n, alpha))
    return lo, hi


def run(population, n_datasets, n_sim, n_splits, accounts, n_inner=0, *, n_units=40,
        n_trials=200):  # fmt: skip
    """p_multi (reliability, heterogeneity), p_hyperbolic, p_exponential and the single-level
    p_hyperbolic_raw of every dataset."""
    out = np.full((n_datasets, 5), np.nan)
    for i in range(n_datasets):
        ds = simulate(population, n_units, n_trials, seed=1000 + i)
        c = compare_timescales(
            ds, n_sim=n_sim, n_splits=n_splits, accounts=accounts, seed=i, n_inner=n_inner
        )
        out[i, :2] = c["p_multi"].values[:2]
        out[i, 2] = float(c["p_hyperbolic"])
        out[i, 3] = float(c["p_exponential"])
        out[i, 4] = float(c["p_hyperbolic_raw"])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--power-datasets", type=int, default=100)
    parser.add_argument("--n-sim", type=int, default=199)
    parser.add_argument("--n-splits", type=int, default=20)
    parser.add_argument("--n-inner", type=int, default=49)
    parser.add_argument("--shape-sim", type=int, default=99)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--part", choices=("all", "timescales", "shape"), default="all")
    args = parser.parse_args(argv)
    if args.part in ("all", "timescales"):
        timescales(args)
    if args.part in ("all", "shape"):
        shape(args)


def _fpr(p, n, a, what):
    lo, hi = band(n, a)
    k = int(np.sum(p < a))
    ok = "inside" if lo <= k <= hi else "OUTSIDE"
    print(f"  {what}: {k}/{n} = {k / n:.3f} ({ok} the 95% band {lo}-{hi})")


def _rate(p, n, a, what):
    k = int(np.sum(p < a))
    ci = stats.binomtest(k, n).proportion_ci(0.95)
    print(f"  {what}: {k}/{n} = {k / n:.3f} [{ci.low:.3f}, {ci.high:.3f}]")


def timescales(args):
    """Single against multi-timescale: false positives and power."""
    a, n, npow = args.alpha, args.datasets, args.power_datasets
    print(f"single vs multi: n_sim = {args.n_sim}, n_splits = {args.n_splits}, 40 units x 200")
    t0 = time.perf_counter()
    p = run("single", n, args.n_sim, args.n_splits, ("single",))
    t1 = time.perf_counter() - t0
    print(f"\nsingle-timescale populations: {n} datasets, {t1:.0f} s ({t1 / n:.2f} s each)")
    for j, name in enumerate(("gamma_reliability", "gamma_heterogeneity")):
        _fpr(p[:, j], n, a, f"FPR multi ({name})")
    _fpr(np.minimum(p[:, 0], p[:, 1]), n, a, "either statistic (uncorrected, for reference)")
    t0 = time.perf_counter()
    p = run("multi", npow, args.n_sim, args.n_splits, ("single",))
    t1 = time.perf_counter() - t0
    print(f"\nmulti-timescale populations: {npow} datasets, {t1:.0f} s")
    for j, name in enumerate(("gamma_reliability", "gamma_heterogeneity")):
        _rate(p[:, j], npow, a, f"power ({name})")


def shape(args):
    """Exponential against hyperbolic: false positives and power (double bootstrap)."""
    a, n, npow, ns = args.alpha, args.datasets, args.power_datasets, args.shape_sim
    print(f"\nexponential vs hyperbolic: n_sim = {ns}, n_inner = {args.n_inner}, 40 units x 200")
    for pop in ("single", "multi"):
        t0 = time.perf_counter()
        p = run(pop, n // 2, ns, 0, ("multi",), args.n_inner)
        t1 = time.perf_counter() - t0
        print(f"\n{pop}-timescale (exponential) populations: {n // 2} datasets, {t1:.0f} s")
        _fpr(p[:, 2], n // 2, a, "FPR hyperbolic (double bootstrap)")
        _fpr(p[:, 4], n // 2, a, "FPR hyperbolic (single level)")
    t0 = time.perf_counter()
    p = run("hyperbolic", npow, ns, 0, ("multi", "hyperbolic"), args.n_inner)
    t1 = time.perf_counter() - t0
    print(f"\nhyperbolic populations: {npow} datasets, {t1:.0f} s")
    _rate(p[:, 2], npow, a, "power hyperbolic (double bootstrap)")
    _rate(p[:, 4], npow, a, "p_hyperbolic_raw < alpha (single level)")
    k = int(np.sum(p[:, 3] < a))
    print(f"  exponential wrongly favoured (p_exponential < alpha): {k}/{npow}")
    k = int(np.sum((p[:, 2] >= a) & (p[:, 3] >= a)))
    print(f"  cannot decide (both accounts compatible): {k}/{npow}")


if __name__ == "__main__":
    main()
