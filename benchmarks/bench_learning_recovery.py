"""Recovery of the learning models over noise x trials, against a plain scipy MLE.

Run: ``.venv/bin/python benchmarks/bench_learning_recovery.py [--units 200] [--scipy-units 40]
[--confusion-units 100]`` (about 20 minutes on 2 cores). Writes the sections "Measured
recovery" and "Model recovery" of docs/explanation/learning.md.

Every cell simulates units on the "flip" schedule (rich and lean reward distributions
alternating every 100 trials, half the trials cued) with Gaussian noise of SD = a fraction of
each unit's largest mean response (the peak of its tuning curve). Parameter recovery: units
of the asymmetric_both model (tau_learning uniform in 0.1-0.9, overall learning rate in
0.05-0.2, tau_scaling in 0.2-0.8, baseline N(0, 0.5)), fitted with that model by
``learning_recovery`` (defaults: 10 starts, profile intervals); the same simulated data are
fitted by ``scipy.optimize`` (L-BFGS-B, 5 starts) on the plain-numpy likelihood of
``tests/_learning.py`` for a subset of units, and both recoveries are computed on that
subset. Model recovery: the four models simulated with the same population (projected on
each model's constraints) and all four fitted to every dataset (5-block cross-validation), the
best model chosen by BIC, AIC and the cross-validated log-likelihood.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np

try:
    from benchmarks import _common as common
    from benchmarks.bench_learning import reference_unit
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common
    from bench_learning import reference_unit

import dopafit
from dopafit.fit import learning as L
from dopafit.fit.learning_options import LearningOptions
from dopafit.stats import learning_recovery as LR
from tests._learning import population  # (the project root is on sys.path: bench_learning)

DOC = common.ROOT / "docs" / "explanation" / "learning.md"
NOISE = (0.15, 0.3, 0.5)
TRIALS = (500, 1000, 2000)
PARAMS = ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "tau_learning")
MODELS = ("classical", "asymmetric_learning", "asymmetric_scaling", "asymmetric_both")
#: the fit of the parameter-recovery cells (learning_recovery's options)
REC_FIT = {"model": "asymmetric_both", "cv_blocks": 0}


_SHARED: dict = {}  # the cell's data, inherited by the forked scipy workers


def _scipy_job(u):
    x, f, _ = reference_unit(_SHARED["seq"], _SHARED["layout"], u, 0, seed=u, hessian=False)
    p = 1 / (1 + np.exp(-x[:2]))
    return p[0], p[1], np.exp(x[2]), np.exp(x[3]), f


def _r(truth, est):
    ok = np.isfinite(truth) & np.isfinite(est)
    return float(np.corrcoef(truth[ok], est[ok])[0, 1])


def recovery_cell(noise: float, trials: int, n: int, n_scipy: int) -> dict:
    template = dopafit.simulate_learning("flip", n_units=n, n_trials=trials, seed=trials)
    params = population(n)
    seed = int(noise * 100) + trials
    rec = dopafit.learning_recovery(
        template,
        params=params,
        models=REC_FIT["model"],
        noise_fraction=noise,
        cv_blocks=REC_FIT["cv_blocks"],
        seed=seed,
    )
    out = {"rec": rec.sel(true_model="asymmetric_both")}
    # the same simulated data (same seeds as learning_recovery), fitted by scipy
    opts = LearningOptions(model="asymmetric_both", cv_blocks=0, n_starts=5)
    seq0 = L.sequences(template, opts)
    truth = LR._given_params(params, ("asymmetric_both",), n, len(seq0.contexts))
    seeds = np.random.SeedSequence(seed).spawn(1)[0].generate_state(n, dtype=np.uint64)
    sim, true = LR._simulate(template, seq0, truth["asymmetric_both"], opts, noise, seeds)
    seq = L.sequences(sim, opts)
    layout = L.parameter_layout(seq, opts, opts.model)
    _SHARED.update(seq=seq, layout=layout)
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        est = np.array(pool.map(_scipy_job, range(n_scipy)))
    out["scipy_seconds"] = time.perf_counter() - t0
    sub = slice(0, n_scipy)
    t = {p: np.asarray(true[p], dtype=float)[sub] for p in PARAMS[:4]}
    t["tau_learning"] = t["eta_pos"] / (t["eta_pos"] + t["eta_neg"])
    s = {p: est[:, k] for k, p in enumerate(PARAMS[:4])}
    s["tau_learning"] = s["eta_pos"] / (s["eta_pos"] + s["eta_neg"])
    d = {p: out["rec"][f"estimate_{p}"].values[0, sub] for p in PARAMS}
    out["r_scipy"] = {p: _r(t[p], s[p]) for p in PARAMS}
    out["r_dopafit_subset"] = {p: _r(t[p], d[p]) for p in PARAMS}
    # the maxima themselves: learning_recovery's fit of these data, against scipy's
    refit = L.fit_with_options(sim.isel(unit=sub), LearningOptions(**{**REC_FIT, "seed": seed}))
    nll = -refit["loglik"].values[0]
    tol = 1e-6 * np.abs(est[:, 4])
    out["nll"] = {
        "higher": int(np.sum(nll < est[:, 4] - tol)),
        "equal": int(np.sum(np.abs(nll - est[:, 4]) <= tol)),
        "lower": int(np.sum(nll > est[:, 4] + tol)),
    }
    return out


def confusion_cell(noise: float, trials: int, n: int) -> object:
    template = dopafit.simulate_learning("flip", n_units=n, n_trials=trials, seed=trials + 1)
    return dopafit.learning_recovery(
        template, params=population(n, seed=5), noise_fraction=noise, seed=trials + 7
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--scipy-units", type=int, default=40)
    parser.add_argument("--confusion-units", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows, conf = {}, {}
    for noise in NOISE:
        for trials in TRIALS:
            rows[(noise, trials)] = recovery_cell(noise, trials, args.units, args.scipy_units)
            conf[(noise, trials)] = confusion_cell(noise, trials, args.confusion_units)
            print(f"cell SD {noise} x {trials} trials done", flush=True)
    # the stationary task after training: values start at their asymptotes (the
    # tau_learning-expectile of the reward distribution) and never have to move
    task = dopafit.get_task("dabney")
    params = population(args.units)
    tau = params["eta_pos"] / (params["eta_pos"] + params["eta_neg"])
    params["v0"] = dopafit.expectile(task.magnitudes, task.probabilities, tau)
    stationary = dopafit.learning_recovery(
        dopafit.simulate_learning("dabney", n_units=args.units, n_trials=250, seed=11),
        params=params,
        models="asymmetric_both",
        noise_fraction=0.5,
        cv_blocks=0,
        seed=12,
    ).sel(true_model="asymmetric_both")
    minutes = (time.perf_counter() - start) / 60
    text = recovery_text(rows, stationary, args, minutes)
    text2 = confusion_text(conf, args)
    print(text)
    print(text2)
    if not args.no_write:
        common.write_section("Measured recovery", text, DOC)
        common.write_section("Model recovery", text2, DOC)


def _cell(rec, p, key):
    return float(rec[key].sel(parameter=p))


def recovery_text(rows, stationary, args, minutes) -> str:
    lines = [
        "## Measured recovery",
        "",
        "`benchmarks/bench_learning_recovery.py` (the numbers below are its output): "
        f"{args.units} simulated units of the asymmetric_both model per cell on the flip "
        "schedule, fitted with that model by `learning_recovery` (defaults: 10 starts, "
        "profile intervals). Noise SD is a fraction of each unit's largest mean response. "
        "Per parameter: Pearson r between truth and estimate, bias, RMSE, and the coverage of "
        "the stated 95% intervals (tau_learning: its coverage over the units whose learning "
        "rates are identifiable, the only ones given an interval; r over all units, from the "
        "estimated learning rates).",
        "",
        "| noise SD | trials | identifiable | "
        + " | ".join(f"{p}: r / bias / RMSE / coverage" for p in PARAMS)
        + " |",
        "|---|---|---|" + "---|" * len(PARAMS),
    ]
    for (noise, trials), row in rows.items():
        rec = row["rec"]
        cells = []
        for p in PARAMS:
            cells.append(
                f"{_cell(rec, p, 'recovery_r'):.2f} / {_cell(rec, p, 'recovery_bias'):+.3f} / "
                f"{_cell(rec, p, 'recovery_rmse'):.3f} / {_cell(rec, p, 'coverage'):.0%}"
            )
        ident = float(rec["identifiable_fraction"])
        lines.append(f"| {noise} | {trials} | {ident:.0%} | " + " | ".join(cells) + " |")
    rec = stationary
    cells = [
        f"{_cell(rec, p, 'recovery_r'):.2f} / {_cell(rec, p, 'recovery_bias'):+.3f} / "
        f"{_cell(rec, p, 'recovery_rmse'):.3f} / {_cell(rec, p, 'coverage'):.0%}"
        for p in PARAMS
    ]
    lines.append(
        f"| 0.5, stationary (dabney) | 250 | {float(rec['identifiable_fraction']):.0%} | "
        + " | ".join(cells)
        + " |"
    )
    ident = rec["identifiable"].values[0]
    split = []
    for p in ("tau_learning", "alpha_pos"):
        t, e = rec[f"true_{p}"].values, rec[f"estimate_{p}"].values[0]
        for name, sel in (("identifiable", ident), ("not identifiable", ~ident)):
            ok = sel & np.isfinite(e)
            split.append(
                f"{p} of the {int(ok.sum())} {name} units: r {_r(t[ok], e[ok]):.2f}, RMSE "
                f"{np.sqrt(np.mean((e[ok] - t[ok]) ** 2)):.3f}"
            )
    lines += [
        "",
        "The last row is the same population in the conditions of the public recordings of "
        "Dabney et al.: the stationary variable-magnitude task after training (values start "
        "at their asymptotes, the tau_learning-expectiles of the reward distribution), about "
        "250 trials per unit, noise SD half the largest response. The `identifiable` flag "
        "separates the units the data pin from the others: " + "; ".join(split) + ".",
        "",
        f"Against a plain scipy MLE of the same model on the same simulated data "
        f"(`scipy.optimize.minimize`, L-BFGS-B, 5 starts, on the plain-numpy likelihood; "
        f"first {args.scipy_units} units of each cell): Pearson r of truth and estimate, and "
        "how many of dopafit's maxima of the likelihood are higher than scipy's, equal "
        "(within 1e-6 relative) or lower.",
        "",
        "| noise SD | trials | "
        + " | ".join(f"{p}: dopafit / scipy" for p in PARAMS)
        + " | maximum: dopafit higher / equal / lower |",
        "|---|---|" + "---|" * (len(PARAMS) + 1),
    ]
    worst = 0.0
    for (noise, trials), row in rows.items():
        cells = []
        for p in PARAMS:
            a, b = row["r_dopafit_subset"][p], row["r_scipy"][p]
            worst = max(worst, b - a)
            cells.append(f"{a:.3f} / {b:.3f}")
        n = row["nll"]
        cells.append(f"{n['higher']} / {n['equal']} / {n['lower']}")
        lines.append(f"| {noise} | {trials} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Largest shortfall of dopafit's r below scipy's over all cells and parameters: "
        f"{worst:+.3f}.",
        "",
        f"Run time {minutes:.0f} min on: {common.machine(('numpy', 'scipy', 'numba'))}.",
    ]
    return "\n".join(lines) + "\n"


def confusion_text(conf, args) -> str:
    lines = [
        "## Model recovery",
        "",
        f"`benchmarks/bench_learning_recovery.py`: {args.confusion_units} units per "
        "generating model and cell, the four models fitted to every simulated dataset; each "
        "row is the generating model, each column the fraction of units whose chosen model it "
        "is (diagonal: recovered). Abbreviations: SLSS classical, ALSS asymmetric_learning, "
        "SLAS asymmetric_scaling, ALAS asymmetric_both.",
        "",
    ]
    short = ("SLSS", "ALSS", "SLAS", "ALAS")
    lines += [
        "Diagonal (fraction of units whose generating model is chosen), per criterion:",
        "",
        "| noise SD | trials | BIC (SLSS, ALSS, SLAS, ALAS) | AIC | CV |",
        "|---|---|---|---|---|",
    ]
    for (noise, trials), rec in conf.items():
        by = rec["confusion_by_criterion"]
        diag = [
            ", ".join(f"{v:.0%}" for v in np.diag(by.sel(criterion=c).values))
            for c in ("bic", "aic", "cv")
        ]
        lines.append(f"| {noise} | {trials} | " + " | ".join(diag) + " |")
    lines += ["", "The full matrices:", ""]
    for (noise, trials), rec in conf.items():
        lines.append(f"Noise SD {noise}, {trials} trials (rows: truth; BIC | AIC | CV):")
        lines.append("")
        lines.append("| truth | " + " | ".join(f"BIC {s}" for s in short) + " | "
                     + " | ".join(f"AIC {s}" for s in short) + " | "
                     + " | ".join(f"CV {s}" for s in short) + " |")  # fmt: skip
        lines.append("|---|" + "---|" * 12)
        by = rec["confusion_by_criterion"]
        for i, t in enumerate(short):
            vals = []
            for crit in ("bic", "aic", "cv"):
                vals += [f"{v:.2f}" for v in by.sel(criterion=crit).values[i]]
            lines.append(f"| {t} | " + " | ".join(vals) + " |")
        diag = np.diag(by.sel(criterion="bic").values)
        lines.append("")
        lines.append(f"BIC diagonal: {', '.join(f'{v:.0%}' for v in diag)}.")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    main()
