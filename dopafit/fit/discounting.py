"""Per-unit discount factors from cue responses: exponential and hyperbolic fits, bootstrap
intervals, split halves, and the relation to the magnitude axis (tau).

Per unit the cue response against the cue-to-reward delay ``d`` is fitted by least squares as
``R(d) = asymptote + amplitude * gamma ** d`` and as the hyperbolic alternative
``R(d) = hyperbolic_asymptote + hyperbolic_amplitude / (1 + hyperbolic_k * d)``
(:mod:`dopafit.kernels.discount`); every choice is recorded in the output's attrs.

Examples
--------
>>> import dopafit
>>> ds = dopafit.simulate_discounting(population="multi", n_units=20, seed=1)
>>> fit = dopafit.fit_discounting(ds, n_splits=50, n_boot=100, asymptote=0.0)
>>> fit.attrs["dopafit_result"], fit.attrs["delays"]
('discount_fit', [0.5, 1.5, 3.0, 6.0])
>>> bool(fit["gamma_reliability"].median() > 0.5)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit import schema, seeds
from dopafit._version import __version__
from dopafit.errors import ConfigError, FitError, ResponsesError
from dopafit.fit.discount_options import DiscountOptions

__all__ = ["fit_discounting", "discount_summary", "usable_trials", "DiscountOptions", "SHAPE_RULE"]

SPLIT = "split"
DELAY_DIM = "delay_value"

SHAPE_RULE = (
    "delta_aic = AIC(hyperbolic) - AIC(exponential) = N log(rss_hyperbolic / rss_exponential) "
    "(Gaussian errors, the same number of parameters); 'exponential' when delta_aic >= "
    "aic_margin, 'hyperbolic' when delta_aic <= -aic_margin, else 'undecided' (the unit's data "
    "cannot decide); 'not fitted' when discount_status is not 'ok'"
)
SPLIT_RULE = (
    "per split and unit the trials at each delay are permuted (splitmix64 stream of (split "
    "seed, unit)); floor(n/2) form half A, the next floor(n/2) half B; gamma is fitted on "
    "each half as on all trials; gamma_reliability = Pearson r of gamma_half_a and "
    "gamma_half_b across units with both finite"
)

_CHUNK_FITS = 200_000


def _describe_reason(status: int, n_delays: int, fit_asym: bool, kern) -> str:
    if status == kern.STATUS_NO_TRIALS:
        return "no trials (no trial with a finite delay and response)"
    if status == kern.STATUS_FEW_DELAYS:
        if n_delays == 1:
            return "one delay (all of the unit's trials at the same delay)"
        return f"{n_delays} delays: {3 if fit_asym else 2} needed" + (
            " with a fitted asymptote" if fit_asym else ""
        )
    if status == kern.STATUS_FLAT:
        return "flat response: every delay mean equal (amplitude 0, gamma not identified)"
    return "ok"


@dataclass(frozen=True)
class _Data:
    """The used trials: delays, per-unit statistics and the grouped trials."""

    delays: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    ss: np.ndarray
    vals: np.ndarray
    start: np.ndarray
    cnt: np.ndarray
    cues_excluded: list


def _delay_values(responses: xr.Dataset) -> np.ndarray:
    """The ``delay(unit, trial)`` values, checked (missing, not numeric, negative, none
    finite)."""
    source = responses.attrs.get("source")
    file = source if isinstance(source, str) else None
    if schema.DELAY not in responses.variables:
        raise ResponsesError(
            f"a {schema.DELAY!r} coordinate (unit, trial): the cue-to-reward delay of each trial",
            found="no delay variable (variables: "
            + ", ".join(sorted(map(str, responses.variables)))
            + ")",
            remedy="load the session with delay='<trials column>' or add "
            "ds.coords['delay'] = (('unit', 'trial'), values)",
            file=file,
        )
    delay = responses[schema.DELAY]
    if not set(delay.dims) <= {schema.UNIT, schema.TRIAL}:
        raise ResponsesError(
            f"{schema.DELAY!r} with dims (unit, trial) or (trial,)", found=f"dims {delay.dims}"
        )
    delay = delay.broadcast_like(responses[schema.RESPONSE]).transpose(schema.UNIT, schema.TRIAL)
    try:
        d = np.array(delay.values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ResponsesError("numeric delays", found=str(exc), file=file) from None
    finite = np.isfinite(d)
    if not finite.any():
        raise ResponsesError(
            "finite delays for the discounting fit",
            found="every delay is NaN (no trial has a known delay)",
            remedy="map the trials' delay column (delay='<column>') when loading",
            file=file,
        )
    if (d[finite] < 0).any():
        bad = np.unique(d[finite & (d < 0)])
        raise ResponsesError(
            "delays >= 0 (cue-to-reward time)",
            found=f"{int((d[finite] < 0).sum())} trial(s) with negative delay(s) "
            + ", ".join(f"{v:g}" for v in bad[:5]),
            remedy="check the delay column and its units (attrs['delay_units'])",
            file=file,
        )
    return d


def usable_trials(responses: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """The trials the discounting analyses use (the fit and :func:`dopafit.compare_timescales`).

    Parameters
    ----------
    responses : xarray.Dataset
        Cue-aligned responses with a ``delay`` coordinate.

    Returns
    -------
    delay, response : ndarray, shape (n_unit, n_trial)
        The delays (checked: present, numeric, not negative, some finite) and responses.
    used : ndarray of bool, shape (n_unit, n_trial)
        Finite delay and response, and not a trial of a mixture cue.
    excluded : list of float
        The mixture cues: cue ids whose trials show more than one delay.

    Raises
    ------
    ResponsesError
        No ``delay``, non-numeric, negative or only NaN delays.
    """
    d = _delay_values(responses)
    r = np.asarray(
        responses[schema.RESPONSE].transpose(schema.UNIT, schema.TRIAL).values, dtype=np.float64
    )
    used = np.isfinite(d) & np.isfinite(r)
    excluded = []
    if "cue_id" in responses.variables:
        cue = responses["cue_id"].broadcast_like(responses[schema.RESPONSE])
        cue = np.asarray(cue.transpose(schema.UNIT, schema.TRIAL).values, dtype=np.float64)
        for c in np.unique(cue[np.isfinite(cue)]):
            mask = (cue == c) & np.isfinite(d)
            if np.unique(d[mask]).size > 1:  # a cue predicting several delays: a mixture
                excluded.append(float(c))
                used &= cue != c
    return d, r, used, excluded


def _prepare(responses: xr.Dataset, opts: DiscountOptions, kern) -> _Data:
    d, r, used, excluded = usable_trials(responses)
    delays = np.unique(d[used])
    if delays.size < 2:
        source = responses.attrs.get("source")
        raise FitError(
            "trials at 2 or more distinct delays (3 with a fitted asymptote) to fit discounting",
            found="every used trial at the same delay"
            if delays.size == 1
            else "no trial with a finite delay and response",
            remedy="the discounting fit needs cues predicting reward after different delays",
            file=source if isinstance(source, str) else None,
        )
    idx = np.where(used, np.searchsorted(delays, np.where(used, d, delays[0])), -1)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    r = np.ascontiguousarray(r)
    count, mean, ss = kern.delay_stats(r, idx, delays.size)
    vals, start, cnt = kern.group_trials(r, idx, delays.size)
    return _Data(delays, count, mean, ss, vals, start, cnt, excluded)


def fit_discounting(
    responses: xr.Dataset,
    *,
    options: DiscountOptions | None = None,
    reward_responses: xr.Dataset | None = None,
    progress: bool | None = None,
    **option_overrides,
) -> xr.Dataset:
    """Fit each unit's discounting of delayed reward: gamma, the hyperbolic k, split halves.

    Parameters
    ----------
    responses : xarray.Dataset
        A cue-aligned responses Dataset (see :mod:`dopafit.schema`) with the coordinate
        ``delay(unit, trial)`` (in ``attrs['delay_units']``, default "s").
    options : DiscountOptions, optional
        Every analysis setting (:class:`~dopafit.fit.discount_options.DiscountOptions`);
        default ``DiscountOptions()``.
    reward_responses : xarray.Dataset, optional
        Reward-aligned responses of the same units (matched by ``unit_id``): fitted with
        :func:`dopafit.fit_expectiles` (``axis="reward", n_splits=0, n_boot=0``, same seed)
        to add ``tau``, ``reversal_point`` (reward units) and the relation of gamma and tau
        across units.
    progress : bool or None, default None
        A progress bar over the bootstrap and the split halves (None: in a notebook or a
        terminal). It changes no number.
    **option_overrides
        Options of :class:`DiscountOptions` by name, applied over ``options``
        (``fit_discounting(ds, n_splits=100)``).

    Returns
    -------
    xarray.Dataset
        ``attrs['dopafit_result'] == 'discount_fit'``. Per unit: ``gamma``, ``gamma_lo``,
        ``gamma_hi``, ``amplitude``, ``asymptote``, ``rss_exponential``, ``hyperbolic_k``,
        ``hyperbolic_amplitude``, ``hyperbolic_asymptote``, ``rss_hyperbolic``, ``delta_aic``,
        ``discount_shape``, ``gamma_edge``, ``delay_p``, ``n_delays``, ``n_trials``,
        ``discount_status``, ``gamma_center``, ``n_boot_ok``; per unit and delay ``n_trials_delay``, ``mean_response``; per split
        and unit ``gamma_half_a``, ``gamma_half_b``; per split ``gamma_reliability``,
        ``p_reliability``, ``n_units_split``. With ``reward_responses``: ``tau``,
        ``reversal_point`` and attrs ``gamma_tau_r``, ``gamma_tau_r_lo``,
        ``gamma_tau_r_hi``, ``gamma_tau_p``. Every variable has ``attrs['description']``;
        attrs record every option, the delays and their unit, the excluded cues, the seed.

    Raises
    ------
    ResponsesError
        ``responses`` does not follow the data model, has no ``delay``, only NaN delays or
        negative delays; ``reward_responses`` lacks units of ``responses``.
    FitError
        Fewer than 2 distinct delays in the whole Dataset, or no unit can be fitted.
    ConfigError
        An invalid or unknown option.

    Notes
    -----
    gamma minimises the trial-level residual sum of squares over ``[gamma_min, 1]`` (and k
    over ``[0, k_max]``): a grid of ``n_grid`` points, then golden section. A unit is not
    fitted (``discount_status``) with no trials, one delay, too few delays for the free
    parameters (3 with a fitted asymptote), or a flat response; ``gamma_edge`` marks an
    estimate at a bound (with a fitted asymptote, gamma at 1 means the response is linear in
    the delay over the delays used: gamma and the amplitude are then poorly identified);
    ``delay_p`` (one-way ANOVA across delays) says whether the response depends on the delay
    at all: with a large p the amplitude is indistinguishable from 0 and gamma is not
    identified.
    ``discount_shape`` follows :data:`SHAPE_RULE`. Intervals: percentile, trials resampled
    within delay. Split halves: :data:`SPLIT_RULE`. Cues whose trials show more than one
    delay (mixtures) are left out (attrs ``cues_excluded``).

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="multi", n_units=30, seed=2)
    >>> fit = dopafit.fit_discounting(ds, n_splits=20, n_boot=0)
    >>> fit["discount_status"].values[:3].tolist()
    ['ok', 'ok', 'ok']
    >>> fit.attrs["gamma_bounds"], fit.attrs["delay_units"]
    ([0.01, 1.0], 's')
    """
    from dopafit._progress import check_progress, progress_bar
    from dopafit.kernels import discount as kern

    if options is None:
        options = DiscountOptions()
    elif not isinstance(options, DiscountOptions):
        raise ConfigError("options as a DiscountOptions", found=type(options).__name__)
    opts = options.updated(**option_overrides) if option_overrides else options
    progress = check_progress(progress)

    responses = schema.validate_responses(responses)
    data = _prepare(responses, opts, kern)
    ds = _point_fit(responses, data, opts, kern)
    n_unit = ds.sizes[schema.UNIT]
    root = seeds.master(opts.seed)  # once: seed=None draws its entropy here, recorded
    split_ss = seeds.discount_stream(root, seeds.DISCOUNT_SPLITS)
    boot_ss = seeds.discount_stream(root, seeds.DISCOUNT_BOOTSTRAP)
    args = (data.vals, data.start, data.cnt, data.delays, opts.fit_asymptote)
    args = (*args, opts.asymptote_value, opts.gamma_grid())
    total = n_unit * (opts.n_boot + opts.n_splits)
    with progress_bar(total, "discounting", progress=progress, unit="fit") as bar:
        if opts.n_boot > 0:
            bar.set_description("discounting: bootstrap")
            _add_bootstrap(ds, kern, args, boot_ss, opts, bar)
        if opts.n_splits > 0:
            bar.set_description("discounting: split halves")
            _add_splits(ds, kern, args, split_ss, opts, bar)
    if reward_responses is not None:
        _add_relation(ds, responses, reward_responses, opts, root)
    ds.attrs = {**_attrs(responses, data, opts, split_ss), **ds.attrs}
    _describe(ds)
    return ds


def _point_fit(responses, data: _Data, opts: DiscountOptions, kern) -> xr.Dataset:
    fa, b0 = opts.fit_asymptote, opts.asymptote_value
    stats = (data.delays, data.count, data.mean, data.ss, fa, b0)
    status = kern.unit_status(data.count, data.mean, fa, b0)
    g, amp, asym, rss_e = kern.fit_exponential(*stats, opts.gamma_grid())
    k, h_amp, h_asym, rss_h = kern.fit_hyperbolic(*stats, opts.k_grid())
    n_delays = (data.count > 0).sum(axis=1).astype(np.int64)
    n_trials = data.count.sum(axis=1).astype(np.int64)
    reasons = np.array(
        [_describe_reason(int(s), int(n), fa, kern) for s, n in zip(status, n_delays)],
        dtype=object,
    )
    ok = status == kern.STATUS_OK
    if not ok.any():
        source = responses.attrs.get("source")
        raise FitError(
            "at least one unit with trials at enough delays and a delay-dependent response",
            found=f"{ok.size} unit(s), none fittable ({'; '.join(sorted(set(reasons)))})",
            remedy="check the response and delay variables against the reasons found",
            file=source if isinstance(source, str) else None,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = n_trials * (np.log(rss_h) - np.log(rss_e))
    delta = np.where(ok & (rss_h == rss_e), 0.0, delta)
    delta = np.where(ok & np.isfinite(delta), delta, np.nan)
    margin = float(opts.aic_margin)
    shape = np.where(
        ~ok,
        "not fitted",
        np.where(
            delta >= margin, "exponential", np.where(delta <= -margin, "hyperbolic", "undecided")
        ),
    ).astype(object)
    lo, hi = opts.gamma_bounds
    edge = np.zeros(g.size, dtype=np.int8)
    edge[ok & (g <= lo * (1 + 1e-6))] = -1
    edge[ok & (g >= hi - 1e-6)] = 1

    unit_coords = {
        name: responses[name] for name in schema.UNIT_COORDS if name in responses.variables
    }
    ds = xr.Dataset(coords={schema.UNIT: responses[schema.UNIT].values, **unit_coords})
    ds = ds.assign_coords({DELAY_DIM: data.delays})
    u = schema.UNIT
    for name, values in (
        ("gamma", g),
        ("amplitude", amp),
        ("asymptote", asym),
        ("rss_exponential", rss_e),
        ("hyperbolic_k", k),
        ("hyperbolic_amplitude", h_amp),
        ("hyperbolic_asymptote", h_asym),
        ("rss_hyperbolic", rss_h),
        ("delta_aic", delta),
    ):
        ds[name] = (u, np.asarray(values, dtype=np.float64))
    ds["discount_shape"] = (u, shape)
    ds["gamma_edge"] = (u, edge)
    ds["n_delays"] = (u, n_delays)
    ds["n_trials"] = (u, n_trials)
    ds["discount_status"] = (u, reasons)
    ds["delay_p"] = (u, _delay_p(data))
    ds["n_trials_delay"] = ((u, DELAY_DIM), data.count.copy())
    ds["mean_response"] = ((u, DELAY_DIM), data.mean.copy())
    return ds


def _delay_p(data: _Data) -> np.ndarray:
    """p of the one-way ANOVA of each unit's responses across its delays (a large p: the
    response does not detectably depend on the delay, so gamma is not identified)."""
    from scipy import stats

    n = data.count.astype(float)
    present = n > 0
    k = present.sum(axis=1)
    total = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(present, data.mean, 0.0)
        grand = (n * m).sum(axis=1) / total
        between = (n * (m - grand[:, None]) ** 2).sum(axis=1)
        within = np.where(present, data.ss, 0.0).sum(axis=1)
        df1, df2 = k - 1, total - k
        f = (between / df1) / (within / df2)
        p = stats.f.sf(f, df1, df2)
    ok = (df1 >= 1) & (df2 >= 1) & np.isfinite(f)
    return np.where(ok, p, np.nan)


def _chunks(n: int, size: int):
    return [(i, min(n, i + size)) for i in range(0, n, max(1, size))]


def _add_bootstrap(ds, kern, args, boot_ss, opts: DiscountOptions, bar):
    """Percentile intervals of gamma from trial resamples within delay (chunks of units)."""
    from dopafit.kernels.fit_stats import percentile_rows

    vals, start, cnt, *rest = args
    seed = seeds.first_state(boot_ss)
    n_unit = cnt.shape[0]
    parts = []
    size = max(-(-n_unit // 10), -(-_CHUNK_FITS // max(opts.n_boot, 1)))
    for u0, u1 in _chunks(n_unit, size):
        parts.append(
            kern.bootstrap_exponential(
                vals, start[u0:u1], cnt[u0:u1], *rest, seed, int(opts.n_boot), u0
            )
        )
        bar.update((u1 - u0) * int(opts.n_boot))
    boot = np.concatenate(parts)
    ok = ds["discount_status"].values == "ok"
    boot[~ok] = np.nan
    q = np.array([(1.0 - opts.level) / 2.0, (1.0 + opts.level) / 2.0, 0.5])
    lo, hi, centre = percentile_rows(boot, q).T
    ds["gamma_lo"] = (schema.UNIT, lo)
    ds["gamma_hi"] = (schema.UNIT, hi)
    ds["gamma_center"] = (schema.UNIT, centre)
    ds["n_boot_ok"] = (schema.UNIT, np.isfinite(boot).sum(axis=1).astype(np.int64))


def _summary_attrs(values, p=None) -> dict:
    from dopafit.fit.expectile import _summary_attrs as summary

    return summary(values, p)


def _add_splits(ds, kern, args, split_ss, opts: DiscountOptions, bar):
    """gamma from each half of random split halves, and their reliability across units."""
    from dopafit.fit.expectile import p_from_r
    from dopafit.kernels.fit_stats import pearson_rows

    split_seeds = split_ss.generate_state(int(opts.n_splits), dtype=np.uint64)
    n_unit = args[2].shape[0]
    size = max(-(-split_seeds.size // 10), -(-_CHUNK_FITS // max(n_unit, 1)))
    size = -(-size // 16) * 16
    parts = []
    for i0, i1 in _chunks(split_seeds.size, size):
        parts.append(kern.split_half_exponential(*args, split_seeds[i0:i1]))
        bar.update((i1 - i0) * n_unit)
    g_a = np.concatenate([p[0] for p in parts])
    g_b = np.concatenate([p[1] for p in parts])
    ok = ds["discount_status"].values == "ok"
    g_a[:, ~ok] = np.nan
    g_b[:, ~ok] = np.nan
    dims = (SPLIT, schema.UNIT)
    ds["gamma_half_a"] = (dims, g_a)
    ds["gamma_half_b"] = (dims, g_b)
    r, n = pearson_rows(g_a, g_b)
    p = p_from_r(r, n)
    ds["gamma_reliability"] = (SPLIT, r, _summary_attrs(r, p))
    ds["p_reliability"] = (SPLIT, p)
    ds["n_units_split"] = (SPLIT, n.astype(np.int64))
    ds.coords[SPLIT] = np.arange(g_a.shape[0])


def _add_relation(ds, responses, reward_responses, opts: DiscountOptions, root) -> None:
    """tau and reversal points from the reward responses of the same units, and the relation
    of gamma and tau across units (Pearson r, unit bootstrap interval, permutation p)."""
    from dopafit.fit.expectile import fit_expectiles

    reward_responses = schema.validate_responses(reward_responses)
    ids = [str(v) for v in responses[schema.UNIT_ID].values]
    other = [str(v) for v in reward_responses[schema.UNIT_ID].values]
    missing = [i for i in ids if i not in other]
    if missing or len(set(other)) != len(other):
        raise ResponsesError(
            "reward_responses with every unit of responses (matched by unit_id, unique)",
            found=(
                f"{len(missing)} unit(s) of responses not in reward_responses: "
                + ", ".join(missing[:10])
                + (" ..." if len(missing) > 10 else "")
            )
            if missing
            else "repeated unit_id values in reward_responses",
            remedy="pass the reward-aligned responses of the same units (same unit_id)",
        )
    exp = fit_expectiles(
        reward_responses, axis="reward", n_splits=0, n_boot=0, seed=opts.seed, progress=False
    )
    pos = {uid: j for j, uid in enumerate(other)}
    take = np.array([pos[i] for i in ids])
    tau = np.asarray(exp["tau"].values, dtype=float)[take]
    z = np.asarray(exp["reversal_point"].values, dtype=float)[take]
    ds["tau"] = (schema.UNIT, tau)
    ds["reversal_point"] = (schema.UNIT, z)
    g = ds["gamma"].values
    use = np.isfinite(g) & np.isfinite(tau)
    x, y = g[use], tau[use]
    n = int(use.sum())
    r = float(np.corrcoef(x, y)[0, 1]) if n >= 3 and x.std() > 0 and y.std() > 0 else np.nan
    lo = hi = p = np.nan
    n_rel = int(opts.n_boot)
    if np.isfinite(r) and n_rel > 0:
        rng = np.random.default_rng(seeds.discount_stream(root, seeds.DISCOUNT_RELATION))
        rb = np.full(n_rel, np.nan)
        for b in range(n_rel):
            i = rng.integers(0, n, n)
            xb, yb = x[i], y[i]
            if xb.std() > 0 and yb.std() > 0:
                rb[b] = np.corrcoef(xb, yb)[0, 1]
        q = 100 * np.array([(1 - opts.level) / 2, (1 + opts.level) / 2])
        lo, hi = np.nanpercentile(rb, q)
        perm = np.array([np.corrcoef(x, rng.permutation(y))[0, 1] for _ in range(n_rel)])
        p = float((1 + np.sum(np.abs(perm) >= abs(r) - 1e-12)) / (n_rel + 1))
    ds.attrs.update(
        gamma_tau_r=r,
        gamma_tau_r_lo=float(lo),
        gamma_tau_r_hi=float(hi),
        gamma_tau_p=p,
        gamma_tau_n_units=n,
        gamma_tau_method=(
            "Pearson r of gamma and tau across units with both finite; interval: percentile "
            f"bootstrap over units ({n_rel} resamples, ci_level); p: two-sided permutation "
            f"test ({n_rel} permutations of tau across units, (1 + #|r_perm| >= |r|) / "
            "(1 + permutations))"
        ),
        expectile_options=(
            "fit_expectiles(reward_responses, axis='reward', n_splits=0, n_boot=0, seed=seed)"
        ),
    )


def _attrs(responses, data: _Data, opts: DiscountOptions, split_ss) -> dict:
    attrs = {
        schema.RESULT_KIND: schema.DISCOUNT_FIT,
        "analysis": "discounting",
        "model": "exponential: asymptote + amplitude * gamma ** delay; hyperbolic: "
        "hyperbolic_asymptote + hyperbolic_amplitude / (1 + hyperbolic_k * delay)",
        "delay_units": str(responses.attrs.get("delay_units", "s")),
        "delays": data.delays.tolist(),
        "cues_excluded": list(data.cues_excluded),
        "response_units": str(responses.attrs.get("response_units", "")),
        "seed": seeds.recorded(split_ss),
        "seed_derivation": seeds.DISCOUNT_DERIVATION,
        **opts.to_attrs(),
        "search": "grid (gamma: n_grid uniform in gamma_bounds; k: 0 then geometric up to "
        "k_max), then golden section between the grid neighbours of the minimum",
        "ci_method": "percentile, trial-level bootstrap within delay"
        if opts.n_boot > 0
        else "none (n_boot = 0)",
        "shape_rule": SHAPE_RULE,
        "split_rule": SPLIT_RULE,
        "dopafit_version": __version__,
    }
    attrs.update(schema.provenance_attrs(responses))
    return attrs


DESCRIPTIONS = {
    **schema.UNIT_COORD_DESCRIPTIONS,
    DELAY_DIM: "cue-to-reward delay (attrs 'delay_units') of the per-delay variables",
    "split": "index of the random split of each unit's trials into halves A and B",
    "gamma": "discount factor per delay unit: response = asymptote + amplitude * gamma ** delay",
    "amplitude": "exponential fit: response above the asymptote at zero delay",
    "asymptote": "exponential fit: delay-independent offset (fixed when attrs asymptote is a "
    "number)",
    "rss_exponential": "residual sum of squares of the exponential fit over the trials",
    "hyperbolic_k": "hyperbolic discount rate (1 / delay unit): response = "
    "hyperbolic_asymptote + hyperbolic_amplitude / (1 + hyperbolic_k * delay)",
    "hyperbolic_amplitude": "hyperbolic fit: response above the asymptote at zero delay",
    "hyperbolic_asymptote": "hyperbolic fit: delay-independent offset",
    "rss_hyperbolic": "residual sum of squares of the hyperbolic fit over the trials",
    "delta_aic": "AIC(hyperbolic) - AIC(exponential); > 0 favours exponential",
    "discount_shape": "exponential, hyperbolic or undecided (|delta_aic| < aic_margin); "
    "'not fitted' when discount_status is not 'ok'",
    "gamma_edge": "-1: gamma at gamma_min; +1: at 1 (poorly identified); 0 inside",
    "n_delays": "delays with at least one used trial",
    "n_trials": "used trials (finite delay and response, not a mixture cue)",
    "discount_status": "'ok' or why the unit is not fitted",
    "delay_p": "p of the one-way ANOVA of the unit's responses across delays (large: the "
    "response does not detectably depend on the delay and gamma is not identified)",
    "n_trials_delay": "used trials of the unit at the delay",
    "mean_response": "mean response of the unit at the delay",
    "gamma_lo": "lower bound of the bootstrap percentile interval of gamma (attrs ci_level)",
    "gamma_hi": "upper bound of the bootstrap percentile interval of gamma",
    "gamma_center": "median of the bootstrap gammas",
    "n_boot_ok": "bootstrap resamples in which gamma could be fitted",
    "gamma_half_a": "gamma from half A of the split",
    "gamma_half_b": "gamma from half B of the split",
    "gamma_reliability": "Pearson r of gamma_half_a and gamma_half_b across units",
    "p_reliability": "two-sided p of gamma_reliability (t test of r)",
    "n_units_split": "units entering gamma_reliability",
    "tau": "asymmetry tau from fit_expectiles on the reward responses of the unit",
    "reversal_point": "reversal point (reward units) from fit_expectiles on the reward "
    "responses of the unit",
}


def _describe(ds: xr.Dataset) -> None:
    for name in ds.variables:
        text = DESCRIPTIONS.get(str(name)) or schema.TRUTH_DESCRIPTIONS.get(str(name))
        if text:
            ds[name].attrs["description"] = text


def discount_summary(fit: xr.Dataset) -> str:
    """A text summary of a discounting fit: units, shapes, gamma and its reliability.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`fit_discounting`.

    Returns
    -------
    str
        One line per item: units fitted (and why the others are not), the discount shapes,
        the distribution of gamma, the split-half reliability and, with tau, the relation.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(population="multi", n_units=20, seed=1)
    >>> fit = dopafit.fit_discounting(ds, n_splits=20, n_boot=0)
    >>> print(dopafit.discount_summary(fit).splitlines()[0])
    discounting fit: 20 of 20 unit(s) fitted (delays 0.5, 1.5, 3, 6 s; asymptote fit)
    """
    from dopafit.results import check_kind

    check_kind(fit, schema.DISCOUNT_FIT, "discount_summary")
    status = fit["discount_status"].values
    ok = status == "ok"
    delays = ", ".join(f"{v:g}" for v in fit.attrs.get("delays", []))
    lines = [
        f"discounting fit: {int(ok.sum())} of {ok.size} unit(s) fitted (delays {delays} "
        f"{fit.attrs.get('delay_units', '')}; asymptote {fit.attrs.get('asymptote')})"
    ]
    for reason in sorted(set(status[~ok])):
        lines.append(f"  not fitted ({int((status == reason).sum())}): {reason}")
    shapes = fit["discount_shape"].values[ok]
    lines.append(
        "shape: "
        + ", ".join(
            f"{s} {int((shapes == s).sum())}" for s in ("exponential", "hyperbolic", "undecided")
        )
        + f" (|delta_aic| < {fit.attrs.get('aic_margin')}: undecided)"
    )
    g = fit["gamma"].values[ok]
    g = g[np.isfinite(g)]
    if g.size:
        q = np.percentile(g, [5, 50, 95])
        edge = int((fit["gamma_edge"].values[ok] != 0).sum())
        lines.append(f"gamma: median {q[1]:.3f} (5-95%: {q[0]:.3f}-{q[2]:.3f}), {edge} at a bound")
    if "gamma_reliability" in fit:
        s = fit["gamma_reliability"].attrs
        if s.get("n_finite"):
            lines.append(
                f"split-half reliability of gamma over {s['n_finite']} splits: median r "
                f"{s['median']:.3f} (5-95%: {s['q05']:.3f}-{s['q95']:.3f}), p < 0.05 in "
                f"{100 * s['frac_p_lt_0_05']:.0f}%"
            )
    if "gamma_tau_r" in fit.attrs:
        a = fit.attrs
        lines.append(
            f"gamma-tau: r = {a['gamma_tau_r']:.3f} [{a['gamma_tau_r_lo']:.3f}, "
            f"{a['gamma_tau_r_hi']:.3f}], permutation p = {a['gamma_tau_p']:.3g} "
            f"({a['gamma_tau_n_units']} units)"
        )
    return "\n".join(lines)
