"""The report's "Discounting over delay" section: overview, figures, split-half table, timing
decoding, timescale comparison and per-unit table (figures from
:mod:`dopafit.report._discounting`).

Examples
--------
>>> import dopafit
>>> from dopafit.report._discounting_section import section_html
>>> ds = dopafit.simulate_discounting(population="multi", n_units=8, n_trials=60, seed=0)
>>> fit = dopafit.fit_discounting(ds, n_splits=5, n_boot=0)
>>> html = section_html(fit, ds, None, None, {}, {}, "png")
>>> "Per-unit discounting" in html
True
"""

from __future__ import annotations

import numpy as np

from dopafit import schema
from dopafit.report._discounting import (
    _captions,
    _delay_units,
    _finite,
    _level,
    _matches,
    _ok,
    excluded_cues,
    true_gamma,
)
from dopafit.report._timing import TRUTH_SOURCES

__all__ = ["section_html", "report_section", "discounting_only", "analysed_rows", "methods_html"]


def section_html(fit, responses, comparison, timing, figs, notes, embed) -> str:
    """The report's "Discounting over delay" section.

    Parameters
    ----------
    fit : xarray.Dataset
        A discounting fit.
    responses : xarray.Dataset or None
        Its cue-aligned responses.
    comparison, timing : xarray.Dataset or None
        A timescale comparison and a timing decoding.
    figs, notes : dict
        From :func:`discounting_figures`.
    embed : {"png", "svg"}
        How figures are embedded.

    Returns
    -------
    str
        HTML.
    """
    from dopafit.report.html import _e, _figure

    if responses is not None and not _matches(fit, responses):
        responses = None
    captions = _captions(responses, fit, timing)
    out = [_overview(fit, responses)]
    if "discount_curves_sem" in notes:
        out.append(f'<p class="note">No SEM bars: {_e(notes["discount_curves_sem"])}</p>')
    out.append("<h3>Responses against delay</h3>")
    out.append(_figure(figs, "discount_curves", captions["discount_curves"], embed, notes))
    out.append("<h3>Discount factors</h3>")
    out.append(_figure(figs, "gamma_distribution", captions["gamma_distribution"], embed, notes))
    out.append("<h3>Split-half reliability of γ</h3>")
    out.append(_reliability_table(fit))
    out.append(_figure(figs, "gamma_reliability", captions["gamma_reliability"], embed, notes))
    out.append("<h3>Decoded distribution of reward times</h3>")
    if timing is None:
        why = notes.get("timing_decoding", "Not decoded.")
        out.append(f'<p class="note">{_e(why)}</p>')
    else:
        out.append(_figure(figs, "timing_decoding", captions["timing_decoding"], embed, notes))
        out.append(_timing_table(timing))
    out.append("<h3>Single against multiple timescales</h3>")
    out.append(_comparison_html(comparison))
    out.append("<h3>Per-unit discounting</h3>")
    out.append(_units_table(fit, responses))
    return "\n".join(out)


def _overview(fit, responses) -> str:
    from dopafit.report.html import _e, _num, _p

    status = np.asarray(fit["discount_status"].values).astype(str)
    ok = status == "ok"
    shapes = np.asarray(fit["discount_shape"].values).astype(str)[ok]
    g = np.asarray(fit["gamma"].values, float)[ok]
    g = g[np.isfinite(g)]
    delays = ", ".join(f"{float(d):g}" for d in fit["delay_value"].values)
    text = [
        f"<p>{int(ok.sum())} of {ok.size} units fitted at delays {_e(delays)} "
        f"{_e(_delay_units(fit))} (asymptote {_e(fit.attrs.get('asymptote', 'fit'))})."
    ]
    if g.size:
        q = np.percentile(g, [5, 50, 95])
        text.append(f" γ: median {_num(q[1])} (5–95% across units {_num(q[0])}–{_num(q[2])}).")
    text.append(
        " Shape by AIC: "
        + ", ".join(
            f"{s} {int((shapes == s).sum())}" for s in ("exponential", "hyperbolic", "undecided")
        )
        + ".</p>"
    )
    truth = true_gamma(fit, responses)
    if truth is not None:
        both = ok & np.isfinite(truth) & np.isfinite(np.asarray(fit["gamma"].values, float))
        if both.sum() >= 3:
            fg = np.asarray(fit["gamma"].values, float)[both]
            tg = truth[both]
            bias = float(np.mean(fg - tg))
            rmse = float(np.sqrt(np.mean((fg - tg) ** 2)))
            r = float(np.corrcoef(fg, tg)[0, 1]) if fg.std() > 0 and tg.std() > 0 else np.nan
            text.append(
                f'<p class="note">Simulated data: fitted against true γ over {int(both.sum())} '
                f"units: r {_num(r)}, bias {_num(bias)}, RMSE {_num(rmse)}.</p>"
            )
    if _finite(fit.attrs.get("gamma_tau_r")):
        a = fit.attrs
        text.append(
            f"<p>γ against τ (asymmetry from the reward responses) across "
            f"{_e(a.get('gamma_tau_n_units', '?'))} units: r {_num(a['gamma_tau_r'])} "
            f"[{_num(a.get('gamma_tau_r_lo'))}, {_num(a.get('gamma_tau_r_hi'))}], permutation "
            f"p {_p(a.get('gamma_tau_p'))}: independent axes predict r near 0.</p>"
        )
    left = sorted(set(status[~ok]))
    if left:
        text.append(
            '<p class="warn">Not fitted: '
            + "; ".join(f"{int((status == s).sum())} unit(s): {_e(s)}" for s in left)
            + ".</p>"
        )
    excluded = excluded_cues(fit)
    if len(excluded):
        text.append(
            '<p class="note">Cues predicting several delays (left out of the fit, for the timing '
            f"decoding): {_e(', '.join(f'{float(c):g}' for c in excluded))}.</p>"
        )
    return "".join(text)


def _reliability_table(fit) -> str:
    from dopafit.report.html import _e, _num, _table

    if "gamma_reliability" not in fit:
        return '<p class="note">No split halves in this fit (n_splits = 0).</p>'
    r = np.asarray(fit["gamma_reliability"].values, float)
    finite = np.isfinite(r)
    if not finite.any():
        return '<p class="note">No split had 3 or more units fitted on both halves.</p>'
    q05, med, q95 = np.percentile(r[finite], [5, 50, 95])
    row = [_e("reliability r(γ half A, γ half B)"), _num(med), _num(q05), _num(q95)]
    if "p_reliability" in fit:
        p = np.asarray(fit["p_reliability"].values, float)[finite]
        row.append(f"{100 * float(np.mean(p < 0.05)):.1f}%")
    else:
        row.append("–")
    row.append(str(int(finite.sum())))
    return _table(
        ["statistic", "median", "5%", "95%", "splits with nominal p &lt; 0.05", "splits"], [row]
    )


def _timing_table(timing) -> str:
    from dopafit.report.html import _e, _kv, _num, _table

    a = timing.attrs
    units = str(a.get("delay_units", "s"))
    pairs = [
        ("Cue", _e(f"{float(a['cue_id']):g}") if _finite(a.get("cue_id")) else "–"),
        ("Units used", f"{a.get('n_units_used', '?')} of {a.get('n_units', '?')}"),
        ("Decoded mean time", f"{_num(a.get('mean_time'))} {_e(units)}"),
        (
            "Regularisation",
            f"λ = {_num(a.get('lambda'))} by {_e(a.get('n_folds', '?'))}-fold cross-validation "
            f"over units; {_e(a.get('n_boot', 0))} bootstrap resamples",
        ),
    ]
    if "true_delay" in timing:
        td = np.asarray(timing["true_delay"].values, float)
        tp = np.asarray(timing["true_probability"].values, float)
        how = TRUTH_SOURCES.get(str(a.get("truth_source")), "")
        pairs.append(
            (
                "True distribution" + (f" ({how})" if how else ""),
                _e(", ".join(f"{d:g} {units} ({p:.2f})" for d, p in zip(td, tp))),
            )
        )
    out = _kv(pairs)
    if "wasserstein" in timing:
        w = timing["wasserstein"].to_series()
        own = timing["reference_to_truth"].to_series() if "reference_to_truth" in timing else {}
        rows = [
            [_e(k), _num(v), _num(own.get(k, np.nan)) if len(own) else "–"] for k, v in w.items()
        ]
        out += "<h3>Wasserstein-1 distance from the decoded timing distribution</h3>" + _table(
            ["reference", "W1 (decoded)", "W1 (reference to truth)"], rows
        )
    return out


def _comparison_html(cmp) -> str:
    from dopafit.report.html import _e, _num, _p, _table

    if cmp is None:
        return (
            '<p class="note">No timescale comparison was given (dopafit.compare_timescales): '
            "the reliability above is not calibrated against a single-timescale account.</p>"
        )
    verdict = cmp.attrs.get("verdict")
    if not verdict:
        from dopafit.stats.timescales import timescales_verdict

        verdict = timescales_verdict(cmp)
    alpha = float(cmp.attrs.get("alpha", 0.05))
    rows = []
    for s in cmp["statistic"].values:
        row = cmp.sel(statistic=s)
        p_multi = float(row["p_multi"]) if "p_multi" in row else np.nan
        cls = "sig" if np.isfinite(p_multi) and p_multi < alpha else ""
        rows.append(
            [
                _e(str(s)),
                _num(float(row["observed"])),
                _p(float(row["p_nominal"])) if "p_nominal" in row else "–",
                f'<span class="{cls}">{_p(p_multi)}</span>',
                _num(float(row["power"])) if "power" in row else "–",
            ]
        )
    table = _table(
        ["statistic", "observed", "nominal p", "p (single-timescale account)", "power"], rows
    )
    shape = ""
    if "p_hyperbolic" in cmp:
        shape = (
            '<p class="note">Exponential against hyperbolic (sum over units of ΔAIC): '
            f"p against exponential discounting {_p(float(cmp['p_hyperbolic']))} (power "
            f"{_num(float(cmp.get('power_hyperbolic', np.nan)))}), p against hyperbolic "
            f"discounting {_p(float(cmp['p_exponential']))} (power "
            f"{_num(float(cmp.get('power_exponential', np.nan)))}).</p>"
        )
    n_sim = cmp.sizes.get("sim", "?")
    return (
        f'<div class="verdict"><b>Verdict.</b> {_e(verdict)}</div>'
        f'<p class="note">{n_sim} simulated datasets per account '
        f"({_e(', '.join(map(str, cmp['account'].values)))}) with the recording's own trials "
        f"and noise; p: calibrated, one-sided towards several timescales; power: fraction of "
        f"the multi-timescale account's datasets reaching p &lt; {alpha:g}. "
        f"Bold: p &lt; {alpha:g}.</p>" + table + shape
    )


_UNIT_COLUMNS = (
    ("session", "session"),
    ("subject", "subject"),
    ("unit_id", "unit"),
    ("n_trials", "trials"),
    ("n_delays", "delays"),
    ("gamma", "γ"),
    ("gamma_ci", "γ interval"),
    ("true_gamma", "true γ"),
    ("amplitude", "amplitude"),
    ("asymptote", "asymptote"),
    ("hyperbolic_k", "k (hyperbolic)"),
    ("delta_aic", "ΔAIC (hyp − exp)"),
    ("discount_shape", "shape"),
    ("discount_status", "status"),
)


def _units_table(fit, responses) -> str:
    from dopafit.report.html import _e, _num, _table

    cols = {
        c: [str(v) for v in fit[c].values]
        for c in (schema.SESSION, schema.SUBJECT, schema.UNIT_ID)
        if c in fit.coords
    }
    for name in (
        "n_trials",
        "n_delays",
        "gamma",
        "amplitude",
        "asymptote",
        "hyperbolic_k",
        "delta_aic",
        "discount_shape",
        "discount_status",
    ):
        if name in fit:
            cols[name] = fit[name].values
    if "gamma_lo" in fit and "gamma_hi" in fit:
        cols["gamma_ci"] = [
            f"{_num(lo)} – {_num(hi)}" if np.isfinite(lo) and np.isfinite(hi) else "–"
            for lo, hi in zip(fit["gamma_lo"].values, fit["gamma_hi"].values)
        ]
    truth = true_gamma(fit, responses)
    if truth is not None:
        cols["true_gamma"] = truth
    present = [(c, h) for c, h in _UNIT_COLUMNS if c in cols]
    text = {"session", "subject", "unit_id", "gamma_ci", "discount_shape", "discount_status"}
    rows = []
    for i in range(fit.sizes[schema.UNIT]):
        row = []
        for c, _ in present:
            v = cols[c][i]
            if c in text:
                row.append(_e(v))
            elif c in ("n_trials", "n_delays"):
                row.append(_e(int(v)))
            else:
                row.append(_num(v))
        rows.append(row)
    n_left = sum(1 for c, _ in present if c in ("session", "subject", "unit_id"))
    note = (
        f'<p class="note">{fit.sizes[schema.UNIT]} units. γ per {_e(_delay_units(fit))}; '
        f"interval: {_e(_level(fit))} bootstrap percentile interval; ΔAIC = AIC(hyperbolic) − "
        "AIC(exponential), &gt; 0 favours exponential; shape 'undecided' within "
        f"{_e(fit.attrs.get('aic_margin', '?'))}.</p>"
    )
    return (
        note
        + '<div class="scroll">'
        + _table([_e(h) for _, h in present], rows, left=n_left)
        + "</div>"
    )


def analysed_rows(fit, responses) -> list:
    """Rows of the "What was analysed" table for a report of a discounting fit alone."""
    from dopafit.report.html import _e, _settings_value

    sessions = (
        sorted({str(s) for s in fit[schema.SESSION].values}) if schema.SESSION in fit.coords else []
    )
    subjects = (
        sorted({str(s) for s in fit[schema.SUBJECT].values}) if schema.SUBJECT in fit.coords else []
    )
    ok = _ok(fit)
    n_trials = np.asarray(fit["n_trials"].values, dtype=float)
    counts = np.asarray(fit["n_trials_delay"].sum(schema.UNIT).values, dtype=float)
    delays = np.asarray(fit["delay_value"].values, float)
    total = max(float(counts.sum()), 1.0)
    a = fit.attrs
    rows = [
        (
            "Sessions",
            f"{len(sessions)}: {_e(', '.join(sessions[:12]))}"
            + (f" and {len(sessions) - 12} more" if len(sessions) > 12 else ""),
        ),
        ("Subjects", f"{len(subjects)}: {_e(', '.join(subjects[:20]))}"),
        ("Units", f"{ok.size} ({int(ok.sum())} fitted)"),
        (
            "Trials used",
            f"{int(n_trials.sum())} (per unit: median {int(np.median(n_trials))}, "
            f"range {int(n_trials.min())}–{int(n_trials.max())})",
        ),
        (
            f"Delays ({_e(_delay_units(fit))}): trials, share",
            _e(
                ", ".join(
                    f"{d:g} ({int(c)}, {100 * c / total:.1f}%)" for d, c in zip(delays, counts)
                )
            ),
        ),
        (
            "Response",
            _e(
                f"{a.get('response_units', '')}; window {a.get('responses_window', '')} s after "
                f"{a.get('responses_align', 'cue_time')}"
            ),
        ),
        (
            "Splits, bootstrap",
            _e(
                f"{a.get('n_splits')} splits, {a.get('n_boot')} resamples ({_level(fit)} intervals)"
            ),
        ),
        ("Seed", _e(a.get("seed"))),
        ("dopafit version", _e(f"fit {a.get('dopafit_version', '?')}")),
    ]
    if responses is not None and "source" in responses.attrs:
        rows.insert(1, ("Responses source", _settings_value(responses.attrs["source"])))
    return rows


def methods_html(fit) -> str:
    """The methods of a discounting fit: model, search, shape and split rules, all attrs."""
    from dopafit.report.html import _e, _kv, _settings_value

    a = fit.attrs
    pairs = [
        (k, _e(a[k]))
        for k in ("model", "search", "ci_method", "shape_rule", "split_rule", "seed_derivation")
        if k in a
    ]
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{_settings_value(v)}</td></tr>" for k, v in sorted(a.items())
    )
    return _kv(pairs) + (
        "<details><summary>All attributes of the discounting fit</summary>"
        f'<table class="kv"><tbody>{rows}</tbody></table></details>'
    )


def report_section(inputs, figures: dict, notes: dict, embed: str) -> str:
    """The section's HTML from the report's inputs (:class:`~dopafit.report.data.ReportInputs`);
    the timing decoding is the given one, else the one made with the figures (``notes``)."""
    return section_html(
        inputs.discounting,
        inputs.discount_responses,
        inputs.timescale_comparison,
        inputs.timing if inputs.timing is not None else notes.get("timing"),
        figures,
        notes,
        embed,
    )


def discounting_only(inputs, figures: dict, notes: dict, embed: str) -> list:
    """``(section id, HTML)`` of a report of a discounting fit alone: what was analysed, the
    discounting section, failures, methods."""
    from dopafit.report.html import DISCOUNTING_SECTION, _e, _failures, _kv

    files = "<br>".join(_e(f"{k}: {v}") for k, v in inputs.files.items()) or "(in memory)"
    analysed = _kv(
        [("Files", files), *analysed_rows(inputs.discounting, inputs.discount_responses)]
    )
    return [
        ("analysed", analysed),
        (DISCOUNTING_SECTION[0], report_section(inputs, figures, notes, embed)),
        ("failures", _failures(inputs)),
        ("methods", methods_html(inputs.discounting)),
    ]
