"""Helpers shared by the benchmark scripts.

The machine description printed with every result, best-of-n timing, the writer of one
``## <Title>`` section of docs/reference/performance.md, the 40 public neurons of Dabney et al. (2020)
(and their trial counts, for simulated stand-ins), the compile time of a fresh process, and
the plain-numpy counting rule the numpy references share.

The scripts import this module as ``benchmarks._common`` when run with ``python -m
benchmarks`` and as ``_common`` when run as ``python benchmarks/bench_<name>.py`` (the
script's folder is then first on ``sys.path``).
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: scratch outputs of the benchmarks (ignored by git)
RESULTS = ROOT / "benchmarks" / "results"
#: the document the benchmarks write their sections into
PERFORMANCE_DOC = ROOT / "docs" / "reference" / "performance.md"

#: reward magnitudes (ul) of the variable-magnitude task and their probabilities
MAGNITUDES = np.array([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0])
PROBABILITIES = np.array([0.066, 0.091, 0.148, 0.155, 0.312, 0.151, 0.077])
#: trials per neuron and magnitude in the public recordings, cued and uncued (40 x 7)
DABNEY_CUED = [[7, 8, 12, 13, 25, 12, 6], [6, 9, 14, 14, 26, 14, 7], [5, 8, 11, 11, 24, 11, 5], [8, 10, 17, 16, 31, 16, 8], [8, 10, 17, 16, 31, 16, 8], [8, 10, 17, 16, 31, 16, 8], [8, 11, 17, 16, 34, 16, 7], [6, 11, 16, 18, 32, 17, 8], [6, 11, 16, 18, 32, 17, 8], [6, 9, 13, 14, 28, 15, 8], [8, 12, 18, 18, 36, 17, 9], [8, 12, 18, 18, 36, 17, 9], [9, 11, 16, 17, 35, 18, 9], [8, 11, 15, 16, 32, 14, 8], [8, 11, 15, 16, 32, 14, 8], [10, 13, 19, 22, 44, 20, 10], [10, 13, 19, 22, 44, 20, 10], [9, 12, 19, 19, 37, 19, 10], [5, 7, 11, 10, 19, 9, 6], [6, 8, 12, 11, 22, 13, 6], [6, 7, 9, 9, 21, 13, 7], [10, 14, 22, 20, 41, 23, 11], [11, 14, 19, 20, 46, 20, 10], [10, 14, 23, 20, 43, 24, 10], [11, 13, 18, 20, 39, 19, 9], [9, 14, 20, 19, 41, 22, 11], [9, 14, 20, 19, 41, 22, 11], [7, 11, 18, 17, 31, 17, 8], [7, 11, 18, 17, 31, 17, 8], [11, 16, 21, 23, 43, 21, 12], [11, 16, 21, 23, 43, 21, 12], [10, 15, 20, 20, 41, 19, 11], [10, 15, 20, 20, 41, 19, 11], [11, 14, 20, 22, 43, 21, 11], [7, 11, 15, 17, 33, 15, 9], [6, 8, 12, 13, 25, 13, 7], [9, 11, 17, 15, 32, 13, 8], [6, 10, 13, 12, 25, 12, 6], [11, 13, 19, 20, 39, 18, 9], [9, 13, 20, 19, 40, 18, 9]]  # fmt: skip
DABNEY_UNCUED = [[3, 8, 12, 10, 20, 10, 4], [5, 10, 9, 9, 22, 11, 6], [5, 8, 6, 9, 19, 9, 4], [7, 8, 13, 16, 29, 13, 6], [7, 8, 13, 16, 29, 13, 6], [7, 8, 13, 16, 29, 13, 6], [5, 10, 14, 11, 23, 11, 5], [7, 7, 11, 16, 27, 13, 4], [7, 7, 11, 16, 27, 13, 4], [8, 5, 12, 11, 24, 9, 6], [6, 10, 16, 14, 29, 12, 8], [6, 10, 16, 14, 29, 12, 8], [7, 10, 16, 15, 24, 13, 7], [7, 8, 12, 13, 27, 12, 4], [7, 8, 12, 13, 27, 12, 4], [7, 14, 19, 19, 30, 15, 8], [7, 14, 19, 19, 30, 15, 8], [7, 9, 14, 15, 32, 12, 7], [2, 2, 14, 11, 25, 12, 6], [4, 8, 11, 14, 32, 11, 6], [1, 8, 7, 11, 20, 13, 14], [8, 12, 23, 24, 47, 20, 10], [5, 11, 23, 20, 42, 34, 9], [6, 11, 23, 21, 47, 26, 11], [7, 10, 20, 37, 44, 22, 12], [7, 9, 22, 24, 51, 21, 11], [7, 9, 22, 24, 51, 21, 11], [4, 6, 19, 19, 43, 18, 10], [4, 6, 19, 19, 43, 18, 10], [10, 11, 20, 26, 53, 24, 12], [10, 11, 20, 26, 53, 24, 12], [15, 11, 20, 20, 53, 22, 14], [15, 11, 20, 20, 53, 22, 14], [8, 10, 23, 25, 45, 27, 14], [2, 2, 10, 15, 39, 22, 8], [4, 7, 9, 10, 18, 12, 4], [5, 7, 16, 16, 37, 15, 11], [4, 5, 18, 13, 31, 16, 8], [9, 8, 25, 20, 44, 24, 11], [5, 9, 19, 22, 48, 20, 13]]  # fmt: skip
#: reward trials per neuron of the public recordings (40)
DABNEY_TRIALS = [sum(c) + sum(u) for c, u in zip(DABNEY_CUED, DABNEY_UNCUED)]
#: subjects of the public recordings (16 D, 3 L, 3 O, 18 unknown)
DABNEY_SUBJECTS = ["unknown"] * 18 + ["D"] * 16 + ["L"] * 3 + ["O"] * 3


# ------------------------------------------------------------------------------------------
# machine


def cpu_name() -> str:
    """The CPU model name.

    Returns
    -------
    str
        ``model name`` from /proc/cpuinfo, else :func:`platform.processor`, else the
        machine type (e.g. ``"x86_64"``).
    """
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def machine_info(
    libraries: Sequence[str] = ("numpy", "numba"), *, load: bool = True
) -> dict[str, str]:
    """The machine and software a benchmark ran on, in print order.

    Parameters
    ----------
    libraries : sequence of str
        Importable module names whose ``__version__`` to report, in this order.
    load : bool
        Add the 1-minute load average, read now (call this at the end of a run).

    Returns
    -------
    dict of str to str
        Keys ``date`` (UTC), ``cpu``, ``cores``, ``numba threads``, ``python``, each library,
        and ``load average (1 min) at the end`` when ``load``.
    """
    import datetime

    import numba

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "cpu": cpu_name(),
        "cores": str(os.cpu_count()),
        "numba threads": str(numba.get_num_threads()),
        "python": platform.python_version(),
    }
    for name in libraries:
        info[name] = str(importlib.import_module(name).__version__)
    if load:
        info["load average (1 min) at the end"] = f"{os.getloadavg()[0]:.2f}"
    return info


def machine(libraries: Sequence[str] = ("numpy", "numba"), *, load: bool = True) -> str:
    """:func:`machine_info` as one line: ``"cpu <model>, cores 2, ..., numpy 2.4.0, ..."``.

    Parameters
    ----------
    libraries : sequence of str
        Module names whose versions to report, in this order.
    load : bool
        Add the 1-minute load average, read now.

    Returns
    -------
    str
        ``"<key> <value>"`` pairs joined by ``", "``.
    """
    return ", ".join(f"{k} {v}" for k, v in machine_info(libraries, load=load).items())


# ------------------------------------------------------------------------------------------
# timing


def best_of(
    fn: Callable[[], Any],
    repeat: int,
    *,
    number: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, Any]:
    """Best time of ``repeat`` runs of ``number`` calls of ``fn``.

    Parameters
    ----------
    fn : callable
        Called without arguments.
    repeat : int
        Runs; the fastest is kept (the others are slowed by other load).
    number : int
        Calls per run; the run's time is divided by it.
    clock : callable
        ``time.perf_counter`` (wall time) or ``time.process_time`` (CPU time).

    Returns
    -------
    seconds : float
        Seconds per call of the fastest run.
    result : object
        What the last call returned.

    Examples
    --------
    >>> seconds, result = best_of(lambda: sum(range(10)), repeat=3, number=10)
    >>> result, seconds >= 0
    (45, True)
    """
    times = []
    result = None
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            result = fn()
        times.append((clock() - t0) / number)
    return min(times), result


def compile_seconds(script: str) -> float:
    """Run ``script`` in a fresh process with an empty numba cache; return what it prints.

    Parameters
    ----------
    script : str
        Python source that times a first call and prints the seconds as its last line.

    Returns
    -------
    float
        The seconds printed, i.e. the first call's time including compilation.

    Raises
    ------
    RuntimeError
        If the script fails (its stderr is included).
    """
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
        )
    if out.returncode != 0:
        raise RuntimeError(f"compile-time script failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------
# docs/reference/performance.md


def replace_section(doc: str, title: str, text: str) -> str:
    """Replace the ``## <title>`` section of a markdown document, or append it.

    Parameters
    ----------
    doc : str
        The document.
    title : str
        The section's heading without ``"## "``; matched against whole lines.
    text : str
        The new section, heading included.

    Returns
    -------
    str
        ``doc`` with the lines from the heading to the next ``## `` heading (or the end)
        replaced by ``text``, one blank line before the next heading; ``text`` appended after
        one blank line when the heading is absent.

    Examples
    --------
    >>> replace_section("# P\\n\\n## A\\n\\nold\\n\\n## B\\n\\nb\\n", "A", "## A\\n\\nnew\\n")
    '# P\\n\\n## A\\n\\nnew\\n\\n## B\\n\\nb\\n'
    >>> replace_section("# P\\n", "C", "## C\\n\\nc\\n")
    '# P\\n\\n## C\\n\\nc\\n'
    """
    text = text.rstrip("\n") + "\n"
    heading = f"## {title}"
    lines = doc.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        return doc.rstrip("\n") + "\n\n" + text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + text + ("\n" + tail if tail else "")


def write_section(title: str, text: str, path: Path | None = None) -> None:
    """Replace (or append) the ``## <title>`` section of docs/reference/performance.md.

    Parameters
    ----------
    title : str
        The section's heading without ``"## "``, e.g. ``"Fitting"``.
    text : str
        The new section, starting with the heading line.
    path : Path, optional
        The document; :data:`PERFORMANCE_DOC` by default. Created if absent.
    """
    path = PERFORMANCE_DOC if path is None else Path(path)
    if not text.startswith(f"## {title}\n"):
        raise ValueError(f"the section text must start with '## {title}'")
    old = path.read_text() if path.exists() else "# Performance\n"
    path.write_text(replace_section(old, title, text))
    print(
        f"updated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} (section {title})"
    )


# ------------------------------------------------------------------------------------------
# the public recordings


def shared_data_dir() -> Path:
    """The shared real-data folder: ``$DOPAFIT_SHARED_DATA``, else ``../shared/data``."""
    return Path(os.environ.get("DOPAFIT_SHARED_DATA") or ROOT.parent / "shared" / "data")


def real_responses():
    """The 40 public neurons through the MAT converter and the NWB loader.

    Returns
    -------
    responses : xarray.Dataset or None
        Faithful responses of the 40 neurons (unit x trial), or None when the recordings
        are absent.
    label : str
        What the data are, or why they are absent.
    """
    import dopafit

    data = shared_data_dir()
    files = sorted((data / "dabney2020" / "cells").glob("*.mat"))
    if len(files) != 40:
        return None, f"shared recordings not found in {data}"
    with tempfile.TemporaryDirectory() as tmp:
        paths = dopafit.convert_uchida_mat(files, tmp)
        return dopafit.load_nwb(paths, faithful=True), "40 public neurons (faithful responses)"


# ------------------------------------------------------------------------------------------
# plain-numpy rules shared by the numpy references


def np_counts(r, m, n_mag: int):
    """Trials, positive and negative responses per magnitude.

    Parameters
    ----------
    r : ndarray, shape (n,)
        Responses.
    m : ndarray of int, shape (n,)
        Magnitude index of each response, in ``[0, n_mag)``.
    n_mag : int
        Number of magnitudes.

    Returns
    -------
    n, pos, neg : ndarray, shape (n_mag,)
        Counts of trials, of ``r > 0`` and of ``r < 0`` per magnitude.
    """
    return (
        np.bincount(m, minlength=n_mag),
        np.bincount(m, weights=r > 0, minlength=n_mag),
        np.bincount(m, weights=r < 0, minlength=n_mag),
    )


def np_count_reversal(n, pos, neg, axis, cap_lo=0.01, cap_hi=0.1):
    """Counting rule from per-magnitude counts (same tie rule and caps as dopafit).

    Parameters
    ----------
    n, pos, neg : ndarray, shape (n_mag,)
        Trials, positive and negative responses per magnitude (:func:`np_counts`).
    axis : ndarray, shape (n_mag,)
        Increasing axis value of each magnitude.
    cap_lo, cap_hi : float
        Offsets inside the first and last axis values for a reversal point at an edge.

    Returns
    -------
    float
        The reversal point, NaN with fewer than two magnitudes present.

    Notes
    -----
    With the present magnitudes ``a_0 < ... < a_{K-1}``, the score of a cut before ``a_k`` is
    ``c_k = sum_j pos_j + sum_{j<k} (neg_j - pos_j)``: the trials whose sign it explains. The
    middle maximiser ``k`` gives ``a_0 + cap_lo`` (``k = 0``), ``a_{K-1} - cap_hi``
    (``k = K``), else the point between ``a_{k-1}`` and ``a_k`` weighted by the drops
    ``c_k - c_{k-1}`` and ``c_k - c_{k+1}``.
    """
    present = n > 0
    a = axis[present]
    if a.size < 2:
        return np.nan
    c = pos[present].sum() + np.concatenate([[0.0], np.cumsum(neg[present] - pos[present])])
    tied = np.flatnonzero(c == c.max())
    if tied[0] == 0:
        return a[0] + cap_lo
    if tied[-1] == a.size:
        return a[-1] - cap_hi
    k = tied[(tied.size - 1) // 2]
    d_lo, d_hi = c[k] - c[k - 1], c[k] - c[k + 1]
    if d_lo + d_hi == 0:
        return 0.5 * (a[k - 1] + a[k])
    return (d_hi * a[k - 1] + d_lo * a[k]) / (d_lo + d_hi)


def np_expectile(values, probs, tau):
    """The ``tau``-expectile of a discrete distribution, by bisection.

    Parameters
    ----------
    values, probs : ndarray, shape (n,)
        Support and probabilities (any positive scale).
    tau : float
        Level in [0, 1].

    Returns
    -------
    float
        The root of ``tau E[(X - e)+] = (1 - tau) E[(e - X)+]``, after 60 halvings of
        ``[min(values), max(values)]`` (below the float64 spacing for ranges under ~1e3).
    """
    lo, hi = values.min(), values.max()
    for _ in range(60):
        e = 0.5 * (lo + hi)
        g = tau * np.sum(probs * np.clip(values - e, 0, None)) - (1 - tau) * np.sum(
            probs * np.clip(e - values, 0, None)
        )
        lo, hi = (e, hi) if g > 0 else (lo, e)
    return 0.5 * (lo + hi)


def np_slopes(r, m, axis, z):
    """Least-squares slopes through ``(z, 0)`` below and above the reversal point ``z``.

    Parameters
    ----------
    r : ndarray, shape (n,)
        Responses.
    m : ndarray of int, shape (n,)
        Magnitude index of each response.
    axis : ndarray, shape (n_mag,)
        Axis value of each magnitude.
    z : float
        Reversal point.

    Returns
    -------
    a_neg, a_pos : float
        ``sum(x r) / sum(x^2)`` over ``x = axis[m] - z <= 0`` and over ``x >= 0`` (NaN when
        empty); tau is ``a_pos / (a_pos + a_neg)``.
    """
    x = axis[m] - z
    below, above = x <= 0, x >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a_neg = np.sum(x[below] * r[below]) / np.sum(x[below] ** 2)
        a_pos = np.sum(x[above] * r[above]) / np.sum(x[above] ** 2)
    return a_neg, a_pos
