"""Figures and the report section of the trial-by-trial learning models.

Examples
--------
>>> import dopafit
>>> from dopafit.report._learning import plot_model_counts
>>> ds = dopafit.simulate_learning("flip", n_units=4, n_trials=300, seed=1)
>>> fit = dopafit.fit_learning(ds, n_starts=2, cv_blocks=0)
>>> len(plot_model_counts(fit).axes)
1
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dopafit.errors import NoDataError
from dopafit.report import _style as sty

__all__ = [
    "SHORT",
    "check_learning",
    "example_units",
    "plot_learning_curves",
    "plot_tau_learning_scaling",
    "plot_model_counts",
    "learning_figures",
]

#: the models' codes (Muller et al. 2024), for compact labels
SHORT = {
    "classical": "SL-SS",
    "asymmetric_learning": "AL-SS",
    "asymmetric_scaling": "SL-AS",
    "asymmetric_both": "AL-AS",
}


def check_learning(learning) -> xr.Dataset:
    """Raise :class:`NoDataError` unless ``learning`` is an output of ``fit_learning``."""
    needed = ("eta_pos", "tau_learning", "best_model", "identifiable", "value")
    if not isinstance(learning, xr.Dataset) or any(n not in learning for n in needed):
        raise NoDataError(
            "a learning-model fit (dopafit.fit_learning, or the 'learning' group of a batch "
            "output)",
            found=type(learning).__name__
            if not isinstance(learning, xr.Dataset)
            else f"a Dataset without {[n for n in needed if n not in learning]}",
        )
    return learning


def example_units(learning: xr.Dataset, n: int = 3) -> list[int]:
    """Up to ``n`` units to show: identifiable under their best model, most trials first."""
    best = learning["best_model"].values
    models = list(learning["model"].values)
    ident = np.array(
        [
            bool(learning["identifiable"].values[models.index(b), u]) if b in models else False
            for u, b in enumerate(best)
        ]
    )
    fitted = np.array([b in models for b in best])
    n_obs = learning["n_obs"].values
    order = np.lexsort((-n_obs, ~ident, ~fitted))  # identifiable, then most trials
    return [int(u) for u in order[:n] if fitted[u]]


def plot_learning_curves(learning: xr.Dataset, responses: xr.Dataset | None = None, n: int = 3):
    """Responses of example units trial by trial with their best model's fit and values.

    Returns
    -------
    matplotlib.figure.Figure
        One column per unit. Top: responses (dots, when ``responses`` is given) and the
        best model's expected response (line). Bottom: the utility of each reward (dots) and
        the fitted value of each context (lines) before every trial's update.
    """
    check_learning(learning)
    units = example_units(learning, n)
    if not units:
        raise NoDataError("at least one unit with a learning fit", found="none fitted")
    models = list(learning["model"].values)
    contexts = list(learning["context"].values)
    colors = [
        sty.OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange", "sky_blue")
    ]
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN, 3.6)
        axes = fig.subplots(2, len(units), sharex="col", squeeze=False)
        for col, u in enumerate(units):
            best = str(learning["best_model"].values[u])
            m = models.index(best)
            sel = learning.isel(unit=u, model=m)
            trial = np.arange(learning.sizes["trial"])
            keep = np.isfinite(sel["utility"].values)
            top, bottom = axes[0, col], axes[1, col]
            y = _unit_responses(learning, responses, u)
            if y is not None:
                top.plot(trial[keep], y[keep], ".", color="0.65", ms=2.2, label="response")
            top.plot(
                trial[keep],
                sel["predicted"].values[keep],
                ".",
                color=sty.OKABE_ITO["vermillion"],
                ms=1.8,
                label=f"{SHORT.get(best, best)} expected",
            )
            top.set_title(_unit_title(learning, sel, u, best), loc="left", fontsize=7)
            bottom.plot(trial[keep], sel["utility"].values[keep], ".", color="0.7", ms=1.6)
            ctx = learning["trial_context"].isel(unit=u).values
            value = sel["value"].values
            for k, label in enumerate(contexts):
                mask = keep & (ctx == k)
                if not np.any(mask):
                    continue
                bottom.plot(
                    trial[mask],
                    value[mask],
                    color=colors[k % len(colors)],
                    lw=1.0,
                    label=f"value: {label}",
                )
            top.set_ylabel(sty.response_label(learning) if col == 0 else "")
            bottom.set_ylabel("Utility / value" if col == 0 else "")
            bottom.set_xlabel("Trial")
            if col == 0:
                top.legend(loc="upper right", fontsize=6)
                bottom.legend(loc="upper right", fontsize=6)
        sty.panel_label(axes[0, 0], "a")
    return fig


def _unit_responses(learning, responses, u):
    """The responses of learning unit ``u`` (matched on session and unit id), or None."""
    if responses is None:
        return None
    keys = ("session", "unit_id")
    if all(k in learning.coords and k in responses.coords for k in keys):
        match = np.nonzero(
            (responses["session"].values == learning["session"].values[u])
            & (responses["unit_id"].values == learning["unit_id"].values[u])
        )[0]
        if match.size != 1:
            return None
        row = int(match[0])
    else:
        row = u
    y = responses["response"].isel(unit=row).values
    n = learning.sizes["trial"]
    out = np.full(n, np.nan)
    out[: min(n, y.size)] = y[:n]
    return out


def _unit_title(learning, sel, u, best) -> str:
    name = str(learning["unit_id"].values[u]) if "unit_id" in learning.coords else str(u)
    if not bool(sel["identifiable"]):
        return f"{name}: learning rates not identifiable"
    if np.isfinite(float(sel["tau_learning"])) and best in (
        "asymmetric_learning",
        "asymmetric_both",
    ):
        return (
            f"{name}: η⁺ {float(sel['eta_pos']):.2f}, η⁻ {float(sel['eta_neg']):.2f}, "
            f"τ_learning {float(sel['tau_learning']):.2f}"
        )
    return f"{name}: η {float(sel['eta_pos']):.2f} ({SHORT.get(best, best)})"


def plot_tau_learning_scaling(learning: xr.Dataset, model: str = "asymmetric_both"):
    """τ_learning against τ_scaling per unit under a model with both asymmetries.

    Units whose learning rates are identifiable are drawn with their intervals; the others
    have no τ_learning: their τ_scaling is shown as ticks below the axis.
    """
    check_learning(learning)
    if model not in learning["model"].values:
        raise NoDataError(
            f"a learning fit with the model {model!r}",
            found=f"models {list(learning['model'].values)}",
            remedy="fit model='all' (or asymmetric_both)",
        )
    sel = learning.sel(model=model)
    tl, ts = sel["tau_learning"].values, sel["tau_scaling"].values
    ok = np.isfinite(tl) & np.isfinite(ts)
    with sty.style():
        fig = sty.new_figure(sty.SINGLE_COLUMN, 2.9)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="0.75", lw=0.8, ls="--", zorder=0)
        ax.axhline(0.5, color="0.85", lw=0.6, zorder=0)
        ax.axvline(0.5, color="0.85", lw=0.6, zorder=0)
        if ok.any():
            _tau_intervals(ax, sel, ok)
        flat = np.isfinite(ts) & ~ok
        if flat.any():  # their tau_scaling is still estimated: a rug below the axis
            ax.plot(
                np.clip(ts[flat], 0, 1),
                np.full(flat.sum(), -0.03),
                "|",
                color="0.55",
                ms=6,
                clip_on=False,
                label="τ_learning not identifiable",
            )
            ax.legend(loc="upper left", fontsize=6)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("τ_scaling = α⁺/(α⁺+α⁻)")
        ax.set_ylabel("τ_learning = η⁺/(η⁺+η⁻)")
        n_flat = int(np.isfinite(ts).sum() - ok.sum())
        ax.set_title(
            f"{SHORT.get(model, model)}: {int(ok.sum())} units; {n_flat} with learning "
            "rates not identifiable (ticks: their τ_scaling)",
            loc="left",
            fontsize=6.5,
        )
    return fig


def _tau_intervals(ax, sel, ok) -> None:
    """τ_learning against τ_scaling with both intervals, for the units in ``ok``."""
    tl, ts = sel["tau_learning"].values, sel["tau_scaling"].values
    ax.errorbar(
        ts[ok],
        tl[ok],
        xerr=np.abs(
            np.vstack([ts - sel["tau_scaling_lo"].values, sel["tau_scaling_hi"].values - ts])[:, ok]
        ),
        yerr=np.abs(
            np.vstack([tl - sel["tau_learning_lo"].values, sel["tau_learning_hi"].values - tl])[
                :, ok
            ]
        ),
        fmt="o",
        ms=3,
        color=sty.OKABE_ITO["blue"],
        ecolor="0.6",
        elinewidth=0.6,
    )


def plot_model_counts(learning: xr.Dataset, recovery: xr.Dataset | None = None):
    """a: how many units each model wins (and how many of those have identifiable learning
    rates); b: the model-confusion matrix of a recovery run, when given."""
    check_learning(learning)
    models = list(learning["model"].values)
    best = learning["best_model"].values
    ident = learning["identifiable"].values
    wins = np.array([np.sum(best == m) for m in models])
    wins_ident = np.array([np.sum((best == m) & ident[i]) for i, m in enumerate(models)])
    with sty.style():
        fig = sty.new_figure(sty.DOUBLE_COLUMN if recovery is not None else sty.SINGLE_COLUMN, 2.5)
        axes = fig.subplots(1, 2 if recovery is not None else 1, squeeze=False)[0]
        ax = axes[0]
        x = np.arange(len(models))
        ax.bar(x, wins, color="0.8", label="best model")
        ax.bar(x, wins_ident, color=sty.OKABE_ITO["blue"], label="… learning rates identifiable")
        ax.set_xticks(x, [SHORT.get(m, m) for m in models])
        ax.set_ylabel("Units")
        ax.set_title(f"Best model ({str(learning.attrs.get('select', '?')).upper()})", loc="left")
        ax.legend(loc="upper left", fontsize=6)
        if recovery is not None:
            ax_b = axes[1]
            conf = recovery["confusion"].values
            rec_models = list(recovery["model"].values)
            im = ax_b.imshow(conf, vmin=0, vmax=1, cmap="Blues")
            for i in range(conf.shape[0]):
                for j in range(conf.shape[1]):
                    if np.isfinite(conf[i, j]):
                        ax_b.text(
                            j,
                            i,
                            f"{conf[i, j]:.2f}",
                            ha="center",
                            va="center",
                            fontsize=6.5,
                            color="white" if conf[i, j] > 0.6 else "black",
                        )
            labels = [SHORT.get(m, m) for m in rec_models]
            ax_b.set_xticks(range(len(labels)), labels)
            ax_b.set_yticks(range(len(labels)), labels)
            ax_b.set_xlabel("Chosen model")
            ax_b.set_ylabel("Simulated model")
            ax_b.set_title("Model recovery on this recording's trials", loc="left")
            fig.colorbar(im, ax=ax_b, shrink=0.8, label="Fraction of units")
            sty.panel_label(ax_b, "b")
        sty.panel_label(ax, "a")
    return fig


def learning_figures(learning, responses=None, recovery=None) -> tuple[dict, dict]:
    """The learning figures the inputs allow, and why any was not made."""
    figs: dict = {}
    notes: dict = {}
    if learning is None:
        reason = "no learning models were fitted (dopafit fit --learning all)"
        for name in ("learning_curves", "tau_learning_scaling", "learning_models"):
            notes[name] = reason
        return figs, notes
    for name, make in (
        ("learning_curves", lambda: plot_learning_curves(learning, responses)),
        ("tau_learning_scaling", lambda: plot_tau_learning_scaling(learning)),
        ("learning_models", lambda: plot_model_counts(learning, recovery)),
    ):
        try:
            figs[name] = make()
        except NoDataError as exc:
            notes[name] = str(exc)
    return figs, notes


CAPTIONS = {
    "learning_curves": (
        "Example units (identifiable learning rates first), trial by trial. Top: the response "
        "on each trial (grey) and the response the unit's best model expects (orange). Bottom: "
        "the utility of each reward (grey) and the fitted value of each context before the "
        "trial's update (lines): the prediction error is their difference."
    ),
    "tau_learning_scaling": (
        "Asymmetry of learning (τ_learning = η⁺/(η⁺+η⁻), from the trial-by-trial dynamics) "
        "against asymmetry of response scaling (τ_scaling = α⁺/(α⁺+α⁻), the static analysis's "
        "τ) under the model with both, with their intervals; only units whose learning rates "
        "the data pin are shown. Distributional TD as a learning rule predicts spread along "
        "the vertical axis; asymmetric scaling alone, spread along the horizontal one. Ticks "
        "below the axis: τ_scaling of the units whose learning rates are not identifiable."
    ),
    "learning_models": (
        "<b>a</b>, units whose best model each one is (grey), and of those the units whose "
        "learning rates are identifiable (blue). <b>b</b>, model recovery: each model was "
        "simulated with the parameters fitted to this recording on its own trials and noise, "
        "and all models were fitted again; each row shows how often each model was chosen. "
        "A diagonal far below 1 means this task cannot tell those models apart."
    ),
}


def section_html(learning, recovery, figs, notes, embed) -> str:
    """The report's "Learning models" section (figures from :func:`learning_figures`)."""
    from dopafit.fit.learning import learning_summary
    from dopafit.report.html import _e, _figure

    if learning is None:
        return f'<p class="note">{_e(notes.get("learning_curves", "Not fitted."))}</p>'
    summary = learning_summary(learning)
    n_unit = learning.sizes["unit"]
    fitted = np.isfinite(learning["loglik"].values).any(axis=0)
    ident_any = learning["identifiable"].values.any(axis=0)
    out = [
        f"<p>{int(fitted.sum())} of {n_unit} units fitted with {len(summary)} model(s) "
        f"({', '.join(_e(SHORT.get(m, m)) for m in summary.index)}); best model by "
        f"{_e(str(learning.attrs.get('select', '?')).upper())}; {int(ident_any.sum())} units have "
        "identifiable learning rates under at least one model.</p>",
        _not_identifiable_note(learning, fitted),
        _models_table(summary),
    ]
    for name in ("learning_curves", "tau_learning_scaling", "learning_models"):
        out.append(_figure(figs, name, CAPTIONS[name], embed, notes))
    return "\n".join(out)


def _not_identifiable_note(learning, fitted) -> str:
    """A warning naming how many fitted units have learning rates the data cannot pin."""
    asym = [m for m in ("asymmetric_learning", "asymmetric_both") if m in learning["model"].values]
    if not asym:
        return ""
    ident_asym = learning["identifiable"].sel(model=asym).values.any(axis=0)
    n_flat = int(np.sum(fitted & ~ident_asym))
    if not n_flat:
        return ""
    return (
        f'<p class="warn">The data cannot pin the learning rates of {n_flat} of '
        f"{int(fitted.sum())} units under the asymmetric-learning models (typical of "
        "a stationary task, where the values settle and stay): no learning asymmetry "
        "is reported for them.</p>"
    )


def _models_table(summary) -> str:
    """One row per model: units fitted, identifiable and best, median taus, CV and p."""
    from dopafit.report.html import _e, _num, _p, _table

    rows = [
        [
            _e(f"{m} ({SHORT.get(m, m)})"),
            str(int(r["n_fitted"])),
            str(int(r["n_identifiable"])),
            str(int(r["n_best"])),
            _num(r["median_tau_learning"]),
            _num(r["median_tau_scaling"]),
            _num(r.get("cv_vs_classical", np.nan)),
            _p(r.get("p_vs_classical", np.nan)),
        ]
        for m, r in summary.iterrows()
    ]
    header = [
        "model",
        "fitted",
        "identifiable",
        "best",
        "median τ_learning",
        "median τ_scaling",
        "CV vs classical (median)",
        "p (Wilcoxon)",
    ]
    return _table(header, rows)
