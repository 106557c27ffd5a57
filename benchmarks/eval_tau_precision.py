"""Evaluation of per-unit precision rules for tau (issue 15, item 5; not a timing benchmark).

Candidates, all from one fit (``fit_expectiles``, counting rule, seed = dataset index):

- ``fold mean``: the original's mean and SEM of the 7 fold taus, interval ± t(6) SEM;
- ``fold slopes``: tau from the fold means of alpha_pos and alpha_neg (slopes centred on the
  all-trial reversal point), delta-method SE from the folds' (co)variances, ± t(6) SE;
- ``fold jackknife``: the same centre, delete-one-fold jackknife SE, ± t(6) SE;
- ``fold median``: median of the fold taus, ± t(6) 1.2533 · 1.4826 MAD / sqrt(7);
- ``fold range``: [min, max] of the 7 fold taus (an order-statistic interval, 98.4%);
- ``bootstrap``: median and percentile interval of 1,000 trial-level bootstrap taus
  (``tau_center``, ``tau_lo``, ``tau_hi``: the rule dopafit reports).

(a) The 40 public cells (``convert_uchida_mat``, ``load_nwb(faithful=True)``, utility axis):
Pearson r of each centre with the all-trial tau, median interval width. (b) Simulated
distributional populations with known tau, fitted on the reward axis (where the true tau is
defined): ``real`` uses the public cells' own trials (rewards, cued/uncued), per-unit noise SD
(residual around the per-magnitude means, 2.6-7.4 Hz) and gains (|alpha_pos + alpha_neg| / 2
on the reward axis, clipped to 0.3-2 Hz/ul), 50 populations of 40; ``synthetic`` draws 135-303
trials, noise 2.5-7.5 Hz and gains 0.3-1.5 Hz/ul. Coverage of the true tau by the 95% interval.

Usage: ``python benchmarks/eval_tau_precision.py [--datasets 50]`` (about 1 min; needs the
shared recordings for (a) and the ``real`` simulations).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import dopafit
from dopafit import seeds
from dopafit.fit.axes import prepare
from dopafit.kernels import expectile as kern

N_FOLDS = 7
RULES = ("fold mean", "fold slopes", "fold jackknife", "fold median", "fold range", "bootstrap")


def _shared() -> Path:
    env = os.environ.get("DOPAFIT_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def fold_slopes(ds, fit, axis, seed):
    """alpha_neg, alpha_pos of each fold of the first fold draw, shape (n_folds, n_unit)."""
    prep = prepare(ds, axis=axis, pool_cued="auto")
    split_ss, _ = seeds.fit_streams(seed)
    perm = kern.draw_permutations(prep.cnt, split_ss.generate_state(1, dtype=np.uint64)[0], N_FOLDS)
    z = fit.reversal_point.values
    n_unit, n_mag = prep.cnt.shape
    a_neg = np.full((N_FOLDS, n_unit), np.nan)
    a_pos = np.full((N_FOLDS, n_unit), np.nan)
    for u in range(n_unit):
        for f in range(N_FOLDS):
            q = prep.cnt[u] // N_FOLDS
            n = q.astype(np.int64)
            s = np.array(
                [
                    prep.vals[prep.start[u, m] + perm[u, m, f * q[m] : (f + 1) * q[m]]].sum()
                    for m in range(n_mag)
                ]
            )
            a_neg[f, u], a_pos[f, u] = kern.origin_slopes(n, s, prep.axis, z[u])
    with np.errstate(invalid="ignore", divide="ignore"):
        check = a_pos / (a_pos + a_neg)
    ok = np.isfinite(fit.tau_fold.values)
    assert np.allclose(check[ok], fit.tau_fold.values[ok])  # the fit's own folds
    return a_neg, a_pos


def rules(ds, axis, seed):
    """{rule: (centre, low, high)} per unit, and the all-trial tau."""
    fit = dopafit.fit_expectiles(ds, axis=axis, n_splits=1, n_boot=1000, seed=seed)
    a_neg, a_pos = fold_slopes(ds, fit, axis, seed)
    tf = fit.tau_fold.values
    k = N_FOLDS
    tc = stats.t.ppf(0.975, k - 1)
    out = {}
    mean, sem = tf.mean(0), tf.std(0, ddof=1) / np.sqrt(k)
    out["fold mean"] = (mean, mean - tc * sem, mean + tc * sem)
    mp, mn = a_pos.mean(0), a_neg.mean(0)
    tot = mp + mn
    centre = mp / tot
    cov = np.array([np.cov(a_pos[:, u], a_neg[:, u]) for u in range(tf.shape[1])]) / k
    gp, gn = mn / tot**2, -mp / tot**2
    se = np.sqrt(gp**2 * cov[:, 0, 0] + gn**2 * cov[:, 1, 1] + 2 * gp * gn * cov[:, 0, 1])
    out["fold slopes"] = (centre, centre - tc * se, centre + tc * se)
    keep = ~np.eye(k, dtype=bool)
    jk = np.array([a_pos[m].sum(0) / (a_pos[m].sum(0) + a_neg[m].sum(0)) for m in keep])
    se = np.sqrt((k - 1) / k * ((jk - jk.mean(0)) ** 2).sum(0))
    out["fold jackknife"] = (centre, centre - tc * se, centre + tc * se)
    med = np.median(tf, 0)
    se = 1.2533 * 1.4826 * np.median(np.abs(tf - med), 0) / np.sqrt(k)
    out["fold median"] = (med, med - tc * se, med + tc * se)
    out["fold range"] = (med, tf.min(0), tf.max(0))
    out["bootstrap"] = (fit.tau_center.values, fit.tau_lo.values, fit.tau_hi.values)
    return out, fit.tau.values


def public_cells(cells: Path):
    with tempfile.TemporaryDirectory() as tmp:
        paths = dopafit.convert_uchida_mat(cells, tmp)
        return dopafit.load_nwb(sorted(str(p) for p in paths), faithful=True)


def evaluate_public(ds):
    rows = {}
    for seed in (0, 1, 2):
        res, tau = rules(ds, "utility", seed)
        for name, (c, lo, hi) in res.items():
            row = rows.setdefault(name, {})
            row[f"r seed {seed}"] = np.corrcoef(tau, c)[0, 1]
            row[f"width seed {seed}"] = np.median(hi - lo)
    return pd.DataFrame.from_dict(rows, orient="index")


def real_like(pub):
    """Trials, noise SDs and gains of the public cells, for simulated stand-ins."""
    fit = dopafit.fit_expectiles(pub, axis="reward", n_splits=0, n_boot=0)
    resp, reward, cued = pub.response.values, pub.reward.values, pub.cued.values.astype(bool)
    tables, noise = [], []
    for u in range(pub.sizes["unit"]):
        ok = np.isfinite(reward[u]) & np.isfinite(resp[u])
        r, w = resp[u][ok], reward[u][ok]
        noise.append(np.concatenate([r[w == m] - r[w == m].mean() for m in np.unique(w)]).std())
        tables.append(
            pd.DataFrame(
                {
                    "reward": w,
                    "cued": cued[u][ok],
                    "cue_id": cued[u][ok].astype(int),
                    "reward_time": 10.0 * np.arange(ok.sum()),
                }
            )
        )
    gain = np.clip(np.abs(fit.alpha_pos.values + fit.alpha_neg.values) / 2, 0.3, 2.0)
    return tables, np.array(noise), gain


def evaluate_simulated(n_data, real=None):
    hits = {name: [] for name in RULES}
    widths = {name: [] for name in RULES}
    centres = {name: [] for name in (*RULES, "all-trial tau")}
    truth = []
    for d in range(n_data):
        rng = np.random.default_rng(1000 + d)
        if real is None:
            ds = dopafit.simulate_responses(
                n_trials=rng.integers(135, 304, 40),
                noise=(2.5, 7.5),
                gain=(0.3, 1.5),
                uncued_offset=-1.5,
                seed=rng,
            )
        else:
            tables, noise, gain = real
            p = rng.permutation(len(tables))
            ds = dopafit.simulate_responses(
                trials=[tables[i] for i in p],
                noise=noise[p],
                gain=gain[p],
                uncued_offset=-1.5,
                seed=rng,
            )
        res, tau = rules(ds, "reward", d)
        t = ds.true_tau.values
        truth.append(t)
        centres["all-trial tau"].append(tau)
        for name, (c, lo, hi) in res.items():
            hits[name].append((lo <= t) & (t <= hi))
            widths[name].append(hi - lo)
            centres[name].append(c)
    truth = np.concatenate(truth)

    def r_truth(v):
        v = np.concatenate(v)
        ok = np.isfinite(v)
        return np.corrcoef(v[ok], truth[ok])[0, 1]

    return pd.DataFrame(
        {
            "coverage": {k: np.concatenate(v).mean() for k, v in hits.items()},
            "median width": {k: np.nanmedian(np.concatenate(v)) for k, v in widths.items()},
            "units": {k: np.concatenate(v).size for k, v in hits.items()},
            "r(centre, true tau)": {k: r_truth(v) for k, v in centres.items()},
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=50)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 200)
    cells = _shared() / "dabney2020" / "cells"
    real = None
    if cells.is_dir():
        pub = public_cells(cells)
        print("(a) public cells: Pearson r(all-trial tau, centre); median interval width")
        print(evaluate_public(pub).round(3).to_string())
        real = real_like(pub)
        print(f"\n(b) simulated, public cells' trials, noise and gains ({args.datasets} x 40)")
        print(evaluate_simulated(args.datasets, real).round(3).to_string())
    print(f"\n(b) simulated, synthetic trials, noise and gains ({args.datasets} x 40)")
    print(evaluate_simulated(args.datasets).round(3).to_string())


if __name__ == "__main__":
    main()
