"""Publication figures of a fit: response curves, tau vs reversal point, split distributions,
the decoded reward distribution and the calibrated comparison of accounts.

Every function returns a :class:`matplotlib.figure.Figure` drawn with an Agg canvas in the
house style of :mod:`dopafit.report._style` (sizes for 89/183 mm columns, 7-8.5 pt fonts,
Okabe-Ito colours, viridis for tau). Nothing touches pyplot's global state. Axis labels and
units come from the fit's attrs.

Examples
--------
>>> import dopafit
>>> from dopafit.report import figures
>>> responses = dopafit.simulate_responses(n_units=12, seed=0)
>>> fit = dopafit.fit_expectiles(responses, n_splits=20, n_boot=0, seed=0)
>>> fig = figures.plot_response_curves(fit, responses)
>>> fig.axes[0].get_xlabel()
'Utility: population mean response (spikes/s)'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ConfigError
from dopafit.report import _style as sty
from dopafit.report.data import (
    check_fit,
    decode_fit,
    representative_split,
    response_table,
    reward_distribution,
)

__all__ = [
    "FIGURES",
    "plot_response_curves",
    "plot_response_grid",
    "plot_tau_reversal",
    "plot_split_distributions",
    "plot_decoded_distribution",
    "plot_comparison",
    "make_figures",
    "save_figure",
    "save_figures",
]

#: figure name -> one-line description (the names of the files save_figures writes)
FIGURES = {
    "response_curves": "mean response ± SEM per magnitude of every unit, coloured by tau",
    "response_grid": "one panel per unit: mean ± SEM, fitted slopes and reversal point",
    "tau_reversal": "tau vs reversal point (independent halves; all trials) and accounts",
    "split_distributions": "r(tau, reversal), reliability and fold-ANOVA F over splits",
    "decoded_distribution": "reward distribution decoded from (tau, reversal point) pairs",
    "comparison": "observed statistics vs each account's simulated distribution",
}


#: display names of the comparison's statistics
STATISTIC_LABELS = {
    "reliability": "Reliability r(reversal A, B)",
    "r_tau_reversal": "r(τ B, reversal A)",
    "rho_tau_reversal": "Spearman ρ(τ B, reversal A)",
    "anova_f": "Fold-ANOVA F of τ",
    "sign_prediction": "Held-out sign accuracy gain",
    "opposite_sign_pairs": "Opposite-sign unit pairs",
    "asymmetry_llr": "Asymmetry log-LR (held out)",
    "expectile_misfit": "Expectile misfit",
    "tau_baseline_r": "r(τ, baseline rate)",
    "loao_range": "Leave-one-animal-out range",
    "loao_min": "Leave-one-animal-out min r",
    "combined_diversity": "Combined: diversity (Fisher T)",
    "combined_asymmetry": "Combined: asymmetry (Fisher T)",
}


def _unit_names(fit: xr.Dataset) -> list[str]:
    ids = [str(v) for v in fit[schema.UNIT_ID].values] if schema.UNIT_ID in fit.coords else None
    if ids is None:
        return [str(u) for u in fit[schema.UNIT].values]
    if schema.SESSION in fit.coords and len(set(map(str, fit[schema.SESSION].values))) > 1:
        return [f"{s}/{u}" for s, u in zip(map(str, fit[schema.SESSION].values), ids)]
    return ids


def _fit_ok(fit: xr.Dataset) -> np.ndarray:
    tau = np.asarray(fit["tau"].values, dtype=float)
    ok = np.asarray(fit["fit_ok"].values, dtype=bool) if "fit_ok" in fit else np.ones(tau.size)
    return ok & np.isfinite(tau) & np.isfinite(np.asarray(fit["reversal_point"].values, float))


def _tau_colorbar(fig, ax, label="τ (asymmetry α⁺/(α⁺+α⁻))"):
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    sm = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=sty.tau_cmap())
    cb = fig.colorbar(sm, ax=ax, fraction=0.05, pad=0.02, aspect=30)
    cb.set_label(label)
    cb.outline.set_linewidth(0.5)
    return cb


def _magnitude_axis(ax, fit: xr.Dataset) -> None:
    """Secondary x axis at the top labelling the reward magnitudes at their axis values."""
    if fit.attrs.get("axis") in ("reward", "zscore"):
        return
    axis = np.asarray(fit["axis_value"].values, dtype=float)
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    lo, hi = ax.get_xlim()
    min_gap = 0.045 * (hi - lo)
    keep, last = [], -np.inf
    for k in np.argsort(axis, kind="stable")[::-1]:  # from the largest: big rewards first
        if abs(axis[k] - last) >= min_gap:
            keep.append(k)
            last = axis[k]
    top = ax.secondary_xaxis("top")
    top.set_xticks(axis[keep], [f"{m:g}" for m in mags[keep]])
    top.tick_params(labelsize=6, length=2, pad=1)
    top.set_xlabel(sty.reward_label(fit), fontsize=7, labelpad=2)


def _response_data(fit, responses):
    table = response_table(fit, responses)
    order = np.argsort(table["axis"], kind="stable")
    return table, order


def plot_response_curves(
    fit: xr.Dataset,
    responses: xr.Dataset | None = None,
    *,
    width: float = sty.SINGLE_COLUMN * 1.35,
    height: float = 3.0,
):
    """Every unit's mean response ± SEM per magnitude, overlaid, coloured by tau.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    responses : xarray.Dataset, optional
        The responses the fit was made from (SEM bars need them).
    width, height : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        x: the fit's axis (reward magnitudes marked on top for other axes); y: response.
        Each unit's reversal point is a tick on the zero line in the unit's colour.
    """
    check_fit(fit)
    table, order = _response_data(fit, responses)
    ok = _fit_ok(fit)
    tau = np.asarray(fit["tau"].values, dtype=float)
    z = np.asarray(fit["reversal_point"].values, dtype=float)
    x = table["axis"][order]
    with sty.style():
        fig = sty.new_figure(width, height)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
        for u in np.argsort(np.where(ok, tau, -1.0)):  # optimistic units drawn last
            if not ok[u]:
                continue
            color = sty.tau_color(tau[u])
            y, e = table["mean"][u, order], table["sem"][u, order]
            present = np.isfinite(y)
            ax.errorbar(
                x[present],
                y[present],
                yerr=None if not np.isfinite(e).any() else np.nan_to_num(e[present]),
                color=color,
                lw=0.9,
                elinewidth=0.6,
                marker="o",
                ms=2.2,
                alpha=0.85,
            )
        ax.plot(
            z[ok],
            np.zeros(int(ok.sum())),
            ls="none",
            marker="|",
            ms=9,
            mew=1.2,
            color="k",
            alpha=0.25,
            zorder=1,
        )
        for u in np.nonzero(ok)[0]:
            ax.plot([z[u]], [0.0], marker="|", ms=9, mew=1.0, color=sty.tau_color(tau[u]))
        ax.set_xlabel(sty.axis_label(fit))
        ax.set_ylabel(sty.response_label(fit))
        sem_note = "mean ± SEM" if responses is not None else "mean"
        ax.set_title(
            f"{int(ok.sum())} units: {sem_note} per magnitude; ticks on 0 = reversal points",
            loc="left",
        )
        _magnitude_axis(ax, fit)
        _tau_colorbar(fig, ax)
    return fig


def plot_response_grid(
    fit: xr.Dataset,
    responses: xr.Dataset | None = None,
    *,
    max_units: int = 48,
    ncols: int = 8,
    units: Sequence[int] | None = None,
    panel_size: float = 0.95,
):
    """One small panel per unit: mean ± SEM, the fitted slopes and the reversal point.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    responses : xarray.Dataset, optional
        The responses the fit was made from (SEM bars need them).
    max_units : int, default 48
        With more fitted units, ``max_units`` are shown, evenly spaced in reversal-point rank
        (the figure title says so).
    ncols : int, default 8
        Panels per row.
    units : sequence of int, optional
        Positions of the units to show (overrides ``max_units``).
    panel_size : float, default 0.95
        Panel width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Panels sorted by reversal point; each shows the unit's mean responses (markers,
        ±SEM), the fitted ``alpha_neg``/``alpha_pos`` lines through the reversal point, the
        reversal point (dashed), and its name and tau (``edge`` marks an edge estimate).
    """
    check_fit(fit)
    table, order = _response_data(fit, responses)
    ok = _fit_ok(fit)
    tau = np.asarray(fit["tau"].values, dtype=float)
    z = np.asarray(fit["reversal_point"].values, dtype=float)
    a_neg = np.asarray(fit["alpha_neg"].values, dtype=float)
    a_pos = np.asarray(fit["alpha_pos"].values, dtype=float)
    edge = np.asarray(fit["edge_reversal"].values) if "edge_reversal" in fit else np.zeros(z.size)
    names = _unit_names(fit)
    if units is None:
        fitted = np.nonzero(ok)[0]
        fitted = fitted[np.argsort(z[fitted], kind="stable")]
        if fitted.size > max_units:
            pick = np.unique(np.round(np.linspace(0, fitted.size - 1, max_units)).astype(int))
            shown, note = fitted[pick], f" ({pick.size} of {fitted.size}, spread over the ranks)"
        else:
            shown, note = fitted, ""
    else:
        shown = np.asarray(units, dtype=int)
        shown = shown[np.argsort(np.where(np.isfinite(z[shown]), z[shown], np.inf), kind="stable")]
        note = ""
    n = max(int(shown.size), 1)
    ncols = int(min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    x = table["axis"][order]
    xs = np.linspace(x.min(), x.max(), 200)
    with sty.style():
        fig = sty.new_figure(panel_size * ncols + 0.4, panel_size * nrows + 0.55)
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= shown.size:
                ax.set_visible(False)
                continue
            u = int(shown[k])
            color = sty.tau_color(tau[u])
            ax.axhline(0.0, color="0.75", lw=0.5, zorder=0)
            y, e = table["mean"][u, order], table["sem"][u, order]
            present = np.isfinite(y)
            ax.errorbar(
                x[present],
                y[present],
                yerr=None if not np.isfinite(e).any() else np.nan_to_num(e[present]),
                ls="none",
                marker="o",
                ms=2.3,
                color=color,
                elinewidth=0.6,
            )
            if np.isfinite(z[u]):
                line = np.where(xs >= z[u], a_pos[u], a_neg[u]) * (xs - z[u])
                ax.plot(xs, line, color=color, lw=0.9)
                ax.axvline(z[u], color="0.35", lw=0.6, ls="--")
            flag = " edge" if edge[u] != 0 else ""
            if np.isfinite(tau[u]) and not 0 <= tau[u] <= 1:
                flag += " τ∉[0,1]"
            ax.set_title(f"{names[u]}  τ={tau[u]:.2f}{flag}", fontsize=6, pad=2)
            ax.tick_params(labelsize=5.5, length=2, pad=1)
            for side in ("left", "bottom"):
                ax.spines[side].set_linewidth(0.5)
        fig.supxlabel(sty.axis_label(fit), fontsize=7.5)
        fig.supylabel(sty.response_label(fit), fontsize=7.5)
        fig.suptitle(
            f"Units sorted by reversal point{note}: mean"
            f"{' ± SEM' if responses is not None else ''}, fitted slopes, reversal point (dashed)",
            fontsize=8,
            x=0.01,
            ha="left",
        )
    return fig


def _expectile_curve(fit, probs):
    from dopafit.stats.decode import exact_expectiles

    taus = np.linspace(0.005, 0.995, 199)
    axis = np.asarray(fit["axis_value"].values, dtype=float)
    return taus, exact_expectiles(axis, probs, taus), float(np.sum(probs * axis))


def _axis_probabilities(fit, values, probabilities):
    """One probability per fitted magnitude (the expectile curve lives on the fit's axis)."""
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    v, p, how = reward_distribution(fit, values, probabilities)
    if v.shape == mags.shape and np.allclose(np.sort(v), mags):
        return p[np.argsort(v)], how
    _, p, how = reward_distribution(fit)
    return p, how + " (the given distribution is not on the fitted magnitudes)"


def _tau_scatter(ax, z, t, color, *, filled, label, tau_lims=(-0.08, 1.08)):
    inside = (t >= tau_lims[0]) & (t <= tau_lims[1])
    kw = dict(s=16, linewidths=0.8, zorder=3)
    if filled:
        ax.scatter(z[inside], t[inside], color=color, edgecolor="white", label=label, **kw)
    else:
        ax.scatter(z[inside], t[inside], facecolor="none", edgecolor=color, label=label, **kw)
    out = ~inside & np.isfinite(t) & np.isfinite(z)
    if out.any():
        yy = np.where(t[out] > tau_lims[1], tau_lims[1] - 0.01, tau_lims[0] + 0.01)
        marker = np.where(t[out] > tau_lims[1], "^", "v")
        for xi, yi, mi in zip(z[out], yy, marker):
            ax.scatter([xi], [yi], marker=mi, color=color, s=14, zorder=3)
    return int(out.sum())


def _add_predictions(ax, taus, curve, mean):
    ax.plot(curve, taus, color=sty.ACCOUNT_COLORS["distributional"], lw=1.3, alpha=0.9,
            label="distributional TD: reversal = τ-expectile", zorder=2)
    ax.axhline(0.5, color=sty.ACCOUNT_COLORS["classical"], lw=0.8, ls=":", zorder=1)
    ax.plot([mean], [0.5], marker="s", ms=5, color=sty.ACCOUNT_COLORS["classical"],
            label="classical TD: τ = 0.5 at the mean", zorder=4, ls="none")


def _regression(ax, x, y, color):
    from scipy import stats

    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0:
        return np.nan, np.nan
    res = stats.linregress(x[keep], y[keep])
    xs = np.linspace(x[keep].min(), x[keep].max(), 2)
    ax.plot(xs, res.intercept + res.slope * xs, color=color, lw=1.0, ls="-", zorder=2)
    return float(res.rvalue), float(res.pvalue)


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _sim_band(ax, y, values, color, *, q=(5, 95), label=None, height=0.5):
    finite = values[np.isfinite(values)]
    if not finite.size:
        ax.text(0.02, y, "no finite values", fontsize=6, va="center",
                transform=ax.get_yaxis_transform())
        return
    lo, med, hi = np.percentile(finite, [q[0], 50, q[1]])
    vmin, vmax = finite.min(), finite.max()
    ax.plot([vmin, vmax], [y, y], color=color, lw=0.8, solid_capstyle="butt")
    from matplotlib.patches import Rectangle

    ax.add_patch(
        Rectangle(
            (lo, y - height / 2), hi - lo, height, facecolor=color, alpha=0.35,
            edgecolor=color, lw=0.8, label=label,
        )
    )
    ax.plot([med, med], [y - height / 2, y + height / 2], color=color, lw=1.6)


def plot_tau_reversal(
    fit: xr.Dataset,
    comparison=None,
    *,
    split: int | None = None,
    reward_values=None,
    reward_probabilities=None,
):
    """Tau against reversal point: independent halves, all trials, and the accounts.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    comparison : dopafit.stats.compare.Comparison, optional
        Adds, per account, the distribution of the simulated statistic (5-95% box, median
        bar, whiskers to the extremes) next to the observed one, for ``r_tau_reversal`` and
        ``reliability``.
    split : int, optional
        Split to show in panel a; default the split whose ``r_tau_reversal`` is closest to
        the median over splits.
    reward_values, reward_probabilities : array_like, optional
        Reward distribution for the predictions (default: empirical trial proportions).

    Returns
    -------
    matplotlib.figure.Figure
        a: tau of half B vs reversal point of half A for one split (independent trials; the
        test), OLS line and nominal r, p. b: all-trial estimates with bootstrap intervals
        (the same trials give both numbers, so their correlation is no test). Both show the
        distributional-TD prediction (reversal point = tau-expectile of the reward
        distribution on the axis) and the classical one (tau 0.5 at the mean). c, d (with a
        comparison): simulated r(tau, reversal) and reliability per account vs observed.
    """
    check_fit(fit)
    probs, how = _axis_probabilities(fit, reward_values, reward_probabilities)
    taus, curve, mean = _expectile_curve(fit, probs)
    ok = _fit_ok(fit)
    has_splits = "reversal_point_a" in fit and "tau_b" in fit
    if has_splits and split is None:
        split = representative_split(fit)
    has_cmp = comparison is not None
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 5.4 if has_cmp else 2.9)
        if has_cmp:
            gs = fig.add_gridspec(2, 2, height_ratios=[1.35, 1.0])
            ax_a, ax_b = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
            ax_c, ax_d = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])
        else:
            ax_a, ax_b = fig.subplots(1, 2)
        color_a = sty.OKABE_ITO["vermillion"]
        if has_splits and split is not None:
            za = np.asarray(fit["reversal_point_a"].isel(split=split).values, dtype=float)
            tb = np.asarray(fit["tau_b"].isel(split=split).values, dtype=float)
            keep = ok & np.isfinite(za) & np.isfinite(tb)
            _add_predictions(ax_a, taus, curve, mean)
            n_out = _tau_scatter(ax_a, za[keep], tb[keep], color_a, filled=True,
                                 label="units (half A → x, half B → y)")
            r, p = _regression(ax_a, za[keep], tb[keep], color_a)
            text = f"split {split}: r = {r:.2f}, nominal p = {_fmt_p(p)}, n = {int(keep.sum())}"
            if n_out:
                text += f"\n{n_out} τ outside the plot (triangles)"
            ax_a.text(0.02, 0.98, text, transform=ax_a.transAxes, va="top", fontsize=6.5)
            ax_a.set_title("Independent halves (representative split)", loc="left")
        else:
            ax_a.text(0.5, 0.5, "no split halves in this fit (n_splits = 0)", ha="center",
                      va="center", transform=ax_a.transAxes)
        ax_a.set_xlabel(f"Reversal point, half A ({sty.axis_short(fit)})")
        ax_a.set_ylabel("τ, half B")

        z = np.asarray(fit["reversal_point"].values, dtype=float)
        t = np.asarray(fit["tau"].values, dtype=float)
        _add_predictions(ax_b, taus, curve, mean)
        if "tau_lo" in fit and "reversal_point_lo" in fit:
            tl, th = fit["tau_lo"].values, fit["tau_hi"].values
            zl, zh = fit["reversal_point_lo"].values, fit["reversal_point_hi"].values
            sel = ok & np.isfinite(tl) & np.isfinite(zl) & (t > -0.08) & (t < 1.08)
            ax_b.errorbar(
                z[sel], t[sel],
                xerr=np.abs(np.vstack([z[sel] - zl[sel], zh[sel] - z[sel]])),
                yerr=np.abs(np.vstack([t[sel] - tl[sel], th[sel] - t[sel]])),
                ls="none", color="0.6", elinewidth=0.4, alpha=0.45, zorder=2,
            )
        n_out = _tau_scatter(ax_b, z[ok], t[ok], "0.2", filled=True, label="units (all trials)")
        if n_out:
            ax_b.text(0.02, 0.98, f"{n_out} τ outside the plot (triangles)",
                      transform=ax_b.transAxes, va="top", fontsize=6.5)
        ci = fit.attrs.get("ci_level", 0.95)
        ax_b.set_title(
            f"All trials ({100 * float(ci):g}% bootstrap intervals); same trials: not a test",
            loc="left",
        )
        ax_b.set_xlabel(f"Reversal point, all trials ({sty.axis_short(fit)})")
        ax_b.set_ylabel("τ")
        xlo = min(float(np.nanmin(fit["axis_value"].values)), float(np.nanmin(curve)))
        xhi = max(float(np.nanmax(fit["axis_value"].values)), float(np.nanmax(curve)))
        pad = 0.04 * (xhi - xlo)
        for ax in (ax_a, ax_b):
            ax.set_ylim(-0.08, 1.08)
            ax.set_xlim(xlo - pad, xhi + pad)
        for ax in (ax_a, ax_b):
            ax.legend(loc="lower right", fontsize=6, handlelength=1.5, frameon=True,
                      framealpha=0.85, edgecolor="none")
        sty.panel_label(ax_a, "a")
        sty.panel_label(ax_b, "b")
        if has_cmp:
            _comparison_bands(ax_c, comparison, "r_tau_reversal", "r(τ half B, reversal half A)")
            _comparison_bands(ax_d, comparison, "reliability", "r(reversal half A, half B)")
            sty.panel_label(ax_c, "c")
            sty.panel_label(ax_d, "d")
        fig.text(0.0, -0.01, f"Predictions use the reward distribution ({how}) on the fit's axis.",
                 fontsize=6, color="0.35", ha="left", va="top")
    return fig


def _comparison_bands(ax, comparison, statistic, xlabel):
    ds = comparison.dataset
    accounts = [str(a) for a in ds["account"].values]
    if statistic not in [str(s) for s in ds["statistic"].values]:
        ax.text(0.5, 0.5, f"{statistic} not in the comparison", ha="center",
                transform=ax.transAxes)
        return
    sel = ds.sel(statistic=statistic)
    rows = len(accounts) + 1
    for k, name in enumerate(accounts):
        y = rows - 1 - k
        sims = np.asarray(sel["simulated"].sel(account=name).values, dtype=float)
        _sim_band(ax, y, sims, sty.ACCOUNT_COLORS.get(name, "0.4"))
        p = float(sel["p_calibrated"].sel(account=name))
        bold = "bold" if p < float(ds.attrs.get("alpha", 0.05)) else "normal"
        ax.text(1.01, y, f"p = {_fmt_p(p)}", transform=ax.get_yaxis_transform(), fontsize=6,
                va="center", fontweight=bold)
    split_var = {"reliability": "observed_split_r_reliability"}.get(
        statistic, f"observed_split_{statistic}"
    )
    if split_var in ds:
        _sim_band(ax, 0, np.asarray(ds[split_var].values, dtype=float), sty.OBSERVED_COLOR,
                  height=0.35)
    obs = float(sel["observed"].isel(account=0))
    if np.isfinite(obs):
        ax.axvline(obs, color=sty.OBSERVED_COLOR, lw=1.0, ls="--", zorder=0)
    ax.set_yticks(range(rows), ["observed\n(over splits)", *accounts[::-1]])
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_xlabel(f"{xlabel}, median over splits")
    ax.set_title(f"Accounts: {ds.sizes['sim']} simulations each", loc="left")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def plot_split_distributions(fit: xr.Dataset, *, alpha: float = 0.05):
    """Distributions over random splits of r(tau, reversal), reliability and fold-ANOVA F.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles` with ``n_splits > 0``.
    alpha : float, default 0.05
        Threshold of the fraction of nominally significant splits (and of the F reference).

    Returns
    -------
    matplotlib.figure.Figure
        Three histograms, each with the median (solid), the 5-95% range (shaded) and the
        fraction of splits with nominal p < alpha. The F panel marks the critical F at the
        median degrees of freedom.

    Raises
    ------
    ConfigError
        The fit has no split statistics.
    """
    from scipy import stats

    check_fit(fit)
    panels = [
        ("r_tau_reversal", "p_tau_reversal", "r(τ half B, reversal half A)",
         "τ vs reversal point"),
        ("r_reliability", "p_reliability", "r(reversal half A, half B)",
         "Reliability of reversal points"),
        ("anova_f", "anova_p", "F (fold τ across units)", "Diversity of τ (fold ANOVA)"),
    ]
    present = [p for p in panels if p[0] in fit]
    if not present:
        raise ConfigError(
            "a fit with split statistics", found="none", remedy="fit with n_splits > 0"
        )
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.3)
        axes = fig.subplots(1, len(present), squeeze=False)[0]
        for k, (ax, (name, pname, xlabel, title)) in enumerate(zip(axes, present)):
            values = np.asarray(fit[name].values, dtype=float)
            finite = values[np.isfinite(values)]
            if not finite.size:
                ax.text(0.5, 0.5, "no finite values", ha="center", transform=ax.transAxes)
                continue
            lo, med, hi = np.percentile(finite, [5, 50, 95])
            bins = int(np.clip(np.sqrt(finite.size) * 1.5, 10, 40))
            ax.axvspan(lo, hi, color=sty.OKABE_ITO["sky_blue"], alpha=0.25, lw=0)
            ax.hist(finite, bins=bins, color=sty.OKABE_ITO["blue"], alpha=0.85,
                    edgecolor="white", linewidth=0.3)
            ax.axvline(med, color="k", lw=1.2)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.55)
            pv = np.asarray(fit[pname].values, dtype=float) if pname in fit else np.array([])
            pv = pv[np.isfinite(pv)]
            frac = f"\np < {alpha:g}: {100 * np.mean(pv < alpha):.0f}% of splits" if pv.size else ""
            ax.text(
                0.98, 0.98,
                f"median {med:.2f}\n5–95%: {lo:.2f} to {hi:.2f}{frac}\n{finite.size} splits",
                transform=ax.transAxes, va="top", ha="right", fontsize=6.5,
            )
            if name.startswith("r_"):
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
                ax.set_xlim(min(-0.05, finite.min() - 0.05), max(1.0, finite.max() + 0.05))
            elif "anova_df1" in fit and "anova_df2" in fit:
                d1 = np.nanmedian(fit["anova_df1"].values.astype(float))
                d2 = np.nanmedian(fit["anova_df2"].values.astype(float))
                if d1 > 0 and d2 > 0:
                    crit = float(stats.f.isf(alpha, d1, d2))
                    ax.axvline(crit, color=sty.OKABE_ITO["vermillion"], lw=0.9, ls="--")
                    ax.text(crit, 0.8, f"F crit ({alpha:g}) \ndf {d1:g}, {d2:g} ",
                            transform=ax.get_xaxis_transform(), fontsize=6, ha="right",
                            color=sty.OKABE_ITO["vermillion"], va="top")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("Splits" if k == 0 else "")
            ax.set_title(title, loc="left")
            sty.panel_label(ax, "abc"[k])
    return fig


def _density(points, weights, grid, bandwidth):
    d = (grid[:, None] - points[None, :]) / bandwidth
    return (np.exp(-0.5 * d * d) * weights[None, :]).sum(axis=1) / (
        bandwidth * np.sqrt(2 * np.pi) * weights.sum()
    )


def plot_decoded_distribution(
    fit: xr.Dataset,
    result=None,
    *,
    reward_values=None,
    reward_probabilities=None,
    bandwidth: float | None = None,
    **decode_kwargs,
):
    """The reward distribution decoded from the units' (tau, reversal point) pairs vs the task's.

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    result : DecodeResult, optional
        A decoding already made (:func:`dopafit.report.data.decode_fit`); otherwise it is
        computed here with ``decode_kwargs``.
    reward_values, reward_probabilities : array_like, optional
        The task's distribution (default: empirical trial proportions).
    bandwidth : float, optional
        Gaussian smoothing of both densities in panel a; default 4% of the reward range.
    **decode_kwargs
        Passed to :func:`dopafit.decode_distribution`.

    Returns
    -------
    matplotlib.figure.Figure
        a: decoded samples (rug, smoothed density) and the task's distribution smoothed with
        the same kernel (stems: its probabilities); b: cumulative distributions, with means,
        SDs and Wasserstein-1 distances to the task and to uniform/Gaussian references.
    """
    check_fit(fit)
    if result is None:
        result = decode_fit(
            fit,
            reward_values=reward_values,
            reward_probabilities=reward_probabilities,
            **decode_kwargs,
        )
    values = np.asarray(result.true_values, dtype=float)
    probs = np.asarray(result.true_probabilities, dtype=float)
    probs = probs / probs.sum()
    samples = np.asarray(result.samples, dtype=float)
    lo, hi = result.bounds
    h = float(bandwidth) if bandwidth else 0.04 * (hi - lo)
    grid = np.linspace(lo - 3 * h, hi + 3 * h, 600)
    dens_dec = _density(samples, np.ones(samples.size), grid, h)
    dens_true = _density(values, probs, grid, h)
    dist = result.distances()
    t_mean = float(np.sum(values * probs))
    t_sd = float(np.sqrt(np.sum(probs * (values - t_mean) ** 2)))
    c_dec = sty.OKABE_ITO["vermillion"]
    c_true = "0.15"
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.6)
        ax_a, ax_b = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
        ax_a.fill_between(grid, dens_dec, color=c_dec, alpha=0.25, lw=0)
        ax_a.plot(grid, dens_dec, color=c_dec, lw=1.3, label=f"decoded ({samples.size} samples)")
        ax_a.plot(grid, dens_true, color=c_true, lw=1.1, ls="--",
                  label=f"task ({result.settings.get('truth', 'given')})")
        ymax = max(dens_dec.max(), dens_true.max())
        ax_a.plot(samples, np.full(samples.size, -0.04 * ymax), "|", color=c_dec, ms=5, mew=0.6)
        twin = ax_a.twinx()
        twin.vlines(values, 0, probs, color="0.55", lw=1.0)
        twin.plot(values, probs, "o", color="0.55", ms=2.5)
        twin.set_ylim(0, probs.max() * 2.6)
        twin.set_ylabel("Task probability (stems)", color="0.45")
        twin.tick_params(axis="y", colors="0.45")
        twin.spines["right"].set_visible(True)
        twin.spines["right"].set_color("0.6")
        ax_a.set_ylim(-0.08 * ymax, ymax * 1.15)
        ax_a.set_xlabel(sty.reward_label(fit))
        ax_a.set_ylabel(f"Density (Gaussian smoothing, h = {h:.2g})")
        ax_a.legend(loc="upper right", fontsize=6.5)
        ax_a.set_title(
            f"Decoded from {result.settings.get('n_units_used', result.tau.size)} units' "
            "(τ, reversal point)",
            loc="left",
        )
        order = np.argsort(values)
        ax_b.step(np.r_[lo, values[order], hi], np.r_[0, np.cumsum(probs[order]), 1], where="post",
                  color=c_true, lw=1.1, ls="--", label="task")
        ax_b.step(np.r_[lo, samples, hi], np.r_[0, np.arange(1, samples.size + 1) / samples.size, 1],
                  where="post", color=c_dec, lw=1.3, label="decoded")
        ax_b.set_xlabel(sty.reward_label(fit))
        ax_b.set_ylabel("Cumulative probability")
        ax_b.set_ylim(0, 1.02)
        ax_b.legend(loc="upper left", fontsize=6.5)
        w1 = ", ".join(f"{k} {v:.2f}" for k, v in dist.items() if k in ("truth", "uniform",
                                                                          "gaussian"))
        ax_b.text(
            0.97, 0.04,
            f"mean: decoded {result.mean:.2f}, task {t_mean:.2f}\n"
            f"SD: decoded {result.sd:.2f}, task {t_sd:.2f}\n"
            f"Wasserstein-1 to {w1}",
            transform=ax_b.transAxes, va="bottom", ha="right", fontsize=6.3,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0),
        )
        ax_b.set_title("Cumulative distributions", loc="left")
        sty.panel_label(ax_a, "a")
        sty.panel_label(ax_b, "b")
    return fig


def plot_comparison(comparison, *, statistics: Sequence[str] | None = None, ncols: int = 4):
    """Observed statistics against each account's simulated distribution (small multiples).

    Parameters
    ----------
    comparison : dopafit.stats.compare.Comparison
        Output of :func:`dopafit.compare` (or :func:`~dopafit.stats.compare.open_comparison`).
    statistics : sequence of str, optional
        Statistics to show (default: every computable one).
    ncols : int, default 4
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per statistic; one row per account: simulated 5-95% (box), median (bar)
        and range (line); the observed value (black diamond, and a dashed line when it is
        the same for every account) and the calibrated p-value.
    """
    ds = comparison.dataset
    names = [str(s) for s in ds["statistic"].values]
    computable = dict(zip(names, np.asarray(ds["computable"].values, dtype=bool)))
    stats_ = [s for s in (statistics or names) if computable.get(s, False)]
    if not stats_:
        raise ConfigError("at least one computable statistic", found="none",
                          remedy="see the comparison's 'reason' variable")
    accounts = [str(a) for a in ds["account"].values]
    ncols = int(min(ncols, len(stats_)))
    nrows = int(np.ceil(len(stats_) / ncols))
    rows = len(accounts)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 0.35 + nrows * (0.35 + 0.28 * rows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(stats_):
                ax.set_visible(False)
                continue
            s = stats_[k]
            sel = ds.sel(statistic=s)
            obs = np.asarray(sel["observed"].values, dtype=float)
            for a, name in enumerate(accounts):
                y = rows - 1 - a
                color = sty.ACCOUNT_COLORS.get(name, "0.4")
                _sim_band(ax, y, np.asarray(sel["simulated"].sel(account=name).values, float),
                          color, height=0.55)
                ax.plot([obs[a]], [y], marker="D", ms=3.5, color=sty.OBSERVED_COLOR, zorder=5)
                p = float(sel["p_calibrated"].sel(account=name))
                ax.text(1.01, y, _fmt_p(p), transform=ax.get_yaxis_transform(), fontsize=5.8,
                        va="center", fontweight="bold" if p < ds.attrs.get("alpha", 0.05)
                        else "normal")
            if np.allclose(obs, obs[0], equal_nan=True) and np.isfinite(obs[0]):
                ax.axvline(obs[0], color=sty.OBSERVED_COLOR, lw=0.8, ls="--", zorder=0)
            ax.set_yticks(range(rows), accounts[::-1] if k % ncols == 0 else [""] * rows)
            ax.set_ylim(-0.6, rows - 0.4)
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
            ax.set_title(STATISTIC_LABELS.get(s, s.replace("_", " ")), loc="left", fontsize=7)
            ax.tick_params(axis="x", labelsize=6)
        fig.suptitle(
            f"Observed (◆) vs simulated per account: box 5–95%, bar median, line range "
            f"({ds.sizes['sim']} simulations each); right: calibrated p (bold < "
            f"{ds.attrs.get('alpha', 0.05):g})",
            fontsize=7.5, x=0.01, ha="left",
        )
    return fig


# --------------------------------------------------------------------------------------------
# all figures at once


def make_figures(
    fit: xr.Dataset,
    responses: xr.Dataset | None = None,
    comparison=None,
    *,
    decode: bool | object = True,
    reward_values=None,
    reward_probabilities=None,
    decode_kwargs: dict | None = None,
    max_grid_units: int = 48,
) -> tuple[dict, dict]:
    """Build every figure the inputs allow.

    Parameters
    ----------
    fit, responses, comparison
        See :func:`save_figures`.
    decode : bool or DecodeResult, default True
        Decode the reward distribution (or use the given result); False skips the figure.
    reward_values, reward_probabilities, decode_kwargs, max_grid_units
        See :func:`save_figures`.

    Returns
    -------
    figures : dict
        name (a key of :data:`FIGURES`) -> Figure, in report order.
    notes : dict
        name -> why a figure was not made (and ``"decode"`` -> the DecodeResult when made).
    """
    from dopafit.errors import DopafitError

    figs: dict = {}
    notes: dict = {}
    figs["response_curves"] = plot_response_curves(fit, responses)
    figs["response_grid"] = plot_response_grid(fit, responses, max_units=max_grid_units)
    figs["tau_reversal"] = plot_tau_reversal(
        fit, comparison, reward_values=reward_values, reward_probabilities=reward_probabilities
    )
    if "r_tau_reversal" in fit or "anova_f" in fit:
        figs["split_distributions"] = plot_split_distributions(fit)
    else:
        notes["split_distributions"] = "the fit has no split halves (n_splits = 0)"
    if decode is False:
        notes["decoded_distribution"] = "decoding was switched off"
    else:
        try:
            result = decode if decode is not True else decode_fit(
                fit,
                reward_values=reward_values,
                reward_probabilities=reward_probabilities,
                **(decode_kwargs or {}),
            )
            figs["decoded_distribution"] = plot_decoded_distribution(fit, result)
            notes["decode"] = result
        except DopafitError as exc:
            notes["decoded_distribution"] = f"decoding failed: {exc}"
    if comparison is not None:
        try:
            figs["comparison"] = plot_comparison(comparison)
        except DopafitError as exc:
            notes["comparison"] = str(exc)
    else:
        notes["comparison"] = "no comparison of accounts was given (run dopafit compare)"
    return figs, notes


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Save one figure atomically (temporary file + rename) in the house style.

    The format follows the suffix (``.png`` at 300 dpi, ``.svg`` with text as text,
    ``.pdf`` with embedded TrueType fonts).
    """
    from dopafit.batch import atomic_path

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    metadata = {"Date": None} if fmt == "pdf" else {"Software": None}
    if fmt == "svg":
        metadata = {"Date": None, "Creator": None, "Format": None, "Type": None}
    with sty.style(), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, metadata=metadata)
    return path


def save_figures(
    fit: xr.Dataset,
    responses: xr.Dataset | None,
    outdir: str | os.PathLike,
    formats: Sequence[str] = ("png", "svg"),
    comparison=None,
    *,
    decode: bool | object = True,
    reward_values=None,
    reward_probabilities=None,
    decode_kwargs: dict | None = None,
    max_grid_units: int = 48,
) -> dict[str, list[Path]]:
    """Write every figure as ``OUTDIR/<name>.<format>`` (for papers).

    Parameters
    ----------
    fit : xarray.Dataset
        Output of :func:`dopafit.fit_expectiles`.
    responses : xarray.Dataset or None
        The responses the fit was made from (SEM bars need them).
    outdir : path-like
        Folder (created).
    formats : sequence of str, default ("png", "svg")
        Any of ``png`` (300 dpi), ``svg``, ``pdf``.
    comparison : dopafit.stats.compare.Comparison, optional
        Adds the comparison figure and the account bands of the tau-reversal figure.
    decode : bool or DecodeResult, default True
        Decode the reward distribution (or use a result); False skips that figure.
    reward_values, reward_probabilities : array_like, optional
        The task's reward distribution (default: empirical trial proportions).
    decode_kwargs : dict, optional
        Passed to :func:`dopafit.decode_distribution`.
    max_grid_units : int, default 48
        Most units in the per-unit grid.

    Returns
    -------
    dict
        Figure name (see :data:`FIGURES`) -> the paths written.

    Examples
    --------
    >>> import tempfile, dopafit
    >>> from dopafit.report.figures import save_figures
    >>> responses = dopafit.simulate_responses(n_units=10, seed=0)
    >>> fit = dopafit.fit_expectiles(responses, n_splits=20, n_boot=20, seed=0)
    >>> paths = save_figures(fit, responses, tempfile.mkdtemp(), formats=("png",),
    ...                      decode=False)
    >>> sorted(paths)
    ['response_curves', 'response_grid', 'split_distributions', 'tau_reversal']
    """
    formats = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise ConfigError("formats among png, svg, pdf", found=", ".join(bad) or "none")
    figs, _ = make_figures(
        fit,
        responses,
        comparison,
        decode=decode,
        reward_values=reward_values,
        reward_probabilities=reward_probabilities,
        decode_kwargs=decode_kwargs,
        max_grid_units=max_grid_units,
    )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return {
        name: [save_figure(fig, outdir / f"{name}.{fmt}") for fmt in formats]
        for name, fig in figs.items()
    }

