"""The names of every file, folder and netCDF group dopafit writes.

One owner for each name, so that the batch that writes an output folder, the report and the
comparison that read it, and the demo that shows it agree by construction.

An output folder of ``dopafit fit`` (``OUTDIR``)::

    OUTDIR/sessions/<input stem>.nc   one per session (groups responses, fit[, learning])
    OUTDIR/population.nc              all units pooled (groups responses, fit[, learning,
                                      learning_recovery])
    OUTDIR/units.csv                  the tidy per-unit table
    OUTDIR/failures.csv               the sessions that failed, with their reasons
    OUTDIR/comparison.nc              ``dopafit compare`` on the population (optional)
    OUTDIR/report.html                ``dopafit report``

Examples
--------
>>> from dopafit import outputs
>>> outputs.session_file("sub-01_ses-1")
'sub-01_ses-1.nc'
>>> outputs.comparison_beside("fits/sub-01.nwb").as_posix()
'fits/sub-01.comparison.nc'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "SESSIONS_DIR",
    "SESSION_SUFFIX",
    "SESSION_GLOB",
    "POPULATION_FILE",
    "UNITS_FILE",
    "FAILURES_FILE",
    "COMPARISON_FILE",
    "COMPARISON_SUFFIX",
    "REPORT_FILE",
    "DEMO_DIR",
    "MANIFEST_FILE",
    "RESPONSES_GROUP",
    "FIT_GROUP",
    "LEARNING_GROUP",
    "LEARNING_RECOVERY_GROUP",
    "DISCOUNTING_GROUP",
    "TIMESCALES_FILE",
    "session_file",
    "comparison_beside",
]

#: folder of the per-session outputs inside an output folder
SESSIONS_DIR = "sessions"
#: suffix of a per-session output (after the input file's stem)
SESSION_SUFFIX = ".nc"
#: pattern matching the per-session outputs in :data:`SESSIONS_DIR`
SESSION_GLOB = f"*{SESSION_SUFFIX}"
#: the pooled population: responses and fit of every unit
POPULATION_FILE = "population.nc"
#: the tidy per-unit table of the population
UNITS_FILE = "units.csv"
#: the sessions that failed and why
FAILURES_FILE = "failures.csv"
#: the calibrated comparison of an output folder's population
COMPARISON_FILE = "comparison.nc"
#: suffix of a comparison written beside a single input file (``x.nwb`` -> ``x.comparison.nc``)
COMPARISON_SUFFIX = ".comparison.nc"
#: the calibrated timescale comparison of a ``dopafit fit --discounting`` output folder
TIMESCALES_FILE = "timescales.nc"
#: the HTML report of an output folder
REPORT_FILE = "report.html"
#: default output folder of ``python -m dopafit.demo``
DEMO_DIR = "demo_output"
#: checksums and library versions of the sessions ``dopafit simulate --preset`` writes
MANIFEST_FILE = "MANIFEST.json"

#: netCDF groups of a session or population output
RESPONSES_GROUP = "responses"
FIT_GROUP = "fit"
LEARNING_GROUP = "learning"
LEARNING_RECOVERY_GROUP = "learning_recovery"
#: group of a ``dopafit fit --discounting`` output holding the discounting fit
DISCOUNTING_GROUP = "discounting"


def session_file(name: str) -> str:
    """The file name of the session output called ``name`` (an input's stem, made unique)."""
    return f"{name}{SESSION_SUFFIX}"


def comparison_beside(source: str | os.PathLike) -> Path:
    """The comparison written for a single input file: beside it, named after it."""
    return Path(source).with_suffix(COMPARISON_SUFFIX)
