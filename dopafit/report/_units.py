"""Per-unit figures: overlaid response curves and the per-unit panel grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.report import _style as sty
from dopafit.report.data import check_fit, fitted_mask, response_table

__all__ = ["plot_response_curves", "plot_response_grid"]


def _unit_names(fit: xr.Dataset) -> list[str]:
    ids = [str(v) for v in fit[schema.UNIT_ID].values] if schema.UNIT_ID in fit.coords else None
    if ids is None:
        return [str(u) for u in fit[schema.UNIT].values]
    if schema.SESSION in fit.coords and len(set(map(str, fit[schema.SESSION].values))) > 1:
        return [f"{s}/{u}" for s, u in zip(map(str, fit[schema.SESSION].values), ids)]
    return ids


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
    ok = fitted_mask(fit)
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
            _mean_sem(
                ax,
                x,
                table,
                u,
                order,
                color=sty.tau_color(tau[u]),
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
    est = _unit_estimates(fit)
    names = _unit_names(fit)
    multi = any("/" in n for n in names) and schema.UNIT_ID in fit.coords
    shown, note = _grid_units(fitted_mask(fit), est["reversal_point"], max_units, units)
    n = max(int(shown.size), 1)
    ncols = int(min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    x = table["axis"][order]
    xs = np.linspace(x.min(), x.max(), 200)
    with sty.style():
        row_h = panel_size + (0.12 if multi else 0.0)
        fig = sty.new_figure(panel_size * ncols + 0.4, row_h * nrows + 0.55)
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= shown.size:
                ax.set_visible(False)
                continue
            u = int(shown[k])
            head = names[u].replace("/", "\n", 1) if multi else names[u]
            _unit_panel(ax, u, head, est, table, order, xs)
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


def _unit_estimates(fit: xr.Dataset) -> dict:
    """Per-unit arrays the grid draws: tau, reversal point, slopes and edge flags."""
    z = np.asarray(fit["reversal_point"].values, dtype=float)
    return {
        "tau": np.asarray(fit["tau"].values, dtype=float),
        "reversal_point": z,
        "alpha_neg": np.asarray(fit["alpha_neg"].values, dtype=float),
        "alpha_pos": np.asarray(fit["alpha_pos"].values, dtype=float),
        "edge": np.asarray(fit["edge_reversal"].values)
        if "edge_reversal" in fit
        else np.zeros(z.size),
    }


def _grid_units(ok, z, max_units, units) -> tuple[np.ndarray, str]:
    """The units of the grid in reversal-point order, and the title's note on the choice."""
    if units is not None:
        shown = np.asarray(units, dtype=int)
        shown = shown[np.argsort(np.where(np.isfinite(z[shown]), z[shown], np.inf), kind="stable")]
        return shown, ""
    fitted = np.nonzero(ok)[0]
    fitted = fitted[np.argsort(z[fitted], kind="stable")]
    if fitted.size > max_units:
        pick = np.unique(np.round(np.linspace(0, fitted.size - 1, max_units)).astype(int))
        return fitted[pick], f" ({pick.size} of {fitted.size}, spread over the ranks)"
    return fitted, ""


def _mean_sem(ax, x, table, u, order, **style) -> None:
    """Unit ``u``'s mean response ± SEM at the magnitudes where it has one."""
    y, e = table["mean"][u, order], table["sem"][u, order]
    present = np.isfinite(y)
    yerr = None if not np.isfinite(e).any() else np.nan_to_num(e[present])
    ax.errorbar(x[present], y[present], yerr=yerr, **style)


def _unit_panel(ax, u, head, est, table, order, xs) -> None:
    """One unit: mean ± SEM, the fitted slopes through the reversal point, name and tau."""
    tau, z = est["tau"], est["reversal_point"]
    color = sty.tau_color(tau[u])
    ax.axhline(0.0, color="0.75", lw=0.5, zorder=0)
    x = table["axis"][order]
    _mean_sem(ax, x, table, u, order, ls="none", marker="o", ms=2.3, color=color, elinewidth=0.6)
    if np.isfinite(z[u]):
        line = np.where(xs >= z[u], est["alpha_pos"][u], est["alpha_neg"][u]) * (xs - z[u])
        ax.plot(xs, line, color=color, lw=0.9)
        ax.axvline(z[u], color="0.35", lw=0.6, ls="--")
    flag = " edge" if est["edge"][u] != 0 else ""
    if np.isfinite(tau[u]) and not 0 <= tau[u] <= 1:
        flag += " τ<0" if tau[u] < 0 else " τ>1"
    ax.set_title(f"{head}  τ={tau[u]:.2f}{flag}", fontsize=5.5, pad=2, linespacing=1.1)
    ax.tick_params(labelsize=5.5, length=2, pad=1)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(0.5)
