"""Shared fixtures: the location of the shared real recordings, and a temp output folder;
the hypothesis profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Property tests draw the same examples on every run (derandomized), so that the suite's result
# does not depend on the run; HYPOTHESIS_PROFILE=explore draws new random examples each time.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def shared_data_dir() -> Path | None:
    """The shared real-data folder ($DOPAFIT_SHARED_DATA or ../shared/data), or None."""
    env = os.environ.get("DOPAFIT_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared recordings; skips the test with a reason when they are absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip(
            "shared recordings not found: set DOPAFIT_SHARED_DATA or place them at ../shared/data"
        )
    return path


@pytest.fixture(scope="session")
def dabney_cells(shared_data) -> list[Path]:
    """The 40 Dabney-2020 per-neuron MAT files."""
    files = sorted((shared_data / "dabney2020" / "cells").glob("*.mat"))
    if len(files) != 40:
        pytest.skip(f"expected 40 Dabney MAT files in {shared_data}, found {len(files)}")
    return files


@pytest.fixture(scope="session")
def dabney_nwb(dabney_cells, tmp_path_factory) -> list[Path]:
    """The 40 public neurons converted to NWB once per test process (one file per session)."""
    import dopafit

    return sorted(dopafit.convert_uchida_mat(dabney_cells, tmp_path_factory.mktemp("dabney_nwb")))
