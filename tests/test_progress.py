"""Issue 15 items 1 and 2: progress bars that change no number, chunked kernels that change no
number, Ctrl-C that leaves no partial file, and batch messages that count expected conditions
once instead of printing them per session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import dopafit
from dopafit import schema
from dopafit._progress import check_progress, progress_bar, wants_progress
from dopafit.errors import ConfigError, DopafitNote, DopafitWarning

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data_samples").glob("*.nwb"))
FAST = ["--n-splits", "20", "--n-boot", "20", "--seed", "3"]


@pytest.fixture(scope="module")
def sample():
    return dopafit.load_nwb(SAMPLES[0])


# ------------------------------------------------------------------------------------------
# the helper


def test_helper_is_silent_unless_asked_or_watched(capsys, monkeypatch):
    assert wants_progress(True) and not wants_progress(False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not wants_progress(None)  # pytest: no terminal, no notebook
    with progress_bar(5, "quiet") as bar:
        bar.update(5)
    assert capsys.readouterr().err == ""
    with progress_bar(5, "forced", progress=True, unit="sim") as bar:
        bar.update(5)
    assert "forced" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="progress as None"):
        check_progress("yes")


def test_helper_shows_a_bar_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert wants_progress(None)


def test_helper_shows_a_bar_in_a_notebook(monkeypatch, capsys):
    """A Jupyter kernel (IPython with an IPKernelApp config) counts as someone watching; without
    ipywidgets the text bar is used, with no warning about it."""
    import types
    import warnings

    from dopafit import _progress

    kernel = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: kernel))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert _progress._in_notebook() and wants_progress(None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with progress_bar(2, "in a notebook") as bar:
            bar.update(2)
    assert "in a notebook" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# progress changes no number


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    """Bit-identical variables, coords and attrs (timings aside)."""
    xr.testing.assert_identical(a.drop_attrs(deep=False), b.drop_attrs(deep=False))
    skip = {"timing_s"}
    ka = {k: v for k, v in a.attrs.items() if k not in skip and "time" not in k}
    kb = {k: v for k, v in b.attrs.items() if k not in skip and "time" not in k}
    assert json.dumps(ka, sort_keys=True, default=str) == json.dumps(
        kb, sort_keys=True, default=str
    )
    assert not any("progress" in k for k in a.attrs)


def test_fit_expectiles_identical_with_and_without_progress(sample, capsys):
    kw = {"n_splits": 150, "n_boot": 40, "seed": 5}
    quiet = dopafit.fit_expectiles(sample, progress=False, **kw)
    assert capsys.readouterr().err == ""
    shown = dopafit.fit_expectiles(sample, progress=True, **kw)
    assert "fit" in capsys.readouterr().err
    _same(quiet, shown)


def test_compare_identical_with_and_without_progress(sample, capsys):
    kw = {"accounts": ("classical", "distributional"), "n_sim": 30, "n_splits": 5}
    kw |= {"n_boot": 0, "mixed": False, "seed": 2}
    quiet = dopafit.compare(sample, progress=False, **kw)
    assert capsys.readouterr().err == ""
    shown = dopafit.compare(sample, progress=True, chunk_size=7, **kw)
    err = capsys.readouterr().err
    assert "compare: classical" in err and "compare: distributional" in err
    _same(quiet, shown)


def test_decode_and_probability_identical_with_and_without_progress(capsys):
    task = dopafit.get_task("dabney")
    tau = np.linspace(0.05, 0.95, 12)
    rp = dopafit.expectile(task.magnitudes, task.probabilities, tau)
    kw = {"n_starts": 50, "n_polish": 2, "n_epochs": 2, "seed": 1}
    a = dopafit.decode_distribution(tau, rp, (0.1, 20.0), progress=False, **kw)
    b = dopafit.decode_distribution(tau, rp, (0.1, 20.0), progress=True, **kw)
    assert "decode" in capsys.readouterr().err
    _same(a, b)

    from dopafit.stats.probability import bernoulli_expectile

    rng = np.random.default_rng(0)
    t = rng.uniform(0.1, 0.9, 10)
    prob = rng.choice([0.1, 0.5, 0.9], size=(10, 60))
    resp = 8 * bernoulli_expectile(t[:, None], prob) + rng.normal(0, 2, prob.shape)
    ds = dopafit.make_responses(resp, np.zeros_like(resp), attrs={"align": "cue"})
    ds = ds.assign_coords(reward_probability=(("unit", "trial"), prob))
    a = dopafit.probability_task_stats(ds, progress=False)
    b = dopafit.probability_task_stats(ds, progress=True)
    assert "probability" in capsys.readouterr().err
    _same(a, b)


# ------------------------------------------------------------------------------------------
# kernels run in chunks give the numbers of one call


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 7])
def test_kernel_chunks_give_the_whole_calls_numbers(sample, seed):
    from dopafit.fit.axes import prepare
    from dopafit.kernels import expectile as K

    prep = prepare(sample, axis="utility")
    args = (prep.vals, prep.start, prep.cnt, prep.axis, prep.order, K.METHOD_COUNT, 0.01, 0.1)
    seed = np.uint64(seed)
    whole = K.bootstrap_units(*args, seed, 30)
    n_unit = prep.cnt.shape[0]
    bounds = [(0, 3), (3, 4), (4, 11), (11, n_unit)]
    parts = [
        K.bootstrap_units(prep.vals, prep.start[a:b], prep.cnt[a:b], *args[3:], seed, 30, a)
        for a, b in bounds
    ]
    for w, *p in zip(whole, *parts):
        np.testing.assert_array_equal(w, np.concatenate(p))

    z_full = K.fit_units(*args)[0]
    seeds = np.random.SeedSequence(int(seed)).generate_state(50, dtype=np.uint64)
    whole = K.split_half(*args, z_full, seeds, 7)
    parts = [K.split_half(*args, z_full, seeds[a:b], 7) for a, b in ((0, 16), (16, 17), (17, 50))]
    for w, *p in zip(whole, *parts):
        np.testing.assert_array_equal(w, np.concatenate(p))


def test_fit_in_chunks_equals_the_single_call(sample, monkeypatch):
    """fit_expectiles' own chunking (bootstrap by units, splits by blocks) against one call."""
    from dopafit.fit import expectile as E

    kw = {"n_splits": 200, "n_boot": 25, "seed": 11}
    monkeypatch.setattr(E, "_CHUNK_FITS", 1)  # chunks of 2 units (of 20) and of 32 splits
    chunked = dopafit.fit_expectiles(sample, progress=False, **kw)
    monkeypatch.setattr(E, "_chunks", lambda n, size: [(0, n)])
    single = dopafit.fit_expectiles(sample, progress=False, **kw)
    _same(chunked, single)


def test_learning_fit_in_chunks_equals_the_single_call(capsys):
    from dopafit.fit import learning as L
    from dopafit.fit.learning_options import LearningOptions

    ds = dopafit.simulate_learning("flip", n_units=10, n_trials=200, seed=4)
    opts = LearningOptions(n_starts=2, cv_blocks=3, seed=7)
    seq = L.sequences(ds, opts)
    layout = L.parameter_layout(seq, opts, opts.model)
    ok = np.array([r == "" for r in seq.unit_reason])
    chunked = L.run_kernel(seq, layout, opts, ok, progress=True)  # chunks of 4, 4, 2 units
    assert "fit_learning" in capsys.readouterr().err
    single = L._run_rows(seq, layout, opts, ok, 0, ok.size)
    for a, b in zip(chunked, single):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------
# Ctrl-C


@pytest.mark.skipif(sys.platform == "win32", reason="signal.raise_signal(SIGINT) is POSIX")
def test_ctrl_c_inside_a_finalizer_is_not_lost():
    """A SIGINT handled while the garbage collector runs a ``__del__`` (or a weakref
    callback) raises Interrupted where it cannot propagate; it is delivered again and stops
    the command at the next point where it can."""
    from dopafit.cli import Interrupted, _sigint_raises_interrupted

    class Finalized:
        def __del__(self):
            raise Interrupted()  # what the handler does when SIGINT lands in here

    reached = []
    hook = sys.unraisablehook
    with pytest.raises(Interrupted), _sigint_raises_interrupted():
        Finalized()  # deleted at once: __del__ raises, the exception is unraisable
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # the exception is raised again within 10 ms
            reached.append(1)
    assert time.monotonic() < deadline  # stopped by the redelivered interrupt, not the clock
    assert sys.unraisablehook is hook  # restored


def test_a_swallowed_ctrl_c_without_timers_is_remembered(monkeypatch):
    """Where there is no signal.setitimer, the interrupt is remembered (main() then exits
    130 once the command returns)."""
    import signal

    from dopafit.cli import Interrupted, _sigint_raises_interrupted

    class Finalized:
        def __del__(self):
            raise Interrupted()

    monkeypatch.delattr(signal, "setitimer", raising=False)
    with _sigint_raises_interrupted():
        assert not _sigint_raises_interrupted.pending
        Finalized()
    assert _sigint_raises_interrupted.pending
    with _sigint_raises_interrupted():  # a new command starts afresh
        assert not _sigint_raises_interrupted.pending


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess is POSIX")
def test_ctrl_c_during_compare_leaves_no_file(tmp_path):
    out = tmp_path / "cmp.nc"
    cmd = [
        sys.executable, "-m", "dopafit", "compare", str(SAMPLES[0]), "-o", str(out),
        "--n-sim", "5000", "--n-splits", "100",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2.5)
    assert proc.poll() is None, "the comparison finished before the interrupt"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dopafit: interrupted"), stderr
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []  # no comparison file, no temporary file


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess is POSIX")
def test_ctrl_c_during_fit_keeps_finished_sessions_only(tmp_path):
    out = tmp_path / "fits"
    cmd = [
        sys.executable, "-m", "dopafit", "fit", *map(str, SAMPLES), "-o", str(out),
        "--n-splits", "20000", "--n-boot", "0", "-q",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    assert proc.poll() is None, "the batch finished before the interrupt"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [
        "dopafit: interrupted (Ctrl-C): unfinished outputs were not written"
    ]
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and not p.name.endswith(".nc")]
    assert leftovers == [] and not (out / "population.nc").exists()
    for done in (out / "sessions").glob("*.nc"):  # finished sessions are complete
        assert schema.open_responses(done, group="responses").sizes["unit"] > 0


def test_interrupt_inside_an_atomic_write_removes_the_temporary(tmp_path):
    from dopafit.batch import atomic_path
    from dopafit.cli import Interrupted

    target = tmp_path / "out.nc"
    with pytest.raises(Interrupted):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise Interrupted()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# messages: expected conditions are counted once, not printed per session


def test_single_fit_reports_few_units_as_information(sample):
    small = sample.isel(unit=[0, 1])
    with pytest.warns(DopafitNote, match="expected for a small session") as record:
        dopafit.fit_expectiles(small, n_splits=5, n_boot=0)
    assert all(isinstance(w.message, DopafitNote) for w in record)
    assert issubclass(DopafitNote, DopafitWarning)


def _small_sessions(tmp_path, units):
    config = tmp_path / "small.toml"
    config.write_text(f"[load]\nunit_ids = {json.dumps(units)}\n")
    return config


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_of_small_sessions_prints_one_notes_line(tmp_path, workers):
    config = _small_sessions(tmp_path, ["u00"] if workers == "1" else ["u00", "u01"])
    out = tmp_path / "fits"
    cmd = [
        sys.executable, "-m", "dopafit", "fit", *map(str, SAMPLES[:3]), "-o", str(out), *FAST,
        "--config", str(config), "--workers", workers, "-v",
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr and "fittable" not in run.stderr, run.stderr
    notes = [line for line in run.stdout.splitlines() if line.startswith("notes")]
    assert len(notes) == 1, run.stdout
    assert "3 session(s) with fewer than 3 fittable units" in notes[0]
    assert all(p.name in notes[0] for p in SAMPLES[:3])
    # written to the outputs: every session's fit attrs and the population file
    import h5py

    with h5py.File(out / "population.nc") as handle:
        recorded = json.loads(handle["fit"].attrs["session_notes"])
    assert len(recorded) == 3
    assert all(any(n.startswith("few_units:") for n in v) for v in recorded.values())
    # a rerun skips every session and still counts them
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert "0 fitted, 3 up to date" in again.stdout
    assert [line for line in again.stdout.splitlines() if line.startswith("notes")] == notes


def test_warnings_that_ask_for_an_action_still_print():
    from dopafit._notes import notes_line
    from dopafit.batch import SessionResult
    from dopafit.cli._common import progress_printer

    show = progress_printer(1, quiet=True)
    r = SessionResult("a.nwb", None, "done", warnings=["do this"], notes=["few_units: x"])
    with pytest.warns(DopafitWarning, match="do this") as record:
        show(r)
    assert len(record) == 1
    assert notes_line([r]).startswith("notes (expected, nothing to do): 1 session(s)")


def test_public_cells_batch_prints_no_per_session_warning(dabney_nwb, tmp_path):
    """Acceptance: `dopafit fit <nwb> -o fits --faithful` on the converted 40 public cells."""
    cmd = [
        sys.executable, "-m", "dopafit", "fit", str(dabney_nwb[0].parent), "-o",
        str(tmp_path / "fits"), "--faithful", "-q",
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip() == "", run.stderr
    notes = [line for line in run.stdout.splitlines() if line.startswith("notes")]
    assert len(notes) == 1
    assert "session(s) with fewer than 3 fittable units" in notes[0]
