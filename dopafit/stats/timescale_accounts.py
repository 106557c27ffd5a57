"""The recording prepared for the timescale comparison, and the accounts simulated from it.

:func:`prepare` selects the trials the discounting fit uses (finite ``delay`` and finite
``response``; cues whose trials show more than one delay, the mixtures, are excluded), groups
them by unit and delay level in the flat layout of :mod:`dopafit.kernels.discount_sim`, and
gives every unit a status ("ok" or the reason it is left out). :func:`fit_accounts` fits the
three accounts and the noise model; :func:`account_means` gives each account's mean response
of every unit at every delay.

Accounts
--------
- ``"single"``: one gamma shared by every unit (classical single-timescale TD), each unit
  with its own amplitude and asymptote (the shared-gamma fit);
- ``"multi"``: every unit its own gamma (the per-unit exponential fits); this is also the
  exponential account of the exponential-against-hyperbolic test;
- ``"hyperbolic"``: every unit its own hyperbolic ``b + A / (1 + k d)`` (per-unit fits).

Noise
-----
Simulated trials keep the recording's trials (every unit's delay of every trial) and the
unit's own noise, estimated from the *within-delay* residuals (the deviations of each trial
from its unit's mean at the same delay), which do not depend on any account's curve:
``"gaussian"`` draws N(0, sd_u^2) with ``sd_u^2 = sum of within-delay squares / (n_u -
n_delays_u)``; ``"residual"`` resamples the unit's within-delay residuals (each scaled by
``sqrt(n / (n - 1))`` of its delay) with replacement.

Examples
--------
>>> from dopafit.stats.timescale_accounts import ACCOUNTS, NOISE_MODES
>>> ACCOUNTS, NOISE_MODES
(('single', 'multi', 'hyperbolic'), ('gaussian', 'residual'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from dopafit.errors import FitError, ResponsesError
from dopafit.fit.discounting import usable_trials

__all__ = ["ACCOUNTS", "NOISE_MODES", "Layout", "prepare", "grids", "account_means"]

ACCOUNTS = ("single", "multi", "hyperbolic")
NOISE_MODES = ("gaussian", "residual")
#: grid points of the log-k search (before the golden-section refinement)
N_GRID = 200


@dataclass
class Layout:
    """The trials of the fittable units in the kernels' layout (see the module docstring)."""

    vals: np.ndarray  # (n_val,) responses grouped by (unit, delay level)
    start: np.ndarray  # (n_fit, n_delay) int64
    cnt: np.ndarray  # (n_fit, n_delay) int64
    delays: np.ndarray  # (n_delay,) delay levels
    fit_units: np.ndarray  # (n_fit,) index of every fittable unit among all units
    status: np.ndarray  # (n_unit,) "ok" or the reason
    n_trials: np.ndarray  # (n_unit,) trials used
    n_delays: np.ndarray  # (n_unit,) delay levels with trials
    cues_excluded: list
    fit_b: bool
    b0: float
    min_delays: int
    delay_units: str


def prepare(responses: xr.Dataset, asymptote) -> Layout:
    """Select the trials and units of the fit and build the kernels' layout.

    Raises
    ------
    ResponsesError
        No delay coordinate, negative delays, fewer distinct delays than the fit needs.
    FitError
        Fewer than 3 units can be fitted.
    """
    fit_b = isinstance(asymptote, str)
    min_delays = 3 if fit_b else 2
    delay, resp, use, cues = usable_trials(responses)  # the fitter's trials
    levels = np.unique(delay[use])
    if levels.size < min_delays:
        raise ResponsesError(
            f"trials at {min_delays} or more distinct delays"
            + (" (amplitude, gamma and a fitted asymptote)" if fit_b else ""),
            found=f"{levels.size} distinct delay(s) ({', '.join(f'{v:g}' for v in levels)})",
            remedy="a discounting fit needs cues predicting reward after different delays"
            + ("; or fix the asymptote (asymptote=0.0)" if fit_b else ""),
        )
    n_unit = resp.shape[0]
    kidx = np.searchsorted(levels, delay)
    cnt_all = np.zeros((n_unit, levels.size), dtype=np.int64)
    for u in range(n_unit):
        cnt_all[u] = np.bincount(kidx[u][use[u]], minlength=levels.size)
    n_trials = cnt_all.sum(axis=1)
    n_delays = (cnt_all > 0).sum(axis=1)
    status = np.full(n_unit, "ok", dtype=object)
    status[n_delays < min_delays] = f"{'two delays' if fit_b else 'one delay'} (needs {min_delays})"
    status[n_delays == 1] = "one delay"
    status[n_trials <= n_delays] = "no residual (one trial per delay)"
    status[n_trials == 0] = "no trials"
    fit_units = np.flatnonzero(status == "ok")
    if fit_units.size < 3:
        reasons = sorted({str(s) for s in status if s != "ok"})
        raise FitError(
            "3 or more units with trials at enough delays",
            found=f"{fit_units.size} fittable unit(s) of {n_unit}"
            + (f" (others: {', '.join(reasons)})" if reasons else ""),
            remedy="compare timescales on a recording with more units",
        )
    cnt = cnt_all[fit_units]
    start = np.zeros_like(cnt)
    start.ravel()[1:] = np.cumsum(cnt.ravel())[:-1]
    vals = np.empty(int(cnt.sum()))
    for i, u in enumerate(fit_units):
        sel = use[u]
        order = np.argsort(kidx[u][sel], kind="stable")
        s = start[i, 0]
        vals[s : s + cnt[i].sum()] = resp[u][sel][order]
    return Layout(
        vals=vals,
        start=start,
        cnt=cnt,
        delays=levels.astype(np.float64),
        fit_units=fit_units,
        status=status.astype(str),
        n_trials=n_trials,
        n_delays=n_delays,
        cues_excluded=cues,
        fit_b=fit_b,
        b0=0.0 if fit_b else float(asymptote),
        min_delays=min_delays,
        delay_units=str(responses.attrs.get("delay_units", "s")),
    )


def grids(delays: np.ndarray, n_grid: int = N_GRID):
    """The gamma grid and the log-k grid of the fits.

    gamma: the grid of :func:`dopafit.fit_discounting` (``DiscountOptions().gamma_grid()``,
    uniform in ``[gamma_min, 1]``), so that per-unit and split-half gammas are the fitter's.
    log k: ``n_grid`` points uniform in log k from ``0.001 / max delay`` to
    ``100 / min positive delay`` (scaled to the delays).
    """
    from dopafit.fit.discount_options import DiscountOptions

    pos = delays[delays > 0]
    dmin, dmax = float(pos.min()), float(pos.max())
    gammas = DiscountOptions().gamma_grid()
    logk = np.linspace(np.log(0.001 / dmax), np.log(100.0 / dmin), n_grid)
    return gammas, logk


def noise_model(layout: Layout, n, m):
    """Within-delay residual SD of every fittable unit and the pool of its scaled residuals."""
    n_fit, n_delay = layout.cnt.shape
    sd = np.empty(n_fit)
    pool = np.empty(layout.vals.size)
    pool_start = np.zeros(n_fit, dtype=np.int64)
    pool_cnt = np.zeros(n_fit, dtype=np.int64)
    p = 0
    for u in range(n_fit):
        pool_start[u] = p
        q = 0.0
        for k in range(n_delay):
            c = int(layout.cnt[u, k])
            if c == 0:
                continue
            s = layout.start[u, k]
            r = layout.vals[s : s + c] - m[u, k]
            q += float(r @ r)
            if c >= 2:
                pool[p : p + c] = r * np.sqrt(c / (c - 1))
                p += c
        pool_cnt[u] = p - pool_start[u]
        sd[u] = np.sqrt(q / (layout.cnt[u].sum() - (layout.cnt[u] > 0).sum()))
    return sd, pool[: max(p, 1)], pool_start, pool_cnt


def account_means(name: str, delays: np.ndarray, exp, hyp, shared, shared_gamma) -> np.ndarray:
    """Mean response ``(n_fit, n_delay)`` of every unit at every delay under an account."""
    d = delays[None, :]
    if name == "single":
        return shared[1][:, None] + shared[0][:, None] * shared_gamma**d
    if name == "multi":
        return exp[2][:, None] + exp[1][:, None] * exp[0][:, None] ** d
    return hyp[2][:, None] + hyp[1][:, None] / (1.0 + np.exp(hyp[0])[:, None] * d)
