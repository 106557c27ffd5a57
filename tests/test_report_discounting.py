"""The report's "Discounting over delay" section: figures, tables, inputs, errors, CLI."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import dopafit
from dopafit import schema
from dopafit.errors import NoDataError, ResultKindError

DISCOUNT_FIGURES = ("discount_curves", "gamma_distribution", "gamma_reliability", "timing_decoding")
BIMODAL_CUE = 5.0


# --------------------------------------------------------------------------------------------
# fixtures: a simulated multi-timescale session with a bimodal cue, its fit, decoding,
# comparison; an expectile fit for the combined report


@pytest.fixture(scope="module")
def delay_responses():
    return dopafit.simulate_discounting(
        "delay-bimodal", population="multi", n_units=24, n_trials=200, seed=3
    )


@pytest.fixture(scope="module")
def dfit(delay_responses):
    return dopafit.fit_discounting(
        delay_responses, n_splits=40, n_boot=60, asymptote=0.0, seed=1, progress=False
    )


@pytest.fixture(scope="module")
def timing(dfit, delay_responses):
    return dopafit.decode_timing(
        dfit, delay_responses, cue_id=BIMODAL_CUE, n_boot=40, seed=0, progress=False
    )


@pytest.fixture(scope="module")
def tcmp(delay_responses):
    from dopafit.stats.timescales import compare_timescales

    return compare_timescales(
        delay_responses, n_sim=19, n_splits=5, n_inner=3, asymptote=0.0, seed=0
    )


@pytest.fixture(scope="module")
def page(dfit, delay_responses, timing, tcmp, tmp_path_factory):
    from dopafit.report.html import write_report

    out = tmp_path_factory.mktemp("disc")
    path = write_report(
        {"discounting": dfit, "responses": delay_responses},
        out / "report.html",
        timing=timing,
        timescale_comparison=tcmp,
        figures_dir=out / "figs",
        formats=("png",),
    )
    return path.read_text(encoding="utf-8"), out / "figs"


@pytest.fixture(scope="module")
def expectile():
    responses = dopafit.simulate_responses(n_units=10, seed=0)
    return responses, dopafit.fit_expectiles(responses, n_splits=10, n_boot=0, seed=0)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(text):
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def _nav(text) -> list[str]:
    nav = text[text.index("<nav>") : text.index("</nav>")]
    return re.findall(r'href="#([^"]+)"', nav)


def _section(text, key) -> str:
    start = text.index(f'<section id="{key}">')
    return text[start : text.index("</section>", start)]


def _no_artefacts(text):
    visible = re.sub(r'src="data:[^"]+"', "", text)
    visible = re.sub(r"<style>.*?</style>", "", visible, flags=re.S)
    for bad in ("nan%", ">nan<", "NaN", ">inf<", "None%", "nan –", "– nan"):
        assert bad not in visible, bad


# --------------------------------------------------------------------------------------------
# a report of the discounting fit alone


def test_discounting_only_report_has_the_section_figures_and_table(page, dfit, delay_responses):
    text, figdir = page
    assert text.startswith("<!DOCTYPE html>")
    assert _nav(text) == ["analysed", "discounting", "failures", "methods"]
    section = _section(text, "discounting")
    assert "<h2>Discounting over delay</h2>" in section
    for name in DISCOUNT_FIGURES:
        assert f'id="fig-{name}"' in section
        assert (figdir / f"{name}.png").stat().st_size > 10_000
    imgs = [a for t, a in _tags(section) if t == "img"]
    assert len(imgs) == len(DISCOUNT_FIGURES)
    for attrs in imgs:
        data = base64.b64decode(attrs["src"].split(",", 1)[1], validate=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # the per-unit table: every unit, its gamma, interval, truth, shape, status
    for i, uid in enumerate(dfit[schema.UNIT_ID].values):
        assert f">{uid}<" in section
        g = float(dfit["gamma"].values[i])
        assert f">{g:.3g}<" in section
        t = float(delay_responses["true_gamma"].values[i])
        assert f">{t:.3g}<" in section
    assert "true γ" in section and "γ interval" in section
    assert ">ok<" in section and ">status<" in section
    # no expectile sections when there is no expectile fit
    for key in ("summary", "responses", "tau-reversal", "units", "learning"):
        assert f'<section id="{key}">' not in text
    _no_artefacts(text)


def test_reliability_numbers_and_truth_summary_match_the_fit(page, dfit, delay_responses):
    text, _ = page
    section = _section(text, "discounting")
    r = dfit["gamma_reliability"].values
    med = float(np.median(r[np.isfinite(r)]))
    assert f">{med:.3g}<" in section
    assert f">{int(np.isfinite(r).sum())}<" in section
    ok = dfit["discount_status"].values == "ok"
    g, tg = dfit["gamma"].values[ok], delay_responses["true_gamma"].values[ok]
    bias = float(np.mean(g - tg))
    assert f"bias {bias:.3g}" in section
    # the simulated multi-timescale population is reliable (the figure shows a positive median)
    assert med > 0.3


def test_timing_and_comparison_blocks(page, timing, tcmp):
    text, _ = page
    section = _section(text, "discounting")
    w = timing["wasserstein"].to_series()
    assert f">{w['truth']:.3g}<" in section and f">{w['uniform']:.3g}<" in section
    assert "1 s (0.50), 6 s (0.50)" in section
    verdict = tcmp.attrs["verdict"]
    assert verdict[:60] in section.replace("&#x27;", "'").replace("&quot;", '"')
    for s in tcmp["statistic"].values:
        assert f">{s}<" in section


def test_timing_decoded_when_not_given_and_skipped_without_decode(dfit, delay_responses, tmp_path):
    from dopafit.report.html import write_report

    source = {"discounting": dfit, "responses": delay_responses}
    text = write_report(source, tmp_path / "a.html").read_text()
    assert 'id="fig-timing_decoding"' in text
    assert ">5</td>" in _section(text, "discounting")  # the decoded cue
    text = write_report(source, tmp_path / "b.html", decode=False).read_text()
    assert 'id="fig-timing_decoding"' not in text
    assert "Single against multiple timescales" in text
    assert "No timescale comparison was given" in text
    _no_artefacts(text)


def test_without_responses_or_splits(delay_responses, tmp_path):
    from dopafit.report.html import write_report

    fit = dopafit.fit_discounting(delay_responses, n_splits=0, n_boot=0, progress=False)
    text = write_report({"discounting": fit}, tmp_path / "r.html").read_text()
    section = _section(text, "discounting")
    assert 'id="fig-discount_curves"' in section and "± SEM" not in section
    assert "No split halves in this fit" in section
    assert 'id="fig-gamma_reliability"' not in section
    assert "true γ" not in section and "γ interval" not in section
    _no_artefacts(text)


def test_other_responses_drop_the_sem_bars_with_a_note(dfit, tmp_path):
    from dopafit.report.html import write_report

    other = dopafit.simulate_discounting(n_units=24, n_trials=120, seed=9)
    text = write_report(
        {"discounting": dfit, "discount_responses": other}, tmp_path / "r.html", decode=False
    ).read_text()
    section = _section(text, "discounting")
    assert "No SEM bars" in section and 'id="fig-discount_curves"' in section


# --------------------------------------------------------------------------------------------
# with and without an expectile fit


def test_expectile_report_unchanged_without_discounting(expectile, tmp_path):
    from dopafit.report.html import SECTIONS, write_report

    responses, fit = expectile
    text = write_report({"fit": fit, "responses": responses}, tmp_path / "r.html", decode=False)
    text = text.read_text()
    assert _nav(text) == list(SECTIONS)
    assert "Discounting over delay" not in text and 'id="discounting"' not in text


def test_expectile_and_discounting_together(expectile, dfit, delay_responses, tmp_path):
    from dopafit.report.html import SECTIONS, write_report

    responses, fit = expectile
    text = write_report(
        {
            "fit": fit,
            "responses": responses,
            "discounting": dfit,
            "discount_responses": delay_responses,
        },
        tmp_path / "r.html",
        decode=False,
    ).read_text()
    keys = list(SECTIONS)
    keys.insert(keys.index("learning") + 1, "discounting")
    assert _nav(text) == keys
    assert '<section id="discounting">' in text and 'id="fig-response_curves"' in text
    assert "± SEM at each cue-to-reward delay" in text  # the cue-aligned responses were used


# --------------------------------------------------------------------------------------------
# bad input


def test_results_of_another_kind_are_named_errors(expectile, dfit, timing, tmp_path):
    from dopafit.report.data import load_outputs
    from dopafit.report.html import write_report

    _, fit = expectile
    for key, value in (
        ("discounting", fit),
        ("timing", dfit),
        ("timescale_comparison", timing),
        ("discounting", timing),
    ):
        with pytest.raises(ResultKindError, match="expected a result of kind"):
            load_outputs({"discounting": dfit, key: value})
    with pytest.raises(NoDataError, match="discounting"):
        load_outputs({"fit": dfit})
    with pytest.raises(ResultKindError):
        write_report({"discounting": dfit}, tmp_path / "x.html", timing=fit)
    assert not (tmp_path / "x.html").exists()
    with pytest.raises(NoDataError, match="a fit to report on"):
        load_outputs({"responses": None})


def test_discounting_figures_reject_other_kinds(expectile):
    from dopafit.report import _discounting as d

    _, fit = expectile
    for plot in (d.plot_discount_curves, d.plot_gamma_distribution, d.plot_gamma_reliability):
        with pytest.raises(ResultKindError):
            plot(fit)
    from dopafit.report._timing import plot_timing_decoding

    with pytest.raises(ResultKindError):
        plot_timing_decoding(fit)


# --------------------------------------------------------------------------------------------
# the data behind the curves


def test_response_table_matches_plain_numpy(dfit, delay_responses):
    from dopafit.report._discounting import discount_response_table

    table = discount_response_table(dfit, delay_responses)
    r = delay_responses["response"].values
    d = delay_responses["delay"].values
    cue = delay_responses["cue_id"].values
    delays = dfit["delay_value"].values
    assert BIMODAL_CUE in dfit.attrs["cues_excluded"]
    for u in (0, 7, 23):
        for k, dv in enumerate(delays):
            sel = (d[u] == dv) & (cue[u] != BIMODAL_CUE) & np.isfinite(r[u])
            v = r[u][sel]
            assert table["n"][u, k] == v.size
            assert table["mean"][u, k] == pytest.approx(v.mean(), rel=1e-12)
            assert table["sem"][u, k] == pytest.approx(v.std(ddof=1) / np.sqrt(v.size), rel=1e-10)


def test_example_units_span_gamma(dfit):
    from dopafit.report._discounting import example_units

    units = example_units(dfit, 6)
    g = dfit["gamma"].values
    assert len(units) == 6 and len(set(units)) == 6
    assert list(g[units]) == sorted(g[units])
    ok = dfit["discount_status"].values == "ok"
    assert g[units[0]] == g[ok].min() and g[units[-1]] == g[ok].max()


# --------------------------------------------------------------------------------------------
# output folders and the command line


def _write_outdir(root, dfit, responses, *, sessions: bool):
    if sessions:
        target = root / "sessions" / "sim.nc"
        target.parent.mkdir(parents=True)
    else:
        target = root / "population.nc"
    schema.to_netcdf(responses, target, group="responses")
    schema.to_netcdf(dfit, target, group="discounting", mode="a")
    return target


@pytest.mark.parametrize("layout", ["population", "one session"])
def test_cli_report_of_a_discounting_outdir(dfit, delay_responses, tmp_path, layout):
    from dopafit.cli import main

    _write_outdir(tmp_path, dfit, delay_responses, sessions=layout == "one session")
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "report",
                str(tmp_path),
                "--no-decode",
                "--formats",
                "png",
                "--figures",
                str(tmp_path / "f"),
            ]
        )
    assert exit_info.value.code == 0
    text = (tmp_path / "report.html").read_text()
    assert _nav(text) == ["analysed", "discounting", "failures", "methods"]
    assert 'id="fig-gamma_distribution"' in text and "true γ" in text
    assert "discounting: " in text and ".nc" in text  # the file it was read from
    names = sorted(p.stem for p in (tmp_path / "f").glob("*.png"))
    assert names == ["discount_curves", "gamma_distribution", "gamma_reliability"]
    _no_artefacts(text)


def test_save_figures_includes_the_discounting_figures(dfit, delay_responses, timing, tmp_path):
    paths = dopafit.save_figures(
        None,
        None,
        tmp_path,
        formats=("png",),
        discounting=dfit,
        discount_responses=delay_responses,
        timing=timing,
    )
    assert sorted(paths) == sorted(DISCOUNT_FIGURES)
    assert all(p[0].stat().st_size > 10_000 for p in paths.values())


def test_mixture_cue_truth_from_the_trials_without_a_task(dfit, delay_responses):
    from dopafit.report._timing import decode_mixture_cue

    res = decode_mixture_cue(dfit, delay_responses, n_boot=0)
    assert res.attrs["truth_source"] == "task_spec"
    assert res["true_probability"].values.tolist() == [0.5, 0.5]
    plain = delay_responses.copy()
    plain.attrs = {k: v for k, v in plain.attrs.items() if k != "task_spec"}
    res = decode_mixture_cue(dfit, plain, n_boot=0)
    assert res.attrs["truth_source"] == "trial delays"
    d = delay_responses["delay"].values[delay_responses["cue_id"].values == BIMODAL_CUE]
    assert res["true_delay"].values.tolist() == [1.0, 6.0]
    assert res["true_probability"].values[0] == pytest.approx(np.mean(d == 1.0), abs=1e-12)
    assert float(res["p_time"].sum()) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(NoDataError, match="responses"):
        decode_mixture_cue(dfit, None)


def test_gamma_tau_relation_is_stated_when_fitted(dfit, delay_responses):
    from dopafit.report._discounting_section import section_html

    plain = section_html(dfit, delay_responses, None, None, {}, {}, "png")
    assert "γ against τ" not in plain
    fit = dfit.assign_attrs(
        gamma_tau_r=0.42,
        gamma_tau_r_lo=0.1,
        gamma_tau_r_hi=0.66,
        gamma_tau_p=0.012,
        gamma_tau_n_units=24,
    )
    text = section_html(fit, delay_responses, None, None, {}, {}, "png")
    assert "γ against τ" in text and "r 0.42 [0.1, 0.66]" in text and "p 0.012" in text
    assert "24 units" in text
    _no_artefacts(text)


def test_a_unit_not_fitted_is_named_and_shown_without_numbers(delay_responses, tmp_path):
    from dopafit.report.html import write_report

    ds = delay_responses.copy(deep=True)
    d = ds["delay"].values.copy()
    keep = d[0] == 3.0
    r = ds["response"].values.copy()
    r[0, ~keep] = np.nan  # unit 0: trials at one delay only
    ds["response"] = (ds["response"].dims, r)
    fit = dopafit.fit_discounting(ds, n_splits=5, n_boot=10, progress=False)
    assert fit["discount_status"].values[0] != "ok"
    text = write_report({"discounting": fit, "responses": ds}, tmp_path / "r.html").read_text()
    section = _section(text, "discounting")
    assert "Not fitted: 1 unit(s): one delay" in section
    first_row = section[section.index(f">{ds['unit_id'].values[0]}<") :].split("</tr>")[0]
    assert first_row.count(">–<") >= 5  # gamma, interval, amplitude, asymptote, k, delta AIC
    assert f"{int(fit['discount_status'].values.tolist().count('ok'))} of 24 units fitted" in text
    _no_artefacts(text)


def test_timing_figure_bars_on_a_coarse_grid_and_a_line_on_a_fine_one():
    from dopafit.report._timing import plot_timing_decoding
    from dopafit.stats.decode_timing import fit_table

    gamma = np.linspace(0.4, 0.95, 20)
    for grid, bars in ((np.array([0.5, 1.0, 3.0, 6.0]), True), (np.linspace(0, 9, 61), False)):
        res = dopafit.decode_timing(
            fit_table(gamma),
            values=0.5 * gamma + 0.5 * gamma**6,
            time_grid=grid,
            n_boot=10,
            true_delays=[1.0, 6.0],
            true_probabilities=[0.5, 0.5],
        )
        ax = plot_timing_decoding(res).axes[0]
        assert len(ax.patches) == (grid.size if bars else 0)
        lines = [ln for ln in ax.get_lines() if ln.get_label() == "decoded"]
        assert len(lines) == (0 if bars else 1)
        if not bars:
            assert np.allclose(lines[0].get_ydata(), res["p_time"].values)
        else:
            heights = [patch.get_height() for patch in ax.patches]
            assert np.allclose(heights, res["p_time"].values)
