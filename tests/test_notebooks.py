"""Every tutorial notebook (``notebooks/*.py``, jupytext percent scripts) runs, and is tidy.

Each notebook is converted with jupytext and executed by nbclient in a real kernel, as the
documentation build does, in a temporary working folder, with ``DOPAFIT_NOTEBOOK_QUICK=1``
(small settings) and ``MPLBACKEND=Agg``. A failing cell fails the test with that cell's
error. Notebooks that need the shared recordings get ``DOPAFIT_SHARED_DATA`` when the
recordings are found (``tests/conftest.py``); the Dabney notebook's numbers are checked
against the ranges of the analysis specification (``dabney-analysis.md`` §3), and without
the recordings it must stop cleanly, saying where the public copy lives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_data_dir

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.py"))
IDS = [p.stem for p in NOTEBOOKS]
TIMEOUT = 600  # seconds per cell; quick settings take a few seconds per notebook
JUPYTEXT_HEADER = (
    "# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n"
    "#     text_representation:\n#       extension: .py\n#       format_name: percent\n"
)
# Notebooks that need ../shared/data; they get DOPAFIT_SHARED_DATA when it is found.
NEEDS_SHARED_DATA = {"dabney2020"}
RUN_PARAMS = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.realdata] if p.stem in NEEDS_SHARED_DATA else [])
    for p in NOTEBOOKS
]


def _notebook(path: Path):
    return jupytext.read(path, fmt="py:percent")


def _markdown_lines(nb) -> list[str]:
    return [
        line
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
    ]


def _cell_error(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out['ename']}: {out['evalue']}"
    return ""


KERNEL = "dopafit-notebook-tests"


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory) -> Path:
    """A Jupyter data folder whose only kernel runs this interpreter (never another Python)."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "dopafit tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return folder


def execute(path: Path, tmp_path: Path, monkeypatch, *, env=None, extra_cells=()):
    """Run a notebook with nbclient in ``tmp_path/work``; return the executed notebook.

    The kernel's temporary files go to ``tmp_path/tmp`` (``TMPDIR``), so that pytest cleans
    them up; the working folder must be left empty (outputs go to a temporary folder).
    ``extra_cells`` are code cells appended after the notebook's own (they see its
    variables). A failing cell raises ``pytest.fail`` naming the cell and its error.
    """
    pytest.importorskip("ipykernel")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setenv("DOPAFIT_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    for key, value in (env or {}).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, str(value))
    nb = _notebook(path)
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in extra_cells)
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        failed = [(i, cell) for i, cell in enumerate(nb.cells) if _cell_error(cell)]
        where = ""
        if failed:
            i, cell = failed[0]
            where = f"cell {i} ({_cell_error(cell)}):\n{cell.source}\n"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # no terminal colours
        pytest.fail(f"{path.name}: {where}{text}", pytrace=False)
    left = sorted(p.name for p in workdir.iterdir())
    assert not left, f"{path.name} wrote {left} into the working folder (use a temporary one)"
    return nb


def _stdout(nb, cell_index: int) -> str:
    return "".join(
        out.get("text", "")
        for out in nb.cells[cell_index].get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


def _all_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(str(out["data"].get("text/plain", "")))
    return "\n".join(parts)


def _images(nb) -> int:
    return sum(
        "image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", [])
    )


# ------------------------------------------------------------------------------------ hygiene


def test_notebooks_found():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "dabney2020", "photometry"} <= names, names


def test_no_ipynb_in_notebooks():
    stray = sorted(str(p.relative_to(ROOT)) for p in NOTEBOOK_DIR.rglob("*.ipynb"))
    assert not stray, f"notebooks are jupytext .py scripts; remove {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_hygiene(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith(JUPYTEXT_HEADER), f"{path.name}: no jupytext percent header"
    nb = _notebook(path)
    assert nb.cells and nb.cells[0].cell_type == "markdown", f"{path.name}: starts with code"
    h1 = [line for line in _markdown_lines(nb) if line.startswith("# ")]
    assert len(h1) == 1 and nb.cells[0].source.startswith("# "), (
        f"{path.name}: one H1 title, in the first markdown cell; found {h1}"
    )
    assert 'os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"' in text, (
        f"{path.name}: read QUICK = os.environ.get('DOPAFIT_NOTEBOOK_QUICK') == '1'"
    )


# ------------------------------------------------------------------------------ execution


# The ranges of dabney-analysis.md §3 (re-analysis over 200 random splits; published values
# from one partition each), read back from the executed notebook's own fit.
DABNEY_CHECK = """
import json as _json
import numpy as _np
print("DABNEY-CHECK " + _json.dumps({
    "n_units": int(fit.sizes["unit"]),
    "n_splits": int(fit.sizes["split"]),
    "n_trials": int(fit["n_trials"].sum()),
    "r_median": float(_np.median(fit["r_tau_reversal"])),
    "r_q05": float(_np.quantile(fit["r_tau_reversal"], 0.05)),
    "r_q95": float(_np.quantile(fit["r_tau_reversal"], 0.95)),
    "frac_p05": float(_np.mean(fit["p_tau_reversal"] < 0.05)),
    "p_tau_median": float(_np.median(fit["p_tau_reversal"])),
    "rel_median": float(_np.median(fit["r_reliability"])),
    "p_rel_median": float(_np.median(fit["p_reliability"])),
    "f_median": float(_np.median(fit["anova_f"])),
    "df1": int(_np.median(fit["anova_df1"])),
    "df2": int(_np.median(fit["anova_df2"])),
    "offset": float(fit.attrs["uncued_offset"]),
    "axis": [float(v) for v in fit["axis_value"].values],
    "table": numbers.to_dict(),
    "verdict": result.attrs["verdict"],
}))
"""


def check_dabney_numbers(nb):
    """The executed Dabney notebook's numbers are inside the ranges of the specification."""
    line = next(
        ln for ln in _stdout(nb, len(nb.cells) - 1).splitlines() if ln.startswith("DABNEY-CHECK")
    )
    got = json.loads(line.split(" ", 1)[1])
    assert got["n_units"] == 40 and got["n_trials"] == 8877
    assert got["n_splits"] >= 200
    # the pooling offset and the empirical utility axis of the original analysis (§1)
    assert got["offset"] == pytest.approx(-1.498, abs=0.02)
    assert got["axis"] == pytest.approx(
        [-3.577, -3.288, -2.765, -1.759, 0.242, 4.428, 8.324], abs=0.1
    )
    # r(tau_B, reversal_A): median 0.52 (5-95%: 0.10-0.66), 87.5% of splits with p < 0.05
    assert 0.45 <= got["r_median"] <= 0.60
    assert 0.05 <= got["r_q05"] and got["r_q95"] <= 0.75
    assert got["frac_p05"] >= 0.80
    assert got["p_tau_median"] < 1e-2
    # reliability r ~ 0.77 (0.60-0.87); published P = 1.8e-5 for one partition
    assert 0.70 <= got["rel_median"] <= 0.85
    assert got["p_rel_median"] < 1.8e-5
    # 7-fold ANOVA: published F(38, 234) = 2.93; re-analysis median 3.3
    assert 2.5 <= got["f_median"] <= 4.5
    assert (got["df1"], got["df2"]) == (38, 234)
    # the table the notebook shows is the fit's own numbers
    this_run = got["table"]["this run"]
    assert f"{got['rel_median']:.2f}" in this_run["reliability r(reversal_A, reversal_B)"]
    assert f"{got['frac_p05']:.1%}" == this_run["  splits with p < 0.05"]
    assert this_run["fold ANOVA of tau, F"].startswith("F(38, 234) = ")
    # the comparison ran and gave its verdict
    assert "classical TD" in got["verdict"]
    assert _images(nb) >= 5


CHECKS = {"dabney2020": ([DABNEY_CHECK], check_dabney_numbers)}


@pytest.mark.parametrize("path", RUN_PARAMS)
def test_notebook_runs(path, tmp_path, monkeypatch, jupyter_path):
    env = {"DOPAFIT_SAMPLES": ROOT / "data_samples", "JUPYTER_PATH": jupyter_path}
    if path.stem in NEEDS_SHARED_DATA:
        shared = shared_data_dir()
        if shared is None:
            pytest.skip("shared recordings not found (DOPAFIT_SHARED_DATA or ../shared/data)")
        env["DOPAFIT_SHARED_DATA"] = shared
    extra, check = CHECKS.get(path.stem, ((), None))
    start = time.perf_counter()
    nb = execute(path, tmp_path, monkeypatch, env=env, extra_cells=extra)
    elapsed = time.perf_counter() - start
    assert _images(nb) >= 1, f"{path.name}: no figure shown"
    if check is not None:
        check(nb)
    print(f"{path.name}: {elapsed:.1f} s")


def test_dabney_without_data_stops_cleanly(tmp_path, monkeypatch, jupyter_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    path = NOTEBOOK_DIR / "dabney2020.py"
    nb = execute(
        path,
        tmp_path,
        monkeypatch,
        env={"DOPAFIT_SHARED_DATA": empty, "JUPYTER_PATH": jupyter_path},
        extra_cells=["print('after the stop')"],
    )
    text = _all_text(nb)
    assert "dongjae-kim/efficient-coding-dist-rl" in text
    assert str(empty / "dabney2020" / "cells") in text
    assert "after the stop" not in text
    stop = next(
        i
        for i, c in enumerate(nb.cells)
        if "stop_notebook(" in c.source and c.cell_type == "code" and "shared, searched" in c.source
    )
    for cell in nb.cells[stop + 1 :]:
        assert not cell.get("outputs"), f"a cell after the stop produced output: {cell.source}"
    # run as a plain script it exits with status 0 and no traceback
    res = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env={**os.environ, "DOPAFIT_SHARED_DATA": str(empty), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "dongjae-kim/efficient-coding-dist-rl" in res.stdout
