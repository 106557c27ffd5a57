"""``dopafit fit --discounting``: cue-aligned sessions, resumable outputs, one failure line per
session without delays; ``dopafit simulate --task delay``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dopafit
from dopafit import schema
from dopafit.cli import main

FAST = ["--n-splits", "10", "--n-boot", "0", "--seed", "1"]


def _run(args, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


@pytest.fixture(scope="module")
def delay_dir(tmp_path_factory):
    """Two simulated delay sessions and one session of the reward task (no delays)."""
    folder = tmp_path_factory.mktemp("delays")
    for seed in (1, 2):
        session = dopafit.simulate_delay_session(
            n_units=8, n_trials=160, seed=seed, amplitude=(10.0, 20.0), session_id=f"d{seed}"
        )
        dopafit.write_nwb(session, folder / f"sub-sim_ses-d{seed}.nwb")
    plain = dopafit.simulate_session(n_units=3, n_trials=30, seed=5)
    dopafit.write_nwb(plain, folder / "sub-sim_ses-nodelay.nwb")
    return folder


def test_fit_discounting_batch_failures_and_resume(delay_dir, tmp_path, capsys):
    out = tmp_path / "fits"
    code, stdout, stderr = _run(["fit", delay_dir, "-o", out, "--discounting", *FAST], capsys)
    assert code == 1  # one session failed, as for any other failure
    failures = pd.read_csv(out / "failures.csv")
    assert failures["path"].str.endswith("sub-sim_ses-nodelay.nwb").tolist() == [True]
    reason = failures["reason"].item()
    assert "delay" in reason and "expected" in reason and "\n" not in reason
    assert "Traceback" not in stdout + stderr
    sessions = sorted(p.name for p in (out / "sessions").glob("*.nc"))
    assert sessions == ["sub-sim_ses-d1.nc", "sub-sim_ses-d2.nc"]
    for name in sessions:
        responses = schema.open_responses(out / "sessions" / name, group="responses")
        assert responses.attrs["align"] == "cue_time"
        assert sorted(np.unique(responses["delay"].values).tolist()) == [0.5, 1.5, 3.0, 6.0]
        fit = schema.open_responses(out / "sessions" / name, group="discounting", validate=False)
        assert fit.attrs["dopafit_result"] == "discount_fit"
        assert fit.sizes["unit"] == 8 and np.isfinite(fit["gamma"].values).all()
        assert fit.attrs["input_sha256"] and fit.attrs["settings_sha256"]
    units = pd.read_csv(out / "units.csv")
    assert len(units) == 16 and {"gamma", "amplitude", "asymptote"} <= set(units.columns)
    pooled = schema.open_responses(out / "population.nc", group="discounting", validate=False)
    truth = schema.open_responses(out / "population.nc", group="responses")["true_gamma"]
    r = np.corrcoef(pooled["gamma"].values, truth.values)[0, 1]
    assert r > 0.5  # 16 units of two sessions

    stamps = {p: p.stat().st_mtime_ns for p in (out / "sessions").glob("*.nc")}
    code, stdout, _ = _run(["fit", delay_dir, "-o", out, "--discounting", *FAST], capsys)
    assert code == 1 and "0 fitted, 2 up to date, 1 failed" in stdout
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "sessions").glob("*.nc")}


def test_discounting_config_table_equals_the_flags(delay_dir, tmp_path, capsys):
    flags = tmp_path / "flags"
    _run(["fit", delay_dir, "-o", flags, "--discounting", *FAST, "-q"], capsys)
    config = tmp_path / "lab.toml"
    config.write_text(
        '[load]\nalign = "cue_time"\n\n[discounting]\nn_splits = 10\nn_boot = 0\nseed = 1\n'
    )
    table = tmp_path / "table"
    code, _, _ = _run(["fit", delay_dir, "-o", table, "--config", config, "-q"], capsys)
    assert code == 1
    a, b = pd.read_csv(flags / "units.csv"), pd.read_csv(table / "units.csv")
    assert a.equals(b)


def test_discounting_settings_errors(tmp_path, capsys, delay_dir):
    bad = tmp_path / "bad.toml"
    bad.write_text("[discounting]\nn_split = 10\n")
    code, _, stderr = _run(["fit", delay_dir, "-o", tmp_path / "x", "--config", bad], capsys)
    assert code == 2 and "n_splits" in stderr and "bad.toml" in stderr
    both = tmp_path / "both.toml"
    both.write_text('[discounting]\n\n[learning]\nmodel = "all"\n')
    code, _, stderr = _run(["fit", delay_dir, "-o", tmp_path / "y", "--config", both], capsys)
    assert code == 2 and "[learning]" in stderr
    code, _, stderr = _run(
        ["fit", delay_dir, "-o", tmp_path / "z", "--discounting", "--write-nwb"], capsys
    )
    assert code == 2 and "--write-nwb" in stderr


def test_compare_and_report_on_a_discounting_output(delay_dir, tmp_path, capsys):
    out = tmp_path / "fits"
    _run(["fit", delay_dir, "-o", out, "--discounting", *FAST], capsys)
    code, stdout, stderr = _run(
        ["compare", out, "--n-sim", "19", "--n-splits", "5", "--seed", "2"], capsys
    )
    assert code in (0, None), stderr
    assert f"timescale comparison: {out / 'timescales.nc'}" in stdout
    assert "gamma_heterogeneity" in stdout and "Verdict:" in stdout
    cmp = dopafit.open_responses(out / "timescales.nc", validate=False)
    assert cmp.attrs["dopafit_result"] == "discount_comparison"
    direct = dopafit.compare_timescales(
        schema.open_responses(out / "population.nc", group="responses"),
        n_sim=19,
        n_splits=5,
        seed=2,
    )
    np.testing.assert_array_equal(cmp["observed"].values, direct["observed"].values)
    np.testing.assert_array_equal(cmp["p_multi"].values, direct["p_multi"].values)
    code, _, stderr = _run(["compare", out, "--workers", "2"], capsys)
    assert code == 2 and "drop --workers" in stderr
    code, stdout, stderr = _run(["report", out], capsys)
    assert code in (0, None), stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert cmp.attrs["verdict"].split(":")[0] in page
