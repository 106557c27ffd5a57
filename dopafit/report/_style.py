"""House style of dopafit figures: sizes, fonts, colour-blind-safe colours, axis labels.

Matplotlib is imported inside the functions only. Figures are built with
:class:`matplotlib.figure.Figure` and an explicit Agg canvas, so making a figure never
changes the pyplot backend or state of the calling program (a notebook keeps its backend).

Colours
-------
Categories (accounts, observed vs simulated) use the Okabe & Ito (2008) palette, which stays
distinguishable under the common colour-vision deficiencies. Continuous values (tau) use
``viridis`` truncated to its first 85% (the last, pale yellow, is hard to see on white);
viridis is perceptually uniform and readable in grey scale.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = [
    "OKABE_ITO",
    "ACCOUNT_COLORS",
    "OBSERVED_COLOR",
    "SINGLE_COLUMN",
    "DOUBLE_COLUMN",
    "RC",
    "style",
    "new_figure",
    "tau_cmap",
    "tau_color",
    "pretty_units",
    "axis_label",
    "axis_short",
    "response_label",
    "reward_label",
    "panel_label",
    "fmt_p",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
ACCOUNT_COLORS = {
    "classical": OKABE_ITO["blue"],
    "bias": OKABE_ITO["orange"],
    "distributional": OKABE_ITO["bluish_green"],
    "sigmoid": OKABE_ITO["reddish_purple"],
}
OBSERVED_COLOR = OKABE_ITO["black"]
_EXTRA = [OKABE_ITO[k] for k in ("vermillion", "sky_blue", "yellow", "grey")]

#: figure widths in inches (Nature: 89 mm single column, 183 mm double column)
SINGLE_COLUMN = 89 / 25.4
DOUBLE_COLUMN = 183 / 25.4

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "legend.fontsize": 7.0,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.7,
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.0,
    "errorbar.capsize": 0.0,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    # text stays text in SVG/PDF (editable in vector editors; fonts embedded as TrueType)
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "dopafit",
}


@contextlib.contextmanager
def style():
    """Context manager applying :data:`RC` (and the Okabe-Ito colour cycle)."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(RC)
    rc["axes.prop_cycle"] = cycler(color=[*ACCOUNT_COLORS.values(), *_EXTRA])
    with mpl.rc_context(rc):
        yield


def new_figure(width: float, height: float, **kwargs):
    """A :class:`~matplotlib.figure.Figure` with an Agg canvas (no pyplot state).

    Call inside :func:`style` so that the figure picks up the house rc parameters.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kwargs.setdefault("layout", "constrained")
    fig = Figure(figsize=(width, height), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def tau_cmap():
    """Colour map of tau: viridis truncated to [0, 0.85]."""
    import matplotlib as mpl
    from matplotlib.colors import ListedColormap

    base = mpl.colormaps["viridis"]
    return ListedColormap(base(np.linspace(0.0, 0.85, 256)), name="dopafit_tau")


def tau_color(tau: float):
    """RGBA colour of one tau value (clipped to [0, 1]; grey when not finite)."""
    if not np.isfinite(tau):
        return (0.6, 0.6, 0.6, 1.0)
    return tau_cmap()(float(np.clip(tau, 0.0, 1.0)))


def pretty_units(units: str | None) -> str:
    """Display form of a units string (``ul`` -> ``µl``, ``Hz`` kept)."""
    if not units:
        return ""
    text = str(units)
    return {"ul": "µl", "uL": "µl", "microliter": "µl", "microlitre": "µl"}.get(text, text)


def _attr(fit, *names, default=""):
    for name in names:
        value = fit.attrs.get(name)
        if value not in (None, ""):
            return value
    return default


def reward_label(fit) -> str:
    """``Reward (µl)`` from the fit's attrs."""
    units = pretty_units(_attr(fit, "responses_reward_units", "reward_units"))
    return f"Reward ({units})" if units else "Reward"


def response_label(fit) -> str:
    """Label of the response axis, e.g. ``Response (Δ spikes/s)`` or ``Response (z)``."""
    if fit.attrs.get("axis") == "zscore":
        return "Response (z-scored per unit)"
    units = pretty_units(_attr(fit, "responses_response_units", "response_units"))
    return f"Response (Δ {units} from baseline)" if units else "Response"


def axis_label(fit) -> str:
    """Label of the fit's axis (where reversal points live), with its units."""
    name = str(fit.attrs.get("axis", ""))
    units = pretty_units(_attr(fit, "axis_units"))
    if name == "utility":
        return f"Utility: population mean response ({units})" if units else "Utility"
    if name in ("reward", "zscore"):
        return reward_label(fit)
    return f"Axis value ({name}{', ' + units if units else ''})"


def axis_short(fit) -> str:
    """Short form of the axis for parenthesised labels: ``utility, spikes/s`` or ``µl``."""
    name = str(fit.attrs.get("axis", ""))
    if name in ("reward", "zscore"):
        return pretty_units(_attr(fit, "responses_reward_units", "reward_units")) or "reward"
    units = pretty_units(_attr(fit, "axis_units"))
    label = name if name == "utility" else f"axis {name}"
    return f"{label}, {units}" if units else label


def panel_label(ax, letter: str) -> None:
    """Bold panel letter at the top left, outside the axes (a, b, c, ... as in journals)."""
    ax.text(
        -0.02,
        1.02,
        letter,
        transform=ax.transAxes,
        fontsize=10,
        fontweight="bold",
        ha="right",
        va="bottom",
    )


def fmt_p(p: float) -> str:
    """A p-value for figure text: 2 significant digits, scientific below 0.001."""
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"
