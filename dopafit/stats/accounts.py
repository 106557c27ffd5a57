"""Generative accounts fitted to a recording, and simulation with the recording's own trials.

Each account is a model of the mean response of every unit at every reward magnitude, on
the analysis axis ``x`` (utility, reward, ...) and in the fitter's prepared response space
(cued and uncued trials pooled; z-scored for the ``zscore`` axis). Parameters are fitted by
trial-weighted least squares to the unit's mean responses ``ybar[u, m]`` (weights: trials
per magnitude ``n[u, m]``):

``classical``
    ``mu = g_u (x - z0)``: one shared reversal point ``z0 = E[X]`` (the mean of the reward
    distribution on the axis, i.e. its 0.5-expectile), symmetric slopes, gain ``g_u >= 0``.
``bias``
    ``mu = g_u (x - z_u)``: one reversal point per unit (``z_u`` within the axis range,
    profiled on a grid of 1001 points), symmetric slopes.
``distributional``
    ``mu = 2 g_u tau_u (x - z_u)`` above ``z_u`` and ``2 g_u (1 - tau_u) (x - z_u)`` below,
    with ``z_u = e(tau_u)`` the ``tau_u``-expectile of the reward distribution on the axis
    (``tau_u`` profiled on a grid of 999 levels).
``sigmoid``
    ``mu = a_u + b_u / (1 + exp(-k_u (x - c_u)))`` (efficient coding; Schütt, Kim & Ma
    2024), ``b_u >= 0``, fitted by nonlinear least squares from several starts; units with
    fewer than 4 magnitudes get a straight line instead (recorded).

The reward distribution is the recording's pooled trial proportions per magnitude.

Noise and cue structure are fitted once, whatever the account (:func:`fit_noise`): per unit
and magnitude the residual SD around the cued and uncued means (units' pooled SD where a
magnitude has fewer than 2 residual degrees of freedom), and the uncued-minus-cued
difference as a unit effect plus a magnitude effect, ``d_{u,m} = a_u + b_m`` (weighted
least squares), centred so that its mean over cells is 0 as the pooling offset defines it.
A simulated raw response of trial ``j`` (unit ``u``, magnitude ``m``) is

.. math::

    y_j = \\mu_{u,m} + d_{u,m} (\\mathbb{1}[\\text{uncued}_j] - f_{u,m})
          - O \\, \\mathbb{1}[\\text{uncued}_j] + \\sigma_{u,m} \\epsilon_j

with ``f`` the fraction of uncued trials of the cell and ``O`` the recording's pooling
offset, so that the pipeline, which re-estimates and adds the offset, finds the recording's
offset again and sees its cue structure. ``epsilon`` is standard normal
(``noise="gaussian"``) or a standardised residual of the same unit drawn with replacement
(``noise="residual"``, which keeps the skew and discreteness of real responses).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from dopafit.errors import ConfigError

__all__ = [
    "ACCOUNTS",
    "NOISE_MODES",
    "AccountFit",
    "NoiseModel",
    "expectile_grid",
    "fit_noise",
    "fit_account",
    "simulation_means",
    "simulate",
    "simulate_account",
]

ACCOUNTS = ("classical", "bias", "distributional", "sigmoid")
NOISE_MODES = ("gaussian", "residual")

_Z_GRID = 1001
_TAU_GRID = 999


@dataclass
class AccountFit:
    """An account fitted to a recording.

    Attributes
    ----------
    name : str
    mean : ndarray of float64, shape (n_unit, n_mag)
        The account's mean response per unit and magnitude (prepared space).
    params : dict of str to ndarray, shape (n_unit,)
        Per-unit parameters: ``reversal_point``, ``tau``, ``gain``, ``alpha_pos``,
        ``alpha_neg`` (NaN where the account has none) and, for sigmoid,
        ``sigmoid_offset``, ``sigmoid_amplitude``, ``sigmoid_slope``, ``sigmoid_threshold``.
    misfit : ndarray of float64, shape (n_unit,)
        ``sum_m n[u, m] (ybar[u, m] - mean[u, m])^2``: what the account leaves unexplained of
        the unit's mean responses (trial-weighted).
    n_params : int
        Free parameters per unit (shared parameters are not counted).
    notes : list of str
        Fallbacks and other remarks.
    """

    name: str
    mean: np.ndarray
    params: dict
    misfit: np.ndarray
    n_params: int
    notes: list = field(default_factory=list)


@dataclass
class NoiseModel:
    """Per-unit, per-magnitude noise and cue structure of a recording (prepared space).

    Attributes
    ----------
    sd : ndarray of float64, shape (n_unit, n_mag)
        Residual SD around the cued/uncued means.
    cue_diff : ndarray of float64, shape (n_unit,)
        Mean uncued minus cued response (after pooling), over magnitudes with both
        (inverse-variance weights).
    cue_effect : ndarray of float64, shape (n_unit, n_mag)
        The uncued-minus-cued difference the simulations use: a unit effect plus a
        magnitude effect (weighted least squares), centred so that its mean over the cells
        with both kinds of trial is 0, as the pooling offset defines it.
    uncued_frac : ndarray of float64, shape (n_unit, n_mag)
    offset : float
        Pooling offset subtracted from simulated uncued responses (0 when not pooled or on
        the z-scored axis).
    pool, pool_start, pool_len : ndarray
        Standardised residuals of every unit and, per grouped trial, the unit's slice.
    """

    sd: np.ndarray
    cue_diff: np.ndarray
    cue_effect: np.ndarray
    uncued_frac: np.ndarray
    offset: float
    pool: np.ndarray
    pool_start: np.ndarray
    pool_len: np.ndarray


def expectile_grid(values: np.ndarray, probs: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Expectiles of a discrete distribution at many levels (exact, vectorised).

    Parameters
    ----------
    values, probs : ndarray, shape (n,)
        Support and probabilities (normalised here).
    taus : ndarray, shape (g,)
        Levels in [0, 1].

    Returns
    -------
    ndarray, shape (g,)

    Notes
    -----
    On the segment ``[v_k, v_{k+1}]`` the first-order condition
    ``tau E[(Z - e)+] = (1 - tau) E[(e - Z)+]`` is linear in ``e``:
    ``e = (tau A_U + (1 - tau) A_L) / (tau P_U + (1 - tau) P_L)``.
    """
    order = np.argsort(values, kind="stable")
    v = np.asarray(values, dtype=float)[order]
    p = np.asarray(probs, dtype=float)[order]
    keep = p > 0
    v, p = v[keep], p[keep] / p[keep].sum()
    taus = np.clip(np.asarray(taus, dtype=float), 0.0, 1.0)
    if v.size == 1:
        return np.full(taus.shape, v[0])
    pl = np.cumsum(p)[:-1]
    al = np.cumsum(p * v)[:-1]
    pu = 1.0 - pl
    au = (p * v).sum() - al
    t = taus[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (t * au + (1 - t) * al) / (t * pu + (1 - t) * pl)
    inside = (e >= v[:-1] - 1e-12) & (e <= v[1:] + 1e-12)
    k = np.argmax(inside, axis=1)
    out = e[np.arange(taus.size), k]
    out = np.where(taus <= 0, v[0], np.where(taus >= 1, v[-1], out))
    return out


# --------------------------------------------------------------------------------------------
# noise and cue structure


def _additive_cue_effect(diff, w, both, n_iter: int = 200) -> np.ndarray:
    """Unit + magnitude fit of the cells' uncued-minus-cued differences, centred.

    Parameters
    ----------
    diff, w : ndarray of float64, shape (n_unit, n_mag)
        Per cell: difference of the uncued and cued means and its weight
        ``1 / (1/n_uncued + 1/n_cued)`` (0 where a kind is absent).
    both : ndarray of bool, shape (n_unit, n_mag)
        Cells with both kinds of trial.

    Returns
    -------
    ndarray of float64, shape (n_unit, n_mag)
        ``a_u + b_m`` minimising ``sum w (diff - a_u - b_m)^2`` (alternating weighted means),
        minus its mean over the cells in ``both``; zeros when no cell has both.
    """
    n_unit, n_mag = diff.shape
    if not both.any():
        return np.zeros((n_unit, n_mag))
    w_u, w_m = w.sum(axis=1), w.sum(axis=0)
    a, b = np.zeros(n_unit), np.zeros(n_mag)
    for _ in range(n_iter):
        a_new = np.where(w_u > 0, (w * (diff - b)).sum(axis=1) / np.where(w_u > 0, w_u, 1), 0.0)
        b_new = np.where(
            w_m > 0, (w * (diff - a_new[:, None])).sum(axis=0) / np.where(w_m > 0, w_m, 1), 0.0
        )
        done = np.allclose(a_new, a, atol=1e-12) and np.allclose(b_new, b, atol=1e-12)
        a, b = a_new, b_new
        if done:
            break
    effect = a[:, None] + b[None, :]
    return effect - effect[both].mean()


def fit_noise(layout) -> NoiseModel:
    """Residual SDs, standardised residual pools and cue differences of the recording.

    Parameters
    ----------
    layout : dopafit.stats.statistics.Layout

    Returns
    -------
    NoiseModel
    """
    prep = layout.prep
    n_unit, n_mag = prep.cnt.shape
    cells = _cells(layout, prep.vals, n_unit, n_mag)
    sd = _residual_sd(cells, n_unit, n_mag)
    pool, pool_start, pool_len = _residual_pool(layout, cells, sd, n_unit)
    cue_diff, cue_effect, uncued_frac = _cue_structure(cells, n_unit, n_mag)
    offset = float(prep.offset) if (layout.pool and not layout.zscore) else 0.0
    return NoiseModel(
        sd=sd,
        cue_diff=cue_diff,
        cue_effect=cue_effect,
        uncued_frac=uncued_frac,
        offset=offset,
        pool=np.ascontiguousarray(pool, dtype=np.float64),
        pool_start=pool_start,
        pool_len=pool_len,
    )


def _cells(layout, vals: np.ndarray, n_unit: int, n_mag: int) -> dict:
    """Counts and means per (unit, magnitude, cued), every trial's residual from its mean,
    and trials and residual degrees of freedom per (unit, magnitude) cell."""
    cell = layout.unit_of * n_mag + layout.mag_of
    key = cell * 2 + layout.cued.astype(np.int64)
    size = n_unit * n_mag * 2
    cnt_c = np.bincount(key, minlength=size).astype(float)
    sum_c = np.bincount(key, weights=vals, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_c = sum_c / cnt_c
    groups = (cnt_c.reshape(-1, 2) > 0).sum(axis=1)
    n_cell = cnt_c.reshape(-1, 2).sum(axis=1)
    return {
        "cell": cell,
        "cnt_c": cnt_c,
        "mean_c": mean_c,
        "resid": vals - mean_c[key],
        "n_cell": n_cell,
        "df_cell": n_cell - groups,
    }


def _residual_sd(cells: dict, n_unit: int, n_mag: int) -> np.ndarray:
    """Residual SD per (unit, magnitude): the cell's with 2 or more residual df, else the
    unit's, else the recording's."""
    cell, resid, df_cell = cells["cell"], cells["resid"], cells["df_cell"]
    ss_cell = np.bincount(cell, weights=resid**2, minlength=n_unit * n_mag)
    ss_unit = ss_cell.reshape(n_unit, n_mag).sum(axis=1)
    df_unit = np.clip(df_cell, 0, None).reshape(n_unit, n_mag).sum(axis=1)
    tot_df = df_unit.sum()
    sd_global = np.sqrt(ss_unit.sum() / tot_df) if tot_df > 0 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_unit = np.where(df_unit > 0, np.sqrt(ss_unit / np.maximum(df_unit, 1)), sd_global)
        sd_cell = np.sqrt(ss_cell / np.maximum(df_cell, 1))
    sd = np.where(df_cell >= 2, sd_cell, np.repeat(sd_unit, n_mag)).reshape(n_unit, n_mag)
    return np.where(np.isfinite(sd), sd, sd_global)


def _residual_pool(layout, cells: dict, sd: np.ndarray, n_unit: int):
    """Standardised residuals pooled per unit (cells with >= 1 residual df), and each
    grouped trial's slice of its unit's pool (start, length)."""
    cell, resid, df_cell, u_of = cells["cell"], cells["resid"], cells["df_cell"], layout.unit_of
    with np.errstate(invalid="ignore", divide="ignore"):
        infl = np.sqrt(cells["n_cell"] / np.maximum(df_cell, 1))
        std = resid * infl[cell] / sd.ravel()[cell]
    ok = (df_cell[cell] >= 1) & np.isfinite(std) & (sd.ravel()[cell] > 0)
    order = np.argsort(u_of[ok], kind="stable")
    pool = std[ok][order]
    per_unit = np.bincount(u_of[ok], minlength=n_unit)
    unit_start = np.cumsum(per_unit) - per_unit
    return pool, unit_start[u_of].astype(np.int64), per_unit[u_of].astype(np.int64)


def _cue_structure(cells: dict, n_unit: int, n_mag: int):
    """Uncued-minus-cued difference per unit, the additive cue effect per (unit, magnitude)
    and the uncued fraction of every cell."""
    mc = cells["mean_c"].reshape(n_unit, n_mag, 2)
    nc = cells["cnt_c"].reshape(n_unit, n_mag, 2)
    n_cell = cells["n_cell"].reshape(n_unit, n_mag)
    both = (nc[..., 0] > 0) & (nc[..., 1] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(
            both, 1.0 / (1.0 / np.maximum(nc[..., 0], 1) + 1.0 / np.maximum(nc[..., 1], 1)), 0.0
        )
        diff = np.where(both, mc[..., 0] - mc[..., 1], 0.0)  # uncued (0) minus cued (1)
        cue_diff = np.where(w.sum(axis=1) > 0, (w * diff).sum(axis=1) / w.sum(axis=1), 0.0)
        uncued_frac = np.where(n_cell > 0, nc[..., 0] / n_cell, 0.0)
    return cue_diff, _additive_cue_effect(diff, w, both), uncued_frac


# --------------------------------------------------------------------------------------------
# account fits


def _profile(ybar, w, designs):
    """Best non-negative gain for each candidate design; returns (index, gain, sse)."""
    num = (designs * (w * ybar)[None, :]).sum(axis=1)
    den = (designs**2 * w[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(den > 0, np.maximum(num / den, 0.0), 0.0)
    sse = (w * ybar**2).sum() - 2 * g * num + g**2 * den
    best = int(np.argmin(sse))
    return best, float(g[best]), float(sse[best])


def _sigmoid(x, a, b, k, c):
    return a + b / (1.0 + np.exp(-np.clip(k * (x - c), -60, 60)))


def _fit_sigmoid_unit(x, ybar, w):
    """Weighted least-squares sigmoid: a grid over (slope, threshold) with the linear
    parameters in closed form (amplitude >= 0), then a bounded nonlinear refinement."""
    from scipy.optimize import least_squares

    lo, hi = float(x.min()), float(x.max())
    span = hi - lo if hi > lo else 1.0
    ks = np.geomspace(0.5 / span, 60.0 / span, 24)
    cs = np.linspace(lo - 0.25 * span, hi + 0.25 * span, 61)
    kk, cc = np.meshgrid(ks, cs, indexing="ij")
    kk, cc = kk.ravel(), cc.ravel()
    sg = 1.0 / (1.0 + np.exp(-np.clip(kk[:, None] * (x[None, :] - cc[:, None]), -60, 60)))
    sw = w.sum()
    ym = (w * ybar).sum() / sw
    sm = (sg * w).sum(axis=1) / sw
    sxx = ((sg - sm[:, None]) ** 2 * w).sum(axis=1)
    sxy = ((sg - sm[:, None]) * (ybar - ym) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sxx > 0, np.maximum(sxy / sxx, 0.0), 0.0)
    a = ym - b * sm
    sse = (w * (ybar[None, :] - a[:, None] - b[:, None] * sg) ** 2).sum(axis=1)
    i = int(np.argmin(sse))
    theta0 = np.array([a[i], b[i], kk[i], cc[i]])
    lower = np.array([-np.inf, 0.0, 0.1 / span, lo - 0.5 * span])
    upper = np.array([np.inf, np.inf, 100.0 / span, hi + 0.5 * span])
    root_w = np.sqrt(w)

    def resid(theta):
        return root_w * (_sigmoid(x, *theta) - ybar)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = least_squares(resid, theta0, bounds=(lower, upper), method="trf")
        except ValueError:  # residuals overflow (responses near the float range): keep the grid
            return theta0
    if 2.0 * res.cost <= sse[i]:
        return res.x
    return theta0


def fit_account(name: str, layout) -> AccountFit:
    """Fit one account to the recording's mean responses.

    Parameters
    ----------
    name : {"classical", "bias", "distributional", "sigmoid"}
    layout : dopafit.stats.statistics.Layout

    Returns
    -------
    AccountFit

    Raises
    ------
    ConfigError
        Unknown account.
    """
    if name not in ACCOUNTS:
        raise ConfigError(f"an account among {', '.join(ACCOUNTS)}", found=repr(name))
    prep = layout.prep
    x = np.asarray(prep.axis, dtype=float)
    cnt = prep.cnt.astype(float)
    ybar = np.where(cnt > 0, prep.mean_response, 0.0)
    mean = np.array(ybar, copy=True)  # units not fitted are simulated at their observed means
    params = _empty_params(name, cnt.shape[0])
    fitted = layout.unit_ok & ((cnt > 0).sum(axis=1) >= 2)
    notes: list[str] = []
    if name == "sigmoid":
        fallback = _fit_sigmoid_units(x, ybar, cnt, fitted, mean, params)
        if fallback:
            notes.append(
                f"straight line instead of a sigmoid for {len(fallback)} unit(s) with < 4 "
                "magnitudes"
            )
    else:
        _fit_linear_units(name, x, layout.probs, ybar, cnt, fitted, mean, params)
    misfit = (cnt * (ybar - mean) ** 2).sum(axis=1)
    n_params = {"classical": 1, "bias": 2, "distributional": 2, "sigmoid": 4}[name]
    return AccountFit(
        name=name, mean=mean, params=params, misfit=misfit, n_params=n_params, notes=notes
    )


def _empty_params(name: str, n_unit: int) -> dict:
    """NaN per-unit parameters of an account (the sigmoid's own four included)."""
    keys = ["reversal_point", "tau", "gain", "alpha_pos", "alpha_neg"]
    if name == "sigmoid":
        keys += ["sigmoid_offset", "sigmoid_amplitude", "sigmoid_slope", "sigmoid_threshold"]
    return {k: np.full(n_unit, np.nan) for k in keys}


def _candidates(name: str, x: np.ndarray, p: np.ndarray):
    """Candidate mean-response shapes of a linear account (one row each, unit gain), with
    the reversal point and tau of each."""
    if name == "classical":
        z0 = float((p * x).sum() / p.sum())
        return (x - z0)[None, :], np.array([z0]), np.array([0.5])
    if name == "bias":
        zgrid = np.linspace(float(x.min()), float(x.max()), _Z_GRID)
        return x[None, :] - zgrid[:, None], zgrid, np.full(_Z_GRID, 0.5)
    tgrid = np.arange(1, _TAU_GRID + 1) / (_TAU_GRID + 1.0)
    egrid = expectile_grid(x, p, tgrid)
    d = x[None, :] - egrid[:, None]
    dtau = np.where(d > 0, 2 * tgrid[:, None], 2 * (1 - tgrid[:, None])) * d
    return dtau, egrid, tgrid


def _fit_linear_units(name, x, p, ybar, cnt, fitted, mean, params) -> None:
    """Fit classical, bias or distributional to every fitted unit (best candidate and
    non-negative gain); fills ``mean`` and ``params`` in place."""
    designs, reversal, tau = _candidates(name, x, p)
    for u in np.flatnonzero(fitted):
        best, g, _ = _profile(ybar[u], cnt[u], designs)
        mean[u] = g * designs[best]
        params["reversal_point"][u] = reversal[best]
        params["tau"][u] = tau[best]
        params["gain"][u] = g
        if name == "distributional":
            params["alpha_pos"][u] = 2 * g * tau[best]
            params["alpha_neg"][u] = 2 * g * (1 - tau[best])
        else:
            params["alpha_pos"][u] = params["alpha_neg"][u] = g


def _fit_sigmoid_units(x, ybar, cnt, fitted, mean, params) -> list:
    """Fit a sigmoid to every fitted unit (a straight line with fewer than 4 magnitudes);
    fills ``mean`` and ``params`` in place and returns the units given a straight line."""
    lo, hi = float(x.min()), float(x.max())
    fallback = []
    for u in np.flatnonzero(fitted):
        w, y = cnt[u], ybar[u]
        present = w > 0
        if present.sum() >= 4:
            a, b, k, c = _fit_sigmoid_unit(x[present], y[present], w[present])
            mean[u] = _sigmoid(x, a, b, k, c)
            params["sigmoid_offset"][u] = a
            params["sigmoid_amplitude"][u] = b
            params["sigmoid_slope"][u] = k
            params["sigmoid_threshold"][u] = c
        else:
            xs, ys, ws = x[present], y[present], w[present]
            xm = (ws * xs).sum() / ws.sum()
            sxx = (ws * (xs - xm) ** 2).sum()
            b = max(0.0, (ws * (xs - xm) * ys).sum() / sxx) if sxx > 0 else 0.0
            a = (ws * ys).sum() / ws.sum() - b * xm
            mean[u] = a + b * x
            fallback.append(u)
        # implied reversal point: where the curve crosses 0 (dense grid)
        grid = np.linspace(lo, hi, 2001)
        curve = np.interp(grid, x[np.argsort(x)], mean[u][np.argsort(x)])
        sign = np.nonzero(np.diff(np.sign(curve)) != 0)[0]
        params["reversal_point"][u] = grid[sign[0]] if sign.size else np.nan
    return fallback


# --------------------------------------------------------------------------------------------
# simulation


def simulation_means(layout, account: AccountFit, noise: NoiseModel) -> np.ndarray:
    """Mean raw response of every grouped trial under the account (see module Notes).

    Returns
    -------
    ndarray of float64, shape (n_used,)
    """
    u, m = layout.unit_of, layout.mag_of
    uncued = (~layout.cued).astype(float)
    mu = account.mean[u, m] + noise.cue_effect[u, m] * (uncued - noise.uncued_frac[u, m])
    return np.ascontiguousarray(mu - noise.offset * uncued, dtype=np.float64)


def simulate(layout, account: AccountFit, noise: NoiseModel, sim_seeds, mode: str = "gaussian"):
    """Simulate raw responses of the recording's trials under an account.

    Parameters
    ----------
    layout : dopafit.stats.statistics.Layout
    account : AccountFit
    noise : NoiseModel
    sim_seeds : ndarray of uint64, shape (n_sim,)
    mode : {"gaussian", "residual"}

    Returns
    -------
    ndarray of float64, shape (n_sim, n_used)
    """
    from dopafit.kernels import compare as ck

    if mode not in NOISE_MODES:
        raise ConfigError(f"noise one of {', '.join(NOISE_MODES)}", found=repr(mode))
    mean = simulation_means(layout, account, noise)
    scale = np.ascontiguousarray(noise.sd[layout.unit_of, layout.mag_of], dtype=np.float64)
    code = ck.NOISE_RESIDUAL if mode == "residual" else ck.NOISE_GAUSSIAN
    return ck.simulate_rows(
        mean,
        scale,
        noise.pool,
        noise.pool_start,
        noise.pool_len,
        code,
        np.ascontiguousarray(sim_seeds, dtype=np.uint64),
    )


def simulate_account(
    responses: xr.Dataset,
    account: str,
    n_datasets: int = 1,
    seed: int | None = 0,
    *,
    axis="utility",
    pool_cued: str = "auto",
    noise: str = "gaussian",
) -> list[xr.Dataset]:
    """Datasets simulated from an account fitted to a recording, as responses Datasets.

    The simulations :func:`compare` runs, made available as ordinary responses Datasets
    (same units, trials, rewards, cue flags and padding as ``responses``; only ``response``
    differs, and only on the trials the fit uses): for posterior-predictive checks, power
    and calibration studies on a recording's own trial structure.

    Parameters
    ----------
    responses : xarray.Dataset
    account : {"classical", "bias", "distributional", "sigmoid"}
    n_datasets : int, default 1
    seed : int or None, default 0
    axis, pool_cued, noise
        As in :func:`compare`.

    Returns
    -------
    list of xarray.Dataset
        ``attrs['simulated_account']`` names the account.

    Examples
    --------
    Two datasets from the classical account fitted to a sample session: same trials and rewards,
    simulated responses. The recording's split-half r(tau, reversal point) stands out:

    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> sims = dopafit.simulate_account(ds, "classical", n_datasets=2, seed=0)
    >>> sims[0].attrs["simulated_account"], sims[0]["reward"].equals(ds["reward"])
    ('classical', True)
    >>> fits = [dopafit.fit_expectiles(d, n_splits=20, n_boot=0) for d in [ds, *sims]]
    >>> [round(float(f["r_tau_reversal"].median()), 2) for f in fits]
    [0.67, -0.18, 0.34]
    """
    from dopafit import schema, seeds
    from dopafit.stats import statistics as st

    if account not in ACCOUNTS:
        raise ConfigError(f"an account among {', '.join(ACCOUNTS)}", found=repr(account))
    layout = st.build_layout(responses, axis=axis, pool_cued=pool_cued)
    fit = fit_account(account, layout)
    noise_model = fit_noise(layout)
    sim_seeds = seeds.master(seed).generate_state(int(n_datasets), dtype=np.uint64)
    raw = simulate(layout, fit, noise_model, sim_seeds, noise)
    base = responses[schema.RESPONSE].transpose(schema.UNIT, schema.TRIAL).values
    out = []
    for row in raw:
        values = np.array(base, dtype=np.float64, copy=True)
        values[layout.unit_of, layout.trial_of] = row
        ds = responses.copy()
        ds[schema.RESPONSE] = ((schema.UNIT, schema.TRIAL), values)
        ds.attrs = dict(responses.attrs, simulated_account=account, simulated_noise=noise)
        out.append(ds)
    return out
