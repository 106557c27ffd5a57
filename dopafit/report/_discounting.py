"""Figures and the report section of the discounting fit: responses against delay, gamma,
split-half reliability, the decoded timing distribution and the timescale comparison.

The inputs are a discounting fit (:func:`dopafit.fit_discounting`), optionally the cue-aligned
responses it was fitted on (SEM bars, ground truth of simulated data), a timing decoding
(:func:`dopafit.decode_timing`) and a timescale comparison (:func:`dopafit.compare_timescales`).

Examples
--------
>>> import dopafit
>>> from dopafit.report._discounting import plot_gamma_distribution
>>> ds = dopafit.simulate_discounting(population="multi", n_units=12, seed=0)
>>> fit = dopafit.fit_discounting(ds, n_splits=10, n_boot=20)
>>> len(plot_gamma_distribution(fit, ds).axes)
2
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError, DopafitError, NoDataError
from dopafit.report import _style as sty
from dopafit.results import check_kind

__all__ = [
    "DISCOUNTING_FIGURES",
    "CAPTIONS",
    "check_result",
    "discount_response_table",
    "true_gamma",
    "excluded_cues",
    "example_units",
    "plot_discount_curves",
    "plot_gamma_distribution",
    "plot_gamma_reliability",
    "discounting_figures",
    "representative_split",
]

#: figure name -> one-line description (the names of the files save_figures writes)
DISCOUNTING_FIGURES = {
    "discount_curves": "example units: mean response ± SEM per delay, exponential and "
    "hyperbolic fits",
    "gamma_distribution": "per-unit gamma with bootstrap intervals (truth when simulated)",
    "gamma_reliability": "split-half reliability of gamma over splits and one split's halves",
    "timing_decoding": "decoded distribution of reward times with its bootstrap band",
}


def check_result(ds, kind: str, member: str, *, file=None) -> xr.Dataset:
    """``ds``, after :func:`dopafit.results.check_kind` (a :class:`ResultKindError` unless it
    is a result of ``kind``).

    Parameters
    ----------
    ds : object
        The result.
    kind : str
        ``"discount_fit"``, ``"timing_decoding"`` or ``"discount_comparison"``.
    member : str
        What needs it (named in the message).
    file : path-like, optional
        Where it was read from.

    Returns
    -------
    xarray.Dataset
        ``ds``.

    Examples
    --------
    >>> import dopafit
    >>> fit = dopafit.fit_expectiles(dopafit.simulate_responses(n_units=4, seed=0),
    ...                              n_splits=0, n_boot=0)
    >>> check_result(fit, "discount_fit", "the report's discounting")
    Traceback (most recent call last):
    ...
    dopafit.errors.ResultKindError: expected a result of kind 'discount_fit' for the report's
    discounting; found a result of kind 'expectile_fit'. Fix: the report's discounting needs the
    output of dopafit.fit_discounting (or the 'discounting' group of a dopafit fit --discounting
    output).
    """
    check_kind(ds, kind, member, file=file)
    return ds


# --------------------------------------------------------------------------------------------
# data


def _delay_units(fit) -> str:
    return str(fit.attrs.get("delay_units", "s"))


def _ok(fit) -> np.ndarray:
    return np.asarray(fit["discount_status"].values).astype(str) == "ok"


def _matches(fit, responses) -> bool:
    """``responses`` hold the fit's units (same number, same ids when both have them)."""
    if responses is None or schema.DELAY not in responses.variables:
        return False
    if responses.sizes.get(schema.UNIT) != fit.sizes.get(schema.UNIT):
        return False
    if schema.UNIT_ID in fit.coords and schema.UNIT_ID in responses.coords:
        a = [str(v) for v in fit[schema.UNIT_ID].values]
        b = [str(v) for v in responses[schema.UNIT_ID].values]
        return a == b
    return True


def discount_response_table(fit: xr.Dataset, responses: xr.Dataset | None = None) -> dict:
    """Mean response ± SEM per unit and delay, from the trials the fit used.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_discounting`.
    responses : xarray.Dataset, optional
        The cue-aligned responses it was fitted on; without them the SEM is NaN.

    Returns
    -------
    dict
        ``mean``, ``sem`` (float arrays (n_unit, n_delay)), ``n`` (int array, same shape),
        ``delays`` (n_delay,).

    Raises
    ------
    ConfigError
        ``responses`` are not the ones the fit was made from (units or means differ).

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_discounting(n_units=3, n_trials=40, seed=0)
    >>> fit = dopafit.fit_discounting(ds, n_splits=0, n_boot=0)
    >>> t = discount_response_table(fit, ds)
    >>> t["sem"].shape, bool(np.isfinite(t["sem"]).all())
    ((3, 4), True)
    """
    check_result(fit, schema.DISCOUNT_FIT, "the response-vs-delay table")
    delays = np.asarray(fit["delay_value"].values, dtype=float)
    mean_fit = np.asarray(fit["mean_response"].transpose(schema.UNIT, "delay_value").values)
    n_fit = np.asarray(fit["n_trials_delay"].transpose(schema.UNIT, "delay_value").values)
    out = {"mean": mean_fit, "sem": np.full(mean_fit.shape, np.nan), "n": n_fit}
    out["delays"] = delays
    if responses is None:
        return out
    mismatch = ConfigError(
        "the cue-aligned responses the discounting fit was made from",
        found="different units, delays or mean responses",
        remedy="pass the 'responses' group of the same output file",
    )
    if not _matches(fit, responses):
        raise mismatch
    r = np.asarray(responses[schema.RESPONSE].values, dtype=float)
    d = np.broadcast_to(
        responses[schema.DELAY].broadcast_like(responses[schema.RESPONSE]).values, r.shape
    ).astype(float)
    used = np.isfinite(r) & np.isfinite(d)
    excluded = excluded_cues(fit)
    if excluded and "cue_id" in responses.variables:
        cue = np.broadcast_to(
            responses["cue_id"].broadcast_like(responses[schema.RESPONSE]).values, r.shape
        ).astype(float)
        used &= ~np.isin(cue, excluded)
    idx = np.full(r.shape, -1)
    pos = np.clip(np.searchsorted(delays, np.where(used, d, delays[0])), 0, delays.size - 1)
    hit = used & np.isclose(delays[pos], d, rtol=1e-9, atol=1e-12)
    if not np.array_equal(hit, used):
        raise mismatch
    idx[hit] = pos[hit]
    mean = np.full(mean_fit.shape, np.nan)
    sem = np.full(mean_fit.shape, np.nan)
    count = np.zeros(mean_fit.shape, dtype=np.int64)
    for k in range(delays.size):
        sel = idx == k
        count[:, k] = sel.sum(axis=1)
        vals = np.where(sel, r, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = vals.sum(axis=1) / count[:, k]
            ss = np.where(sel, (r - m[:, None]) ** 2, 0.0).sum(axis=1)
            sd = np.sqrt(ss / (count[:, k] - 1))
        mean[:, k] = np.where(count[:, k] > 0, m, np.nan)
        sem[:, k] = np.where(count[:, k] > 1, sd / np.sqrt(np.maximum(count[:, k], 1)), np.nan)
    both = np.isfinite(mean) & np.isfinite(mean_fit)
    if not np.array_equal(count, n_fit) or not np.allclose(
        mean[both], mean_fit[both], rtol=1e-6, atol=1e-9
    ):
        raise mismatch
    return {"mean": mean, "sem": sem, "n": count, "delays": delays}


def excluded_cues(fit: xr.Dataset) -> list[float]:
    """The cues the fit left out as mixtures (``attrs["cues_excluded"]``; a one-element list
    read back from netCDF is a scalar).

    Examples
    --------
    >>> excluded_cues(xr.Dataset(attrs={"cues_excluded": 5.0}))
    [5.0]
    """
    value = fit.attrs.get("cues_excluded")
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    return [float(c) for c in np.atleast_1d(np.asarray(value, dtype=float)).ravel()]


def true_gamma(fit: xr.Dataset, responses: xr.Dataset | None) -> np.ndarray | None:
    """The simulated ``true_gamma`` per unit of the fit (None when unknown)."""
    if not _matches(fit, responses) or "true_gamma" not in responses.variables:
        return None
    g = np.asarray(responses["true_gamma"].values, dtype=float).ravel()
    return g if g.size == fit.sizes[schema.UNIT] and np.isfinite(g).any() else None


def _unit_names(fit) -> list[str]:
    if schema.UNIT_ID in fit.coords:
        return [str(v) for v in fit[schema.UNIT_ID].values]
    return [str(i) for i in range(fit.sizes[schema.UNIT])]


def example_units(fit: xr.Dataset, n: int = 6) -> list[int]:
    """Up to ``n`` fitted units spanning the range of gamma (evenly spaced in rank).

    Examples
    --------
    >>> fit = xr.Dataset({"gamma": ("unit", [0.9, 0.2, 0.5, np.nan]),
    ...                   "discount_status": ("unit", ["ok", "ok", "ok", "one delay"])},
    ...                  attrs={"dopafit_result": "discount_fit"})
    >>> example_units(fit, 2)
    [1, 0]
    """
    g = np.asarray(fit["gamma"].values, dtype=float)
    ok = np.flatnonzero(_ok(fit) & np.isfinite(g))
    if ok.size == 0:
        return []
    order = ok[np.argsort(g[ok], kind="stable")]
    if order.size <= n:
        return [int(u) for u in order]
    picks = np.unique(np.round(np.linspace(0, order.size - 1, n)).astype(int))
    return [int(order[i]) for i in picks]


# --------------------------------------------------------------------------------------------
# figures


def _interval(lo, hi) -> str:
    return f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) and np.isfinite(hi) else ""


def plot_discount_curves(fit: xr.Dataset, responses: xr.Dataset | None = None, n: int = 6):
    """Example units' mean response (± SEM) against delay with both fitted curves.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_discounting`.
    responses : xarray.Dataset, optional
        Its cue-aligned responses (SEM bars; the true gamma in the title when simulated).
    n : int, default 6
        Most units shown (spanning the range of gamma).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per unit, titled by its gamma and bootstrap interval.
    """
    check_result(fit, schema.DISCOUNT_FIT, "plot_discount_curves")
    units = example_units(fit, n)
    if not units:
        raise NoDataError("at least one unit with a discounting fit", found="none fitted")
    table = discount_response_table(fit, responses)
    truth = true_gamma(fit, responses)
    names = _unit_names(fit)
    delays = table["delays"]
    grid = np.linspace(0.0, float(delays.max()) * 1.05, 200)
    v = {k: np.asarray(fit[k].values, dtype=float) for k in _CURVE_VARS if k in fit}
    lo = v.get("gamma_lo", np.full(fit.sizes[schema.UNIT], np.nan))
    hi = v.get("gamma_hi", np.full(fit.sizes[schema.UNIT], np.nan))
    n_col = min(3, len(units))
    n_row = -(-len(units) // n_col)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 1.9 * n_row + 0.3)
        axes = np.atleast_1d(fig.subplots(n_row, n_col, squeeze=False).ravel())
        for ax, u in zip(axes, units):
            ax.errorbar(
                delays,
                table["mean"][u],
                yerr=np.nan_to_num(table["sem"][u]),
                fmt="o",
                ms=3.5,
                color="0.2",
                ecolor="0.45",
                elinewidth=0.8,
                zorder=3,
                label="mean ± SEM" if responses is not None else "mean",
            )
            ax.plot(
                grid,
                v["asymptote"][u] + v["amplitude"][u] * v["gamma"][u] ** grid,
                color=sty.OKABE_ITO["blue"],
                label="exponential",
            )
            if np.isfinite(v.get("hyperbolic_k", np.full(u + 1, np.nan))[u]):
                ax.plot(
                    grid,
                    v["hyperbolic_asymptote"][u]
                    + v["hyperbolic_amplitude"][u] / (1.0 + v["hyperbolic_k"][u] * grid),
                    color=sty.OKABE_ITO["vermillion"],
                    ls="--",
                    label="hyperbolic",
                )
            title = f"{names[u]}: γ {v['gamma'][u]:.2f}{_interval(lo[u], hi[u])}"
            if truth is not None and np.isfinite(truth[u]):
                title += f"\ntrue γ {truth[u]:.2f}; {fit['discount_shape'].values[u]}"
            else:
                title += f"\n{fit['discount_shape'].values[u]}"
            ax.set_title(title, loc="left", fontsize=7)
            ax.set_xlabel(f"Delay ({_delay_units(fit)})")
            ax.set_ylim(*_ylim(table, u, v))
        for ax in axes[len(units) :]:
            ax.set_visible(False)
        for row in range(n_row):
            axes[row * n_col].set_ylabel(_response_label(fit))
        axes[0].legend(loc="upper right", fontsize=6)
    return fig


def _ylim(table, u, v) -> tuple[float, float]:
    """Limits showing the unit's means ± SEM and the exponential curve over the delays (a
    hyperbola with a large k rises steeply towards delay 0 and would flatten the rest)."""
    m, e = table["mean"][u], np.nan_to_num(table["sem"][u])
    curve = v["asymptote"][u] + v["amplitude"][u] * v["gamma"][u] ** np.array([0.0])
    values = np.concatenate([m - e, m + e, curve])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    pad = 0.15 * max(hi - lo, 1e-9)
    return (lo - pad, hi + pad)


_CURVE_VARS = (
    "gamma",
    "gamma_lo",
    "gamma_hi",
    "amplitude",
    "asymptote",
    "hyperbolic_k",
    "hyperbolic_amplitude",
    "hyperbolic_asymptote",
)


def _response_label(fit) -> str:
    units = sty.pretty_units(fit.attrs.get("response_units", ""))
    return f"Cue response (Δ {units})" if units else "Cue response"


def plot_gamma_distribution(fit: xr.Dataset, responses: xr.Dataset | None = None):
    """a: each fitted unit's gamma with its bootstrap interval, units sorted by gamma (true
    gamma overlaid when simulated); b: the histogram of gamma (and of the truth).

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_result(fit, schema.DISCOUNT_FIT, "plot_gamma_distribution")
    g = np.asarray(fit["gamma"].values, dtype=float)
    ok = np.flatnonzero(_ok(fit) & np.isfinite(g))
    if ok.size == 0:
        raise NoDataError("at least one unit with a discounting fit", found="none fitted")
    order = ok[np.argsort(g[ok], kind="stable")]
    truth = true_gamma(fit, responses)
    lo = np.asarray(fit["gamma_lo"].values, float) if "gamma_lo" in fit else np.full(g.size, np.nan)
    hi = np.asarray(fit["gamma_hi"].values, float) if "gamma_hi" in fit else np.full(g.size, np.nan)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.6)
        ax, ax_b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        x = np.arange(order.size)
        has_ci = np.isfinite(lo[order]) & np.isfinite(hi[order])
        if has_ci.any():
            ax.vlines(
                x[has_ci],
                lo[order][has_ci],
                hi[order][has_ci],
                color="0.6",
                lw=0.8,
                label=f"{_level(fit)} bootstrap interval",
            )
        ax.plot(x, g[order], "o", ms=3, color=sty.OKABE_ITO["blue"], label="fitted γ", zorder=3)
        if truth is not None:
            ax.plot(
                x,
                truth[order],
                "x",
                ms=3.5,
                color=sty.OKABE_ITO["vermillion"],
                label="true γ",
                zorder=4,
            )
        ax.set_xlabel("Units, sorted by fitted γ")
        ax.set_ylabel(f"γ (per {_delay_units(fit)})")
        ax.legend(loc="upper left", fontsize=6)
        ax.set_title(f"{order.size} fitted units", loc="left")
        bins = np.linspace(
            min(float(np.nanmin(g[ok])), float(np.nanmin(truth)) if truth is not None else 1.0),
            1.0,
            16,
        )
        if bins[0] >= bins[-1]:
            bins = np.linspace(bins[-1] - 0.1, 1.0, 16)
        ax_b.hist(g[ok], bins=bins, color=sty.OKABE_ITO["blue"], alpha=0.75, label="fitted")
        if truth is not None:
            ax_b.hist(
                truth[np.isfinite(truth)],
                bins=bins,
                histtype="step",
                color=sty.OKABE_ITO["vermillion"],
                lw=1.2,
                label="true",
            )
            ax_b.legend(loc="upper left", fontsize=6)
        ax_b.set_xlabel(f"γ (per {_delay_units(fit)})")
        ax_b.set_ylabel("Units")
        sty.panel_label(ax, "a")
        sty.panel_label(ax_b, "b")
    return fig


def _level(fit) -> str:
    level = fit.attrs.get("level", fit.attrs.get("ci_level"))
    try:
        return f"{100 * float(level):.0f}%"
    except (TypeError, ValueError):
        return ""


def representative_split(fit: xr.Dataset) -> int | None:
    """The split whose gamma reliability is closest to the median (None without splits)."""
    if "gamma_reliability" not in fit:
        return None
    r = np.asarray(fit["gamma_reliability"].values, dtype=float)
    if not np.isfinite(r).any():
        return None
    return int(np.argmin(np.where(np.isfinite(r), np.abs(r - np.nanmedian(r)), np.inf)))


def plot_gamma_reliability(fit: xr.Dataset):
    """a: the split-half reliability of gamma over random splits; b: gamma from half A
    against half B for the split whose reliability is the median one.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NoDataError
        The fit has no split halves (n_splits = 0) or no finite reliability.
    """
    check_result(fit, schema.DISCOUNT_FIT, "plot_gamma_reliability")
    s = representative_split(fit)
    if s is None:
        raise NoDataError(
            "split halves with a finite reliability of gamma",
            found="none (n_splits = 0, or fewer than 3 units fitted on both halves)",
            remedy="fit with n_splits > 0",
        )
    r = np.asarray(fit["gamma_reliability"].values, dtype=float)
    r = r[np.isfinite(r)]
    q05, med, q95 = np.percentile(r, [5, 50, 95])
    a = np.asarray(fit["gamma_half_a"].isel(split=s).values, dtype=float)
    b = np.asarray(fit["gamma_half_b"].isel(split=s).values, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.5)
        ax, ax_b = fig.subplots(1, 2)
        ax.axvspan(q05, q95, color="0.9", zorder=0, label="5–95%")
        ax.hist(r, bins=min(30, max(5, r.size // 3)), color=sty.OKABE_ITO["sky_blue"])
        ax.axvline(med, color="k", lw=1.0, label=f"median {med:.2f}")
        ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
        ax.set_xlabel("Split-half reliability r(γ half A, γ half B)")
        ax.set_ylabel("Splits")
        ax.set_title(f"{r.size} random splits", loc="left")
        ax.legend(loc="upper left", fontsize=6)
        ax_b.plot(a[both], b[both], "o", ms=3, color=sty.OKABE_ITO["blue"])
        lims = [float(min(a[both].min(), b[both].min())), float(max(a[both].max(), b[both].max()))]
        ax_b.plot(lims, lims, color="0.7", lw=0.8, ls="--", zorder=0)
        ax_b.set_xlabel(f"γ, half A (per {_delay_units(fit)})")
        ax_b.set_ylabel("γ, half B")
        ax_b.set_title(
            f"split {s}: r = {float(fit['gamma_reliability'].values[s]):.2f} "
            f"({int(both.sum())} units)",
            loc="left",
        )
        sty.panel_label(ax, "a")
        sty.panel_label(ax_b, "b")
    return fig


def _finite(x) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def discounting_figures(
    fit, responses=None, timing=None, *, decode: bool = True, decode_kwargs=None
) -> tuple[dict, dict]:
    """The discounting figures the inputs allow, and why any was not made.

    Parameters
    ----------
    fit : xarray.Dataset or None
        A discounting fit (None: no figures, every note says so).
    responses : xarray.Dataset, optional
        Its cue-aligned responses.
    timing : xarray.Dataset, optional
        A timing decoding.
    decode : bool, default True
        Without ``timing``: decode the first mixture cue (:func:`decode_mixture_cue`).
    decode_kwargs : dict, optional
        Passed to :func:`dopafit.decode_timing`.

    Returns
    -------
    figures : dict
        name (a key of :data:`DISCOUNTING_FIGURES`) -> Figure.
    notes : dict
        name -> why the figure was not made (and ``"timing"`` -> the decoding made here).

    Examples
    --------
    >>> figs, notes = discounting_figures(None)
    >>> figs, sorted(notes) == sorted(DISCOUNTING_FIGURES)
    ({}, True)
    """
    from dopafit.report._timing import decode_mixture_cue, plot_timing_decoding

    figs: dict = {}
    notes: dict = {}
    if fit is None:
        for name in DISCOUNTING_FIGURES:
            notes[name] = "no discounting fit (dopafit fit --discounting)"
        return figs, notes
    if responses is not None and not _matches(fit, responses):
        responses = None
    makers = {
        "discount_curves": lambda: _curves_with_fallback(fit, responses, notes),
        "gamma_distribution": lambda: plot_gamma_distribution(fit, responses),
        "gamma_reliability": lambda: plot_gamma_reliability(fit),
    }
    for name, make in makers.items():
        try:
            figs[name] = make()
        except DopafitError as exc:
            notes[name] = str(exc)
    if timing is None and decode:
        try:
            timing = decode_mixture_cue(fit, responses, **(decode_kwargs or {}))
            notes["timing"] = timing
        except DopafitError as exc:
            notes["timing_decoding"] = f"not decoded: {exc}"
    if timing is not None:
        try:
            figs["timing_decoding"] = plot_timing_decoding(timing)
        except DopafitError as exc:
            notes["timing_decoding"] = str(exc)
    else:
        notes.setdefault(
            "timing_decoding",
            "no timing decoding was given (dopafit.decode_timing of a cue predicting several "
            "delays)",
        )
    return figs, notes


def _curves_with_fallback(fit, responses, notes):
    """The response-vs-delay figure; without SEM bars when the responses do not match."""
    try:
        return plot_discount_curves(fit, responses)
    except ConfigError as exc:
        notes["discount_curves_sem"] = str(exc)
        return plot_discount_curves(fit, None)


CAPTIONS = {
    "discount_curves": (
        "Example units spanning the range of γ: the mean cue response {pm}at each "
        "cue-to-reward delay, the least-squares exponential fit asymptote + amplitude·γ<sup>"
        "delay</sup> (blue) and the hyperbolic alternative asymptote + amplitude/(1 + k·delay) "
        "(orange, dashed). Title: γ with its bootstrap percentile interval, the better shape by "
        "AIC ('undecided' within the margin){truth}."
    ),
    "gamma_distribution": (
        "<b>a</b>, every fitted unit's discount factor γ with its bootstrap interval, units "
        "sorted by γ{truth_a}. <b>b</b>, the distribution of γ across units{truth_b}. A "
        "single-timescale population has one γ (differences are noise); a multi-timescale "
        "one spreads γ reliably (see the split halves)."
    ),
    "gamma_reliability": (
        "<b>a</b>, Pearson r across units between γ fitted on one random half of each unit's "
        "trials (half A, drawn within each delay) and γ on the other half (B), over many random "
        "splits (black: median; grey: 5–95%). Near 0 when the units share one γ, high when "
        "they differ. <b>b</b>, γ from half A against half B for the split whose r is the "
        "median (dashed: identity). One split is one random draw; only the distribution over "
        "splits is a result."
    ),
    "timing_decoding": (
        "<b>a</b>, the distribution of reward times decoded from the units' normalised cue "
        "responses and their γ (regularised non-negative inverse Laplace transform, "
        "regularisation chosen by cross-validation over units) with its 95% bootstrap band "
        "over units{truth_a}. <b>b</b>, cumulative distributions{truth_b}."
    ),
}


def _captions(responses, fit, timing) -> dict:
    sim = fit is not None and true_gamma(fit, responses) is not None
    has_truth = timing is not None and "true_delay" in timing
    return {
        "discount_curves": CAPTIONS["discount_curves"].format(
            pm="± SEM " if responses is not None else "",
            truth="; and the simulated true γ" if sim else "",
        ),
        "gamma_distribution": CAPTIONS["gamma_distribution"].format(
            truth_a="; crosses: the simulated true γ" if sim else "",
            truth_b=" (outline: the true γ)" if sim else "",
        ),
        "gamma_reliability": CAPTIONS["gamma_reliability"],
        "timing_decoding": CAPTIONS["timing_decoding"].format(
            truth_a="; stems: the true delays and their probabilities" if has_truth else "",
            truth_b=(
                " of the decoded distribution, the truth and the references (uniform on the "
                "grid's range, Gaussian with the truth's mean and SD), with Wasserstein-1 "
                "distances from the decoded distribution: decoding carries the shape of the "
                "timing distribution when it is closer to the truth than the references are"
            )
            if has_truth
            else " of the decoded distribution",
        ),
    }
