"""The decoded reward distribution against the task's."""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit.report import _style as sty
from dopafit.report.data import check_fit, decode_fit

__all__ = ["plot_decoded_distribution"]


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
    values = np.asarray(result["true_value"].values, dtype=float)
    probs = np.asarray(result["true_probability"].values, dtype=float)
    probs = probs / probs.sum()
    samples = result.dopafit.samples
    lo, hi = (float(b) for b in result.attrs["bounds"])
    h = float(bandwidth) if bandwidth else 0.04 * (hi - lo)
    grid = np.linspace(lo - 3 * h, hi + 3 * h, 600)
    dens_dec = _density(samples, np.ones(samples.size), grid, h)
    dens_true = _density(values, probs, grid, h)
    dist = result.dopafit.distances()
    t_mean = float(np.sum(values * probs))
    t_sd = float(np.sqrt(np.sum(probs * (values - t_mean) ** 2)))
    c_dec = sty.OKABE_ITO["vermillion"]
    c_true = "0.15"
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.6)
        ax_a, ax_b = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
        ax_a.fill_between(grid, dens_dec, color=c_dec, alpha=0.25, lw=0)
        ax_a.plot(grid, dens_dec, color=c_dec, lw=1.3, label=f"decoded ({samples.size} samples)")
        ax_a.plot(
            grid,
            dens_true,
            color=c_true,
            lw=1.1,
            ls="--",
            label=f"task ({result.attrs.get('truth', 'given')})",
        )
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
            f"Decoded from {result.attrs.get('n_units_used', result.sizes['pair'])} units' "
            "(τ, reversal point)",
            loc="left",
        )
        order = np.argsort(values)
        ax_b.step(
            np.r_[lo, values[order], hi],
            np.r_[0, np.cumsum(probs[order]), 1],
            where="post",
            color=c_true,
            lw=1.1,
            ls="--",
            label="task",
        )
        ax_b.step(
            np.r_[lo, samples, hi],
            np.r_[0, np.arange(1, samples.size + 1) / samples.size, 1],
            where="post",
            color=c_dec,
            lw=1.3,
            label="decoded",
        )
        ax_b.set_xlabel(sty.reward_label(fit))
        ax_b.set_ylabel("Cumulative probability")
        ax_b.set_ylim(0, 1.02)
        ax_b.legend(loc="upper left", fontsize=6.5)
        w1 = "\n".join(
            f"  {name}: {dist[key]:.2f}"
            for key, name in (("truth", "task"), ("uniform", "uniform"), ("gaussian", "Gaussian"))
            if key in dist
        )
        ax_b.text(
            0.97,
            0.04,
            f"mean: decoded {result.dopafit.mean:.2f}, task {t_mean:.2f}\n"
            f"SD: decoded {result.dopafit.sd:.2f}, task {t_sd:.2f}\n"
            f"Wasserstein-1 distance to\n{w1}",
            transform=ax_b.transAxes,
            va="bottom",
            ha="right",
            fontsize=6.3,
            ma="left",
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0),
        )
        ax_b.set_title("Cumulative distributions", loc="left")
        sty.panel_label(ax_a, "a")
        sty.panel_label(ax_b, "b")
    return fig
