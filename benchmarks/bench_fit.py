"""Benchmark of the split-half analysis: numba kernels vs a plain numpy implementation.

Runs the full split-half analysis (1,000 random splits: half-A and half-B reversal points,
half-B tau, 7 folds per split, and the per-split population statistics r, rho, reliability
and fold ANOVA) on the 40 public neurons of Dabney et al. (2020) when the shared recordings
and the NWB loader are available, otherwise on a simulated population with the same trial
counts per neuron, magnitude and cue condition. The numpy implementation below computes the
same quantities with the same rules in a straightforward way and runs in the same process.

Usage: ``python benchmarks/bench_fit.py [--splits 1000] [--no-write]``. Prints a table and
replaces the "Fitting" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

import dopafit
from dopafit.fit.axes import prepare

ROOT = Path(__file__).resolve().parents[1]

MAGS = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
PROBS = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])
# trials per neuron and magnitude in the public recordings (cued, uncued)
CUED = [[7, 8, 12, 13, 25, 12, 6], [6, 9, 14, 14, 26, 14, 7], [5, 8, 11, 11, 24, 11, 5], [8, 10, 17, 16, 31, 16, 8], [8, 10, 17, 16, 31, 16, 8], [8, 10, 17, 16, 31, 16, 8], [8, 11, 17, 16, 34, 16, 7], [6, 11, 16, 18, 32, 17, 8], [6, 11, 16, 18, 32, 17, 8], [6, 9, 13, 14, 28, 15, 8], [8, 12, 18, 18, 36, 17, 9], [8, 12, 18, 18, 36, 17, 9], [9, 11, 16, 17, 35, 18, 9], [8, 11, 15, 16, 32, 14, 8], [8, 11, 15, 16, 32, 14, 8], [10, 13, 19, 22, 44, 20, 10], [10, 13, 19, 22, 44, 20, 10], [9, 12, 19, 19, 37, 19, 10], [5, 7, 11, 10, 19, 9, 6], [6, 8, 12, 11, 22, 13, 6], [6, 7, 9, 9, 21, 13, 7], [10, 14, 22, 20, 41, 23, 11], [11, 14, 19, 20, 46, 20, 10], [10, 14, 23, 20, 43, 24, 10], [11, 13, 18, 20, 39, 19, 9], [9, 14, 20, 19, 41, 22, 11], [9, 14, 20, 19, 41, 22, 11], [7, 11, 18, 17, 31, 17, 8], [7, 11, 18, 17, 31, 17, 8], [11, 16, 21, 23, 43, 21, 12], [11, 16, 21, 23, 43, 21, 12], [10, 15, 20, 20, 41, 19, 11], [10, 15, 20, 20, 41, 19, 11], [11, 14, 20, 22, 43, 21, 11], [7, 11, 15, 17, 33, 15, 9], [6, 8, 12, 13, 25, 13, 7], [9, 11, 17, 15, 32, 13, 8], [6, 10, 13, 12, 25, 12, 6], [11, 13, 19, 20, 39, 18, 9], [9, 13, 20, 19, 40, 18, 9]]  # fmt: skip
UNCUED = [[3, 8, 12, 10, 20, 10, 4], [5, 10, 9, 9, 22, 11, 6], [5, 8, 6, 9, 19, 9, 4], [7, 8, 13, 16, 29, 13, 6], [7, 8, 13, 16, 29, 13, 6], [7, 8, 13, 16, 29, 13, 6], [5, 10, 14, 11, 23, 11, 5], [7, 7, 11, 16, 27, 13, 4], [7, 7, 11, 16, 27, 13, 4], [8, 5, 12, 11, 24, 9, 6], [6, 10, 16, 14, 29, 12, 8], [6, 10, 16, 14, 29, 12, 8], [7, 10, 16, 15, 24, 13, 7], [7, 8, 12, 13, 27, 12, 4], [7, 8, 12, 13, 27, 12, 4], [7, 14, 19, 19, 30, 15, 8], [7, 14, 19, 19, 30, 15, 8], [7, 9, 14, 15, 32, 12, 7], [2, 2, 14, 11, 25, 12, 6], [4, 8, 11, 14, 32, 11, 6], [1, 8, 7, 11, 20, 13, 14], [8, 12, 23, 24, 47, 20, 10], [5, 11, 23, 20, 42, 34, 9], [6, 11, 23, 21, 47, 26, 11], [7, 10, 20, 37, 44, 22, 12], [7, 9, 22, 24, 51, 21, 11], [7, 9, 22, 24, 51, 21, 11], [4, 6, 19, 19, 43, 18, 10], [4, 6, 19, 19, 43, 18, 10], [10, 11, 20, 26, 53, 24, 12], [10, 11, 20, 26, 53, 24, 12], [15, 11, 20, 20, 53, 22, 14], [15, 11, 20, 20, 53, 22, 14], [8, 10, 23, 25, 45, 27, 14], [2, 2, 10, 15, 39, 22, 8], [4, 7, 9, 10, 18, 12, 4], [5, 7, 16, 16, 37, 15, 11], [4, 5, 18, 13, 31, 16, 8], [9, 8, 25, 20, 44, 24, 11], [5, 9, 19, 22, 48, 20, 13]]  # fmt: skip


# ------------------------------------------------------------------------------------------
# data


def real_responses():
    """The 40 public neurons through the MAT converter and NWB loader, or None."""
    data = os.environ.get("DOPAFIT_SHARED_DATA") or str(ROOT.parent / "shared" / "data")
    files = sorted((Path(data) / "dabney2020" / "cells").glob("*.mat"))
    if len(files) != 40:
        return None, f"shared recordings not found in {data}"
    try:
        from dopafit.io.nwb import load_nwb
        from dopafit.io.uchida import convert_uchida_mat
    except ImportError as exc:
        return None, f"loader not available ({exc})"
    with tempfile.TemporaryDirectory() as tmp:
        written = convert_uchida_mat(files, tmp)
        paths = sorted(str(p) for p in (written or Path(tmp).rglob("*.nwb")))
        return load_nwb(paths, faithful=True), "40 public neurons (faithful responses)"


def simulated_responses(seed: int = 0):
    """A distributional population with the public data's trial counts per cell."""
    rng = np.random.default_rng(seed)
    cued, uncued = np.array(CUED), np.array(UNCUED)
    n_unit = cued.shape[0]
    width = int((cued + uncued).sum(axis=1).max())
    response = np.full((n_unit, width), np.nan)
    reward = np.full((n_unit, width), np.nan)
    is_cued = np.zeros((n_unit, width), dtype=bool)
    utility = np.array([-3.577, -3.288, -2.765, -1.759, 0.242, 4.428, 8.324])
    for u in range(n_unit):
        m = np.concatenate([np.repeat(np.arange(7), cued[u]), np.repeat(np.arange(7), uncued[u])])
        c = np.arange(m.size) < cued[u].sum()
        order = rng.permutation(m.size)
        m, c = m[order], c[order]
        tau = rng.uniform(0.1, 0.9)
        z = np.quantile(utility[m], tau)
        x = utility[m] - z
        r = np.where(x > 0, 2 * tau, 2 * (1 - tau)) * x + rng.normal(0, rng.uniform(2.5, 7), m.size)
        response[u, : m.size] = np.where(c, r, r - 1.5)
        reward[u, : m.size] = MAGS[m]
        is_cued[u, : m.size] = c
    ds = dopafit.make_responses(response, reward, cued=is_cued)
    return ds, "simulated population with the public data's trial counts"


# ------------------------------------------------------------------------------------------
# the same analysis in plain numpy


def np_count_reversal(resp, midx, axis, cap_lo=0.01, cap_hi=0.1):
    """Counting rule (same tie rule and caps as dopafit)."""
    m = axis.size
    n = np.bincount(midx, minlength=m)
    pos = np.bincount(midx, weights=resp > 0, minlength=m)[n > 0]
    neg = np.bincount(midx, weights=resp < 0, minlength=m)[n > 0]
    a = axis[n > 0]
    if a.size < 2:
        return np.nan
    c = pos.sum() + np.concatenate([[0.0], np.cumsum(neg - pos)])
    tied = np.flatnonzero(c == c.max())
    if tied[0] == 0:
        return a[0] + cap_lo
    if tied[-1] == a.size:
        return a[-1] - cap_hi
    k = tied[(tied.size - 1) // 2]
    d_lo, d_hi = c[k] - c[k - 1], c[k] - c[k + 1]
    if d_lo + d_hi == 0:
        return 0.5 * (a[k - 1] + a[k])
    return (d_hi * a[k - 1] + d_lo * a[k]) / (d_lo + d_hi)


def np_tau(resp, midx, axis, z):
    """tau from least-squares slopes through the origin below and above z."""
    x = axis[midx] - z
    below, above = x <= 0, x >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a_neg = np.sum(x[below] * resp[below]) / np.sum(x[below] ** 2)
        a_pos = np.sum(x[above] * resp[above]) / np.sum(x[above] ** 2)
        return a_pos / (a_pos + a_neg)


def numpy_split_half(groups, axis, z_full, fold_ok, n_splits, n_folds=7, seed=0):
    """Split halves, folds and per-split statistics; ``groups[u][m]`` = responses of a cell."""
    rng = np.random.default_rng(seed)
    n_unit = len(groups)
    z_a = np.empty((n_splits, n_unit))
    z_b = np.empty((n_splits, n_unit))
    tau_b = np.empty((n_splits, n_unit))
    f_stat = np.empty(n_splits)
    for s in range(n_splits):
        tau_fold = np.empty((n_folds, n_unit))
        for u, cells in enumerate(groups):
            parts = {"a": ([], []), "b": ([], [])}
            folds = [([], []) for _ in range(n_folds)]
            for m, values in enumerate(cells):
                perm = rng.permutation(values)
                h, q = values.size // 2, values.size // n_folds
                for key, chunk in (("a", perm[:h]), ("b", perm[h : 2 * h])):
                    parts[key][0].append(chunk)
                    parts[key][1].append(np.full(chunk.size, m))
                for f in range(n_folds):
                    folds[f][0].append(perm[f * q : (f + 1) * q])
                    folds[f][1].append(np.full(q, m))
            ra, ma = (np.concatenate(x) for x in parts["a"])
            rb, mb = (np.concatenate(x) for x in parts["b"])
            z_a[s, u] = np_count_reversal(ra, ma, axis)
            z_b[s, u] = np_count_reversal(rb, mb, axis)
            tau_b[s, u] = np_tau(rb, mb, axis, z_b[s, u])
            for f in range(n_folds):
                rf, mf = (np.concatenate(x) for x in folds[f])
                tau_fold[f, u] = np_tau(rf, mf, axis, z_full[u])
        ok = fold_ok & np.isfinite(tau_fold).all(axis=0)
        f_stat[s] = stats.f_oneway(*tau_fold[:, ok].T).statistic
    r = np.array([stats.pearsonr(t, a).statistic for t, a in zip(tau_b, z_a)])
    rho = np.array([stats.spearmanr(t, a).statistic for t, a in zip(tau_b, z_a)])
    rel = np.array([stats.pearsonr(a, b).statistic for a, b in zip(z_a, z_b)])
    p = np.array([stats.pearsonr(t, a).pvalue for t, a in zip(tau_b, z_a)])
    return {"r": r, "p": p, "rho": rho, "rel": rel, "f": f_stat}


# ------------------------------------------------------------------------------------------
# dopafit (numba) split-half analysis: the split part of fit_expectiles


def numba_split_half(prep, z_full, fold_ok, n_splits, n_folds=7, seed=0):
    from dopafit.fit.expectile import _p_from_r
    from dopafit.kernels import expectile as kern

    seeds = np.random.SeedSequence(seed).generate_state(n_splits, dtype=np.uint64)
    args = (prep.vals, prep.start, prep.cnt, prep.axis, prep.order, kern.METHOD_COUNT)
    z_a, z_b, _, _, tau_b, _, _, tau_fold = kern.split_half(
        *args, 0.01, 0.1, z_full, seeds, n_folds
    )
    r, n = kern.pearson_rows(tau_b, z_a)
    rho, _ = kern.spearman_rows(tau_b, z_a)
    rel, _ = kern.pearson_rows(z_a, z_b)
    tau_fold[:, :, ~fold_ok] = np.nan
    f_stat, _ = kern.anova_rows(tau_fold)
    return {"r": r, "p": _p_from_r(r, n), "rho": rho, "rel": rel, "f": f_stat}


COMPILE_SCRIPT = """
import time, numpy as np, dopafit
rng = np.random.default_rng(0)
reward = rng.choice([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0], (5, 60))
ds = dopafit.make_responses(reward - 5 + rng.normal(0, 1, reward.shape), reward)
t = time.perf_counter()
dopafit.fit_expectiles(ds, n_splits=3, n_boot=3)
print(time.perf_counter() - t)
"""


def compile_seconds() -> float:
    """First call of fit_expectiles in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run(
            [sys.executable, "-c", COMPILE_SCRIPT], env=env, capture_output=True, text=True
        )
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")


def machine() -> dict:
    import numba

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "numba threads": numba.get_num_threads(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "dopafit": dopafit.__version__,
        "load average (1 min) at the end": round(os.getloadavg()[0], 2),
    }


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def write_section(text: str, path: Path) -> None:
    old = path.read_text() if path.exists() else "# Performance\n"
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Fitting"), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    path.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    opts = parser.parse_args()

    responses, source = real_responses()
    if responses is None:
        reason = source
        responses, source = simulated_responses()
        source = f"{source} ({reason})"
    prep = prepare(responses, axis="utility", pool_cued="auto")
    from dopafit.kernels import expectile as kern

    compile_s = compile_seconds()
    t0 = time.perf_counter()
    z_full, _, _, _, edge, status = kern.fit_units(
        prep.vals, prep.start, prep.cnt, prep.axis, prep.order, kern.METHOD_COUNT, 0.01, 0.1
    )
    first_call = time.perf_counter() - t0
    fold_ok = (status == 0) & (edge == 0)
    groups = [
        [prep.vals[prep.start[u, m] : prep.start[u, m] + prep.cnt[u, m]] for m in range(7)]
        for u in range(prep.cnt.shape[0])
    ]
    numba_split_half(prep, z_full, fold_ok, 2)  # load compiled kernels
    # best of many: the machine is shared, and a 2-thread job suffers most from other load
    t_numba, res_numba = best_of(
        lambda: numba_split_half(prep, z_full, fold_ok, opts.splits), repeat=20
    )
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t_numba_1, _ = best_of(
            lambda: numba_split_half(prep, z_full, fold_ok, opts.splits), repeat=10
        )
    finally:
        numba.set_num_threads(threads)
    t_numpy, res_numpy = best_of(
        lambda: numpy_split_half(groups, prep.axis, z_full, fold_ok, opts.splits), repeat=1
    )
    dopafit.fit_expectiles(responses, n_splits=5, n_boot=5)
    t_full, _ = best_of(lambda: dopafit.fit_expectiles(responses, seed=0), repeat=5)
    info = machine()

    def med(res, key):
        return float(np.nanmedian(res[key]))

    rows = [
        ("split-half analysis, numba (dopafit)", t_numba),
        ("split-half analysis, plain numpy", t_numpy),
        ("speed-up", t_numpy / t_numba),
        ("split-half analysis, numba, 1 thread", t_numba_1),
        ("fit_expectiles, defaults (1000 splits + 1000 bootstrap)", t_full),
        ("first call in a fresh process, empty numba cache (compile)", compile_s),
    ]
    labels = {
        "r": "r(tau_B, reversal_A)",
        "rho": "Spearman rho(tau_B, reversal_A)",
        "rel": "reliability r(reversal_A, reversal_B)",
        "f": "fold ANOVA F",
    }
    stats_rows = [
        (label, med(res_numba, key), med(res_numpy, key)) for key, label in labels.items()
    ] + [
        (
            "splits with p(r) < 0.05",
            float(np.mean(res_numba["p"] < 0.05)),
            float(np.mean(res_numpy["p"] < 0.05)),
        )
    ]
    print(
        f"data: {source}; {prep.cnt.shape[0]} units, {int(prep.cnt.sum())} trials; "
        f"{opts.splits} splits x 7 folds"
    )
    for name, value in rows:
        unit = "x" if name == "speed-up" else "s"
        print(f"  {name:<62} {value:10.3f} {unit}")
    print("  medians over splits (numba draws vs numpy draws):")
    for key, a, b in stats_rows:
        print(f"    {key:<40} {a:8.3f} {b:8.3f}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in info.items()))
    print(f"  (kernel cache load / first kernel call in this process: {first_call:.3f} s)")

    if opts.no_write:
        return
    text = [
        "## Fitting\n",
        "\n",
        "`benchmarks/bench_fit.py`: the split-half analysis of `fit_expectiles` (1,000 random\n",
        "splits; per split and unit the half-A and half-B reversal points by the counting rule,\n",
        "half-B tau, 7 fold taus; per split Pearson and Spearman r(tau_B, reversal_A), the\n",
        "reliability r(reversal_A, reversal_B) and the fold ANOVA) against a straightforward numpy\n",
        "implementation of the same rules (per-unit loops over numpy arrays, scipy.stats for the\n",
        "population statistics), in the same process. Random draws differ between the two; the\n",
        "medians agree within Monte-Carlo error (below). Times are the best of 20 runs (numba)\n",
        "and of 1 run (numpy). The machine is shared: read them with the load average in the\n",
        "machine line; under load the 2-thread time degrades most (it can fall to the 1-thread\n",
        "time), so the 1-thread ratio is the conservative one.\n",
        "\n",
        f"Data: {source}; {prep.cnt.shape[0]} units, {int(prep.cnt.sum())} trials.\n",
        "\n",
        "| | time |\n|---|---|\n",
        f"| split-half analysis, dopafit (numba, {info['numba threads']} threads) | {t_numba * 1000:.0f} ms |\n",
        f"| same, plain numpy | {t_numpy:.2f} s |\n",
        f"| **speed-up** | **{t_numpy / t_numba:.0f}x** |\n",
        f"| split-half analysis, dopafit on 1 thread | {t_numba_1 * 1000:.0f} ms "
        f"({t_numpy / t_numba_1:.0f}x) |\n",
        f"| `fit_expectiles` with defaults (1000 splits, 7 folds, 1000 bootstrap) | {t_full * 1000:.0f} ms |\n",
        f"| first call in a fresh process with an empty numba cache (compilation, excluded above) | {compile_s:.1f} s |\n",
        "\n",
        "| median over splits | dopafit | numpy |\n|---|---|---|\n",
    ]
    text += [f"| {k} | {a:.3f} | {b:.3f} |\n" for k, a, b in stats_rows]
    text += ["\n", "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".\n"]
    write_section("".join(text), ROOT / "docs" / "performance.md")
    print("updated docs/performance.md (section Fitting)")


if __name__ == "__main__":
    main()
