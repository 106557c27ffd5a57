"""Expectile decoding: numba loss/gradient kernels vs a plain-numpy reference, and a full decode.

Run: ``.venv/bin/python benchmarks/bench_decode.py``. Prints the machine, the library
versions, the kernel compile time (first call), and per-call times as ratios against numpy.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from dopafit.kernels.decode import expectile_loss_batch, expectile_loss_grad
from dopafit.stats.decode import decode_distribution, exact_expectiles

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: its folder is first on sys.path
    import _common as common

VALUES = common.MAGNITUDES
PROBS = common.PROBABILITIES
TAUS = np.linspace(0.02, 0.98, 40)


def np_loss_grad(z, tau, e):
    w = np.where(z[None, :] <= e[:, None], 1.0 - tau[:, None], tau[:, None])
    g = np.mean(w * (z[None, :] - e[:, None]), axis=1)
    return np.mean(g**2), 2.0 / (tau.size * z.size) * (g[:, None] * w).sum(axis=0)


def np_loss_batch(zs, tau, e):
    w = np.where(zs[:, None, :] <= e[None, :, None], 1.0 - tau[None, :, None], tau[None, :, None])
    g = np.mean(w * (zs[:, None, :] - e[None, :, None]), axis=2)
    return np.mean(g**2, axis=1)


def best_time(fn, repeat=5, number=1):
    """Best CPU time per call of ``number`` calls, over ``repeat`` runs."""
    return common.best_of(fn, repeat, number=number, clock=time.process_time)[0]


def main() -> None:
    print(f"machine: {common.machine(('numpy', 'scipy', 'numba'), load=False)}")
    e = exact_expectiles(VALUES, PROBS, TAUS)
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 20.0, 100)
    zs = rng.uniform(0.1, 20.0, (2000, 100))

    t0 = time.perf_counter()
    expectile_loss_grad(z, TAUS, e)
    expectile_loss_batch(zs[:2], TAUS, e)
    print(f"compile (or cache load), first calls: {time.perf_counter() - t0:.2f} s")

    t_nb = best_time(lambda: expectile_loss_grad(z, TAUS, e), number=2000)
    t_np = best_time(lambda: np_loss_grad(z, TAUS, e), number=2000)
    print(
        f"loss+grad N=100, M=40: numba {t_nb * 1e6:.1f} us, numpy {t_np * 1e6:.1f} us, x{t_np / t_nb:.1f}"
    )
    t_nb = best_time(lambda: expectile_loss_batch(zs, TAUS, e), number=3)
    t_np = best_time(lambda: np_loss_batch(zs, TAUS, e), number=3)
    print(
        f"batch loss K=2000: numba {t_nb * 1e3:.2f} ms, numpy {t_np * 1e3:.2f} ms, x{t_np / t_nb:.1f}"
    )

    def polish(fun):
        return minimize(
            fun,
            zs[0],
            args=(TAUS, e),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.1, 20.0)] * 100,
            options={"maxiter": 5000, "maxfun": 20000, "ftol": 1e-16, "gtol": 1e-12},
        )

    t_nb = best_time(lambda: polish(expectile_loss_grad), repeat=3)
    t_np = best_time(lambda: polish(np_loss_grad), repeat=3)
    print(f"one L-BFGS-B polish: numba {t_nb:.3f} s, numpy {t_np:.3f} s, x{t_np / t_nb:.1f}")
    t = best_time(lambda: decode_distribution(TAUS, e, (0.1, 20.0)), repeat=3)
    res = decode_distribution(TAUS, e, (0.1, 20.0))
    print(f"decode_distribution defaults (CPU time): {t:.2f} s; {res.dopafit.summary()}")


if __name__ == "__main__":
    main()
