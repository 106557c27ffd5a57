"""Statistics of the variable-probability task (cues predicting reward with p = 10%, 50%, 90%).

Per neuron: the optimism index, a t-statistic of the 50%-cue responses against the neuron's
own neutral point, and an optimistic / pessimistic / neutral label from two Mann-Whitney
tests. Across neurons: whether the t's are more dispersed than the t distribution allows
(distributional TD predicts optimistic and pessimistic neurons side by side). And the
expectile model of the index: for a Bernoulli reward the tau-expectile is
``tau p / (tau p + (1 - tau)(1 - p))``.

Examples
--------
>>> from dopafit.stats.probability import bernoulli_expectile, optimism_from_tau, tau_from_optimism
>>> float(bernoulli_expectile(0.5, 0.1))
0.1
>>> round(float(optimism_from_tau(0.8)), 4)
0.74
>>> round(float(tau_from_optimism(optimism_from_tau(0.8))), 6)
0.8
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from dopafit import results as _results  # noqa: F401  (registers the ds.dopafit accessor)
from dopafit._progress import check_progress
from dopafit.errors import ConfigError, FitError, MissingColumnError, ResponsesError
from dopafit.schema import (
    PROBABILITY_TASK,
    RESPONSE,
    RESULT_KIND,
    SESSION,
    SUBJECT,
    TRIAL,
    UNIT,
    UNIT_ID,
)

__all__ = [
    "LEVELS",
    "LABELS",
    "bernoulli_expectile",
    "optimism_from_tau",
    "tau_from_optimism",
    "midpoint_t",
    "t_dispersion",
    "probability_task_stats",
    "probability_summary",
]

#: Default reward probabilities of the three cues (low, middle, high).
LEVELS = (0.1, 0.5, 0.9)
#: Classification labels.
LABELS = ("optimistic", "pessimistic", "neutral")


def bernoulli_expectile(tau, p):
    """tau-expectile of a Bernoulli(p) reward (reward 1 with probability p, else 0).

    Parameters
    ----------
    tau, p : float or ndarray (broadcast)
        Asymmetry in [0, 1] and reward probability in [0, 1].

    Returns
    -------
    ndarray
        ``e = tau p / (tau p + (1 - tau)(1 - p))``, in [0, 1] (0/0 cases give NaN).

    Notes
    -----
    The expectile solves ``tau p (1 - e) = (1 - tau)(1 - p) e``. For a reward of magnitude
    ``m`` instead of 1, multiply by ``m``. ``tau = 0.5`` gives the mean ``p``.
    """
    tau = np.asarray(tau, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tau * p / (tau * p + (1.0 - tau) * (1.0 - p))


def _neutral_weight(levels: Sequence[float]) -> float:
    lo, mid, hi = _check_levels(levels)
    return (mid - lo) / (hi - lo)


def _check_levels(levels) -> tuple[float, float, float]:
    try:
        lo, mid, hi = (float(x) for x in levels)
    except (TypeError, ValueError):
        raise ConfigError(
            "levels as three reward probabilities (low, middle, high)",
            found=repr(levels),
            remedy="pass e.g. levels=(0.1, 0.5, 0.9)",
        ) from None
    if not lo < mid < hi:
        raise ConfigError(
            "levels in increasing order low < middle < high",
            found=repr(levels),
            remedy="pass e.g. levels=(0.1, 0.5, 0.9)",
        )
    return lo, mid, hi


def optimism_from_tau(tau, levels: Sequence[float] = LEVELS):
    """Optimism index predicted by the expectile model for a neuron of asymmetry ``tau``.

    Parameters
    ----------
    tau : float or ndarray
        Asymmetry in (0, 1).
    levels : (float, float, float), default (0.1, 0.5, 0.9)
        Reward probabilities of the low, middle and high cues.

    Returns
    -------
    ndarray
        ``(e(p_mid) - e(p_lo)) / (e(p_hi) - e(p_lo))`` with ``e`` the Bernoulli
        tau-expectile. 0.5 for ``tau = 0.5`` with the default levels; tends to 0.1 as
        ``tau -> 0`` and to 0.9 as ``tau -> 1``.

    Notes
    -----
    Assumes each cue response is an affine function of the cue's expected value under the
    neuron's expectile, ``R_p = a + b e_tau(p)`` with ``b > 0`` (e.g. the cue prediction
    error of distributional TD with all cue errors of one sign), so that ``a`` and ``b``
    cancel in the index.
    """
    lo, mid, hi = _check_levels(levels)
    e_lo, e_mid, e_hi = (bernoulli_expectile(tau, p) for p in (lo, mid, hi))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (e_mid - e_lo) / (e_hi - e_lo)


def tau_from_optimism(index, levels: Sequence[float] = LEVELS):
    """Asymmetry tau whose expectile-model optimism index equals ``index`` (inverse).

    Parameters
    ----------
    index : float or ndarray
        Observed optimism indices.
    levels : (float, float, float), default (0.1, 0.5, 0.9)
        Reward probabilities of the low, middle and high cues.

    Returns
    -------
    ndarray
        tau in (0, 1); NaN where ``index`` is non-finite or outside the range the model can
        produce (the open interval between the limits for ``tau -> 0`` and ``tau -> 1``,
        (0.1, 0.9) for the default levels).

    Notes
    -----
    With ``x = logit(tau)`` the Bernoulli expectile is ``expit(x + logit(p))``; the index
    increases monotonically with ``x`` and is evaluated without cancellation (through
    ``1 - expit`` for ``x > 0``). The root is found by Brent's method on ``x`` in [-60, 60].
    """
    from scipy.optimize import brentq
    from scipy.special import expit

    lo, mid, hi = _check_levels(levels)
    idx = np.asarray(index, dtype=np.float64)
    flat = np.atleast_1d(idx).ravel()
    out = np.full(flat.shape, np.nan)
    logits = np.log([lo / (1.0 - lo), mid / (1.0 - mid), hi / (1.0 - hi)])

    def f(x, target):
        return _optimism_logodds(x, logits) - target

    f_lo = _optimism_logodds(-_XMAX, logits)
    f_hi = _optimism_logodds(_XMAX, logits)
    for n, target in enumerate(flat):
        if np.isfinite(target) and f_lo < target < f_hi:
            out[n] = expit(brentq(f, -_XMAX, _XMAX, args=(target,), xtol=1e-12))
    return out.reshape(idx.shape)


_XMAX = 60.0


def _optimism_logodds(x: float, logits: np.ndarray) -> float:
    """Expectile-model optimism index at ``tau = expit(x)``, stable for large ``|x|``."""
    from scipy.special import expit

    l_lo, l_mid, l_hi = logits
    if x <= 0:
        e_lo, e_mid, e_hi = expit(x + l_lo), expit(x + l_mid), expit(x + l_hi)
        return float((e_mid - e_lo) / (e_hi - e_lo))
    # differences of expit near 1 computed from the complements 1 - expit(a) = expit(-a)
    c_lo, c_mid, c_hi = expit(-x - l_lo), expit(-x - l_mid), expit(-x - l_hi)
    return float((c_lo - c_mid) / (c_lo - c_hi))


def midpoint_t(
    low: np.ndarray,
    mid: np.ndarray,
    high: np.ndarray,
    *,
    weight: float = 0.5,
    include_midpoint_variance: bool = True,
) -> tuple[float, float]:
    """t-statistic of the middle-cue responses against the neuron's own neutral point.

    Parameters
    ----------
    low, mid, high : ndarray, shape (n_low,), (n_mid,), (n_high,)
        Single-trial responses to the low, middle and high cues (NaN ignored).
    weight : float, default 0.5
        Neutral point ``(1 - weight) mean(low) + weight mean(high)``; 0.5 is the midpoint.
    include_midpoint_variance : bool, default True
        Include the sampling variance of the neutral point (Welch-Satterthwaite df). With
        ``False``: a one-sample t of ``mid`` against the neutral point taken as known,
        ``df = n_mid - 1`` (over-dispersed under the null).

    Returns
    -------
    t, df : float
        NaN if a group has fewer than 2 responses; ``t`` is ±inf (or NaN for 0/0) when all
        variances are zero.

    Notes
    -----
    With group means ``m``, unbiased variances ``s^2`` and sizes ``n``,

    .. math::

        t = \\frac{m_{mid} - [(1-w) m_{lo} + w m_{hi}]}{\\sqrt{v_{mid} + v_{lo} + v_{hi}}},
        \\quad v_{mid} = \\frac{s^2_{mid}}{n_{mid}},\\ v_{lo} = \\frac{(1-w)^2 s^2_{lo}}{n_{lo}},
        \\ v_{hi} = \\frac{w^2 s^2_{hi}}{n_{hi}},

    .. math::

        \\nu = \\frac{(v_{mid} + v_{lo} + v_{hi})^2}{v_{mid}^2/(n_{mid}-1) +
        v_{lo}^2/(n_{lo}-1) + v_{hi}^2/(n_{hi}-1)} .
    """
    groups = [np.asarray(g, dtype=np.float64) for g in (low, mid, high)]
    groups = [g[np.isfinite(g)] for g in groups]
    if min(g.size for g in groups) < 2:
        return np.nan, np.nan
    (n_l, n_m, n_h) = (g.size for g in groups)
    m_l, m_m, m_h = (g.mean() for g in groups)
    s_l, s_m, s_h = (g.var(ddof=1) for g in groups)
    w = float(weight)
    diff = m_m - ((1.0 - w) * m_l + w * m_h)
    v_m = s_m / n_m
    if include_midpoint_variance:
        v_l, v_h = (1.0 - w) ** 2 * s_l / n_l, w**2 * s_h / n_h
        var = v_m + v_l + v_h
        denom = v_m**2 / (n_m - 1) + v_l**2 / (n_l - 1) + v_h**2 / (n_h - 1)
    else:
        var = v_m
        denom = None
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / np.sqrt(var)
        if denom is None:
            df = float(n_m - 1)
        else:
            df = var**2 / denom if denom > 0 else np.nan
    return float(t), float(df)


def t_dispersion(t: np.ndarray, df: np.ndarray, *, alpha: float = 0.05) -> dict:
    """Are per-neuron t-statistics more dispersed than their null t distributions allow?

    Parameters
    ----------
    t, df : ndarray, shape (n_unit,)
        t-statistics and their degrees of freedom; non-finite entries are ignored.
    alpha : float, default 0.05
        Level of the decision ``wider``.

    Returns
    -------
    dict
        ``n`` (neurons used), ``var_t`` (sample variance of t, ddof=1), ``expected_var_t``
        (mean of ``df/(df-2)``; inf if some ``df <= 2``), ``ratio`` (``var_t /
        expected_var_t``), ``chi2`` and ``chi2_df`` and ``p_spread`` (the spread test),
        ``ks`` and ``p_ks`` (KS test of the probability-integral transforms against
        uniform), ``wider`` (``p_spread < alpha``).

    Notes
    -----
    Each ``t_i`` is mapped to a standard normal score through its own null,
    ``z_i = Phi^{-1}(F_{df_i}(t_i))`` (so neurons with different df are comparable). Under
    the null (every neuron neutral, Gaussian noise) the ``z_i`` are i.i.d. N(0, 1) (scores
    are clipped to ±40, where the tail probability underflows) and

    .. math::

        X^2 = \\sum_i (z_i - \\bar z)^2 \\sim \\chi^2_{n-1};

    ``p_spread`` is the upper tail. Centring on ``\\bar z`` makes the test about spread, not
    about a population-wide shift of the middle cue. ``p_ks`` is two-sided and sensitive to
    both.
    """
    from scipy import stats
    from scipy.special import ndtri

    t = np.asarray(t, dtype=np.float64).ravel()
    df = np.asarray(df, dtype=np.float64).ravel()
    ok = np.isfinite(t) & np.isfinite(df) & (df > 0)
    t, df = t[ok], df[ok]
    n = int(t.size)
    out = {
        "n": n,
        "var_t": np.nan,
        "expected_var_t": np.nan,
        "ratio": np.nan,
        "chi2": np.nan,
        "chi2_df": max(n - 1, 0),
        "p_spread": np.nan,
        "ks": np.nan,
        "p_ks": np.nan,
        "wider": False,
    }
    if n < 3:
        return out
    expected = np.where(df > 2, df / np.maximum(df - 2.0, 1e-300), np.inf)
    out["var_t"] = float(np.var(t, ddof=1))
    out["expected_var_t"] = float(np.mean(expected))
    out["ratio"] = out["var_t"] / out["expected_var_t"]
    lower = stats.t.cdf(t, df)
    upper = stats.t.sf(t, df)
    # scores beyond ±38 (tail probabilities below the smallest double) are clipped to ±40
    z = np.clip(np.where(t > 0, -ndtri(upper), ndtri(lower)), -40.0, 40.0)
    x2 = float(np.sum((z - z.mean()) ** 2))
    out["chi2"] = x2
    out["p_spread"] = float(stats.chi2.sf(x2, n - 1))
    ks = stats.kstest(lower, "uniform")
    out["ks"], out["p_ks"] = float(ks.statistic), float(ks.pvalue)
    out["wider"] = bool(out["p_spread"] < alpha)
    return out


def _trial_array(responses: xr.Dataset, value, what: str) -> np.ndarray:
    """A (unit, trial) float64 array from a variable name, a DataArray or an array."""
    if isinstance(value, str):
        if value not in responses.variables:
            names = sorted(str(n) for n in responses.variables)
            raise MissingColumnError(
                f"a (unit, trial) coordinate or variable '{value}' holding {what}",
                found="variables " + ", ".join(names),
                remedy=f"pass {what} as the name of a (unit, trial) coordinate or as a DataArray",
                file=responses.attrs.get("source"),
            )
        value = responses[value]
    if isinstance(value, xr.DataArray):
        if set(value.dims) != {UNIT, TRIAL}:
            raise ConfigError(
                f"{what} with dims (unit, trial)",
                found=f"dims {value.dims}",
                remedy="give one value per unit and trial",
            )
        value = value.transpose(UNIT, TRIAL).values
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} as numbers", found=f"{np.asarray(value).dtype} values") from None
    shape = (responses.sizes[UNIT], responses.sizes[TRIAL])
    if arr.shape != shape:
        raise ConfigError(f"{what} of shape (unit, trial) = {shape}", found=f"shape {arr.shape}")
    return arr


def probability_task_stats(
    responses: xr.Dataset,
    probability: str | xr.DataArray | np.ndarray = "reward_probability",
    *,
    levels: Sequence[float] = LEVELS,
    mapping: dict | None = None,
    alpha: float = 0.05,
    response: str = RESPONSE,
    include_midpoint_variance: bool = True,
    atol: float = 1e-6,
    progress: bool | None = None,
) -> xr.Dataset:
    """Per-neuron optimism, t-statistics and labels, and the population dispersion test.

    Parameters
    ----------
    responses : xarray.Dataset
        Responses Dataset (dims unit × trial) whose ``response`` is the cue response.
    probability : str, DataArray or ndarray, default ``"reward_probability"``
        Each trial's cue reward probability: the name of a (unit, trial) coordinate or
        variable of ``responses``, a (unit, trial) DataArray, or an array of that shape.
        Trials whose value is not one of ``levels`` (within ``atol``; e.g. NaN for uncued
        or padded trials) are ignored.
    levels : (float, float, float), default (0.1, 0.5, 0.9)
        Probabilities of the low, middle and high cues (same units as ``probability``).
    mapping : dict, optional
        Translate the values of ``probability`` first, e.g. cue ids to probabilities:
        ``probability="cue_id", mapping={1: 0.1, 2: 0.5, 3: 0.9}``; unmapped values
        become NaN (ignored).
    alpha : float, default 0.05
        Level of the Mann-Whitney tests and of the dispersion decision.
    response : str, default ``"response"``
        Name of the response variable.
    include_midpoint_variance : bool, default True
        See :func:`midpoint_t`.
    atol : float, default 1e-6
        Tolerance when matching probabilities to ``levels``.
    progress : bool or None, default None
        A progress bar over the units: None shows it in a notebook or when standard error is
        a terminal, True always, False never. The result does not depend on it.

    Returns
    -------
    xarray.Dataset
        dims ``unit`` and ``level`` (= ``levels``). Per unit and level: ``mean_response``,
        ``n_trials``. Per unit: ``optimism`` (index), ``tau_implied``
        (:func:`tau_from_optimism`), ``t``, ``df``, ``t_reason`` (why ``t`` is not finite,
        else ""), ``p_t`` (two-sided), ``p_above_low``
        (one-sided Mann-Whitney, middle > low), ``p_below_high`` (middle < high), ``label``
        (``optimistic`` / ``pessimistic`` / ``neutral``), ``nonmonotonic`` (mean high <=
        mean low). Scalars: the :func:`t_dispersion` results prefixed ``dispersion_``.
        The unit coordinates ``unit_id``, ``session``, ``subject`` are kept; attrs record
        the options and definitions.

    Raises
    ------
    MissingColumnError
        If ``probability`` or ``response`` names nothing in ``responses``.
    ResponsesError
        If the response variable does not have dims (unit, trial).
    FitError
        If some level has no trial with a finite response (e.g. no cued trials).
    ConfigError
        If ``levels``, ``alpha`` or ``mapping`` are invalid, or ``probability`` has the
        wrong shape or is not numeric.

    Notes
    -----
    With per-unit mean responses ``R_lo, R_mid, R_hi``:

    - optimism index ``(R_mid - R_lo) / (R_hi - R_lo)``; neutral = ``w = (p_mid - p_lo) /
      (p_hi - p_lo)`` (0.5 for the default levels);
    - ``t``: :func:`midpoint_t` with neutral point ``(1 - w) R_lo + w R_hi``;
    - label, from one-sided Mann-Whitney U tests at level ``alpha``: *optimistic* if the
      middle-cue responses are significantly above the low-cue ones but not significantly
      below the high-cue ones (the middle response sits with the high one); *pessimistic*
      if significantly below the high-cue ones but not significantly above the low-cue
      ones; *neutral* otherwise (significantly different from both, i.e. in between, or from
      neither, i.e. undetermined).

    Examples
    --------
    Cue responses of 20 simulated units whose responses follow the tau-expectile of the cue's
    reward (probabilities 0.1, 0.5 and 0.9):

    >>> import numpy as np
    >>> import dopafit
    >>> from dopafit.stats.probability import bernoulli_expectile
    >>> rng = np.random.default_rng(0)
    >>> tau = rng.uniform(0.1, 0.9, 20)
    >>> prob = rng.choice([0.1, 0.5, 0.9], size=(20, 90))
    >>> resp = 8 * bernoulli_expectile(tau[:, None], prob) + rng.normal(0, 2, prob.shape)
    >>> ds = dopafit.make_responses(resp, np.zeros_like(resp), attrs={"align": "cue"})
    >>> ds = ds.assign_coords(reward_probability=(("unit", "trial"), prob))
    >>> stats = dopafit.probability_task_stats(ds, "reward_probability")
    >>> stats["label"].to_series().value_counts().sort_index().to_dict()
    {'neutral': 18, 'optimistic': 1, 'pessimistic': 1}
    >>> round(float(np.corrcoef(stats["optimism"], tau)[0, 1]), 2)
    0.9
    """
    lo, mid, hi = _check_levels(levels)
    w = _neutral_weight(levels)
    alpha = _check_alpha(alpha)
    resp = _response_array(responses, response)
    prob = _probabilities(responses, probability, mapping)
    masks = _level_masks(resp, prob, (lo, mid, hi), atol, responses.attrs.get("source"))
    per_unit = _unit_tests(resp, masks, w, include_midpoint_variance, check_progress(progress))
    means = per_unit["mean_response"]
    with np.errstate(invalid="ignore", divide="ignore"):
        optimism = (means[:, 1] - means[:, 0]) / (means[:, 2] - means[:, 0])
    label = _labels(per_unit["p_above_low"], per_unit["p_below_high"], alpha)
    t, df = per_unit["t"], per_unit["df"]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_t = 2.0 * _t_sf(np.abs(t), df)
    disp = t_dispersion(t, df, alpha=alpha)

    data = {
        "mean_response": ((UNIT, "level"), means),
        "n_trials": ((UNIT, "level"), per_unit["n_trials"]),
        "optimism": (UNIT, optimism),
        "tau_implied": (UNIT, tau_from_optimism(optimism, levels)),
        "t": (UNIT, t),
        "df": (UNIT, df),
        "p_t": (UNIT, p_t),
        "p_above_low": (UNIT, per_unit["p_above_low"]),
        "p_below_high": (UNIT, per_unit["p_below_high"]),
        "label": (UNIT, label),
        "nonmonotonic": (UNIT, means[:, 2] <= means[:, 0]),
    }
    for key, value in disp.items():
        data[f"dispersion_{key}"] = ((), value)
    data["t_reason"] = (UNIT, _t_reasons(per_unit["n_trials"], t, df, (lo, mid, hi)))
    coords = {UNIT: responses[UNIT].values, "level": np.array([lo, mid, hi])}
    for name in (UNIT_ID, SESSION, SUBJECT):
        if name in responses.variables and responses[name].dims == (UNIT,):
            coords[name] = (UNIT, responses[name].values)
    attrs = _result_attrs(
        responses, probability, mapping, (lo, mid, hi), w, alpha, include_midpoint_variance
    )
    return xr.Dataset(data, coords=coords, attrs=attrs)


def probability_summary(stats: xr.Dataset) -> str:
    """Text summary of :func:`probability_task_stats`: the labels and the dispersion test.

    Parameters
    ----------
    stats : xarray.Dataset
        Output of :func:`probability_task_stats`.

    Returns
    -------
    str
        Units per label, the median optimism index, and the spread of the t-statistics
        (variance, its expectation under the null, ``p_spread`` and ``p_ks``).
    """
    labels = stats["label"].values.astype(str)
    counts = ", ".join(f"{int(np.sum(labels == name))} {name}" for name in LABELS)
    optimism = stats["optimism"].values
    med = float(np.nanmedian(optimism)) if np.isfinite(optimism).any() else np.nan
    disp = {k: stats[f"dispersion_{k}"].item() for k in ("n", "var_t", "expected_var_t")}
    p_spread, p_ks = (float(stats[f"dispersion_{k}"]) for k in ("p_spread", "p_ks"))
    wider = "wider than" if bool(stats["dispersion_wider"]) else "not wider than"
    return (
        f"variable-probability task: {labels.size} units ({counts}); median optimism "
        f"{med:.3f}\n"
        f"t dispersion over {int(disp['n'])} units: var(t) {disp['var_t']:.3f}, expected "
        f"{disp['expected_var_t']:.3f}, p_spread {p_spread:.3g}, p_ks {p_ks:.3g} "
        f"({wider} the null at alpha {stats.attrs.get('alpha', 0.05)})"
    )


def _check_alpha(alpha) -> float:
    """The test level, a number in (0, 1)."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = np.nan
    if not 0.0 < value < 1.0:
        raise ConfigError("alpha a number in (0, 1)", found=repr(alpha), remedy="pass e.g. 0.05")
    return value


def _response_array(responses: xr.Dataset, response: str) -> np.ndarray:
    """The (unit, trial) responses as float64, or a named error if there are none."""
    if response not in responses:
        raise MissingColumnError(
            f"a response variable '{response}'",
            found="variables " + ", ".join(sorted(str(n) for n in responses.data_vars)),
            remedy="pass response='<name>'",
            file=responses.attrs.get("source"),
        )
    if set(responses[response].dims) != {UNIT, TRIAL}:
        raise ResponsesError(
            f"'{response}' with dims (unit, trial)",
            found=f"dims {responses[response].dims}",
            remedy="keep the unit dimension when selecting units (e.g. ds.isel(unit=[0]))",
            file=responses.attrs.get("source"),
        )
    return np.asarray(responses[response].transpose(UNIT, TRIAL).values, dtype=np.float64)


def _probabilities(responses: xr.Dataset, probability, mapping) -> np.ndarray:
    """Each trial's cue probability, (unit, trial), after ``mapping`` (unmapped values NaN)."""
    prob = _trial_array(responses, probability, "the cue reward probability")
    if mapping is None:
        return prob
    mapped = np.full(prob.shape, np.nan)
    for key, value in mapping.items():
        try:
            key, value = float(key), float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                "mapping from numbers to reward probabilities",
                found=f"{key!r}: {value!r}",
                remedy="pass e.g. mapping={1: 0.1, 2: 0.5, 3: 0.9}",
            ) from None
        mapped[prob == key] = value
    return mapped


def _level_masks(resp, prob, levels, atol, source) -> list[np.ndarray]:
    """(unit, trial) masks of the finite responses to each level; every level must have one."""
    finite = np.isfinite(resp)
    masks = [finite & np.isclose(prob, p, rtol=0.0, atol=atol) for p in levels]
    for p, mask in zip(levels, masks):
        if not mask.any():
            found = np.unique(prob[np.isfinite(prob)])
            raise FitError(
                f"trials with cue probability {p} and a finite response",
                found=(
                    "probability values " + ", ".join(f"{v:g}" for v in found[:10])
                    if found.size
                    else "no trial with a finite cue probability (no cued trials?)"
                ),
                remedy="check `levels` and the probability coordinate (fractions, not %)",
                file=source,
            )
    return masks


def _unit_tests(resp, masks, w, include_midpoint_variance, progress=None) -> dict[str, np.ndarray]:
    """Per unit: mean and count per level, the midpoint t and the two Mann-Whitney p-values."""
    from scipy.stats import mannwhitneyu

    from dopafit._progress import progress_bar

    n_unit = resp.shape[0]
    means = np.full((n_unit, 3), np.nan)
    counts = np.zeros((n_unit, 3), dtype=np.int64)
    t = np.full(n_unit, np.nan)
    df = np.full(n_unit, np.nan)
    p_low = np.full(n_unit, np.nan)
    p_high = np.full(n_unit, np.nan)
    bar = progress_bar(n_unit, "probability tests", progress=progress, unit="unit")
    for u in range(n_unit):
        bar.update(1)
        groups = [resp[u, m[u]] for m in masks]
        for k, g in enumerate(groups):
            counts[u, k] = g.size
            if g.size:
                means[u, k] = g.mean()
        t[u], df[u] = midpoint_t(
            *groups, weight=w, include_midpoint_variance=include_midpoint_variance
        )
        if groups[0].size and groups[1].size:
            p_low[u] = mannwhitneyu(groups[1], groups[0], alternative="greater").pvalue
        if groups[1].size and groups[2].size:
            p_high[u] = mannwhitneyu(groups[1], groups[2], alternative="less").pvalue
    bar.close()
    return {
        "mean_response": means,
        "n_trials": counts,
        "t": t,
        "df": df,
        "p_above_low": p_low,
        "p_below_high": p_high,
    }


def _t_reasons(counts: np.ndarray, t: np.ndarray, df: np.ndarray, levels) -> np.ndarray:
    """Why each unit's t is not finite ("" where it is)."""
    few = counts < 2  # (unit, level)
    return np.array(
        [
            f"fewer than 2 responses at cue probability {levels[int(np.argmax(f))]:g}"
            if f.any()
            else ""
            if np.isfinite(x) and np.isfinite(d)
            else "no response variance at any cue"
            for f, x, d in zip(few, t, df)
        ],
        dtype=object,
    )


def _labels(p_low: np.ndarray, p_high: np.ndarray, alpha: float) -> np.ndarray:
    """Optimistic / pessimistic / neutral from the two one-sided Mann-Whitney p-values."""
    sig_low = p_low < alpha
    sig_high = p_high < alpha
    label = np.full(p_low.size, "neutral", dtype="<U11")
    label[sig_low & ~sig_high & np.isfinite(p_high)] = "optimistic"
    label[sig_high & ~sig_low & np.isfinite(p_low)] = "pessimistic"
    return label


def _result_attrs(responses, probability, mapping, levels, w, alpha, midpoint_variance) -> dict:
    """Options and definitions recorded in the result's attrs."""
    return {
        RESULT_KIND: PROBABILITY_TASK,
        "analysis": "variable-probability task statistics",
        "probability": probability if isinstance(probability, str) else "<array>",
        "mapping": {str(k): float(v) for k, v in mapping.items()} if mapping else None,
        "levels": list(levels),
        "neutral_weight": w,
        "alpha": float(alpha),
        "include_midpoint_variance": bool(midpoint_variance),
        "t_definition": (
            "Welch-type t of middle-cue responses minus (1-w)*mean(low)+w*mean(high), "
            "variance of the neutral point included, Welch-Satterthwaite df"
            if midpoint_variance
            else "one-sample t of middle-cue responses against the neutral point, df=n_mid-1"
        ),
        "label_rule": (
            "optimistic: MW(mid>low) p<alpha and MW(mid<high) p>=alpha; pessimistic: "
            "MW(mid<high) p<alpha and MW(mid>low) p>=alpha; neutral otherwise"
        ),
        "dispersion_test": "chi2 on sum (z-mean z)^2, z = Phi^-1(F_t(t; df)), df n-1, upper tail",
        "response_units": responses.attrs.get("response_units", ""),
        "source": responses.attrs.get("source", ""),
    }


def _t_sf(x, df):
    from scipy.stats import t as t_dist

    return t_dist.sf(x, df)
