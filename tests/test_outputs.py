"""dopafit.outputs: the batch writes, and the report and comparison read, exactly its names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dopafit import outputs
from dopafit.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data_samples").glob("*.nwb"))
FAST = ["--n-splits", "10", "--n-boot", "10", "--seed", "1"]


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A batch output folder of one good session and one broken file."""
    inputs = tmp_path_factory.mktemp("in")
    shutil.copy(SAMPLES[0], inputs / SAMPLES[0].name)
    (inputs / "broken.nwb").write_bytes(b"not an nwb file")
    out = tmp_path_factory.mktemp("out")
    with pytest.raises(SystemExit) as info:
        main(["fit", str(inputs), "-o", str(out), "-q", *FAST])
    assert info.value.code == 1  # one failed
    return out


def test_a_batch_writes_exactly_the_names_outputs_defines(fitted):
    session = f"{outputs.SESSIONS_DIR}/{outputs.session_file(SAMPLES[0].stem)}"
    assert _files(fitted) == {
        session,
        outputs.POPULATION_FILE,
        outputs.UNITS_FILE,
        outputs.FAILURES_FILE,
    }
    assert sorted((fitted / outputs.SESSIONS_DIR).glob(outputs.SESSION_GLOB)) == [fitted / session]


def test_the_report_reads_and_writes_the_names_outputs_defines(fitted, tmp_path):
    from dopafit.report.data import load_outputs
    from dopafit.report.html import write_report

    folder = tmp_path / "fits"
    shutil.copytree(fitted, folder)
    inputs = load_outputs(folder)
    assert inputs.files["fit"] == str(folder / outputs.POPULATION_FILE)
    assert inputs.files["units"] == str(folder / outputs.UNITS_FILE)
    assert inputs.files["failures"] == str(folder / outputs.FAILURES_FILE)
    path = write_report(folder, decode=False)
    assert Path(path) == folder / outputs.REPORT_FILE
    assert _files(folder) - _files(fitted) == {outputs.REPORT_FILE}


def test_comparison_default_paths_follow_outputs(fitted):
    from dopafit.cli.compare import _load

    _, out, fit_attrs = _load(fitted)
    assert out == fitted / outputs.COMPARISON_FILE
    assert fit_attrs["n_splits"] == 10
    _, out, _ = _load(SAMPLES[0])
    assert out == outputs.comparison_beside(SAMPLES[0])
    assert out.name == SAMPLES[0].stem + outputs.COMPARISON_SUFFIX


def test_the_demo_writes_into_the_folder_outputs_defines():
    from dopafit import demo

    assert demo.OUTDIR == Path(outputs.DEMO_DIR)  # its files: see test_samples
