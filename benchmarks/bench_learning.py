"""Learning-model fit: dopafit's numba kernels against scipy.optimize on a plain-numpy likelihood.

Run: ``.venv/bin/python benchmarks/bench_learning.py [--units 1000] [--trials 500]
[--reference-units 8]``. Writes the "Learning models" section of docs/reference/performance.md.

Work compared (the same for both): every unit fitted with the four models, 5 optimiser starts
each, by maximum likelihood (bounded quasi-Newton on the logit/log parameters), then the
Hessian at the optimum. dopafit: ``fit_learning(model="all", n_starts=5, cv_blocks=0,
intervals="wald")``. Reference: ``scipy.optimize.minimize(method="L-BFGS-B")`` on the
plain-numpy likelihood and reverse-mode gradient of ``tests/_learning.py`` from dopafit's
deterministic start and learning rates drawn as dopafit draws them, and a finite-difference
Hessian of that gradient. The reference fits a subset of the
units (it is slow) and its time is scaled to all units: units are fitted independently, so the
time per unit is the measured quantity; both are timed in this process. The default call
(profile intervals, cross-validation, 10 starts) is timed too.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common

sys.path.insert(0, str(common.ROOT))
import dopafit
from dopafit.fit import learning as L
from dopafit.fit.learning_options import LearningOptions
from dopafit.kernels import learning as K
from tests import _learning as R

N_STARTS = 5
TITLE = "Learning models"


def reference_unit(seq, layout, u, m, seed, *, hessian=True):
    """scipy fit of unit ``u`` under model ``m``: best of N_STARTS starts, then the Hessian.

    Starts: dopafit's deterministic start, and N_STARTS - 1 copies of it with the learning
    rates drawn logit-uniform in (-4.5, 0.5), as dopafit draws them.

    Returns
    -------
    x : ndarray
        Free parameters at the optimum (transformed scale).
    f : float
        The negative log-likelihood there.
    hess : ndarray or None
        Finite-difference Hessian of the reference gradient (``hessian``).
    """
    tie = layout.tie[m, u]
    n_free = int(layout.n_free[m, u])
    first = [int(np.nonzero(tie == i)[0][0]) for i in range(n_free)]
    lo, hi = layout.lo[u, first], layout.hi[u, first]
    rng = np.random.default_rng(seed)
    starts = [layout.start[u, first]]
    for _ in range(N_STARTS - 1):
        x = layout.start[u, first].copy()
        for i, j in enumerate(first):
            if j in (K.P_ETA_POS, K.P_ETA_NEG):
                x[i] = rng.uniform(-4.5, 0.5)
        starts.append(x)
    k = int(seq.n_trial[u])
    data = (seq.util[u, :k], seq.ctx[u, :k], seq.resp[u, :k])
    x, f = R.scipy_fit(
        tie, layout.fixed[u], *data, starts, list(zip(lo, hi)), learn=seq.learn.astype(bool)
    )
    if not hessian:
        return x, f, None
    hess = np.empty((n_free, n_free))
    for i in range(n_free):
        h = 1e-5 * max(1.0, abs(x[i]))
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        gp = R.free_objective(xp, tie, layout.fixed[u], *data, learn=seq.learn.astype(bool))[1]
        gm = R.free_objective(xm, tie, layout.fixed[u], *data, learn=seq.learn.astype(bool))[1]
        hess[i] = (gp - gm) / (2 * h)
    return x, f, hess


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--reference-units", type=int, default=8)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args(argv)

    ds = dopafit.simulate_learning(
        "flip", n_units=args.units, n_trials=args.trials, seed=0, scaling="asymmetric"
    )
    kw = {"n_starts": N_STARTS, "cv_blocks": 0, "intervals": "wald"}
    t0 = time.perf_counter()
    dopafit.fit_learning(ds.isel(unit=slice(0, 2)), "all", **kw)
    first_call = time.perf_counter() - t0
    t_nb, fit = common.best_of(lambda: dopafit.fit_learning(ds, "all", **kw), repeat=2)
    t_default, _ = common.best_of(lambda: dopafit.fit_learning(ds, "all"), repeat=1)

    opts = LearningOptions(**kw)
    seq = L.sequences(ds, opts)
    layout = L.parameter_layout(seq, opts, opts.model)
    n_ref = args.reference_units
    t0 = time.perf_counter()
    ref_nll = np.array(
        [[reference_unit(seq, layout, u, m, seed=u)[1] for u in range(n_ref)] for m in range(4)]
    )
    t_ref_subset = time.perf_counter() - t0
    t_ref = t_ref_subset / n_ref * args.units
    nll = -fit["loglik"].values[:, :n_ref]
    gap = nll - ref_nll  # < 0: dopafit found the higher likelihood
    same = np.abs(gap) <= 1e-6 * np.abs(ref_nll)
    better = gap < -1e-6 * np.abs(ref_nll)

    size = f"{args.units:,} units x {args.trials:,} trials x 4 models x {N_STARTS} starts"
    text = f"""## {TITLE}

`benchmarks/bench_learning.py`: `fit_learning` on {size} (the "flip" schedule:
rich and lean reward distributions alternating every 100 trials; `simulate_learning` with
asymmetric learning and scaling, seed 0). Work compared, the same on both sides: maximum
likelihood of each model from {N_STARTS} starts (bounded quasi-Newton on logit learning rates
and log slopes), then the Hessian. dopafit: `fit_learning(model="all", n_starts={N_STARTS},
cv_blocks=0, intervals="wald")`, numba kernels in parallel over units. Reference:
`scipy.optimize.minimize(method="L-BFGS-B")` on the plain-numpy likelihood and its
reverse-mode gradient (`tests/_learning.py`) from {N_STARTS} starts (dopafit's deterministic
start, and learning rates drawn as dopafit draws them), and a finite-difference Hessian; it
fits {n_ref} units (all four models) and its time is scaled to {args.units:,} (units are
independent, so the time per unit is what is measured).

| | time |
|---|---|
| dopafit, {size} | {t_nb:.1f} s |
| scipy + numpy, {n_ref} units ({t_ref_subset:.0f} s), scaled to {args.units:,} units | {t_ref:.0f} s |
| **speed-up** | **{t_ref / t_nb:.0f}x** |
| dopafit default call (10 starts, profile intervals, 5-block cross-validation) | {t_default:.1f} s |
| first call in this process (compilation or cache load) | {first_call:.1f} s |

On the {n_ref} x 4 reference fits, dopafit's optimum equals scipy's (within 1e-6 relative) in
{int(same.sum())}, is higher in {int(better.sum())} and lower in {int((~same & ~better).sum())}.

Machine: {common.machine(("numpy", "scipy", "numba"))}.
"""
    print(text)
    if not args.no_write:
        common.write_section(TITLE, text)


if __name__ == "__main__":
    main()
