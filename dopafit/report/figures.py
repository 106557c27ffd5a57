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

import xarray as xr

from dopafit.errors import ConfigError
from dopafit.report import _style as sty
from dopafit.report._decoded import plot_decoded_distribution
from dopafit.report._discounting import DISCOUNTING_FIGURES, discounting_figures
from dopafit.report._population import (
    STATISTIC_LABELS,
    plot_comparison,
    plot_split_distributions,
    plot_tau_reversal,
)
from dopafit.report._units import plot_response_curves, plot_response_grid
from dopafit.report.data import decode_fit

__all__ = [
    "FIGURES",
    "STATISTIC_LABELS",
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
    "learning_curves": "example units trial by trial: responses, best-model fit and values",
    "tau_learning_scaling": "tau_learning vs tau_scaling per unit (identifiable units)",
    "learning_models": "best-model counts and the model-confusion matrix of a recovery run",
    **DISCOUNTING_FIGURES,
}


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
    learning=None,
    learning_recovery=None,
    discounting=None,
    discount_responses=None,
    timing=None,
) -> tuple[dict, dict]:
    """Build every figure the inputs allow.

    Parameters
    ----------
    fit, responses, comparison
        See :func:`save_figures` (``fit`` None: only the discounting figures).
    learning, learning_recovery : xarray.Dataset, optional
        A learning-model fit and its model recovery: adds the learning figures.
    discounting, discount_responses, timing : xarray.Dataset, optional
        A discounting fit, its cue-aligned responses and a timing decoding: adds the
        discounting figures (:mod:`dopafit.report._discounting`).
    decode : bool or xarray.Dataset, default True
        Decode the reward distribution (or use the given decoding); False skips the figure.
    reward_values, reward_probabilities, decode_kwargs, max_grid_units
        See :func:`save_figures`.

    Returns
    -------
    figures : dict
        name (a key of :data:`FIGURES`) -> Figure, in report order.
    notes : dict
        name -> why a figure was not made (and ``"decode"`` -> the decoding Dataset when made).
    """

    figs: dict = {}
    notes: dict = {}
    if fit is not None:
        _expectile_figures(
            figs,
            notes,
            fit,
            responses,
            comparison,
            decode=decode,
            reward_values=reward_values,
            reward_probabilities=reward_probabilities,
            decode_kwargs=decode_kwargs,
            max_grid_units=max_grid_units,
        )
    from dopafit.report._learning import learning_figures

    more, why = learning_figures(learning, responses, learning_recovery)
    figs.update(more)
    notes.update(why)
    if discounting is not None:
        more, why = discounting_figures(
            discounting, discount_responses, timing, decode=decode is not False
        )
        figs.update(more)
        notes.update(why)
    return figs, notes


def _expectile_figures(
    figs,
    notes,
    fit,
    responses,
    comparison,
    *,
    decode,
    reward_values,
    reward_probabilities,
    decode_kwargs,
    max_grid_units,
) -> None:
    """The figures of an expectile fit (and of its comparison of accounts), added in place."""
    from dopafit.errors import DopafitError

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
            result = (
                decode
                if decode is not True
                else decode_fit(
                    fit,
                    reward_values=reward_values,
                    reward_probabilities=reward_probabilities,
                    **(decode_kwargs or {}),
                )
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
    discounting=None,
    discount_responses=None,
    timing=None,
) -> dict[str, list[Path]]:
    """Write every figure as ``OUTDIR/<name>.<format>`` (for papers).

    Parameters
    ----------
    fit : xarray.Dataset or None
        Output of :func:`dopafit.fit_expectiles` (None with ``discounting``: only the
        discounting figures).
    responses : xarray.Dataset or None
        The responses the fit was made from (SEM bars need them).
    outdir : path-like
        Folder (created).
    formats : sequence of str, default ("png", "svg")
        Any of ``png`` (300 dpi), ``svg``, ``pdf``.
    comparison : xarray.Dataset, optional
        Adds the comparison figure and the account bands of the tau-reversal figure.
    decode : bool or xarray.Dataset, default True
        Decode the reward distribution (or use a decoding); False skips that figure.
    reward_values, reward_probabilities : array_like, optional
        The task's reward distribution (default: empirical trial proportions).
    decode_kwargs : dict, optional
        Passed to :func:`dopafit.decode_distribution`.
    max_grid_units : int, default 48
        Most units in the per-unit grid.
    discounting : xarray.Dataset, optional
        A discounting fit (:func:`dopafit.fit_discounting`): adds its figures.
    discount_responses : xarray.Dataset, optional
        Its cue-aligned responses (SEM bars, simulated truth).
    timing : xarray.Dataset, optional
        A timing decoding (:func:`dopafit.decode_timing`): adds its figure.

    Returns
    -------
    dict
        Figure name (see :data:`FIGURES`) -> the paths written.

    Examples
    --------
    >>> import dopafit
    >>> responses = dopafit.simulate_responses(n_units=10, seed=0)
    >>> fit = dopafit.fit_expectiles(responses, n_splits=20, n_boot=20, seed=0)
    >>> paths = dopafit.save_figures(fit, responses, "figures", formats=("png",), decode=False)
    >>> sorted(paths)
    ['response_curves', 'response_grid', 'split_distributions', 'tau_reversal']
    >>> [p.as_posix() for p in paths["tau_reversal"]]
    ['figures/tau_reversal.png']
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
        discounting=discounting,
        discount_responses=discount_responses,
        timing=timing,
    )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return {
        name: [save_figure(fig, outdir / f"{name}.{fmt}") for fmt in formats]
        for name, fig in figs.items()
    }
