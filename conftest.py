"""Root pytest configuration: how the docstring Examples of ``dopafit/`` run as doctests.

``make test`` collects ``dopafit/`` with ``--doctest-modules`` (``pyproject.toml``). Every
doctest runs in a fresh temporary folder that holds ``data_samples/`` (a symlink to the
repository's), so an example is written as a user at the repository root would write it
(``dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")``) and the files it writes land in
that folder, never in the repository; matplotlib draws with the Agg backend and its figures are
closed afterwards.

This file sits at the repository root rather than in ``dopafit/`` so that pytest stays out of
the installed package (``dopafit/conftest.py`` would ship in the wheel); the fixture acts only on
doctest items, so the tests of ``tests/`` (and their own ``tests/conftest.py``) are untouched.

Collecting ``dopafit/`` imports every module; none has import-time side effects (pytest skips
``dopafit/__main__.py``, and ``dopafit/demo.py`` runs only under ``__main__``), and
``tests/test_docstrings.py`` checks that the collection succeeds with one doctest per public
name.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT / "data_samples"


@pytest.fixture(autouse=True)
def _doctest_in_fresh_folder(request):
    """Run a doctest in a fresh folder holding ``data_samples/``, with matplotlib's Agg backend.

    Other tests are left alone (no temporary folder is made for them).
    """
    if not isinstance(request.node, DoctestItem):
        yield
        return
    folder = request.getfixturevalue("tmp_path")
    try:
        (folder / "data_samples").symlink_to(SAMPLES, target_is_directory=True)
    except OSError:  # no symlinks (e.g. Windows without developer mode): copy 2.5 MB
        shutil.copytree(SAMPLES, folder / "data_samples")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "matplotlib" in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
