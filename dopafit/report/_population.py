"""Population figures: tau vs reversal point, split distributions, comparison of accounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from dopafit.errors import ConfigError
from dopafit.report import _style as sty
from dopafit.report.data import check_fit, fitted_mask, representative_split, reward_distribution

__all__ = ["STATISTIC_LABELS", "plot_tau_reversal", "plot_split_distributions", "plot_comparison"]

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
    ax.plot(
        curve,
        taus,
        color=sty.ACCOUNT_COLORS["distributional"],
        lw=1.3,
        alpha=0.9,
        label="distributional TD: reversal = τ-expectile",
        zorder=2,
    )
    ax.axhline(0.5, color=sty.ACCOUNT_COLORS["classical"], lw=0.8, ls=":", zorder=1)
    ax.plot(
        [mean],
        [0.5],
        marker="s",
        ms=5,
        color=sty.ACCOUNT_COLORS["classical"],
        label="classical TD: τ = 0.5 at the mean",
        zorder=4,
        ls="none",
    )


def _regression(ax, x, y, color):
    from scipy import stats

    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0:
        return np.nan, np.nan
    res = stats.linregress(x[keep], y[keep])
    xs = np.linspace(x[keep].min(), x[keep].max(), 2)
    ax.plot(xs, res.intercept + res.slope * xs, color=color, lw=1.0, ls="-", zorder=2)
    return float(res.rvalue), float(res.pvalue)


def _sim_band(ax, y, values, color, *, q=(5, 95), label=None, height=0.5):
    """One row of simulated values: box over the q-range, bar at the median, line min to max."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        ax.text(
            0.02, y, "no finite values", fontsize=6, va="center", transform=ax.get_yaxis_transform()
        )
        return
    lo, med, hi = np.percentile(finite, [q[0], 50, q[1]])
    vmin, vmax = finite.min(), finite.max()
    ax.plot([vmin, vmax], [y, y], color=color, lw=0.8, solid_capstyle="butt")
    from matplotlib.patches import Rectangle

    ax.add_patch(
        Rectangle(
            (lo, y - height / 2),
            hi - lo,
            height,
            facecolor=color,
            alpha=0.35,
            edgecolor=color,
            lw=0.8,
            label=label,
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
    comparison : xarray.Dataset, optional
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
    prediction = _expectile_curve(fit, probs)
    ok = fitted_mask(fit)
    has_splits = "reversal_point_a" in fit and "tau_b" in fit
    if has_splits and split is None:
        split = representative_split(fit)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 5.4 if comparison is not None else 2.9)
        axes = _tau_reversal_axes(fig, with_comparison=comparison is not None)
        ax_a, ax_b = axes[0], axes[1]
        _split_halves_panel(ax_a, fit, ok, split if has_splits else None, prediction)
        _all_trials_panel(ax_b, fit, ok, prediction)
        _shared_limits_and_legend(ax_a, ax_b, fit, prediction[1])
        sty.panel_label(ax_a, "a")
        sty.panel_label(ax_b, "b")
        if comparison is not None:
            _comparison_bands(axes[2], comparison, "r_tau_reversal", "r(τ half B, reversal half A)")
            _comparison_bands(axes[3], comparison, "reliability", "r(reversal half A, half B)")
            sty.panel_label(axes[2], "c")
            sty.panel_label(axes[3], "d")
        fig.text(
            0.0,
            -0.01,
            f"Predictions use the reward distribution ({how}) on the fit's axis.",
            fontsize=6,
            color="0.35",
            ha="left",
            va="top",
        )
    return fig


def _tau_reversal_axes(fig, *, with_comparison: bool) -> list:
    """Panels a, b side by side, and c, d below them when a comparison is shown."""
    if not with_comparison:
        return list(fig.subplots(1, 2))
    gs = fig.add_gridspec(2, 2, height_ratios=[1.35, 1.0])
    ax_a, ax_b = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
    ax_c, ax_d = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])
    return [ax_a, ax_b, ax_c, ax_d]


def _split_halves_panel(ax, fit, ok, split, prediction) -> None:
    """Panel a: tau of half B against the reversal point of half A for one split."""
    color = sty.OKABE_ITO["vermillion"]
    if split is not None:
        za = np.asarray(fit["reversal_point_a"].isel(split=split).values, dtype=float)
        tb = np.asarray(fit["tau_b"].isel(split=split).values, dtype=float)
        keep = ok & np.isfinite(za) & np.isfinite(tb)
        _add_predictions(ax, *prediction)
        n_out = _tau_scatter(
            ax, za[keep], tb[keep], color, filled=True, label="units (half A → x, half B → y)"
        )
        r, p = _regression(ax, za[keep], tb[keep], color)
        text = f"split {split}: r = {r:.2f}, nominal p = {sty.fmt_p(p)}, n = {int(keep.sum())}"
        if n_out:
            text += f"\n{n_out} τ outside the plot (triangles)"
        ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", fontsize=6.5)
        ax.set_title("Independent halves (representative split)", loc="left")
    else:
        ax.text(
            0.5,
            0.5,
            "no split halves in this fit (n_splits = 0)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel(f"Reversal point, half A ({sty.axis_short(fit)})")
    ax.set_ylabel("τ, half B")


def _all_trials_panel(ax, fit, ok, prediction) -> None:
    """Panel b: all-trial tau against reversal point, with the bootstrap intervals."""
    z = np.asarray(fit["reversal_point"].values, dtype=float)
    t = np.asarray(fit["tau"].values, dtype=float)
    _add_predictions(ax, *prediction)
    if "tau_lo" in fit and "reversal_point_lo" in fit:
        _interval_bars(ax, fit, ok, z, t)
    n_out = _tau_scatter(ax, z[ok], t[ok], "0.2", filled=True, label="units (all trials)")
    if n_out:
        ax.text(
            0.02,
            0.98,
            f"{n_out} τ outside the plot (triangles)",
            transform=ax.transAxes,
            va="top",
            fontsize=6.5,
        )
    ci = fit.attrs.get("ci_level", 0.95)
    ci_text = f" ({100 * float(ci):g}% bootstrap intervals)" if "tau_lo" in fit else ""
    ax.set_title(f"All trials{ci_text}; same trials: not a test", loc="left")
    ax.set_xlabel(f"Reversal point, all trials ({sty.axis_short(fit)})")
    ax.set_ylabel("τ")


def _interval_bars(ax, fit, ok, z, t) -> None:
    """Bootstrap intervals of tau and reversal point of the units drawn inside the plot."""
    tl, th = fit["tau_lo"].values, fit["tau_hi"].values
    zl, zh = fit["reversal_point_lo"].values, fit["reversal_point_hi"].values
    sel = ok & np.isfinite(tl) & np.isfinite(zl) & (t > -0.08) & (t < 1.08)
    ax.errorbar(
        z[sel],
        t[sel],
        xerr=np.abs(np.vstack([z[sel] - zl[sel], zh[sel] - z[sel]])),
        yerr=np.abs(np.vstack([t[sel] - tl[sel], th[sel] - t[sel]])),
        ls="none",
        color="0.6",
        elinewidth=0.4,
        alpha=0.45,
        zorder=2,
    )


def _shared_limits_and_legend(ax_a, ax_b, fit, curve) -> None:
    """The same limits in panels a and b, and one legend for both (in panel b)."""
    xlo = min(float(np.nanmin(fit["axis_value"].values)), float(np.nanmin(curve)))
    xhi = max(float(np.nanmax(fit["axis_value"].values)), float(np.nanmax(curve)))
    pad = 0.04 * (xhi - xlo)
    for ax in (ax_a, ax_b):
        ax.set_ylim(-0.08, 1.08)
        ax.set_xlim(xlo - pad, xhi + pad)
    # one legend (the predictions are the same in both panels), where panel b is emptiest
    ax_b.legend(
        loc="lower right",
        fontsize=6,
        handlelength=1.5,
        frameon=True,
        framealpha=0.85,
        edgecolor="none",
    )


def _comparison_bands(ax, comparison, statistic, xlabel):
    """Panels c, d: one statistic simulated under each account, against the observed one."""
    ds = comparison
    accounts = [str(a) for a in ds["account"].values]
    if statistic not in [str(s) for s in ds["statistic"].values]:
        ax.text(0.5, 0.5, f"{statistic} not in the comparison", ha="center", transform=ax.transAxes)
        return
    sel = ds.sel(statistic=statistic)
    rows = len(accounts) + 1
    for k, name in enumerate(accounts):
        y = rows - 1 - k
        sims = np.asarray(sel["simulated"].sel(account=name).values, dtype=float)
        _sim_band(ax, y, sims, sty.ACCOUNT_COLORS.get(name, "0.4"))
        p = float(sel["p_calibrated"].sel(account=name))
        bold = "bold" if p < float(ds.attrs.get("alpha", 0.05)) else "normal"
        ax.text(
            1.01,
            y,
            f"p = {sty.fmt_p(p)}",
            transform=ax.get_yaxis_transform(),
            fontsize=6,
            va="center",
            fontweight=bold,
        )
    split_var = {"reliability": "observed_split_r_reliability"}.get(
        statistic, f"observed_split_{statistic}"
    )
    if split_var in ds:
        _sim_band(
            ax, 0, np.asarray(ds[split_var].values, dtype=float), sty.OBSERVED_COLOR, height=0.35
        )
    obs = float(sel["observed"].isel(account=0))
    if np.isfinite(obs):
        ax.axvline(obs, color=sty.OBSERVED_COLOR, lw=1.0, ls="--", zorder=0)
    ax.set_yticks(range(rows), ["observed\n(over splits)", *accounts[::-1]])
    ax.set_ylim(-0.6, rows - 0.4)
    ax.margins(x=0.06)
    ax.set_xlabel(f"{xlabel}, median over splits")
    ax.set_title(f"Accounts: {ds.sizes['sim']} simulations each", loc="left")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


#: split-statistic panels: (variable, its p-value variable, x label, title)
_SPLIT_PANELS = [
    ("r_tau_reversal", "p_tau_reversal", "r(τ half B, reversal half A)", "τ vs reversal point"),
    (
        "r_reliability",
        "p_reliability",
        "r(reversal half A, half B)",
        "Reliability of reversal points",
    ),
    ("anova_f", "anova_p", "F (fold τ across units)", "Diversity of τ (fold ANOVA)"),
]


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
    check_fit(fit)
    present = [p for p in _SPLIT_PANELS if p[0] in fit]
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
            _split_histogram(ax, fit, finite, pname, alpha)
            if name.startswith("r_"):
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
                ax.set_xlim(min(-0.05, finite.min() - 0.05), max(1.0, finite.max() + 0.05))
            elif "anova_df1" in fit and "anova_df2" in fit:
                _critical_f(ax, fit, alpha)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("Splits" if k == 0 else "")
            ax.set_title(title, loc="left")
            sty.panel_label(ax, "abc"[k])
    return fig


def _split_histogram(ax, fit, finite, pname, alpha) -> None:
    """Histogram of one statistic over splits: median, 5-95% band and share of p < alpha."""
    lo, med, hi = np.percentile(finite, [5, 50, 95])
    bins = int(np.clip(np.sqrt(finite.size) * 1.5, 10, 40))
    ax.axvspan(lo, hi, color=sty.OKABE_ITO["sky_blue"], alpha=0.25, lw=0)
    ax.hist(
        finite,
        bins=bins,
        color=sty.OKABE_ITO["blue"],
        alpha=0.85,
        edgecolor="white",
        linewidth=0.3,
    )
    ax.axvline(med, color="k", lw=1.2)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.7)
    pv = np.asarray(fit[pname].values, dtype=float) if pname in fit else np.array([])
    pv = pv[np.isfinite(pv)]
    frac = f"\np < {alpha:g}: {100 * np.mean(pv < alpha):.0f}% of splits" if pv.size else ""
    ax.text(
        0.98,
        0.98,
        f"median {med:.2f}\n5–95%: {lo:.2f} to {hi:.2f}{frac}\n{finite.size} splits",
        transform=ax.transAxes,
        va="top",
        ha="right",
        fontsize=6.5,
        bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0),
    )


def _critical_f(ax, fit, alpha) -> None:
    """The critical F at ``alpha`` for the median degrees of freedom over splits."""
    from scipy import stats

    d1 = np.nanmedian(fit["anova_df1"].values.astype(float))
    d2 = np.nanmedian(fit["anova_df2"].values.astype(float))
    if d1 > 0 and d2 > 0:
        crit = float(stats.f.isf(alpha, d1, d2))
        ax.axvline(crit, color=sty.OKABE_ITO["vermillion"], lw=0.9, ls="--")
        ax.text(
            crit,
            0.55,
            f" F crit ({alpha:g})\n df {d1:g}, {d2:g}",
            transform=ax.get_xaxis_transform(),
            fontsize=6,
            ha="left",
            color=sty.OKABE_ITO["vermillion"],
            va="top",
        )


def plot_comparison(comparison, *, statistics: Sequence[str] | None = None, ncols: int = 4):
    """Observed statistics against each account's simulated distribution (small multiples).

    Parameters
    ----------
    comparison : xarray.Dataset
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
    ds = comparison
    names = [str(s) for s in ds["statistic"].values]
    computable = dict(zip(names, np.asarray(ds["computable"].values, dtype=bool)))
    stats_ = [s for s in (statistics or names) if computable.get(s, False)]
    if not stats_:
        raise ConfigError(
            "at least one computable statistic",
            found="none",
            remedy="see the comparison's 'reason' variable",
        )
    accounts = [str(a) for a in ds["account"].values]
    ncols = int(min(ncols, len(stats_)))
    nrows = int(np.ceil(len(stats_) / ncols))
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 0.35 + nrows * (0.35 + 0.28 * len(accounts)))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(stats_):
                ax.set_visible(False)
                continue
            _statistic_panel(ax, ds, stats_[k], accounts, first_column=k % ncols == 0)
        fig.suptitle(
            f"Observed (◆) vs simulated per account: box 5–95%, bar median, line range "
            f"({ds.sizes['sim']} simulations each); right: calibrated p (bold < "
            f"{ds.attrs.get('alpha', 0.05):g})",
            fontsize=7.5,
            x=0.01,
            ha="left",
        )
    return fig


def _statistic_panel(ax, ds, statistic, accounts, *, first_column) -> None:
    """One statistic: a row per account (simulated band, observed diamond, calibrated p)."""
    sel = ds.sel(statistic=statistic)
    obs = np.asarray(sel["observed"].values, dtype=float)
    rows = len(accounts)
    for a, name in enumerate(accounts):
        _account_row(ax, ds, sel, name, rows - 1 - a, obs[a])
    if np.allclose(obs, obs[0], equal_nan=True) and np.isfinite(obs[0]):
        ax.axvline(obs[0], color=sty.OBSERVED_COLOR, lw=0.8, ls="--", zorder=0)
    ax.set_yticks(range(rows), accounts[::-1] if first_column else [""] * rows)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.margins(x=0.08)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_title(
        STATISTIC_LABELS.get(statistic, statistic.replace("_", " ")), loc="left", fontsize=7
    )
    ax.tick_params(axis="x", labelsize=6)


def _account_row(ax, ds, sel, name, y, observed) -> None:
    """One account's row of a statistic panel."""
    color = sty.ACCOUNT_COLORS.get(name, "0.4")
    _sim_band(
        ax, y, np.asarray(sel["simulated"].sel(account=name).values, float), color, height=0.55
    )
    ax.plot(
        [observed],
        [y],
        marker="D",
        ms=3.5,
        color=sty.OBSERVED_COLOR,
        zorder=5,
        clip_on=False,
    )
    p = float(sel["p_calibrated"].sel(account=name))
    ax.text(
        1.05,
        y,
        sty.fmt_p(p),
        transform=ax.get_yaxis_transform(),
        fontsize=5.8,
        va="center",
        fontweight="bold" if p < ds.attrs.get("alpha", 0.05) else "normal",
    )
