"""Benchmark and calibration study of the calibrated comparison of accounts.

Performance (default): ``dopafit.compare`` on the 40 public neurons of Dabney et al. (2020)
(shared recordings through the MAT converter and the NWB loader; a Dabney-like simulated
population when they are absent) with 4 accounts x 1,000 simulations x 100 splits, against a
straightforward numpy implementation of the same per-simulation loop (simulate, pool, axis,
all-trial fit, 100 split halves with folds and the held-out statistics, per-split population
statistics with scipy), timed on a few simulated datasets and extrapolated. Replaces the
"Comparison" section of docs/reference/performance.md (``--no-write`` to only print).

Calibration (``--calibration``): rejection rates at alpha = 0.05 of the calibrated tests on
datasets simulated with Dabney-like trial counts, gains and noise -- classical datasets
tested against the classical account, bias datasets against the bias account, distributional
datasets against both (power) -- written to ``benchmarks/results/compare_calibration_*.csv``
(``--no-write`` to only print).
``--source real`` simulates the datasets instead from the accounts fitted to the 40 public
neurons (their own trials, gains and per-neuron, per-magnitude noise).

Usage::

    python benchmarks/bench_compare.py [--n-sim 1000] [--n-splits 100] [--no-write]
    python benchmarks/bench_compare.py --calibration [--n-datasets 200] [--n-sim 500]
        [--n-splits 100] [--source simulator|real] [--plan nulls|alternatives] [--no-write]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import dopafit

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common

#: library versions in the machine line
LIBRARIES = ("numpy", "numba", "statsmodels", "dopafit")
#: Dabney-like settings of dopafit.simulate.simulate_responses (utility span ~ 12 Hz)
DABNEY_LIKE = dict(cued_fraction=0.51, uncued_offset=-1.5, response_range=13.0, noise=(2.2, 6.4))


# ------------------------------------------------------------------------------------------
# data


def dabney_like(kind: str, seed: int):
    """A simulated population with the public data's trial counts, subjects and SNR."""
    from dopafit.simulate import simulate_responses

    ds = simulate_responses(
        population=kind, n_units=40, n_trials=common.DABNEY_TRIALS, seed=seed, **DABNEY_LIKE
    )
    return ds.assign_coords(subject=("unit", np.array(common.DABNEY_SUBJECTS, dtype=object)))


# ------------------------------------------------------------------------------------------
# the same per-simulation loop in plain numpy


def numpy_one_dataset(raw, layout, n_splits, rng, n_folds=7):
    """Prepare, fit and split one simulated dataset with numpy; returns median statistics."""
    unit_of, mag_of, cued = layout.unit_of, layout.mag_of, layout.cued
    n_unit, n_mag = layout.cnt.shape
    cells = unit_of * n_mag + mag_of
    y = raw.copy()
    mc = [np.nanmean(np.where(cued, y, np.nan)[cells == c]) for c in range(n_unit * n_mag)]
    mu = [np.nanmean(np.where(~cued, y, np.nan)[cells == c]) for c in range(n_unit * n_mag)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[~cued] += np.nanmean(mc) - np.nanmean(mu)
    means = np.array(
        [y[cells == c].mean() if (cells == c).any() else np.nan for c in range(n_unit * n_mag)]
    )
    axis = np.nanmean(means.reshape(n_unit, n_mag), axis=0)
    probs = layout.probs
    per_unit = [(y[unit_of == u], mag_of[unit_of == u]) for u in range(n_unit)]
    z_full = np.array(
        [common.np_count_reversal(*common.np_counts(r, m, n_mag), axis) for r, m in per_unit]
    )
    # units with an edge (capped) all-trial reversal point are left out of the fold ANOVA
    inner = (z_full != axis.min() + 0.01) & (z_full != axis.max() - 0.1)
    var = np.array(
        [
            np.var(
                r
                - np.bincount(m, weights=r, minlength=n_mag)[m]
                / np.bincount(m, minlength=n_mag)[m],
                ddof=1,
            )
            for r, m in per_unit
        ]
    )
    out = {k: [] for k in ("r", "rho", "rel", "f", "sign", "llr", "mis")}
    for _ in range(n_splits):
        z_a, z_b, tau_b = np.empty(n_unit), np.empty(n_unit), np.empty(n_unit)
        tau_fold = np.empty((n_folds, n_unit))
        hits_div = hits_sh = total = 0
        llr, mis = 0.0, []
        pool_a, halves_b = [], []
        for u, (r, m) in enumerate(per_unit):
            a_idx, b_idx, f_idx = [], [], [[] for _ in range(n_folds)]
            for k in range(n_mag):
                idx = np.flatnonzero(m == k)
                perm = rng.permutation(idx)
                h, q = idx.size // 2, idx.size // n_folds
                a_idx.append(perm[:h])
                b_idx.append(perm[h : 2 * h])
                for f in range(n_folds):
                    f_idx[f].append(perm[f * q : (f + 1) * q])
            a_idx, b_idx = np.concatenate(a_idx), np.concatenate(b_idx)
            ra, ma, rb, mb = r[a_idx], m[a_idx], r[b_idx], m[b_idx]
            z_a[u] = common.np_count_reversal(*common.np_counts(ra, ma, n_mag), axis)
            z_b[u] = common.np_count_reversal(*common.np_counts(rb, mb, n_mag), axis)
            an, ap = common.np_slopes(rb, mb, axis, z_b[u])
            tau_b[u] = ap / (ap + an)
            for f in range(n_folds):
                fi = np.concatenate(f_idx[f])
                an, ap = common.np_slopes(r[fi], m[fi], axis, z_full[u])
                tau_fold[f, u] = ap / (ap + an)
            an, ap = common.np_slopes(ra, ma, axis, z_a[u])
            xa = axis[ma] - z_a[u]
            g = np.sum(xa * ra) / np.sum(xa**2)
            xb = axis[mb] - z_a[u]
            p_sym, p_asy = g * xb, np.where(xb >= 0, ap * xb, an * xb)
            llr += (np.sum((rb - p_sym) ** 2) - np.sum((rb - p_asy) ** 2)) / (2 * var[u])
            mis.append((z_a[u] - common.np_expectile(axis, probs, np.clip(tau_b[u], 0, 1))) ** 2)
            pool_a.append((ra, ma))
            halves_b.append((rb, mb))
        ra = np.concatenate([p[0] for p in pool_a])
        ma = np.concatenate([p[1] for p in pool_a])
        z_sh = common.np_count_reversal(*common.np_counts(ra, ma, n_mag), axis)
        for u, (rb, mb) in enumerate(halves_b):
            xb = axis[mb]
            hits_div += np.sum(((xb > z_a[u]) & (rb > 0)) | ((xb < z_a[u]) & (rb < 0)))
            hits_sh += np.sum(((xb > z_sh) & (rb > 0)) | ((xb < z_sh) & (rb < 0)))
            total += rb.size
        out["r"].append(stats.pearsonr(tau_b, z_a).statistic)
        out["rho"].append(stats.spearmanr(tau_b, z_a).statistic)
        out["rel"].append(stats.pearsonr(z_a, z_b).statistic)
        out["f"].append(stats.f_oneway(*tau_fold[:, inner].T).statistic)
        out["sign"].append((hits_div - hits_sh) / total)
        out["llr"].append(llr)
        out["mis"].append(np.mean(mis) / np.sum(probs * (axis - np.sum(probs * axis)) ** 2))
    return {k: float(np.median(v)) for k, v in out.items()}


def numpy_reference(ds, n_datasets, n_splits, seed=0):
    """Time the numpy loop on ``n_datasets`` simulations of the classical account.

    Returns the seconds per dataset, the numpy medians per dataset and dopafit's medians on
    the same simulated datasets (same data, different random splits).
    """
    from dopafit.stats import accounts as acc
    from dopafit.stats import statistics as st

    layout = st.build_layout(ds)
    fit = acc.fit_account("classical", layout)
    noise = acc.fit_noise(layout)
    mean = acc.simulation_means(layout, fit, noise)
    sd = noise.sd[layout.unit_of, layout.mag_of]
    rng = np.random.default_rng(seed)
    raws = [mean + sd * rng.standard_normal(mean.size) for _ in range(n_datasets)]
    t = time.perf_counter()
    res = [numpy_one_dataset(raw, layout, n_splits, rng) for raw in raws]
    per = (time.perf_counter() - t) / n_datasets
    seeds = np.random.SeedSequence(seed).generate_state(n_datasets * n_splits, dtype=np.uint64)
    mine = st.run_pipeline(layout, np.array(raws), seeds.reshape(n_datasets, n_splits)).stats
    return per, res, mine


COMPILE_SCRIPT = """
import time, dopafit
from dopafit.simulate import simulate_responses
ds = simulate_responses(n_units=6, n_trials=80, seed=0)
t = time.perf_counter()
dopafit.compare(ds, n_sim=3, n_splits=3, n_boot=3, mixed=False)
print(time.perf_counter() - t)
"""


def performance(args) -> str:
    ds, label = common.real_responses()
    if ds is None:
        ds, label = dabney_like("distributional", 0), f"Dabney-like simulated population ({label})"
    compile_s = common.compile_seconds(COMPILE_SCRIPT)
    dopafit.compare(ds, n_sim=4, n_splits=4, n_boot=10)  # load the numba cache
    c0, t0 = time.process_time(), time.perf_counter()
    cmp = dopafit.compare(ds, n_sim=args.n_sim, n_splits=args.n_splits)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    timing = cmp.attrs["timing_s"]
    n_acc = len(cmp.dopafit.accounts)
    per_np, res_np, res_nb = numpy_reference(ds, args.numpy_datasets, args.n_splits)
    numpy_total = per_np * n_acc * args.n_sim
    sim_time = sum(timing[a] for a in cmp.dopafit.accounts)
    per_nb = sim_time / (n_acc * args.n_sim)
    lines = [
        "## Comparison",
        "",
        "`benchmarks/bench_compare.py`: `dopafit.compare` with its defaults (4 accounts x "
        f"{args.n_sim} simulations x {args.n_splits} splits, 7 folds, 1,000 neuron-bootstrap "
        "resamples, mixed models) against a straightforward numpy implementation of the same "
        "per-simulation loop (simulate, pool, utility axis, all-trial fit, split halves with "
        "folds and the held-out statistics, scipy for the per-split population statistics), "
        f"timed on {args.numpy_datasets} simulated datasets of the classical account and "
        "extrapolated to all simulations (it would take hours to run in full).",
        "",
        f"Data: {label}; {ds.sizes['unit']} units, {int(np.isfinite(ds['response']).sum())} trials.",
        "",
        "| | time |",
        "|---|---|",
        f"| `compare`, whole call (wall) | {wall:.1f} s |",
        f"| same, CPU time (both threads) | {cpu:.1f} s |",
        f"| per account (simulate + pipeline + statistics, {args.n_sim} datasets) | "
        + ", ".join(f"{a} {timing[a]:.1f} s" for a in cmp.dopafit.accounts)
        + " |",
        f"| mixed models | {timing.get('mixed', float('nan')):.1f} s |",
        f"| per simulated dataset, dopafit | {1e3 * per_nb:.2f} ms |",
        f"| per simulated dataset, plain numpy | {per_np:.2f} s |",
        f"| numpy extrapolated to {n_acc} x {args.n_sim} datasets | {numpy_total / 3600:.1f} h |",
        f"| **speed-up (per simulated dataset)** | **{per_np / per_nb:.0f}x** |",
        f"| first call in a fresh process with an empty numba cache (compilation, excluded above) | {compile_s:.1f} s |",
        "",
        "Agreement of the two implementations on the same simulated datasets of the "
        "classical account (medians over the splits of each; the random splits differ):",
        "",
        "| statistic | "
        + " | ".join(f"dataset {i + 1}: dopafit / numpy" for i in range(len(res_np)))
        + " |",
        "|---|" + "---|" * len(res_np),
    ]
    names = (
        ("r", "r_tau_reversal"),
        ("rho", "rho_tau_reversal"),
        ("rel", "reliability"),
        ("f", "anova_f"),
        ("sign", "sign_prediction"),
        ("llr", "asymmetry_llr"),
        ("mis", "expectile_misfit"),
    )
    for key, name in names:
        cells = " | ".join(
            f"{res_nb[name][i]:.3f} / {res_np[i][key]:.3f}" for i in range(len(res_np))
        )
        lines.append(f"| {name} | {cells} |")
    lines += ["", f"Machine: {common.machine(LIBRARIES)}.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# calibration study

#: truth -> accounts tested. "nulls": level under classical and bias, power on distributional
#: data; "alternatives": level of the two-sided tests of the accounts that produce the signature
PLANS = {
    "nulls": {
        "classical": ("classical",),
        "bias": ("bias",),
        "distributional": ("classical", "bias"),
    },
    "alternatives": {"distributional": ("distributional",), "sigmoid": ("sigmoid",)},
}


def calibration(args) -> None:
    plan = PLANS[args.plan]
    if args.source == "real":
        from dopafit.stats.compare import simulate_account

        real, label = common.real_responses()
        if real is None:
            raise SystemExit(label)
        make = {
            k: simulate_account(real, k, args.n_datasets, seed=123 + i) for i, k in enumerate(plan)
        }
    rows = []
    t0 = time.perf_counter()
    for kind, accounts in plan.items():
        for i in range(args.n_datasets):
            ds = make[kind][i] if args.source == "real" else dabney_like(kind, 10_000 + i)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cmp = dopafit.compare(
                    ds,
                    accounts=accounts,
                    n_sim=args.n_sim,
                    n_splits=args.n_splits,
                    n_boot=0,
                    mixed=False,
                    seed=i,
                )
            df = cmp.dopafit.to_dataframe()
            df.insert(0, "truth", kind)
            df.insert(1, "dataset", i)
            rows.append(df)
        print(f"{kind}: {args.n_datasets} datasets, {time.perf_counter() - t0:.0f} s", flush=True)
    out = pd.concat(rows, ignore_index=True)
    if not args.no_write:
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        name = (
            f"compare_calibration_{args.plan}_{args.source}_"
            f"{args.n_datasets}x{args.n_sim}x{args.n_splits}.csv"
        )
        out.to_csv(common.RESULTS / name, index=False)
    print(summarise(out, args.alpha))


def summarise(out: pd.DataFrame, alpha: float = 0.05) -> str:
    """Rejection rates with Clopper-Pearson 95% intervals."""
    lines = [
        "| truth | tested account | statistic | rejected (calibrated) | 95% CI | rejected (nominal) |",
        "|---|---|---|---|---|---|",
    ]
    for (truth, account, stat), d in out[out.computable].groupby(
        ["truth", "account", "statistic"], sort=False
    ):
        k, n = int((d.p_calibrated < alpha).sum()), len(d)
        lo = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
        hi = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
        nom = d.p_nominal.dropna()
        nom_txt = f"{np.mean(nom < alpha):.3f}" if len(nom) else "-"
        lines.append(
            f"| {truth} | {account} | {stat} | {k}/{n} = {k / n:.3f} | {lo:.3f}-{hi:.3f} | {nom_txt} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument("--source", choices=("simulator", "real"), default="simulator")
    parser.add_argument("--plan", choices=tuple(PLANS), default="nulls")
    parser.add_argument("--n-datasets", type=int, default=200)
    parser.add_argument("--n-sim", type=int, default=None)
    parser.add_argument("--n-splits", type=int, default=100)
    parser.add_argument("--numpy-datasets", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument(
        "--no-write", action="store_true", help="only print (no docs section, no CSV)"
    )
    args = parser.parse_args()
    if args.calibration:
        args.n_sim = args.n_sim or 500
        calibration(args)
        return
    args.n_sim = args.n_sim or 1000
    text = performance(args)
    print(text)
    if not args.no_write:
        common.write_section("Comparison", text)


if __name__ == "__main__":
    main()
