"""A single self-contained HTML report of a fit (figures embedded, no external resources).

The page opens offline in any browser: figures are embedded as base64 PNG (or inline SVG),
styles are inline, there is no script and no web font. It shows what was analysed (sessions,
units, trials, settings from attrs, versions), the figures of :mod:`dopafit.report.figures`
with captions, the split-half summary, the decoded distribution, the comparison of accounts
with its verdict (when a comparison is available), a per-unit table and the files a batch run
could not fit.

Examples
--------
>>> import tempfile, pathlib, dopafit
>>> from dopafit.report.html import write_report
>>> responses = dopafit.simulate_responses(n_units=10, seed=0)
>>> fit = dopafit.fit_expectiles(responses, n_splits=20, n_boot=20, seed=0)
>>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
>>> path = write_report({"fit": fit, "responses": responses}, out, decode=False)
>>> path.read_text().startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dopafit import outputs, schema
from dopafit._version import __version__
from dopafit.errors import ConfigError
from dopafit.report import _style as sty
from dopafit.report._captions import COMPARISON_CAPTION, figure_captions
from dopafit.report._learning import section_html
from dopafit.report.data import REWARD_MAPPING, ReportInputs, axis_to_reward, load_outputs

__all__ = ["SECTIONS", "DISCOUNTING_SECTION", "render_report", "write_report", "embed_figure"]

#: section id -> heading, in page order
SECTIONS = {
    "analysed": "What was analysed",
    "summary": "Split-half summary",
    "responses": "Response curves and reversal points",
    "tau-reversal": "Asymmetry vs reversal point",
    "splits": "Distribution over random splits",
    "decoding": "Decoded reward distribution",
    "comparison": "Calibrated comparison of accounts",
    "learning": "Learning models",
    "units": "Per-unit estimates",
    "failures": "Failures",
    "methods": "Methods and settings",
}
#: the section of a discounting fit (shown, after "learning", only when there is one)
DISCOUNTING_SECTION = ("discounting", "Discounting over delay")

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;
 margin:0;color:#1a1a1a;background:#fff;line-height:1.45;font-size:15px}
main{max-width:1180px;margin:0 auto;padding:18px 28px 60px}
h1{font-size:1.6em;margin:.2em 0 .1em}h2{font-size:1.25em;margin:1.8em 0 .5em;
 border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
.sub{color:#555;margin:0 0 1em}nav{background:#f4f4f4;padding:8px 12px;border-radius:4px}
nav a{margin-right:14px;color:#0b5394;text-decoration:none;white-space:nowrap}
figure{margin:1em 0 1.6em}figure img,figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#333;margin-top:.4em;max-width:1000px}
table{border-collapse:collapse;font-size:.86em;margin:.5em 0 1em}
th,td{border:1px solid #d6d6d6;padding:3px 7px;text-align:right;vertical-align:top}
table.cmp td{white-space:nowrap}
th{background:#f0f0f0}td.l,th.l{text-align:left}
.kv td:first-child{text-align:left;color:#444;white-space:nowrap}.kv td{text-align:left}
.scroll{max-height:560px;overflow:auto;border:1px solid #ddd;display:inline-block;max-width:100%}
.scroll table{margin:0}.scroll th{position:sticky;top:0}
.verdict{border-left:5px solid #0072B2;background:#eef5fb;padding:10px 14px;margin:1em 0}
.note{color:#555;font-size:.9em}.sig{font-weight:bold}.warn{color:#a0522d}
.muted{color:#777}code{background:#f3f3f3;padding:0 3px;border-radius:3px}
details{margin:.6em 0}summary{cursor:pointer;color:#0b5394}
pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:.82em}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _num(x, digits: int = 3) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not np.isfinite(x):
        return "–"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def _p(p) -> str:
    try:
        p = float(p)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(p):
        return "–"
    return f"{p:.3g}" if p >= 0.001 else f"{p:.1e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1, cls="") -> str:
    """HTML table; cells are already-escaped HTML; the first ``left`` columns left-aligned."""
    th = "".join(f'<th class="{"l" if i < left else ""}">{h}</th>' for i, h in enumerate(header))

    def cell(i, c):
        if isinstance(c, tuple):  # (html, colspan): a left-aligned cell over several columns
            return f'<td class="l" colspan="{int(c[1])}">{c[0]}</td>'
        return f'<td class="{"l" if i < left else ""}">{c}</td>'

    body = "".join(
        "<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _kv(pairs) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def embed_figure(fig, *, embed: str = "png", dpi: int = 150, alt: str = "") -> str:
    """HTML for one figure: ``<img>`` with a base64 PNG data URI, or inline ``<svg>``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    embed : {"png", "svg"}, default "png"
    dpi : int, default 150
        Resolution of the PNG.
    alt : str
        Alternative text of the image.
    """
    buf = io.BytesIO()
    with sty.style():
        if embed == "png":
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        if embed == "svg":
            fig.savefig(
                buf,
                format="svg",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
            )
            text = buf.getvalue().decode("utf-8")
            text = text[text.index("<svg") :]  # drop the XML declaration and DOCTYPE
            text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
            return text.replace("<svg ", f'<svg role="img" aria-label="{_e(alt)}" ', 1)
    raise ConfigError("embed 'png' or 'svg'", found=repr(embed))


def _settings_value(value) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        return _e(text if len(text) < 300 else text[:297] + "...")
    return _e(value)


def _analysed(inputs: ReportInputs) -> str:
    """The "What was analysed" table: files, data, settings and versions."""
    fit, responses = inputs.fit, inputs.responses
    pairs = [
        ("Files", "<br>".join(_e(f"{k}: {v}") for k, v in inputs.files.items()) or "(in memory)"),
        *_data_rows(fit),
        *_settings_rows(fit),
    ]
    if responses is not None and "source" in responses.attrs:
        pairs.insert(1, ("Responses source", _settings_value(responses.attrs["source"])))
    return _kv(pairs)


def _data_rows(fit) -> list:
    """Rows of the sessions, subjects, units, trials and reward magnitudes analysed."""
    sessions = (
        sorted({str(s) for s in fit[schema.SESSION].values}) if schema.SESSION in fit.coords else []
    )
    subjects = (
        sorted({str(s) for s in fit[schema.SUBJECT].values}) if schema.SUBJECT in fit.coords else []
    )
    ok = (
        np.asarray(fit["fit_ok"].values, dtype=bool)
        if "fit_ok" in fit
        else np.ones(fit.sizes[schema.UNIT], bool)
    )
    n_trials = np.asarray(fit["n_trials"].values) if "n_trials" in fit else np.array([0])
    counts = np.asarray(fit["n_trials_magnitude"].sum(schema.UNIT).values, dtype=float)
    mags = np.asarray(fit["magnitude"].values, dtype=float)
    units = sty.pretty_units(fit.attrs.get("responses_reward_units", ""))
    mag_text = ", ".join(
        f"{m:g} ({int(c)}, {100 * c / counts.sum():.1f}%)" for m, c in zip(mags, counts)
    )
    shown_sessions = ", ".join(sessions[:12]) + (
        f" and {len(sessions) - 12} more" if len(sessions) > 12 else ""
    )
    return [
        ("Sessions", f"{len(sessions)}: {_e(shown_sessions)}"),
        ("Subjects", f"{len(subjects)}: {_e(', '.join(subjects[:20]))}"),
        ("Units", f"{fit.sizes[schema.UNIT]} ({int(ok.sum())} fitted)"),
        (
            "Trials used",
            f"{int(n_trials.sum())} (per unit: median {int(np.median(n_trials))}, "
            f"range {int(n_trials.min())}–{int(n_trials.max())})",
        ),
        (f"Reward magnitudes{' (' + units + ')' if units else ''}: trials, share", _e(mag_text)),
    ]


def _settings_rows(fit) -> list:
    """Rows of the extraction and fit settings, the seed and the dopafit versions."""
    a = fit.attrs
    return [
        (
            "Response",
            _e(
                f"{a.get('responses_response_units', '')}; window {a.get('responses_window', '')} s "
                f"after {a.get('responses_align', '')}; baseline {a.get('responses_baseline', '')} s"
            ),
        ),
        ("Axis", _e(f"{a.get('axis')} ({sty.axis_label(fit)})")),
        (
            "Method",
            _e(
                f"{a.get('method')}; cued/uncued pooling {a.get('pool_cued')} "
                f"(offset {_num(a.get('uncued_offset', np.nan))})"
            ),
        ),
        (
            "Splits, folds, bootstrap",
            _e(
                f"{a.get('n_splits')} splits, {a.get('n_folds')} folds, "
                f"{a.get('n_boot')} resamples ({a.get('ci_level')} intervals)"
            ),
        ),
        ("Seed", _e(a.get("seed"))),
        (
            "dopafit version",
            _e(
                f"fit {a.get('dopafit_version', '?')}, responses "
                f"{a.get('responses_dopafit_version', '?')}, report {__version__}"
            ),
        ),
    ]


def _summary(fit) -> str:
    from dopafit.errors import FitError
    from dopafit.fit.expectile import split_summary

    try:
        df = split_summary(fit)
    except FitError:
        return '<p class="note">No split halves in this fit (n_splits = 0).</p>'
    labels = {
        "r_tau_reversal": "r(τ half B, reversal half A)",
        "rho_tau_reversal": "Spearman ρ(τ half B, reversal half A)",
        "r_reliability": "reliability r(reversal A, B)",
        "anova_f": "fold-ANOVA F of τ",
    }
    rows = [
        [
            _e(labels.get(name, name)),
            _num(r["median"]),
            _num(r["q05"]),
            _num(r["q95"]),
            f"{100 * r['frac_p_lt_alpha']:.1f}%" if r["n_splits"] > 0 else "–",
            str(int(r["n_splits"])),
        ]
        for name, r in df.iterrows()
    ]
    table = _table(
        ["statistic", "median", "5%", "95%", "splits with nominal p < 0.05", "splits"], rows
    )
    return table + (
        '<p class="note">Nominal p-values assume independent, equally reliable units; they are '
        "not calibrated (see the comparison of accounts).</p>"
    )


def _figure(figs, name, caption, embed, notes) -> str:
    fig = figs.get(name)
    if fig is None:
        why = notes.get(name, "not available")
        return f'<p class="note">Figure not made: {_e(why)}.</p>'
    return (
        f'<figure id="fig-{name}">{embed_figure(fig, embed=embed, alt=caption[:120])}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _decoding_table(result) -> str:
    if result is None:
        return ""
    dist = result.dopafit.distances()
    values = np.asarray(result["true_value"].values, float)
    probs = np.asarray(result["true_probability"].values, float)
    probs = probs / probs.sum()
    mean = float(np.sum(values * probs))
    sd = float(np.sqrt(np.sum(probs * (values - mean) ** 2)))
    s = result.attrs
    head = _kv(
        [
            (
                "Pairs used",
                f"{s.get('n_units_used', result.sizes['pair'])} units "
                f"({s.get('n_units_excluded', 0)} excluded: not fitted or τ outside [0, 1])",
            ),
            (
                "Decoded mean, SD",
                f"{_num(result.dopafit.mean)}, {_num(result.dopafit.sd)} "
                f"(task: {_num(mean)}, {_num(sd)})",
            ),
            ("Imputation loss", _num(result.attrs["loss"])),
            ("Task distribution", _e(s.get("truth", "given"))),
            (
                "Optimiser",
                _e(
                    ", ".join(
                        f"{k}={s[k]}"
                        for k in (
                            "n_samples",
                            "n_starts",
                            "n_polish",
                            "n_epochs",
                            "maxiter",
                            "seed",
                        )
                        if k in s
                    )
                ),
            ),
        ]
    )
    rows = [[_e(k), _num(v)] for k, v in dist.items()]
    return (
        head
        + "<h3>Wasserstein-1 distance from the decoded distribution</h3>"
        + _table(["reference", "W1"], rows)
        + (
            '<p class="note">A decoded distribution that is closer to the task than to the references '
            "(uniform, matched Gaussian, mirrored, shifted and scaled versions of the task) carries "
            "information about the distribution's shape, not only its mean.</p>"
        )
    )


def _comparison(cmp, figs, notes, embed) -> str:
    """The comparison section: verdict, table of calibrated p-values, figure, mixed models."""
    if cmp is None:
        return f'<p class="note">{_e(notes.get("comparison", "No comparison of accounts."))}</p>'
    alpha = float(cmp.attrs.get("alpha", 0.05))
    out = [
        f'<div class="verdict"><b>Verdict.</b> {_e(cmp.dopafit.verdict)}</div>',
        f'<p class="note">{cmp.sizes["sim"]} simulated datasets per account, '
        f"{cmp.attrs.get('n_splits')} splits each, noise model {_e(cmp.attrs.get('noise'))}, "
        f"axis {_e(cmp.attrs.get('axis'))}. Each cell: calibrated p-value "
        "(one-sided towards the distributional signature for classical and bias, away from it "
        "for distributional, two-sided for sigmoid) and the simulated median [5–95%]. "
        f"Bold: p &lt; {alpha:g}.</p>",
        _table(
            ["statistic", "observed", "nominal p", *map(_e, cmp.dopafit.accounts)],
            _comparison_rows(cmp, alpha),
            cls="cmp",
        ),
        _figure(figs, "comparison", COMPARISON_CAPTION, embed, notes),
        _mixed_tests(cmp),
    ]
    return "".join(out)


def _comparison_rows(cmp, alpha: float) -> list:
    """One table row per statistic: name, observed value, nominal p, a cell per account."""
    df = cmp.dopafit.to_dataframe()
    n_accounts = len(cmp.dopafit.accounts)
    rows = []
    for s in cmp["statistic"].values:
        sub = df[df["statistic"] == str(s)]
        first = sub.iloc[0]
        name = _e(str(s))
        if not first["computable"]:
            reason = f'<span class="muted">not computable: {_e(first["reason"])}</span>'
            rows.append([name, "–", "–", (reason, n_accounts)])
            continue
        obs = "(Fisher T)" if str(s).startswith("combined") else _num(first["observed"])
        cells = [_account_cell(cmp, str(s), r, alpha) for r in sub.itertuples()]
        rows.append([name, obs, _p(first["p_nominal"]), *cells])
    return rows


def _account_cell(cmp, statistic: str, r, alpha: float) -> str:
    """Calibrated p (bold below alpha) over the simulated median [5-95%] of one account."""
    sims = np.asarray(cmp["simulated"].sel(account=r.account, statistic=statistic).values, float)
    sims = sims[np.isfinite(sims)]
    band = (
        (
            f"{_num(np.median(sims))} [{_num(np.percentile(sims, 5))}, "
            f"{_num(np.percentile(sims, 95))}]"
        )
        if sims.size
        else "–"
    )
    cls = "sig" if r.p_calibrated < alpha else ""
    return f'<span class="{cls}">{_p(r.p_calibrated)}</span><br><span class="muted">{band}</span>'


def _mixed_tests(cmp) -> str:
    """The nominal mixed-effects tests of the comparison, when it holds any."""
    tests = cmp.dopafit.mixed_tests()
    if tests is None or not len(tests):
        return ""
    rows = [
        [_e(r.test), _num(r.lr), _num(r.df), _p(r.p_naive), _p(r.p_mixture)]
        for r in tests.itertuples()
    ]
    return "<h3>Mixed-effects models (nominal)</h3>" + _table(
        ["test", "LR", "df", "p (naive)", "p (boundary mixture)"], rows
    )


_UNIT_COLUMNS = [
    ("session", "session"),
    ("subject", "subject"),
    ("unit_id", "unit"),
    ("n_trials", "trials"),
    ("n_magnitudes", "magnitudes"),
    ("reversal_point", "reversal point"),
    ("reversal_reward", "reversal ({units})"),
    ("tau", "τ"),
    ("tau_ci", "τ interval"),
    ("alpha_neg", "α⁻"),
    ("alpha_pos", "α⁺"),
    ("tau_se", "τ SE (bootstrap)"),
    ("edge_reversal", "edge"),
    ("fit_status", "status"),
]


def _unit_rows(inputs: ReportInputs) -> str:
    import pandas as pd

    fit = inputs.fit
    if inputs.units is not None and "reversal_point" in getattr(inputs.units, "columns", []):
        df = inputs.units.copy()
        source = outputs.UNITS_FILE
    else:
        cols = {
            c: fit[c].values
            for c in (schema.SESSION, schema.SUBJECT, schema.UNIT_ID)
            if c in fit.coords
        }
        for name, var in fit.data_vars.items():
            if var.dims == (schema.UNIT,):
                cols[name] = var.values
        df = pd.DataFrame(cols)
        source = "fit"
    if len(df) == fit.sizes[schema.UNIT] and fit.attrs.get("axis") not in ("reward", "zscore"):
        df["reversal_reward"] = axis_to_reward(df["reversal_point"].to_numpy(float), fit)
    if "tau_lo" in df and "tau_hi" in df:
        df["tau_ci"] = [f"{_num(lo)} – {_num(hi)}" for lo, hi in zip(df["tau_lo"], df["tau_hi"])]
    units = sty.pretty_units(fit.attrs.get("responses_reward_units", "")) or "reward"
    present = [(c, h.format(units=units)) for c, h in _UNIT_COLUMNS if c in df.columns]
    text_cols = {"session", "subject", "unit_id", "tau_ci", "fit_status"}
    rows = []
    for _, r in df.iterrows():
        row = []
        for c, _h in present:
            v = r[c]
            if c in text_cols:
                row.append(_e(v))
            elif c in ("n_trials", "n_magnitudes", "edge_reversal"):
                row.append(_e(int(v)) if np.isfinite(float(v)) else "–")
            else:
                row.append(_num(v))
        rows.append(row)
    n_left = sum(1 for c, _ in present[:3] if c in ("session", "subject", "unit_id"))
    note = (
        f'<p class="note">{len(df)} units (from {source}). Reversal points on the fit\'s axis '
        f"({_e(sty.axis_short(fit))})"
        + (f" and mapped to reward ({_e(units)})" if "reversal_reward" in df else "")
        + "; τ interval: bootstrap percentile interval; edge: −1/+1 when the reversal point is "
        "capped below/above all magnitudes.</p>"
    )
    return (
        note
        + '<div class="scroll">'
        + _table([_e(h) for _, h in present], rows, left=n_left)
        + "</div>"
    )


def _failures(inputs: ReportInputs) -> str:
    df = inputs.failures
    if df is None or len(df) == 0:
        return '<p class="note">No failures recorded.</p>'
    cols = [c for c in ("path", "reason") if c in df.columns] or list(df.columns)
    rows = [[_e(r[c]) for c in cols] for _, r in df.iterrows()]
    return (
        f'<p class="warn">{len(df)} file(s) could not be fitted and are not in this report.</p>'
        + _table([_e(c) for c in cols], rows, left=len(cols))
    )


def _methods(fit) -> str:
    a = fit.attrs
    pairs = [
        ("Tie rule", _e(a.get("tie_rule", ""))),
        ("Fold rule", _e(a.get("fold_rule", ""))),
        (
            "Edge caps",
            _e(f"lower cap +{a.get('cap_low')}, upper cap −{a.get('cap_high')} (axis units)"),
        ),
        (
            "Reward mapping (decoding)",
            _e(
                REWARD_MAPPING
                if a.get("axis") not in ("reward", "zscore")
                else "identity (the axis is reward)"
            ),
        ),
        ("Seeds", _e(a.get("seed_derivation", ""))),
    ]
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{_settings_value(v)}</td></tr>" for k, v in sorted(a.items())
    )
    return _kv(pairs) + (
        "<details><summary>All attributes of the fit</summary>"
        f'<table class="kv"><tbody>{rows}</tbody></table></details>'
    )


def render_report(
    inputs: ReportInputs,
    *,
    figures: dict | None = None,
    notes: dict | None = None,
    embed: str = "png",
    title: str | None = None,
) -> str:
    """The report page as a string.

    Parameters
    ----------
    inputs : ReportInputs
        What to report on (:func:`dopafit.report.data.load_outputs`).
    figures, notes : dict, optional
        Output of :func:`dopafit.report.figures.make_figures` (made here when omitted, with
        default settings).
    embed : {"png", "svg"}, default "png"
        How figures are embedded.
    title : str, optional
        Page title (default: "dopafit report: N units, M sessions").

    Returns
    -------
    str
        A complete HTML document.
    """
    from dopafit.report.figures import make_figures

    if embed not in ("png", "svg"):
        raise ConfigError("embed 'png' or 'svg'", found=repr(embed))
    fit = inputs.fit
    if figures is None:
        figures, notes = make_figures(
            fit,
            inputs.responses,
            inputs.comparison,
            learning=inputs.learning,
            learning_recovery=inputs.learning_recovery,
            discounting=inputs.discounting,
            discount_responses=inputs.discount_responses,
            timing=inputs.timing,
        )
    notes = notes or {}
    main = fit if fit is not None else inputs.discounting
    title = title or _default_title(main)
    sections = _sections(inputs, figures, notes, embed)
    headings = {**SECTIONS, DISCOUNTING_SECTION[0]: DISCOUNTING_SECTION[1]}
    body = [_header(title, fit, [(k, headings[k]) for k, _ in sections], inputs.discounting)]
    for key, content in sections:
        body.append(f'<section id="{key}"><h2>{headings[key]}</h2>{content}</section>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def _default_title(fit) -> str:
    """``dopafit report: N units, M session(s)``."""
    n_sessions = (
        len({str(s) for s in fit[schema.SESSION].values}) if schema.SESSION in fit.coords else 1
    )
    return f"dopafit report: {fit.sizes[schema.UNIT]} units, {n_sessions} session(s)"


def _header(title: str, fit, sections=None, discounting=None) -> str:
    """The page's header: title, when and by which version it was made, the section links."""
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if fit is not None:
        what = f"Axis: {_e(sty.axis_label(fit))}."
    else:
        delays = ", ".join(f"{float(d):g}" for d in discounting["delay_value"].values)
        what = f"Delays: {_e(delays)} {_e(discounting.attrs.get('delay_units', 's'))}."
    sections = list(SECTIONS.items()) if sections is None else sections
    return (
        f"<header><h1>{_e(title)}</h1><p class='sub'>Generated {_e(now)} by dopafit "
        f"{_e(__version__)}. {what}</p>\n"
        "<nav>" + "\n".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in sections) + "</nav></header>"
    )


def _sections(inputs: ReportInputs, figures: dict, notes: dict, embed: str) -> list:
    """``(section id, HTML content)`` of every section, in page order."""
    fit = inputs.fit
    if fit is None:
        from dopafit.report._discounting_section import discounting_only

        return discounting_only(inputs, figures, notes, embed)
    captions = figure_captions(
        _e(sty.axis_label(fit)),
        sem=inputs.responses is not None,
        comparison=inputs.comparison is not None,
    )

    def figure(name):
        return _figure(figures, name, captions[name], embed, notes)

    sections = [
        ("analysed", _analysed(inputs)),
        ("summary", _summary(fit)),
        ("responses", figure("response_curves") + figure("response_grid")),
        ("tau-reversal", figure("tau_reversal")),
        ("splits", figure("split_distributions")),
        ("decoding", figure("decoded_distribution") + _decoding_table(notes.get("decode"))),
        ("comparison", _comparison(inputs.comparison, figures, notes, embed)),
        (
            "learning",
            section_html(inputs.learning, inputs.learning_recovery, figures, notes, embed),
        ),
        ("units", _unit_rows(inputs)),
        ("failures", _failures(inputs)),
        ("methods", _methods(fit)),
    ]
    if inputs.discounting is not None:
        from dopafit.report._discounting_section import report_section

        at = [k for k, _ in sections].index("learning") + 1
        sections.insert(at, (DISCOUNTING_SECTION[0], report_section(inputs, figures, notes, embed)))
    return sections


def write_report(
    outdir_or_files,
    path: str | os.PathLike | None = None,
    *,
    figures_dir: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png", "svg"),
    embed: str = "png",
    title: str | None = None,
    comparison=None,
    decode: bool = True,
    decode_kwargs: dict | None = None,
    reward_values=None,
    reward_probabilities=None,
    max_grid_units: int = 48,
    discounting=None,
    timescale_comparison=None,
    timing=None,
) -> Path:
    """Write the self-contained HTML report (and, optionally, the figures as files).

    Parameters
    ----------
    outdir_or_files : path-like or mapping
        A ``dopafit fit`` output folder, a ``.nc`` output with groups ``responses`` and
        ``fit`` (or ``discounting``: ``dopafit fit --discounting``), or a mapping (keys
        ``fit``, ``responses``, ``units``, ``comparison``, ``failures``, ``outputs``,
        ``discounting``, ``discount_responses``, ``timescale_comparison``, ``timing``, ...;
        see :func:`dopafit.report.data.load_outputs`).
    path : path-like, optional
        The HTML file; default ``OUTDIR/report.html`` for a folder (required otherwise).
    figures_dir : path-like, optional
        Also write every figure there as ``<name>.<format>``.
    formats : sequence of str, default ("png", "svg")
        Formats of the figure files (``png`` 300 dpi, ``svg``, ``pdf``).
    embed : {"png", "svg"}, default "png"
        How figures are embedded in the page.
    title : str, optional
        Page title.
    comparison : xarray.Dataset or path-like, optional
        A comparison of accounts (overrides ``OUTDIR/comparison.nc``).
    decode : bool, default True
        Decode the reward distribution from the fit (False skips it).
    decode_kwargs : dict, optional
        Options of :func:`dopafit.decode_distribution` (defaults otherwise).
    reward_values, reward_probabilities : array_like, optional
        The task's reward distribution (default: the empirical trial proportions).
    max_grid_units : int, default 48
        Most units in the per-unit panel grid.
    discounting : xarray.Dataset or path-like, optional
        A discounting fit (:func:`dopafit.fit_discounting`; overrides the output's
        ``discounting`` group): adds the section "Discounting over delay". With it alone
        (no expectile fit) the report shows that section only.
    timescale_comparison : xarray.Dataset or path-like, optional
        A timescale comparison (:func:`dopafit.compare_timescales`): its verdict and table.
    timing : xarray.Dataset or path-like, optional
        A timing decoding (:func:`dopafit.decode_timing`). Without it, and with ``decode``,
        the first cue predicting several delays (excluded from the fit) is decoded when the
        responses are at hand.

    Returns
    -------
    pathlib.Path
        The HTML file, written atomically (temporary file, then rename).

    Raises
    ------
    ``FileNotFoundError_``, NoDataError, NotNWBError
        Missing or unusable inputs (see :func:`~dopafit.report.data.load_outputs`).
    ResultKindError
        ``discounting``, ``timescale_comparison`` or ``timing`` of another kind.
    ConfigError
        Invalid options, or no ``path`` for a non-folder input.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> fit = dopafit.fit_expectiles(ds, n_splits=20, n_boot=0)
    >>> print(dopafit.write_report({"fit": fit, "responses": ds}, "report.html", decode=False))
    report.html
    """
    from dopafit.batch import atomic_path
    from dopafit.report.figures import make_figures, save_figure

    if embed not in ("png", "svg"):
        raise ConfigError("embed 'png' or 'svg'", found=repr(embed))
    formats = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ConfigError("formats among png, svg, pdf", found=", ".join(bad))
    source = outdir_or_files
    extra = {
        "comparison": comparison,
        "discounting": discounting,
        "timescale_comparison": timescale_comparison,
        "timing": timing,
    }
    for key, value in extra.items():
        if value is not None:
            source = dict(source) if isinstance(source, Mapping) else {"outputs": source}
            source[key] = value
    inputs = load_outputs(source)
    if path is None:
        if isinstance(outdir_or_files, (str, os.PathLike)) and Path(outdir_or_files).is_dir():
            path = Path(outdir_or_files) / outputs.REPORT_FILE
        else:
            raise ConfigError(
                "an output path for the report",
                found="none",
                remedy="pass path= (or -o on the command line)",
            )
    figs, notes = make_figures(
        inputs.fit,
        inputs.responses,
        inputs.comparison,
        decode=decode,
        reward_values=reward_values,
        reward_probabilities=reward_probabilities,
        decode_kwargs=decode_kwargs,
        max_grid_units=max_grid_units,
        learning=inputs.learning,
        learning_recovery=inputs.learning_recovery,
        discounting=inputs.discounting,
        discount_responses=inputs.discount_responses,
        timing=inputs.timing,
    )
    page = render_report(inputs, figures=figs, notes=notes, embed=embed, title=title)
    if figures_dir is not None:
        out = Path(figures_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, fig in figs.items():
            for fmt in formats:
                save_figure(fig, out / f"{name}.{fmt}")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
