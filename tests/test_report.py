"""Figures and the HTML report: content, self-containment, files, CLI, and a browser render."""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest

import dopafit
from dopafit import schema
from dopafit.errors import ConfigError, FileNotFoundError_, NoDataError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_NAMES = (
    "response_curves",
    "response_grid",
    "tau_reversal",
    "split_distributions",
    "decoded_distribution",
    "comparison",
)
# (L-BFGS-B iterations are slow when OpenBLAS threads compete for busy cores: keep them few)
LIGHT_DECODE = {"n_starts": 200, "n_polish": 1, "n_epochs": 1, "maxiter": 300}


# --------------------------------------------------------------------------------------------
# fixtures: one small simulated recording, its fit, a small comparison, a batch-like OUTDIR


@pytest.fixture(scope="module")
def responses():
    return dopafit.simulate_responses(
        task="dabney", population="distributional", n_units=20, seed=0
    )


@pytest.fixture(scope="module")
def fit(responses):
    return dopafit.fit_expectiles(responses, n_splits=50, n_boot=50, seed=1)


@pytest.fixture(scope="module")
def comparison(responses):
    from dopafit.stats.compare import compare

    return compare(
        responses,
        accounts=("classical", "distributional"),
        n_sim=19,
        n_splits=5,
        n_boot=0,
        mixed=False,
        seed=2,
    )


@pytest.fixture(scope="module")
def outdir(tmp_path_factory, responses, fit, comparison):
    """A folder laid out like `dopafit fit` + `dopafit compare` output, with one failure."""
    from dopafit.batch import units_table

    out = tmp_path_factory.mktemp("fits")
    schema.to_netcdf(responses, out / "population.nc", group="responses")
    schema.to_netcdf(fit, out / "population.nc", group="fit", mode="a")
    units_table(fit, responses).to_csv(out / "units.csv", index=False)
    comparison.dopafit.to_netcdf(out / "comparison.nc")
    (out / "failures.csv").write_text("path,reason\nbroken.nwb,broken.nwb: expected NWB\n")
    return out


@pytest.fixture(scope="module")
def report_path(outdir, tmp_path_factory):
    from dopafit.report.html import write_report

    figdir = tmp_path_factory.mktemp("figures")
    path = write_report(
        outdir,
        outdir / "report.html",
        figures_dir=figdir,
        formats=("png", "svg"),
        decode_kwargs=LIGHT_DECODE,
    )
    return path, figdir


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    parser.close()
    return parser


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------------------------
# the HTML page


def test_report_is_self_contained_and_complete(report_path, fit, comparison):
    from dopafit.report.html import SECTIONS

    path, _ = report_path
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parser = _parse(text)
    ids = {attrs.get("id") for _, attrs in parser.tags}
    assert set(SECTIONS) <= ids
    # one embedded image per figure, each a decodable PNG of real size
    imgs = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(imgs) == len(FIGURE_NAMES)
    for attrs in imgs:
        src = attrs["src"]
        assert src.startswith("data:image/png;base64,")
        width, height = _png_size(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert width > 200 and height > 100
        assert attrs.get("alt")
    # nothing is fetched: no scripts, stylesheets, frames; links are in-page anchors only
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base"}
    for tag, attrs in parser.tags:
        for key in ("src", "href", "srcset", "poster", "data"):
            if key in attrs:
                assert attrs[key].startswith(("data:", "#")), (tag, key, attrs[key][:60])
    assert "http://" not in text and "https://" not in text
    assert "@import" not in text and "url(" not in text
    # the content: verdict, every account, unit ids, failure, settings
    verdict = comparison.dopafit.verdict
    assert verdict and verdict[:60] in text.replace("&#x27;", "'")
    for account in comparison.dopafit.accounts:
        assert f">{account}<" in text
    for unit_id in fit[schema.UNIT_ID].values:
        assert f">{unit_id}<" in text
    assert "broken.nwb" in text
    assert "population.nc" in text and "units.csv" in text
    assert f"{fit.attrs['n_splits']} splits" in text
    assert dopafit.__version__ in text


def test_report_numbers_match_the_fit(report_path, fit):
    path, _ = report_path
    text = path.read_text(encoding="utf-8")
    summary = dopafit.split_summary(fit)
    med = summary.loc["r_tau_reversal", "median"]
    assert f">{med:.3g}<" in text
    n_trials = int(fit["n_trials"].sum())
    assert f"{n_trials} (per unit" in text


def test_figure_files_written_atomically(report_path):
    path, figdir = report_path
    for name in FIGURE_NAMES:
        png = figdir / f"{name}.png"
        svg = figdir / f"{name}.svg"
        width, height = _png_size(png.read_bytes())
        assert width > 600 and height > 300  # 300 dpi
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        assert "matplotlib.org" not in svg.read_text()
    leftovers = list(figdir.glob(".*tmp*")) + list(path.parent.glob(".*tmp*"))
    assert not leftovers


def test_svg_embedding_parses(fit, responses, comparison):
    from dopafit.report.data import ReportInputs
    from dopafit.report.figures import make_figures
    from dopafit.report.html import render_report

    figs, notes = make_figures(fit, responses, comparison, decode=False)
    text = render_report(
        ReportInputs(fit, responses, comparison=comparison), figures=figs, notes=notes, embed="svg"
    )
    svgs = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    assert len(svgs) == len(figs) == 5
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    stripped = re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)
    assert "http://" not in stripped and "https://" not in stripped
    assert "Figure not made: decoding was switched off" in text


# --------------------------------------------------------------------------------------------
# figures and the numbers behind them


def test_figure_labels_come_from_attrs(responses):
    from dopafit.report import figures

    ds = responses.copy()
    ds.attrs["reward_units"] = "ul"
    ds.attrs["response_units"] = "Hz"
    fit = dopafit.fit_expectiles(ds, axis="reward", n_splits=10, n_boot=0, seed=0)
    fig = figures.plot_response_curves(fit, ds)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Reward (µl)"
    assert ax.get_ylabel() == "Response (Δ Hz from baseline)"
    fig = figures.plot_tau_reversal(fit)
    assert "(µl)" in fig.axes[0].get_xlabel()
    fit_u = dopafit.fit_expectiles(ds, axis="utility", n_splits=0, n_boot=0)
    fig = figures.plot_response_curves(fit_u, ds)
    assert fig.axes[0].get_xlabel() == "Utility: population mean response (Hz)"


def test_response_table_matches_plain_numpy(fit, responses):
    from dopafit.report.data import response_table

    table = response_table(fit, responses)
    np.testing.assert_allclose(table["mean"], fit["mean_response"].values, rtol=1e-9)
    # reference for one unit: pool uncued responses with the fit's offset, then SEM by hand
    u, offset = 3, fit.attrs["uncued_offset"]
    resp = responses[schema.RESPONSE].values[u]
    reward = responses[schema.REWARD].values[u]
    cued = responses[schema.CUED].values[u]
    for m, mag in enumerate(fit["magnitude"].values):
        sel = np.isfinite(resp) & np.isclose(reward, mag)
        vals = np.where(cued[sel], resp[sel], resp[sel] + offset)
        assert table["n"][u, m] == vals.size
        np.testing.assert_allclose(table["sem"][u, m], vals.std(ddof=1) / np.sqrt(vals.size))


def test_response_table_rejects_other_responses(fit):
    from dopafit.report.data import response_table

    other = dopafit.simulate_responses(n_units=20, seed=5)
    with pytest.raises(ConfigError, match="responses Dataset the fit was made from"):
        response_table(fit, other)


def test_monotone_axis_and_reward_mapping(fit):
    from dopafit.report.data import axis_to_reward, monotone_axis

    np.testing.assert_allclose(monotone_axis(np.array([1.0, 3.0, 2.0, 4.0])), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(
        monotone_axis(np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0, 3.0])), [1, 2.25, 2.25]
    )
    increasing = np.array([0.0, 1.0, 5.0])
    np.testing.assert_array_equal(monotone_axis(increasing), increasing)
    # on the fit's utility axis: monotone, inside the reward range, exact at increasing knots
    mags = fit["magnitude"].values
    axis = fit["axis_value"].values
    grid = np.linspace(axis.min() - 1, axis.max() + 1, 301)
    mapped = axis_to_reward(grid, fit)
    assert np.all(np.diff(mapped) >= 0)
    assert mapped.min() == mags.min() and mapped.max() == mags.max()
    g = monotone_axis(fit["axis_value"].values, fit["n_trials_magnitude"].sum("unit").values)
    top = int(np.argmax(g))
    np.testing.assert_allclose(axis_to_reward(g[top:], fit), mags[top:], rtol=1e-9)
    assert np.isnan(axis_to_reward(np.array([np.nan]), fit)[0])


def test_representative_split_is_the_median_one(fit):
    from dopafit.report.data import representative_split

    k = representative_split(fit)
    r = fit["r_tau_reversal"].values
    assert abs(r[k] - np.median(r)) == np.min(np.abs(r - np.median(r)))
    no_split = dopafit.fit_expectiles(dopafit.simulate_responses(n_units=5), n_splits=0, n_boot=0)
    assert representative_split(no_split) is None


@pytest.mark.parametrize("seed", [0, 1])
def test_decoding_recovers_the_task_distribution(seed):
    """From a distributional population the decoded distribution is nearer the task's than the
    uniform and matched-Gaussian references, with the task's mean."""
    from dopafit.report.data import decode_fit

    ds = dopafit.simulate_responses(population="distributional", n_units=40, seed=seed, noise=1.0)
    fit = dopafit.fit_expectiles(ds, axis="reward", n_splits=0, n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dopafit.errors.DopafitWarning)
        res = decode_fit(fit, n_starts=200, n_polish=1, n_epochs=1, maxiter=300)
    d = res.dopafit.distances()
    assert d["truth"] < d["gaussian"] and d["truth"] < d["uniform"]
    true_mean = float(np.sum(res["true_value"].values * res["true_probability"].values))
    assert abs(res.dopafit.mean - true_mean) < 0.6
    assert res.attrs["n_units_used"] + res.attrs["n_units_excluded"] == 40


def test_given_reward_distribution(fit):
    from dopafit.report.data import reward_distribution

    task = dopafit.get_task("dabney")
    v, p, how = reward_distribution(fit, task.magnitudes, task.probabilities)
    assert how == "given"
    np.testing.assert_array_equal(v, task.magnitudes)
    np.testing.assert_allclose(p.sum(), 1.0)
    with pytest.raises(ConfigError):
        reward_distribution(fit, task.magnitudes, None)
    _, p, how = reward_distribution(fit)
    counts = fit["n_trials_magnitude"].sum("unit").values
    np.testing.assert_allclose(p, counts / counts.sum())


def test_save_figures_without_comparison(fit, responses, tmp_path):
    from dopafit.report.figures import save_figures

    paths = save_figures(fit, responses, tmp_path, formats=("svg",), decode=False)
    assert set(paths) == {"response_curves", "response_grid", "tau_reversal", "split_distributions"}
    assert all(p[0].suffix == ".svg" and p[0].stat().st_size > 1000 for p in paths.values())
    with pytest.raises(ConfigError):
        save_figures(fit, responses, tmp_path, formats=("gif",))


# --------------------------------------------------------------------------------------------
# inputs and errors


def test_load_outputs_errors(tmp_path, fit, responses):
    from dopafit.report.data import load_outputs

    with pytest.raises(FileNotFoundError_):
        load_outputs(tmp_path / "missing")
    with pytest.raises(NoDataError, match="population.nc"):
        load_outputs(tmp_path)
    only_responses = tmp_path / "r.nc"
    schema.to_netcdf(responses, only_responses, group="responses")
    with pytest.raises(NoDataError, match="group 'fit'"):
        load_outputs(only_responses)
    with pytest.raises(NoDataError, match="fit Dataset"):
        load_outputs({"fit": responses})
    inputs = load_outputs({"fit": fit})
    assert inputs.responses is None and inputs.comparison is None


def test_outdir_with_one_session_file(tmp_path, fit, responses):
    from dopafit.report.data import load_outputs

    (tmp_path / "sessions").mkdir()
    session = tmp_path / "sessions" / "s1.nc"
    schema.to_netcdf(responses, session, group="responses")
    schema.to_netcdf(fit, session, group="fit", mode="a")
    inputs = load_outputs(tmp_path)
    assert inputs.files["fit"] == str(session)
    assert inputs.fit.sizes["unit"] == fit.sizes["unit"] and inputs.units is None
    np.testing.assert_allclose(inputs.fit["tau"].values, fit["tau"].values)
    (tmp_path / "sessions" / "s2.nc").write_bytes(session.read_bytes())
    with pytest.raises(NoDataError, match="2 session outputs but no population.nc"):
        load_outputs(tmp_path)


def test_report_without_responses_or_splits(tmp_path, responses):
    from dopafit.report.html import write_report

    fit0 = dopafit.fit_expectiles(responses, n_splits=0, n_boot=0)
    path = write_report({"fit": fit0}, tmp_path / "r.html", decode=False)
    text = path.read_text()
    assert "no split halves" in text.lower()
    assert "run dopafit compare" in text


def test_report_of_too_few_units_for_split_statistics(tmp_path, responses):
    """Two units: every split statistic is undefined; the table says '–', never 'nan%'."""
    from dopafit.report.html import write_report

    two = responses.isel(unit=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit2 = dopafit.fit_expectiles(two, n_splits=5, n_boot=0, seed=0)
        text = write_report({"fit": fit2}, tmp_path / "r.html", decode=False).read_text()
    assert "nan%" not in text and "nan" not in re.sub(r"<[^>]+>", " ", text).split()


def test_mapping_entries_override_the_output_folder(outdir, tmp_path, fit, comparison):
    """Each mapping entry replaces what the folder gives; ``files`` says where each came from."""
    import pandas as pd

    from dopafit.report.data import load_outputs

    other = comparison.assign_attrs(label="the other comparison")
    other.dopafit.to_netcdf(tmp_path / "other.nc")
    units = pd.DataFrame({"unit_id": ["x"], "reversal_point": [0.5]})
    inputs = load_outputs(
        {"outputs": outdir, "comparison": tmp_path / "other.nc", "units": units, "failures": None}
    )
    assert list(inputs.files) == ["fit", "responses", "units", "failures", "comparison"]
    assert inputs.files["comparison"] == str(tmp_path / "other.nc")
    assert inputs.files["units"] == "(in memory)"
    assert inputs.files["failures"] == str(outdir / "failures.csv")  # None keeps the folder's
    assert inputs.units is units and len(inputs.failures) == 1
    assert inputs.comparison.attrs["label"] == "the other comparison"
    np.testing.assert_array_equal(inputs.fit["tau"].values, fit["tau"].values)
    with pytest.raises(ConfigError, match="keys among"):
        load_outputs({"outputs": outdir, "figures": 1})
    with pytest.raises(FileNotFoundError_, match="existing comparison file"):
        load_outputs({"outputs": outdir, "comparison": tmp_path / "none.nc"})
    with pytest.raises(NoDataError, match="a fit to report on"):
        load_outputs({"units": units})


def test_response_grid_shows_units_in_reversal_point_order(fit, responses):
    from dopafit.report.data import fitted_mask
    from dopafit.report.figures import plot_response_grid

    z = fit["reversal_point"].values
    fitted = np.flatnonzero(fitted_mask(fit))
    fig = plot_response_grid(fit, responses, units=fitted[:5][::-1], ncols=3)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 6 and len(shown) == 5
    names = [str(fit["unit_id"].values[u]) for u in fitted[:5][np.argsort(z[fitted[:5]])]]
    assert [ax.get_title().split()[0] for ax in shown] == names
    assert "of" not in fig.get_suptitle()
    fig = plot_response_grid(fit, responses, max_units=4)
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    assert f"(4 of {fitted.size}, spread over the ranks)" in fig.get_suptitle()
    rp = [float(ax.get_lines()[-1].get_xdata()[0]) for ax in fig.axes if ax.get_visible()]
    assert rp == sorted(rp)  # the dashed reversal-point line, left to right by rank


def test_comparison_figure_panels(comparison):
    from dopafit.report.figures import STATISTIC_LABELS, plot_comparison

    chosen = ["reliability", "r_tau_reversal", "anova_f"]
    fig = plot_comparison(comparison, statistics=chosen, ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(visible) == 3
    assert [ax.get_title(loc="left") for ax in visible] == [STATISTIC_LABELS[s] for s in chosen]
    accounts = [str(a) for a in comparison["account"].values]
    first, second, third = ([t.get_text() for t in ax.get_yticklabels()] for ax in visible)
    assert first == third == accounts[::-1] and second == [""] * len(accounts)
    # one observed diamond per account, at the observed value of that account
    diamonds = [line for line in visible[0].get_lines() if line.get_marker() == "D"]
    observed = comparison["observed"].sel(statistic="reliability").values
    np.testing.assert_allclose([d.get_xdata()[0] for d in diamonds], observed)
    with pytest.raises(ConfigError, match="computable statistic"):
        plot_comparison(comparison, statistics=["no_such_statistic"])


def test_tau_reversal_panels_follow_the_inputs(fit, responses, comparison):
    from dopafit.report.figures import plot_tau_reversal

    fig = plot_tau_reversal(fit, comparison, split=3)
    assert len(fig.axes) == 4
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    r = np.corrcoef(*_split_pair(fit, 3))[0, 1]
    assert f"split 3: r = {r:.2f}" in text
    assert fig.axes[2].get_xlabel().startswith("r(τ half B, reversal half A)")
    fit0 = dopafit.fit_expectiles(responses, n_splits=0, n_boot=0)
    fig0 = plot_tau_reversal(fit0)
    assert len(fig0.axes) == 2
    assert "no split halves" in " ".join(t.get_text() for t in fig0.axes[0].texts)
    assert fig0.axes[0].get_xlim() == fig0.axes[1].get_xlim()


def _split_pair(fit, split):
    """Reversal points of half A and tau of half B of the fitted units of one split."""
    from dopafit.report.data import fitted_mask

    za = fit["reversal_point_a"].isel(split=split).values
    tb = fit["tau_b"].isel(split=split).values
    keep = fitted_mask(fit) & np.isfinite(za) & np.isfinite(tb)
    return za[keep], tb[keep]


def test_import_stays_light():
    code = (
        "import sys, dopafit.report.figures, dopafit.report.html, dopafit.report.data\n"
        "heavy = [m for m in ('matplotlib', 'scipy', 'numba') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------
# command line


def test_cli_report(outdir, tmp_path, capsys):
    from dopafit.cli import main

    html_path = tmp_path / "cli.html"
    figdir = tmp_path / "figs"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "report",
                str(outdir),
                "-o",
                str(html_path),
                "--figures",
                str(figdir),
                "--formats",
                "png",
                "--no-decode",
                "--embed",
                "svg",
            ]
        )
    assert exit_info.value.code == 0
    assert "<svg" in html_path.read_text()
    assert sorted(p.stem for p in figdir.glob("*.png")) == sorted(
        n for n in FIGURE_NAMES if n != "decoded_distribution"
    )


def test_cli_bad_outdir_is_one_line(tmp_path, capsys):
    from dopafit.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "x.html")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("dopafit: error:") and "\n" not in err
    assert "nope" in err and "Fix:" in err
    assert not (tmp_path / "x.html").exists()


def test_cli_help_has_example():
    out = subprocess.run(
        [sys.executable, "-m", "dopafit", "report", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dopafit report fits" in out and "--figures" in out


# --------------------------------------------------------------------------------------------
# a real browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def test_page_renders_in_headless_chromium(report_path, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from matplotlib.image import imread

    path, _ = report_path
    shot = tmp_path / "shot.png"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        path.resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists(), "chromium wrote no screenshot"
    width, height = _png_size(shot.read_bytes())
    assert (width, height) == (1200, 3000)
    pixels = imread(shot)[..., :3]
    not_white = (pixels < 0.9).any(axis=-1)
    assert not_white.mean() > 0.02  # text, tables and figures drawn
    # images are drawn in colour (the figures), not only black text
    colourful = (pixels.max(axis=-1) - pixels.min(axis=-1)) > 0.2
    assert colourful.mean() > 0.005
