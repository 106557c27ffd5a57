"""Calibrated comparison of timescale accounts of a recording: one discount factor shared by
the population or one per unit, exponential or hyperbolic discounting.

:func:`compare_timescales` fits every account to the recording's cue responses against delay
(:mod:`dopafit.stats.timescale_accounts`), simulates ``n_sim`` datasets from each with the
recording's own trials (every unit's delay of every trial) and every unit's own noise, runs
the identical statistic pipeline on each (:mod:`dopafit.kernels.discount_sim`) and places the
observed statistics in each account's simulated distribution.

Statistics
----------
- ``gamma_reliability``: median over random split halves of Pearson r, across units, of the
  gamma fitted on half A against the gamma fitted on half B. Near 0 when the units share
  one gamma, high when they differ.
- ``gamma_heterogeneity``: likelihood-ratio statistic of per-unit gamma against one shared
  gamma (per-unit amplitude and asymptote in both, every unit with its own noise variance):
  ``sum_u n_u log(rss_shared_u / rss_exponential_u)``. Its textbook reference is
  chi-squared with ``n_units - 1`` degrees of freedom (``p_nominal``).
- ``discount_shape``: the sum over units of delta AIC (hyperbolic minus exponential),
  ``sum_u n_u log(rss_hyperbolic_u / rss_exponential_u)``: > 0 favours exponential.

Tests
-----
Calibrated p-values use ``(1 + #{simulated at least as extreme}) / (1 + n_sim)``.

- Multi over single (per timescale statistic): ``p_multi`` = p of the observed value in the
  ``single`` account's simulations (one-sided, larger values look multi-timescale);
  ``power`` = the fraction of the ``multi`` account's datasets that reach p < alpha against
  the same single-account simulations.
- Exponential against hyperbolic (``discount_shape``): ``p_hyperbolic`` = p of the observed
  value in the ``multi`` (per-unit exponential) account's simulations, lower tail (the data
  are more hyperbolic than exponential discounting produces); ``p_exponential`` = p in the
  ``hyperbolic`` account's simulations, upper tail. ``power_hyperbolic`` and
  ``power_exponential`` are the fractions of each account's datasets that the other test
  rejects. When neither is rejected the data cannot decide (few delays make the two curves
  alike), and the verdict says so. Both p are calibrated by a double bootstrap
  (``n_inner``): simulating from the *fitted* per-unit curves, which are noisier than the
  true ones, makes a single level anti-conservative (measured 0.15 false "hyperbolic" at
  alpha 0.05 on multi-timescale exponential populations); every simulated dataset is refitted
  and simulated again, and the observed single-level p (``p_hyperbolic_raw``) is placed
  among the simulated datasets' own single-level p (``shape_inner_p``).

Examples
--------
>>> import dopafit
>>> from dopafit.stats.timescales import compare_timescales
>>> ds = dopafit.simulate_discounting(population="multi", n_units=40, seed=3)
>>> cmp = compare_timescales(ds, n_sim=39, n_splits=5)
>>> cmp.attrs["dopafit_result"]
'discount_comparison'
>>> float(cmp["p_multi"].sel(statistic="gamma_heterogeneity"))
0.025
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import ConfigError, ResponsesError, unknown_name, whole_number
from dopafit.fit.discounting import DESCRIPTIONS as FIT_DESCRIPTIONS
from dopafit.stats import timescale_accounts as ta
from dopafit.stats.timescale_accounts import ACCOUNTS, NOISE_MODES
from dopafit.stats.verdict import fmt_p

__all__ = [
    "ACCOUNTS",
    "STATISTICS",
    "TimescaleOptions",
    "compare_timescales",
    "timescales_summary",
    "timescales_verdict",
]

STATISTICS = ("gamma_reliability", "gamma_heterogeneity", "discount_shape")
_INNER = 2  # last spawn-key element of an account's inner (double bootstrap) seed
SEED_DERIVATION = (
    "account a (index in ACCOUNTS): SeedSequence(seed, spawn_key=(10, a)) -> simulation seed "
    "(first spawned child, one uint64), split seed (spawn_key + (1,)) and inner seed of the "
    "double bootstrap (spawn_key + (2,)); observed split halves: the seeds of "
    "fit_discounting (spawn_key=(9, 0)), so that they are the fitter's halves; splitmix64 "
    "streams per (sim, unit) and per (split seed, unit)"
)
_CHUNK = 32


@dataclass(frozen=True)
class TimescaleOptions:
    """Every analysis setting of :func:`compare_timescales`, validated once.

    Examples
    --------
    >>> TimescaleOptions(accounts="single, multi").accounts
    ('single', 'multi')
    >>> TimescaleOptions(noise="poisson")
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected noise among gaussian, residual; found 'poisson'.
    """

    accounts: tuple = ACCOUNTS
    n_sim: int = 200
    n_splits: int = 50
    seed: int | None = 0
    alpha: float = 0.05
    asymptote: str | float = "fit"
    noise: str = "gaussian"
    n_inner: int = 49

    def __post_init__(self):
        acc = self.accounts
        if isinstance(acc, str):
            acc = tuple(a.strip() for a in acc.split(",") if a.strip())
        acc = tuple(acc)
        for a in acc:
            if a not in ACCOUNTS:
                raise unknown_name(a, ACCOUNTS, "account")
        if not acc or len(set(acc)) != len(acc):
            raise ConfigError(
                f"accounts: distinct names among {', '.join(ACCOUNTS)}", found=repr(acc)
            )
        object.__setattr__(self, "accounts", tuple(a for a in ACCOUNTS if a in acc))
        object.__setattr__(self, "n_sim", whole_number("n_sim", self.n_sim, 1))
        object.__setattr__(self, "n_splits", whole_number("n_splits", self.n_splits, 0))
        object.__setattr__(self, "n_inner", whole_number("n_inner", self.n_inner, 0))
        if self.seed is not None and not isinstance(self.seed, np.random.SeedSequence):
            object.__setattr__(self, "seed", whole_number("seed", self.seed, 0))
        a = self.alpha
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 < a < 1:
            raise ConfigError("alpha in (0, 1)", found=repr(a))
        b = self.asymptote
        if isinstance(b, str):
            if b != "fit":
                raise ConfigError('asymptote as "fit" or a number', found=repr(b))
        elif isinstance(b, bool) or not isinstance(b, (int, float)) or not np.isfinite(b):
            raise ConfigError('asymptote as "fit" or a finite number', found=repr(b))
        if self.noise not in NOISE_MODES:
            raise ConfigError(f"noise among {', '.join(NOISE_MODES)}", found=repr(self.noise))

    def to_dict(self) -> dict:
        """The options as plain values (as recorded in a result's attrs)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["accounts"] = ",".join(self.accounts)
        out["asymptote"] = str(self.asymptote)
        out.pop("seed")
        return out


def compare_timescales(
    responses: xr.Dataset,
    *,
    accounts: Sequence[str] = ACCOUNTS,
    n_sim: int = 200,
    n_splits: int = 50,
    seed: int | None = 0,
    alpha: float = 0.05,
    asymptote: str | float = "fit",
    noise: str = "gaussian",
    n_inner: int = 49,
    progress: bool | None = None,
) -> xr.Dataset:
    """Single against multi-timescale and exponential against hyperbolic, calibrated.

    Parameters
    ----------
    responses : xarray.Dataset
        Cue-aligned responses with a ``delay(unit, trial)`` coordinate (the cue-to-reward
        delay of every trial). Trials with finite delay and response are used; cues whose
        trials show more than one delay (mixtures) are excluded (``attrs["cues_excluded"]``).
    accounts : sequence of str, default ("single", "multi", "hyperbolic")
        Accounts simulated. ``p_multi`` needs "single", ``power`` "single" and "multi",
        the exponential-against-hyperbolic test "multi" and "hyperbolic".
    n_sim : int, default 200
        Simulated datasets per account; the smallest attainable p is ``1 / (n_sim + 1)``.
    n_splits : int, default 50
        Random split halves per dataset (observed and simulated alike); 0 skips
        ``gamma_reliability``.
    seed : int or None, default 0
        Master seed (:data:`SEED_DERIVATION`); the result is the same for any number of
        threads.
    alpha : float, default 0.05
        Threshold of the verdict and of the power.
    asymptote : "fit" or float, default "fit"
        Fit every unit's asymptote ``b`` (needs 3 delays) or fix it to this value.
    noise : {"gaussian", "residual"}, default "gaussian"
        Simulated noise: Gaussian with each unit's within-delay residual SD, or the unit's
        within-delay residuals resampled (:mod:`dopafit.stats.timescale_accounts`).
    n_inner : int, default 49
        Double bootstrap of the exponential-against-hyperbolic test: every dataset simulated
        from the "multi" (or "hyperbolic") account is refitted and ``n_inner`` datasets are
        simulated from its refit, which places its own p among them; ``p_hyperbolic`` and
        ``p_exponential`` are then the fraction of those p at or below the observed one
        (add-one). This corrects the test for the fitted curves standing in for the true
        ones (a single level is anti-conservative). 0: single level (``*_raw`` only).
    progress : bool or None, default None
        Progress bar (:mod:`dopafit._progress`); changes no number.

    Returns
    -------
    xarray.Dataset
        Kind ``"discount_comparison"``: ``observed``, ``p_nominal``, ``p_multi``, ``power``
        per statistic; ``simulated`` (account, sim, statistic), ``p_greater``, ``p_less``
        per (account, statistic); ``p_hyperbolic``, ``p_exponential``, ``power_hyperbolic``,
        ``power_exponential``, ``shared_gamma``; per unit the fits (``gamma``, ``amplitude``,
        ``asymptote``, ``rss_exponential``, ``hyperbolic_k``, ..., ``delta_aic``,
        ``discount_shape``, ``noise_sd``, ``discount_status``); ``split_reliability`` per
        split; the verdict and every option in attrs.

    Raises
    ------
    ResponsesError
        No ``delay`` coordinate, negative delays, too few distinct delays.
    FitError
        Fewer than 3 units with trials at enough delays.
    ConfigError
        Invalid options.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="single", n_units=20, seed=2)
    >>> cmp = compare_timescales(ds, n_sim=19, n_splits=5, accounts=("single",))
    >>> cmp["p_multi"].sel(statistic="gamma_heterogeneity").item() >= 0.05
    True
    """
    from dopafit._progress import check_progress, progress_bar
    from dopafit.kernels import discount_sim as ks

    options = TimescaleOptions(
        accounts=accounts,
        n_sim=n_sim,
        n_splits=n_splits,
        seed=seed,
        alpha=alpha,
        asymptote=asymptote,
        noise=noise,
        n_inner=n_inner,
    )
    progress = check_progress(progress)
    if not isinstance(responses, xr.Dataset) or schema.RESPONSE not in responses:
        raise ResponsesError(
            "a responses Dataset with a 'response' variable (unit, trial)",
            found=type(responses).__name__
            if not isinstance(responses, xr.Dataset)
            else "no 'response'",
        )
    t0 = time.perf_counter()
    lay = ta.prepare(responses, options.asymptote)
    te, th = ta.grids(lay.delays)
    xe = ks.curve_table(ks.KIND_EXPONENTIAL, te, lay.delays)
    xh = ks.curve_table(ks.KIND_HYPERBOLIC, th, lay.delays)
    n, m, ss = ks.delay_stats(lay.vals, lay.start, lay.cnt)
    exp, hyp, shared, gs = ks.fit_units(n, m, ss, lay.delays, te, xe, th, xh, lay.fit_b, lay.b0)
    root = seeds.master(options.seed)
    entropy = root.entropy
    obs_seeds = seeds.discount_stream(root, seeds.DISCOUNT_SPLITS).generate_state(
        options.n_splits, dtype=np.uint64
    )
    unit_key = lay.fit_units.astype(np.int64)
    common = (lay.start, lay.cnt, lay.delays, te, xe, th, xh, lay.fit_b, lay.b0, lay.min_delays)
    observed = ks.dataset_statistics(lay.vals, *common, obs_seeds, unit_key)
    r_obs, ga, gb = ks.split_reliability(lay.vals, *common[:5], *common[7:], obs_seeds, unit_key)
    sd, pool, pool_start, pool_cnt = ta.noise_model(lay, n, m)
    mode = ks.NOISE_GAUSSIAN if options.noise == "gaussian" else ks.NOISE_RESIDUAL
    sims, inner, timing = {}, {}, {}
    with progress_bar(
        options.n_sim * len(options.accounts), "compare_timescales", progress=progress, unit="sim"
    ) as bar:
        for name in options.accounts:
            bar.set_description(f"compare_timescales: {name}")
            t1 = time.perf_counter()
            mu = ta.account_means(name, lay.delays, exp, hyp, shared, gs)
            ss_acc = np.random.SeedSequence(
                entropy, spawn_key=(seeds.TIMESCALE_KEY, ACCOUNTS.index(name))
            )
            sim_seed = seeds.first_state(ss_acc.spawn(1)[0])
            split_seed = seeds.first_state(
                np.random.SeedSequence(entropy, spawn_key=(*ss_acc.spawn_key, seeds.ACCOUNT_SPLITS))
            )
            parts = []
            for s0 in range(0, options.n_sim, _CHUNK):
                k = min(_CHUNK, options.n_sim - s0)
                parts.append(
                    ks.simulate_statistics(
                        mu,
                        sd,
                        pool,
                        pool_start,
                        pool_cnt,
                        mode,
                        *common,
                        unit_key,
                        sim_seed,
                        split_seed,
                        s0,
                        k,
                        options.n_splits,
                    )
                )
                bar.update(k)
            sims[name] = np.concatenate(parts)
            if name != "single" and options.n_inner > 0:
                inner_seed = seeds.first_state(
                    np.random.SeedSequence(entropy, spawn_key=(*ss_acc.spawn_key, _INNER))
                )
                kind = ks.KIND_EXPONENTIAL if name == "multi" else ks.KIND_HYPERBOLIC
                inner[name] = ks.shape_inner_p(
                    mu, sd, pool, pool_start, pool_cnt, mode, *common[:9], kind,
                    name == "hyperbolic", sim_seed, inner_seed, options.n_sim, options.n_inner,
                )  # fmt: skip
            timing[name] = time.perf_counter() - t1
    ds = _assemble(
        responses, lay, options, observed, sims, inner, exp, hyp, shared, gs, sd, r_obs, ga, gb
    )
    timing["total"] = time.perf_counter() - t0
    ds.attrs.update(
        {
            schema.RESULT_KIND: DISCOUNT_COMPARISON,
            "analysis": "compare_timescales",
            **options.to_dict(),
            "seed": seeds.recorded(root),
            "seed_derivation": SEED_DERIVATION,
            "delays": lay.delays.tolist(),
            "delay_units": lay.delay_units,
            "cues_excluded": list(lay.cues_excluded),
            "n_units_fitted": int(lay.fit_units.size),
            "timing_s": {k: round(v, 3) for k, v in timing.items()},
            "dopafit_version": __version__,
            "source": str(responses.attrs.get("source", "")),
        }
    )
    ds.attrs["verdict"] = timescales_verdict(ds)
    return ds


DISCOUNT_COMPARISON = schema.DISCOUNT_COMPARISON


def _p_upper(sim: np.ndarray, obs: float) -> float:
    s = sim[np.isfinite(sim)]
    if not np.isfinite(obs) or not s.size:
        return np.nan
    return (1.0 + np.sum(s >= obs)) / (1.0 + s.size)


def _p_lower(sim: np.ndarray, obs: float) -> float:
    return _p_upper(-sim, -obs)


def _power(alt: np.ndarray, null: np.ndarray, alpha: float, upper: bool) -> float:
    """Fraction of the ``alt`` datasets whose calibrated p against ``null`` is below alpha."""
    a = alt[np.isfinite(alt)]
    if not a.size or not np.isfinite(null).any():
        return np.nan
    f = _p_upper if upper else _p_lower
    return float(np.mean([f(null, v) < alpha for v in a]))


def _shape_p(sims, inner, account, obs, upper):
    """Single-level p of ``discount_shape`` under an account, the double-bootstrap p (the
    single level when no inner simulations), and the inner p of the account's datasets."""
    if account not in sims:
        return np.nan, np.nan, None
    raw = (_p_upper if upper else _p_lower)(sims[account][:, 2], obs)
    p_in = inner.get(account)
    if p_in is None:
        return raw, raw, None
    return raw, (1.0 + np.sum(p_in <= raw)) / (1.0 + p_in.size), p_in


def _shape_power(alt, null, p_in, options, upper):
    """Fraction of the ``alt`` datasets that the (double-bootstrap) shape test rejects."""
    f = _p_upper if upper else _p_lower
    ps = []
    for v in alt[np.isfinite(alt)]:
        p = f(null, v)
        if p_in is not None:
            p = (1.0 + np.sum(p_in <= p)) / (1.0 + p_in.size)
        ps.append(p < options.alpha)
    return float(np.mean(ps)) if ps else np.nan


def _assemble(
    responses, lay, options, observed, sims, inner, exp, hyp, shared, gs, sd, r_obs, ga, gb
):
    from scipy import stats as sps

    n_unit = responses.sizes[schema.UNIT]
    fu = lay.fit_units
    acc = list(options.accounts)
    S, A = len(STATISTICS), len(acc)
    simulated = np.stack([sims[a] for a in acc]) if acc else np.empty((0, options.n_sim, S))
    pg = np.array([[_p_upper(simulated[i, :, j], observed[j]) for j in range(S)] for i in range(A)])
    pl = np.array([[_p_lower(simulated[i, :, j], observed[j]) for j in range(S)] for i in range(A)])
    p_multi = np.full(S, np.nan)
    power = np.full(S, np.nan)
    for j in (0, 1):
        if "single" in sims:
            p_multi[j] = _p_upper(sims["single"][:, j], observed[j])
            if "multi" in sims:
                power[j] = _power(sims["multi"][:, j], sims["single"][:, j], options.alpha, True)
    p_hyp_raw, p_hyp, inner_m = _shape_p(sims, inner, "multi", observed[2], False)
    p_exp_raw, p_exp, inner_h = _shape_p(sims, inner, "hyperbolic", observed[2], True)
    pow_h = pow_e = np.nan
    if "multi" in sims and "hyperbolic" in sims:
        pow_h = _shape_power(sims["hyperbolic"][:, 2], sims["multi"][:, 2], inner_m, options, False)
        pow_e = _shape_power(sims["multi"][:, 2], sims["hyperbolic"][:, 2], inner_h, options, True)
    p_nom = np.full(S, np.nan)
    p_nom[1] = float(sps.chi2.sf(observed[1], fu.size - 1))

    def unit_var(values):
        out = np.full(n_unit, np.nan)
        out[fu] = values
        return out

    n_u = lay.cnt.sum(axis=1).astype(float)
    daic = n_u * np.log(np.maximum(hyp[3], 1e-300) / np.maximum(exp[3], 1e-300))
    shape = np.full(n_unit, "", dtype=object)
    shape[fu] = np.where(daic > 2, "exponential", np.where(daic < -2, "hyperbolic", "undecided"))
    U = (schema.UNIT,)
    data = {
        "observed": ("statistic", observed),
        "p_nominal": ("statistic", p_nom),
        "p_multi": ("statistic", p_multi),
        "power": ("statistic", power),
        "simulated": (("account", "sim", "statistic"), simulated),
        "p_greater": (("account", "statistic"), pg.reshape(A, S)),
        "p_less": (("account", "statistic"), pl.reshape(A, S)),
        "p_hyperbolic": ((), p_hyp),
        "p_exponential": ((), p_exp),
        "p_hyperbolic_raw": ((), p_hyp_raw),
        "p_exponential_raw": ((), p_exp_raw),
        "shape_inner_p": (
            ("account", "sim"),
            np.array([inner.get(a, np.full(options.n_sim, np.nan)) for a in acc]).reshape(
                A, options.n_sim
            ),
        ),
        "power_hyperbolic": ((), pow_h),
        "power_exponential": ((), pow_e),
        "shared_gamma": ((), gs),
        "gamma": (U, unit_var(exp[0])),
        "amplitude": (U, unit_var(exp[1])),
        "asymptote": (U, unit_var(exp[2])),
        "rss_exponential": (U, unit_var(exp[3])),
        "hyperbolic_k": (U, unit_var(np.exp(hyp[0]))),
        "hyperbolic_amplitude": (U, unit_var(hyp[1])),
        "hyperbolic_asymptote": (U, unit_var(hyp[2])),
        "rss_hyperbolic": (U, unit_var(hyp[3])),
        "shared_amplitude": (U, unit_var(shared[0])),
        "shared_asymptote": (U, unit_var(shared[1])),
        "rss_shared": (U, unit_var(shared[2])),
        "delta_aic": (U, unit_var(daic)),
        "discount_shape": (U, shape.astype(str)),
        "noise_sd": (U, unit_var(sd)),
        "n_trials": (U, lay.n_trials.astype(np.int64)),
        "n_delays": (U, lay.n_delays.astype(np.int64)),
        "discount_status": (U, lay.status),
        "split_reliability": ("split", r_obs),
        "gamma_half_a": (("split", schema.UNIT), _per_unit(ga, fu, n_unit)),
        "gamma_half_b": (("split", schema.UNIT), _per_unit(gb, fu, n_unit)),
    }
    coords = {
        "statistic": list(STATISTICS),
        "account": acc,
        "sim": np.arange(options.n_sim),
        "split": np.arange(options.n_splits),
        "delay_level": lay.delays,
    }
    for name, c in responses.coords.items():
        if c.dims == U:
            coords[name] = c
    ds = xr.Dataset(data, coords=coords)
    for name, text in _DESCRIPTIONS.items():
        if name in ds.variables:
            ds[name].attrs["description"] = text
    return ds


def _per_unit(g, fu, n_unit):
    out = np.full((g.shape[0], n_unit), np.nan)
    out[:, fu] = g
    return out


_DESCRIPTIONS = {
    **FIT_DESCRIPTIONS,  # the per-unit fits, the split halves and the unit coordinates
    "statistic": "statistic computed on the recording and on every simulated dataset",
    "account": "account simulated: single (one shared gamma), multi (gamma per unit) or "
    "hyperbolic (k per unit)",
    "sim": "index of the simulated dataset",
    "delay_level": "the delays (attrs delay_units) the fits use",
    "shared_amplitude": "single-timescale fit: the unit's amplitude at the shared gamma",
    "shared_asymptote": "single-timescale fit: the unit's asymptote at the shared gamma",
    "rss_shared": "residual sum of squares of the unit under the shared gamma",
    "observed": "value of the statistic on the recording",
    "p_nominal": "textbook p (gamma_heterogeneity: chi-squared, n_units - 1 df); NaN if none",
    "p_multi": "p of multi over single: (1 + #{single-account sims >= observed}) / (1 + n_sim)",
    "power": "fraction of multi-account datasets with p_multi < alpha",
    "simulated": "value of the statistic on each dataset simulated from the account",
    "p_greater": "(1 + #{simulated >= observed}) / (1 + n_sim)",
    "p_less": "(1 + #{simulated <= observed}) / (1 + n_sim)",
    "p_hyperbolic": "p of discount_shape under the exponential (multi) account, lower tail, "
    "double bootstrap (attrs n_inner)",
    "p_exponential": "p of discount_shape under the hyperbolic account, upper tail, double "
    "bootstrap (attrs n_inner)",
    "p_hyperbolic_raw": "single-level p of discount_shape in the multi account's sims, lower tail",
    "p_exponential_raw": "single-level p of discount_shape in the hyperbolic account's sims, "
    "upper tail",
    "shape_inner_p": "p of each simulated dataset's discount_shape among the datasets "
    "simulated from its own refit (double bootstrap)",
    "power_hyperbolic": "fraction of hyperbolic-account datasets with p_hyperbolic < alpha",
    "power_exponential": "fraction of exponential-account datasets with p_exponential < alpha",
    "shared_gamma": "gamma of the single-timescale fit (per delay unit)",
    "gamma": "discount factor per delay unit of the unit's exponential fit",
    "delta_aic": "AIC hyperbolic - AIC exponential (> 0 favours exponential)",
    "discount_shape": "exponential / hyperbolic (|delta_aic| > 2) or undecided",
    "noise_sd": "within-delay residual SD used by the simulations",
    "discount_status": "ok or why the unit is not fitted",
    "split_reliability": "Pearson r across units of gamma half A vs half B, per split",
}


# --------------------------------------------------------------------------------------------
# verdict and summary


def _strength(p: float, alpha: float) -> str:
    if p <= 0.001:
        return "strongly "
    if p < min(alpha, 0.01):
        return "clearly "
    return ""


def timescales_verdict(ds: xr.Dataset) -> str:
    """Plain-language verdict of a timescale comparison, from its Dataset alone.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare_timescales`.

    Returns
    -------
    str

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="multi", n_units=40, seed=3)
    >>> print(timescales_verdict(compare_timescales(ds, n_sim=39, n_splits=5)))  # doctest: +ELLIPSIS
    The data reject a single shared timescale...
    """
    alpha = float(ds.attrs.get("alpha", 0.05))
    out = []
    p = float(ds["p_multi"].sel(statistic="gamma_heterogeneity"))
    pr = float(ds["p_multi"].sel(statistic="gamma_reliability"))
    r = float(ds["observed"].sel(statistic="gamma_reliability"))
    pw = float(ds["power"].sel(statistic="gamma_heterogeneity"))
    rel = (
        f"; split-half reliability of gamma r = {r:.2f}, p = {fmt_p(pr)}" if np.isfinite(r) else ""
    )
    if np.isfinite(p):
        if p < alpha:
            out.append(
                f"The data {_strength(p, alpha)}reject a single shared timescale: units differ "
                f"in their discount factor (calibrated p = {fmt_p(p)}, gamma_heterogeneity{rel})"
            )
        else:
            pw_txt = (
                f"; power against the fitted multi-timescale account {pw:.2f}"
                if np.isfinite(pw)
                else ""
            )
            out.append(
                "The data do not reject a single shared timescale (calibrated p = "
                f"{fmt_p(p)}, gamma_heterogeneity{rel}): no evidence of per-unit discount "
                f"factors beyond what noise produces{pw_txt}"
            )
    ph, pe = float(ds["p_hyperbolic"]), float(ds["p_exponential"])
    n_d = len(ds.attrs.get("delays", ()))
    shape = [str(s) for s in ds["discount_shape"].values if str(s)]
    units = (
        f" (per unit by delta AIC: {shape.count('exponential')} exponential, "
        f"{shape.count('hyperbolic')} hyperbolic, {shape.count('undecided')} undecided)"
    )
    both = f"exponential account p = {fmt_p(ph)}, hyperbolic account p = {fmt_p(pe)}"
    if np.isfinite(ph) and np.isfinite(pe):
        if ph >= alpha and pe >= alpha:
            out.append(
                f"Exponential against hyperbolic: the data cannot decide, both accounts are "
                f"compatible with the population's delta AIC ({both}; {n_d} delays){units}"
            )
        elif ph < alpha <= pe:
            out.append(f"The data favour hyperbolic over exponential discounting ({both}){units}")
        elif pe < alpha <= ph:
            out.append(f"The data favour exponential over hyperbolic discounting ({both}){units}")
        else:
            out.append(
                f"Neither exponential nor hyperbolic discounting reproduces the data ({both}){units}"
            )
    n_sim = int(ds.sizes["sim"])
    text = ". ".join(out) + (". " if out else "")
    return (
        text
        + f"(alpha = {alpha:g}; {n_sim} simulations per account, smallest attainable p = {fmt_p(1.0 / (n_sim + 1))}.)"
    )


def timescales_summary(ds: xr.Dataset) -> str:
    """The table of statistics and tests of a timescale comparison, then its verdict.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`compare_timescales`.

    Returns
    -------
    str

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="multi", n_units=40, seed=3)
    >>> cmp = compare_timescales(ds, n_sim=39, n_splits=5)
    >>> print(timescales_summary(cmp))  # doctest: +ELLIPSIS
    statistic ...
    gamma_heterogeneity ...
    >>> cmp.dopafit.summary() == timescales_summary(cmp)
    True
    """

    if not isinstance(ds, xr.Dataset) or ds.attrs.get(schema.RESULT_KIND) != DISCOUNT_COMPARISON:
        from dopafit.errors import ResultKindError

        raise ResultKindError(
            f"a result of kind {DISCOUNT_COMPARISON!r} for timescales_summary",
            found=type(ds).__name__
            if not isinstance(ds, xr.Dataset)
            else repr(ds.attrs.get(schema.RESULT_KIND)),
            remedy="pass the output of dopafit.compare_timescales",
        )
    lines = [f"{'statistic':<22}{'observed':>10}{'p_nominal':>11}{'p_multi':>9}{'power':>7}"]
    for s in STATISTICS:
        row = ds.sel(statistic=s)
        lines.append(
            f"{s:<22}{float(row['observed']):>10.3g}{fmt_p(float(row['p_nominal'])):>11}"
            f"{fmt_p(float(row['p_multi'])):>9}{float(row['power']):>7.2f}"
        )
    lines.append(
        f"exponential vs hyperbolic: p_hyperbolic = {fmt_p(float(ds['p_hyperbolic']))}, "
        f"p_exponential = {fmt_p(float(ds['p_exponential']))}, power_hyperbolic = "
        f"{float(ds['power_hyperbolic']):.2f}, power_exponential = {float(ds['power_exponential']):.2f}"
    )
    lines.append(
        f"shared gamma = {float(ds['shared_gamma']):.3g} per {ds.attrs.get('delay_units', 's')}"
    )
    lines.append("Verdict: " + str(ds.attrs.get("verdict", timescales_verdict(ds))))
    return "\n".join(lines)
