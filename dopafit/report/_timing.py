"""Figures of a timing decoding (:func:`dopafit.decode_timing`) for the report's discounting
section, and the decoding of a discounting fit's mixture cue when none is given.

Examples
--------
>>> import numpy as np, dopafit
>>> from dopafit.stats.decode_timing import fit_table
>>> g = np.linspace(0.4, 0.95, 20)
>>> res = dopafit.decode_timing(fit_table(g), values=g**3, time_grid=np.arange(7.0), n_boot=0)
>>> len(plot_timing_decoding(res).axes)
2
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import NoDataError
from dopafit.report import _style as sty
from dopafit.report._discounting import _finite, _matches, check_result, excluded_cues

__all__ = ["TRUTH_SOURCES", "plot_timing_decoding", "decode_mixture_cue"]


def plot_timing_decoding(timing: xr.Dataset):
    """a: the decoded distribution of reward times with its bootstrap band (and the true
    delays when known); b: cumulative distributions of the decoded, true and reference
    distributions with their Wasserstein-1 distances.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_result(timing, schema.TIMING_DECODING, "plot_timing_decoding")
    t = np.asarray(timing["time"].values, dtype=float)
    p = np.asarray(timing["p_time"].values, dtype=float)
    units = str(timing.attrs.get("delay_units", "s"))
    truth = "true_delay" in timing
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 2.5)
        ax, ax_b = fig.subplots(1, 2)
        step = float(np.min(np.diff(t))) if t.size > 1 else 1.0
        coarse = t.size <= 20  # a few grid times (e.g. the session's delays): bars
        _decoded_panel(ax, timing, t, p, step, coarse)
        w = timing["wasserstein"].to_series() if "wasserstein" in timing else None
        if truth:
            td = np.asarray(timing["true_delay"].values, float)
            tp = np.asarray(timing["true_probability"].values, float)
            shift = 0.3 * step if coarse else 0.0  # beside the bars, not on them
            ax.vlines(td + shift, 0, tp, color=sty.OKABE_ITO["vermillion"], lw=1.5)
            realised = timing.attrs.get("truth_source") == "trial delays"
            label = "delays of the cue's trials" if realised else "true delays"
            ax.plot(td + shift, tp, "o", ms=3, color=sty.OKABE_ITO["vermillion"], label=label)
        ax.set_xlabel(f"Time of reward after the cue ({units})")
        ax.set_ylabel("Probability per grid time")
        cue = timing.attrs.get("cue_id")
        ax.set_title(
            (f"cue {float(cue):g}: " if _finite(cue) else "")
            + f"{timing.attrs.get('n_units_used', '?')} units, mean "
            f"{float(timing.attrs.get('mean_time', np.nan)):.2f} {units}",
            loc="left",
        )
        ax.legend(loc="upper right", fontsize=6)
        label = "decoded" + (f" (W1 to truth {w['truth']:.2f})" if w is not None else "")
        pad = 0.04 * max(float(t[-1] - t[0]), 1e-9)
        x = np.concatenate([[t[0] - pad], t, [t[-1] + pad]])
        y = np.concatenate([[0.0], np.cumsum(p), [1.0]])
        ax_b.plot(x, y, color=sty.OKABE_ITO["blue"], label=label, drawstyle="steps-post")
        if truth:
            _reference_cdfs(ax_b, timing, td, tp, (float(t[0]), float(t[-1])), pad)
        ax_b.set_xlabel(f"Time ({units})")
        ax_b.set_ylabel("Cumulative probability")
        ax_b.set_ylim(0, 1.02)
        ax_b.set_xlim(float(t[0]) - pad, float(t[-1]) + pad)
        ax_b.legend(loc="lower right", fontsize=6)
        sty.panel_label(ax, "a")
        sty.panel_label(ax_b, "b")
    return fig


def _decoded_panel(ax, timing, t, p, step, coarse) -> None:
    """The decoded probabilities with their bootstrap band: bars with error bars on a coarse
    grid, a line over a shaded band on a fine one."""
    lo = np.asarray(timing["p_time_lo"].values, float) if "p_time_lo" in timing else None
    hi = np.asarray(timing["p_time_hi"].values, float) if "p_time_hi" in timing else None
    band = lo is not None and np.isfinite(lo).all() and np.isfinite(hi).all()
    blue, light = sty.OKABE_ITO["blue"], sty.OKABE_ITO["sky_blue"]
    if coarse:
        ax.bar(t, p, width=0.45 * step, color=blue, alpha=0.85, label="decoded")
        if band:
            err = np.vstack([np.maximum(p - lo, 0), np.maximum(hi - p, 0)])
            ax.errorbar(t, p, yerr=err, fmt="none", ecolor="0.3", elinewidth=0.9, label="95% band")
        ax.set_xticks(t, [f"{v:g}" for v in t])
        return
    if band:
        ax.fill_between(t, lo, hi, color=light, alpha=0.35, lw=0)
        ax.plot([], [], color=light, lw=5, alpha=0.35, label="95% band")
    ax.plot(t, p, color=blue, label="decoded")


def _reference_cdfs(ax, timing, td, tp, span, pad) -> None:
    """The truth's CDF and those of the references (each one's W1 to the truth in the legend,
    beside the decoded one's)."""
    from dopafit.stats.decode import reference_distributions

    t = (span[0] - pad, span[1] + pad)
    order = np.argsort(td)
    x = np.concatenate([[t[0]], td[order], [t[-1]]])
    y = np.concatenate([[0.0], np.cumsum(tp[order] / tp.sum()), [1.0]])
    ax.plot(x, y, color=sty.OKABE_ITO["vermillion"], drawstyle="steps-post", label="truth")
    refs = reference_distributions(td, tp / tp.sum(), span, transforms=False)
    own = timing["reference_to_truth"].to_series() if "reference_to_truth" in timing else None
    colors = iter([sty.OKABE_ITO[k] for k in ("grey", "bluish_green", "orange", "reddish_purple")])
    for name, (rv, rw) in refs.items():
        o = np.argsort(rv)
        xs = np.concatenate([[t[0]], np.asarray(rv)[o], [t[-1]]])
        ys = np.concatenate([[0.0], np.cumsum(np.asarray(rw)[o]) / np.sum(rw), [1.0]])
        extra = f" (W1 to truth {own[name]:.2f})" if own is not None and name in own else ""
        ax.plot(
            xs,
            ys,
            color=next(colors, "0.5"),
            lw=0.9,
            ls=":",
            drawstyle="steps-post",
            label=f"{name}{extra}",
        )


def decode_mixture_cue(fit: xr.Dataset, responses: xr.Dataset | None, **kwargs):
    """Decode the timing distribution of the first cue the fit left out as a mixture.

    Parameters
    ----------
    fit : xarray.Dataset
        A discounting fit (``attrs["cues_excluded"]``: cues predicting several delays).
    responses : xarray.Dataset or None
        Its cue-aligned responses.
    **kwargs
        Passed to :func:`dopafit.decode_timing`.

    Returns
    -------
    xarray.Dataset
        The decoding. Its truth (``true_delay``, ``true_probability``) is the simulated task's
        distribution when the responses record it, else the delays of the cue's trials
        (``attrs["truth_source"]``, :data:`TRUTH_SOURCES`).

    Raises
    ------
    NoDataError
        No responses matching the fit, or no mixture cue.
    FitError
        Too few usable units (from :func:`dopafit.decode_timing`).
    """
    from dopafit.stats.decode_timing import decode_timing

    cues = excluded_cues(fit)
    if not _matches(fit, responses):
        raise NoDataError(
            "the cue-aligned responses of the discounting fit, to decode a cue's timing",
            found="none",
            remedy="pass timing=dopafit.decode_timing(fit, responses, cue_id=...)",
        )
    if not cues:
        raise NoDataError(
            "a cue predicting several delays (left out of the fit) to decode",
            found="every cue predicts one delay",
            remedy="pass timing=dopafit.decode_timing(fit, responses, cue_id=...)",
        )
    kwargs.setdefault("progress", False)
    return decode_timing(fit, responses, cue_id=float(cues[0]), **kwargs)


#: how :func:`dopafit.decode_timing` found the truth (``attrs["truth_source"]``), in words
TRUTH_SOURCES = {
    "task_spec": "the simulated task",
    "trial delays": "the delays of the cue's trials",
    "given": "given",
}
