"""Learning models in the batch, the config file and the report: dopafit fit --learning."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import dopafit
from dopafit import schema
from dopafit.batch import BatchSettings
from dopafit.cli import main
from dopafit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data_samples").glob("*.nwb"))
FAST = ["--n-splits", "20", "--n-boot", "20", "--seed", "3"]


def _run(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


@pytest.fixture(scope="module")
def learning_outdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("learning_fits")
    config = out / "lab.toml"
    config.write_text("[learning]\nn_starts = 3\ncv_blocks = 4\nrecovery_units = 12\n")
    with pytest.raises(SystemExit) as info:
        main(
            [
                "fit",
                *map(str, SAMPLES[:2]),
                "-o",
                str(out),
                *FAST,
                "--learning",
                "all",
                "--config",
                str(config),
                "-q",
            ]
        )
    assert info.value.code == 0
    return out


def test_sessions_and_population_hold_the_learning_fits(learning_outdir):
    out = learning_outdir
    sessions = sorted((out / "sessions").glob("*.nc"))
    parts = []
    for path in sessions:
        with h5py.File(path, "r") as handle:
            assert {"responses", "fit", "learning"} <= set(handle)
        part = schema.open_responses(path, group="learning", validate=False)
        assert part.attrs["n_starts"] == 3 and part.attrs["cv_blocks"] == 4
        parts.append(part)
    pooled = schema.open_responses(out / "population.nc", group="learning", validate=False)
    responses = schema.open_responses(out / "population.nc", group="responses")
    assert pooled.sizes["unit"] == responses.sizes["unit"] == sum(p.sizes["unit"] for p in parts)
    # each unit is its session's fit; the population statistics are recomputed over all
    first = parts[0]
    n0 = first.sizes["unit"]
    np.testing.assert_array_equal(pooled["eta_pos"].values[:, :n0], first["eta_pos"].values)
    assert int(pooled["n_best"].sum()) == int(np.sum(pooled["best_model"].values != ""))
    recovery = schema.open_responses(
        out / "population.nc", group="learning_recovery", validate=False
    )
    assert recovery.sizes["unit"] == 12
    np.testing.assert_allclose(recovery["confusion"].sum("model"), 1.0)
    table = pd.read_csv(out / "units.csv")
    assert "learning_best_model" in table and "asymmetric_both_tau_learning" in table
    assert table["learning_best_model"].isin(dopafit.fit.learning.MODELS).all()


def test_rerun_skips_and_report_shows_the_section(learning_outdir, capsys):
    out = learning_outdir
    code, stdout, _ = _run(
        ["fit", *map(str, SAMPLES[:2]), "-o", str(out), *FAST, "--learning", "all",
         "--config", str(out / "lab.toml")],
        capsys,
    )  # fmt: skip
    assert code == 0 and "2 up to date" in stdout
    code, _, err = _run(["report", str(out), "--no-decode"], capsys)
    assert code == 0, err
    page = (out / "report.html").read_text()
    assert '<section id="learning"><h2>Learning models</h2>' in page
    for name in ("learning_curves", "tau_learning_scaling", "learning_models"):
        assert f'id="fig-{name}"' in page
    assert "cannot pin the learning rates" in page  # the sample sessions are stationary


def test_report_without_learning_says_how_to_get_it(tmp_path):
    responses = dopafit.simulate_responses(n_units=6, n_trials=80, seed=0)
    fit = dopafit.fit_expectiles(responses, n_splits=10, n_boot=10)
    path = dopafit.write_report(
        {"fit": fit, "responses": responses}, tmp_path / "r.html", decode=False
    )
    page = path.read_text()
    assert "no learning models were fitted" in page


def test_learning_settings_are_checked_before_any_work(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[learning]\nn_start = 3\n")
    code, _, err = _run(
        ["fit", str(SAMPLES[0]), "-o", str(tmp_path / "o"), "--config", str(config)], capsys
    )
    assert code == 2
    assert "n_start" in err and "did you mean 'n_starts'" in err
    assert not (tmp_path / "o").exists()
    code, _, err = _run(
        ["fit", str(SAMPLES[0]), "-o", str(tmp_path / "o"), "--learning", "asymetric"], capsys
    )
    assert code == 2 and "learning model" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(ConfigError, match="did you mean 'select'"):
        BatchSettings(learning={"selec": "bic"})
    with pytest.raises(ConfigError, match="learning_recovery"):
        BatchSettings(learning={"model": "all"}, learning_recovery=-1)
