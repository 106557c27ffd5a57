"""write_fit_nwb / ``dopafit fit --write-nwb``: fit results back into the source NWB file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import dopafit
from dopafit.errors import ConfigError, OutputExistsError, ResultKindError
from dopafit.io.nwb_fit_write import _SLEEP_ENV

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
CLASSICAL = SAMPLES / "sub-sim04_ses-classical1.nwb"
DIST = SAMPLES / "sub-sim01_ses-dist1.nwb"


def _fit(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dopafit.errors.DopafitWarning)
        return dopafit.fit_expectiles(dopafit.load_nwb(path, **kw), n_splits=10, seed=0)


def _read(path, table="fits"):
    import pynwb

    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        module = nwb.processing["dopafit"]
        df = module[table].to_dataframe(index=True)
        raw = {c: module[table][c].data[:] for c in module[table].colnames}
        settings = module["fit_settings"].to_dataframe()
    return df, raw, dict(zip(settings["key"], settings["value"]))


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        np.testing.assert_array_equal(a, b.astype(float))
    else:
        assert [str(x) for x in a] == [_text(x) for x in b]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _critical(path) -> list:
    from nwbinspector import Importance, inspect_nwbfile

    return [
        m
        for m in inspect_nwbfile(nwbfile_path=str(path))
        if m is not None and m.importance.value >= Importance.CRITICAL.value
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wb")
    path = folder / CLASSICAL.name
    shutil.copy(CLASSICAL, path)
    fit = _fit(path)
    assert dopafit.write_fit_nwb(fit, path) == [path]
    return path, fit


def test_round_trip_values_equal_the_fit(written):
    path, fit = written
    df, raw, settings = _read(path)
    assert len(df) == fit.sizes["unit"]
    for name in ("reversal_point", "alpha_pos", "alpha_neg", "tau", "tau_lo", "tau_hi"):
        _same(fit[name].values, raw[name])
    for name in ("tau_center", "tau_se", "fit_status", "fit_ok", "unit_id", "session"):
        _same(fit[name].values, raw[name])
    # rows point at the Units table: unit i of the fit is row i (ids u00, u01, ...)
    with h5py.File(path, "r") as h5:
        ids = [v.decode() for v in h5["units/unit_id"][()]]
        assert h5[h5["processing/dopafit/fits/unit"].attrs["table"]].name == "/units"
    assert [ids[i] for i in raw["unit"]] == [str(u) for u in fit["unit_id"].values]
    assert df["unit"].tolist()[:2] == [0, 1]
    assert settings["dopafit_version"] == f'"{dopafit.__version__}"'
    assert settings["n_splits"] == "10" and settings["seed"] == "0"
    assert settings["responses_align"] == '"reward_time"'


def test_written_file_still_loads_and_passes_nwbinspector(written):
    path, _ = written
    before = dopafit.load_nwb(CLASSICAL)
    after = dopafit.load_nwb(path)
    xr.testing.assert_equal(before["response"], after["response"])
    assert _critical(path) == []


def test_refuses_existing_module_then_overwrites(written, tmp_path):
    path, fit = written
    copy = tmp_path / "again.nwb"
    shutil.copy(path, copy)
    before = copy.read_bytes()
    with pytest.raises(OutputExistsError, match=r"processing/dopafit.*overwrite=True"):
        dopafit.write_fit_nwb(fit, copy)
    assert copy.read_bytes() == before
    changed = fit.assign(tau=fit["tau"] + 1.0)
    dopafit.write_fit_nwb(changed, copy, overwrite=True)
    _, raw, _ = _read(copy)
    _same(changed["tau"].values, raw["tau"])
    assert not list(tmp_path.glob(".*.tmp"))


def test_each_file_gets_its_own_rows_and_one_path_for_many_sessions_is_refused(tmp_path):
    for src in (CLASSICAL, DIST):
        shutil.copy(src, tmp_path / src.name)
    fit = _fit(tmp_path)
    with pytest.raises(ConfigError, match="fit of one session.*path=None"):
        dopafit.write_fit_nwb(fit, tmp_path / CLASSICAL.name)
    paths = dopafit.write_fit_nwb(fit)
    assert sorted(p.name for p in paths) == sorted([CLASSICAL.name, DIST.name])
    for p in paths:
        _, raw, _ = _read(p)
        mine = fit.isel(unit=fit["session"].values == _text(raw["session"][0]))
        assert len(raw["unit"]) == mine.sizes["unit"] < fit.sizes["unit"]
        _same(mine["tau"].values, raw["tau"])
        _same(mine["unit_id"].values, raw["unit_id"])


def test_learning_parameters_one_row_per_unit_and_model(tmp_path):
    path = tmp_path / CLASSICAL.name
    shutil.copy(CLASSICAL, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dopafit.errors.DopafitWarning)
        ds = dopafit.load_nwb(path).isel(unit=[4, 0, 2])  # not in file order
        fit = dopafit.fit_expectiles(ds, n_splits=10, seed=0)
        learning = dopafit.fit_learning(
            ds.isel(unit=[2, 1, 0]), ("classical", "asymmetric_learning"), cv_blocks=0, n_starts=2
        )
    dopafit.write_fit_nwb(fit, path, learning=learning)
    _, raw, settings = _read(path)
    assert raw["unit"].tolist() == [4, 0, 2]
    _same(learning["best_model"].values[[2, 1, 0]], raw["learning_best_model"])
    _, rows, _ = _read(path, "learning_fits")
    models = [str(m) for m in learning["model"].values]
    assert [_text(m) for m in rows["model"]] == models * 3
    assert rows["unit"].tolist() == [4, 4, 0, 0, 2, 2]
    for name in ("eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "aic", "converged", "fit_status"):
        expected = learning[name].isel(unit=[2, 1, 0]).transpose("unit", "model").values
        _same(expected.reshape(-1), rows[name])
    assert any(k.startswith("learning.") for k in settings)
    assert _critical(path) == []


def test_bad_inputs_are_named_errors(written, tmp_path):
    _, fit = written
    copy = tmp_path / "x.nwb"
    shutil.copy(CLASSICAL, copy)
    before = copy.read_bytes()
    with pytest.raises(ResultKindError):
        dopafit.write_fit_nwb(fit["tau"], copy)
    with pytest.raises(ResultKindError, match="learning"):
        dopafit.write_fit_nwb(fit, copy, learning=fit)
    wrong = fit.assign_coords(unit_id=("unit", [f"z{i}" for i in range(fit.sizes["unit"])]))
    with pytest.raises(ConfigError, match="unknown ids z0"):
        dopafit.write_fit_nwb(wrong, copy)
    assert copy.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_reads_back_with_pynapple(written):
    nap = pytest.importorskip("pynapple")
    path, fit = written
    nwb = nap.load_file(str(path))
    assert len(nwb["units"]) == fit.sizes["unit"]
    # pynapple shows units and trials; the fits table is on the pynwb file it wraps, and its
    # rows join the TsGroup's metadata (same order as the Units table)
    table = nwb.nwb.processing["dopafit"]["fits"].to_dataframe(index=True)
    units = nwb["units"]
    units.set_info(tau=table.set_index("unit")["tau"].reindex(range(len(units))).to_numpy())
    np.testing.assert_array_equal(units["tau"].to_numpy(), fit["tau"].values)


def _cli(*args, env=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "dopafit", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        **kw,
    )


def test_cli_write_nwb_and_refusal(tmp_path):
    path = tmp_path / CLASSICAL.name
    shutil.copy(CLASSICAL, path)
    args = ("fit", path, "-o", tmp_path / "out", "--n-splits", "10", "--write-nwb", "-q")
    proc = _cli(*args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "results written into" in out
    fit = dopafit.open_responses(
        tmp_path / "out/sessions/sub-sim04_ses-classical1.nc", group="fit", validate=False
    )
    _, raw, _ = _read(path)
    _same(fit["tau"].values, raw["tau"])
    before = path.read_bytes()
    proc = _cli(*args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1
    lines = [x for x in err.splitlines() if x.startswith("nwb:")]
    assert len(lines) == 1 and "overwrite" in lines[0] and "Traceback" not in err
    assert path.read_bytes() == before


def test_kill_9_during_write_leaves_the_source_unchanged(tmp_path):
    path = tmp_path / CLASSICAL.name
    shutil.copy(CLASSICAL, path)
    before = path.read_bytes()
    proc = _cli(
        "fit",
        path,
        "-o",
        tmp_path / "out",
        "--n-splits",
        "5",
        "--write-nwb",
        "--no-population",
        env={_SLEEP_ENV: "60"},
    )
    deadline = time.monotonic() + 600
    tmp = []
    while time.monotonic() < deadline and proc.poll() is None:
        tmp = list(tmp_path.glob(f".{path.name}.dopafit-*.tmp"))
        if tmp:
            break
        time.sleep(0.05)
    assert tmp, "the write never started"
    # the copy is being modified or waits to be moved in place: kill it now
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    with h5py.File(path, "r") as h5:
        assert "processing" not in h5 or "dopafit" not in h5["processing"]
    xr.testing.assert_equal(
        dopafit.load_nwb(path)["response"], dopafit.load_nwb(CLASSICAL)["response"]
    )


# ----------------------------------------------------------------------------- real files
DANDI = "sub-anm369963_ses-20170228.nwb"


def _hand_fit(ds, **attrs):
    """A per-unit result for the units of ``ds`` (these files cannot support an expectile
    fit: one unit and two reward values / two trials)."""
    n = ds.sizes["unit"]
    return xr.Dataset(
        {
            "reversal_point": ("unit", np.linspace(0.2, 0.8, n)),
            "tau": ("unit", np.full(n, 0.5)),
            "tau_lo": ("unit", np.full(n, np.nan)),
            "fit_status": ("unit", ["ok"] * n),
        },
        coords={k: ds[k] for k in ("unit_id", "session", "subject")},
        attrs={"analysis": "expectile", **{f"responses_{k}": v for k, v in ds.attrs.items()}},
    )


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::dopafit.errors.DopafitWarning")
@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # nwbinspector on stop_time
def test_dandi_file_written_by_other_software(shared_data, tmp_path):
    from tests.test_io_nwb import DANDI_OPTIONS

    path = tmp_path / DANDI
    shutil.copy(shared_data / "nwb" / DANDI, path)
    ds = dopafit.load_nwb(path, **DANDI_OPTIONS)
    fit = _hand_fit(ds)
    before = _critical(path)
    dopafit.write_fit_nwb(fit, path)
    _, raw, settings = _read(path)
    _same(fit["reversal_point"].values, raw["reversal_point"])
    assert raw["unit"].tolist() == [0] and "responses_source" in settings
    after = _critical(path)
    # nothing about what dopafit added; the file's own CRITICAL findings are unchanged. (pynwb
    # declares an appended file at its own schema version, so its validator now also reports
    # the NWB 2.0.2 layout of the original units/general groups: PYNWB_VALIDATION, not ours.)
    assert not [m for m in after if "dopafit" in str(m.location) or m.object_name == "fits"]
    critical = {m.check_function_name for m in before if m.importance.name == "CRITICAL"}
    assert {m.check_function_name for m in after if m.importance.name == "CRITICAL"} == critical
    # the recording itself reads as before
    xr.testing.assert_equal(dopafit.load_nwb(path, **DANDI_OPTIONS)["response"], ds["response"])


@pytest.mark.realdata
def test_photometry_rows_point_at_the_series(shared_data, tmp_path):
    path = tmp_path / "photometry.nwb"
    shutil.copy(shared_data / "nwb" / "neuroconv_doric_fiber_photometry.nwb", path)
    trials = pd.DataFrame({"reward": [1.0, 2.0], "reward_time": [1.2, 2.4]})
    ds = dopafit.load_nwb(path, trials=trials, window=(0.1, 0.5), baseline=(-0.5, 0.0))
    dopafit.write_fit_nwb(_hand_fit(ds), path)
    _, raw, _ = _read(path)
    assert [_text(s) for s in raw["series"]] == ["/acquisition/FiberPhotometryResponseSeries"]
    assert raw["channel"].tolist() == [0] and "unit" not in raw
    with h5py.File(path, "r") as h5:
        assert _text(raw["series"][0]) in h5
    assert _critical(path) == []
