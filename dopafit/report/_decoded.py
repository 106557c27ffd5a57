"""The decoded reward distribution against the task's."""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit.report import _style as sty
from dopafit.report.data import check_fit, decode_fit

__all__ = ["plot_decoded_distribution"]

#: colours of the decoded and of the task distribution
_DECODED = sty.OKABE_ITO["vermillion"]
_TASK = "0.15"


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
    result : xarray.Dataset, optional
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
    curves = _decoded_curves(result, bandwidth)
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.6)
        ax_a, ax_b = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
        _density_panel(ax_a, fit, result, curves)
        _cumulative_panel(ax_b, fit, result, curves)
        sty.panel_label(ax_a, "a")
        sty.panel_label(ax_b, "b")
    return fig


def _decoded_curves(result, bandwidth) -> dict:
    """What both panels draw: the task's distribution, the samples and the smoothed densities."""
    values = np.asarray(result["true_value"].values, dtype=float)
    probs = np.asarray(result["true_probability"].values, dtype=float)
    probs = probs / probs.sum()
    samples = result.dopafit.samples
    lo, hi = (float(b) for b in result.attrs["bounds"])
    h = float(bandwidth) if bandwidth else 0.04 * (hi - lo)
    grid = np.linspace(lo - 3 * h, hi + 3 * h, 600)
    t_mean = float(np.sum(values * probs))
    return {
        "values": values,
        "probs": probs,
        "samples": samples,
        "lo": lo,
        "hi": hi,
        "h": h,
        "grid": grid,
        "dens_dec": _density(samples, np.ones(samples.size), grid, h),
        "dens_true": _density(values, probs, grid, h),
        "t_mean": t_mean,
        "t_sd": float(np.sqrt(np.sum(probs * (values - t_mean) ** 2))),
    }


def _density_panel(ax, fit, result, c) -> None:
    """Panel a: decoded and task densities (same kernel), samples as a rug, task stems."""
    grid, dens_dec, dens_true, samples = c["grid"], c["dens_dec"], c["dens_true"], c["samples"]
    ax.fill_between(grid, dens_dec, color=_DECODED, alpha=0.25, lw=0)
    ax.plot(grid, dens_dec, color=_DECODED, lw=1.3, label=f"decoded ({samples.size} samples)")
    ax.plot(
        grid,
        dens_true,
        color=_TASK,
        lw=1.1,
        ls="--",
        label=f"task ({result.attrs.get('truth', 'given')})",
    )
    ymax = max(dens_dec.max(), dens_true.max())
    ax.plot(samples, np.full(samples.size, -0.04 * ymax), "|", color=_DECODED, ms=5, mew=0.6)
    twin = ax.twinx()
    twin.vlines(c["values"], 0, c["probs"], color="0.55", lw=1.0)
    twin.plot(c["values"], c["probs"], "o", color="0.55", ms=2.5)
    twin.set_ylim(0, c["probs"].max() * 2.6)
    twin.set_ylabel("Task probability (stems)", color="0.45")
    twin.tick_params(axis="y", colors="0.45")
    twin.spines["right"].set_visible(True)
    twin.spines["right"].set_color("0.6")
    ax.set_ylim(-0.08 * ymax, ymax * 1.15)
    ax.set_xlabel(sty.reward_label(fit))
    ax.set_ylabel(f"Density (Gaussian smoothing, h = {c['h']:.2g})")
    ax.legend(loc="upper right", fontsize=6.5)
    ax.set_title(
        f"Decoded from {result.attrs.get('n_units_used', result.sizes['pair'])} units' "
        "(τ, reversal point)",
        loc="left",
    )


def _cumulative_panel(ax, fit, result, c) -> None:
    """Panel b: cumulative distributions, with means, SDs and Wasserstein-1 distances."""
    values, probs, samples = c["values"], c["probs"], c["samples"]
    order = np.argsort(values)
    ax.step(
        np.r_[c["lo"], values[order], c["hi"]],
        np.r_[0, np.cumsum(probs[order]), 1],
        where="post",
        color=_TASK,
        lw=1.1,
        ls="--",
        label="task",
    )
    ax.step(
        np.r_[c["lo"], samples, c["hi"]],
        np.r_[0, np.arange(1, samples.size + 1) / samples.size, 1],
        where="post",
        color=_DECODED,
        lw=1.3,
        label="decoded",
    )
    ax.set_xlabel(sty.reward_label(fit))
    ax.set_ylabel("Cumulative probability")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=6.5)
    dist = result.dopafit.distances()
    w1 = "\n".join(
        f"  {name}: {dist[key]:.2f}"
        for key, name in (("truth", "task"), ("uniform", "uniform"), ("gaussian", "Gaussian"))
        if key in dist
    )
    ax.text(
        0.97,
        0.04,
        f"mean: decoded {result.dopafit.mean:.2f}, task {c['t_mean']:.2f}\n"
        f"SD: decoded {result.dopafit.sd:.2f}, task {c['t_sd']:.2f}\n"
        f"Wasserstein-1 distance to\n{w1}",
        transform=ax.transAxes,
        va="bottom",
        ha="right",
        fontsize=6.3,
        ma="left",
        bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0),
    )
    ax.set_title("Cumulative distributions", loc="left")
