"""responses_from_table (tidy long tables, CSV/TSV/parquet) and responses_from_epochs
(unit x trial x time arrays): layout, equality with the other paths, named errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import dopafit
from dopafit import schema
from dopafit.errors import (
    ConfigError,
    DopafitWarning,
    EventTimesError,
    FileNotFoundError_,
    MissingColumnError,
    NoDataError,
)

ATTRS = {"align": "reward_time", "window": [0.2, 0.6], "baseline": [-1.0, 0.0]}


# ----------------------------------------------------------------------------- long tables
def _long(ds: xr.Dataset) -> pd.DataFrame:
    """A responses Dataset as the tidy table a lab would export (rows shuffled)."""
    rows = []
    for u in range(ds.sizes["unit"]):
        for j in range(ds.sizes["trial"]):
            if np.isfinite(ds["reward"].values[u, j]):
                rows.append(
                    {
                        "session": ds["session"].values[u],
                        "subject": ds["subject"].values[u],
                        "cell": ds["unit_id"].values[u],
                        "trial_no": j + 1,
                        "volume": ds["reward"].values[u, j],
                        "dff": ds["response"].values[u, j],
                        "is_cued": ds["cued"].values[u, j],
                        "t": ds["event_time"].values[u, j],
                    }
                )
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # trials in any order ...
    return table.sort_values(["session", "cell"], kind="stable").reset_index(drop=True)


COLUMNS = dict(
    unit="cell",
    trial="trial_no",
    reward="volume",
    response="dff",
    cued="is_cued",
    event_time="t",
)


@pytest.fixture(scope="module")
def simulated():
    a = dopafit.simulate_responses(n_units=4, n_trials=30, seed=1, session="s1", subject="m1")
    b = dopafit.simulate_responses(n_units=2, n_trials=20, seed=2, session="s2", subject="m2")
    from dopafit.batch import concat_responses

    return concat_responses([a, b])


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", None])
def test_table_round_trip_equals_the_dataset(tmp_path, simulated, suffix):
    table = _long(simulated)
    if suffix is None:
        source = table
    else:
        source = tmp_path / f"cells{suffix}"
        if suffix == ".parquet":
            pytest.importorskip("pyarrow", reason="the tables extra is not installed")
            table.to_parquet(source)
        else:
            table.to_csv(source, sep="\t" if suffix == ".tsv" else ",", index=False)
    ds = dopafit.responses_from_table(source, **COLUMNS, attrs=ATTRS, response_units="spikes/s")
    for name in ("response", "reward", "cued", "event_time"):
        np.testing.assert_allclose(
            ds[name].values.astype(float), simulated[name].values.astype(float), rtol=1e-12
        )
    for name in ("unit_id", "session", "subject"):
        assert ds[name].values.tolist() == simulated[name].values.tolist()
    assert ds["trial_index"].values[4].tolist() == list(range(1, 21)) + [-1] * 10
    assert ds.attrs["columns"]["reward"] == "volume"
    assert ds.attrs["source"] == ("in-memory" if suffix is None else str(source))
    assert "filled_defaults" not in ds.attrs  # every provenance attr was given
    fit = dopafit.fit_expectiles(ds, n_splits=0, n_boot=0, axis="reward")
    ref = dopafit.fit_expectiles(simulated, n_splits=0, n_boot=0, axis="reward")
    np.testing.assert_allclose(fit["tau"].values, ref["tau"].values, rtol=1e-9)


def test_defaults_aliases_and_row_order_without_a_trial_column():
    table = pd.DataFrame(
        {
            "unit_id": [1, 1, 2, 1],
            "reward_volume": [1.0, 5.0, 5.0, np.nan],  # an alias of reward; NaN: dropped
            "response": [0.1, 0.9, 0.7, 3.0],
            "cued": ["true", "false", "yes", "no"],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = dopafit.responses_from_table(table, trial=None)
    assert len(caught) == 1 and "align, window, baseline" in str(caught[0].message)
    assert ds.attrs["filled_defaults"] == ["align", "window", "baseline"]
    assert ds["response"].values.tolist()[0] == [0.1, 0.9]
    assert ds["cued"].values.tolist() == [[True, False], [True, False]]
    assert ds["session"].values.tolist() == ["table", "table"]
    assert ds.attrs["n_rows_dropped"] == 1 and ds.attrs["response_units"] == "a.u."
    assert "trial_index" not in ds.coords


def test_unit_and_trial_columns_and_reward_map():
    table = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "trial": [1, 2, 1, 2],
            "reward": ["big", "small", "small", "big"],
            "response": [2.0, 0.5, 0.4, 1.9],
            "depth": [100, 100, 250, 250],
            "lick_rate": [4.0, 1.0, 2.0, 5.0],
        }
    )
    ds = dopafit.responses_from_table(
        table,
        reward_map={"big": 5.0, "small": 1.0},
        unit_columns=["depth"],
        trial_columns=["lick_rate"],
        attrs=ATTRS,
    )
    assert ds["reward"].values.tolist() == [[5.0, 1.0], [1.0, 5.0]]
    assert ds["depth"].values.tolist() == [100, 250]
    assert ds["lick_rate"].dims == ("unit", "trial")
    table.loc[1, "depth"] = 120
    with pytest.raises(ConfigError, match="one depth per unit"):
        dopafit.responses_from_table(
            table, unit_columns=["depth"], reward_map={"big": 5.0, "small": 1.0}
        )


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"reward": "volumes"}, "did you mean reward='volume'?"),
        ({"unit": "Cell"}, "did you mean unit='cell'?"),
        ({"response": "dFF"}, "did you mean response='dff'?"),
        ({"cued": "cue"}, "or cued=None"),
        ({"unit": "neuron_name"}, "pass unit='<column>' (unit is required)"),
    ],
)
def test_missing_or_misspelt_column_names_the_closest(kwargs, needle):
    table = pd.DataFrame({"cell": ["a"], "volume": [1.0], "dff": [0.5], "cued_flag": [True]})
    options = {"unit": "cell", "reward": "volume", "response": "dff", **kwargs}
    with pytest.raises(MissingColumnError) as info:
        dopafit.responses_from_table(table, **options)
    text = str(info.value)
    assert needle in text and "found columns cell" in text and "\n" not in text
    assert isinstance(info.value, KeyError)


def test_bad_tables_are_named_errors(tmp_path):
    good = {"unit": ["a", "a"], "trial": [1, 2], "reward": [1.0, 2.0], "response": [0.0, 1.0]}
    dup = pd.DataFrame({**good, "trial": [1, 1]})
    with pytest.raises(ConfigError, match="one row per unit and trial") as info:
        dopafit.responses_from_table(dup)
    assert "unit 'a' trial 1" in str(info.value)
    text = pd.DataFrame({**good, "response": ["high", "1.0"]})
    with pytest.raises(ConfigError, match="numbers in the response column"):
        dopafit.responses_from_table(text)
    words = pd.DataFrame({**good, "reward": ["big", "small"]})
    with pytest.raises(ConfigError, match="reward_map"):
        dopafit.responses_from_table(words)
    with pytest.raises(NoDataError):
        dopafit.responses_from_table(pd.DataFrame({**good, "reward": [np.nan, np.nan]}))
    with pytest.raises(FileNotFoundError_):
        dopafit.responses_from_table(tmp_path / "nope.csv")
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(ConfigError, match="suffix '.xlsx'"):
        dopafit.responses_from_table(tmp_path / "x.xlsx")


# ----------------------------------------------------------------------------- epochs
def _continuous(rng, n_trial=40, rate=20.0):
    """A continuous trace with reward transients, its trials, and the epochs cut from it."""
    onset = 3.0 + 6.0 * np.arange(n_trial) + rng.uniform(0, 1, n_trial)
    cued = rng.random(n_trial) < 0.5
    reward = rng.choice([1.0, 2.0, 4.0, 8.0], n_trial)
    reward_time = np.where(cued, onset + 1.5, onset)
    trials = pd.DataFrame(
        {
            "reward": reward,
            "reward_time": reward_time,
            "cued": cued,
            "cue_time": np.where(cued, onset, np.nan),
        }
    )
    t = np.arange(0.0, reward_time[-1] + 5, 1 / rate)
    y = rng.normal(0, 0.05, (t.size, 2))
    for rt, r in zip(reward_time, reward):
        y[(t >= rt + 0.15) & (t < rt + 0.9)] += [0.1 * r, -0.05 * r]
    # epochs on the same samples: sample k of trial j is the trace at rt_j + rel[k]
    first = np.searchsorted(t, reward_time - 2.6)
    n_time = round(4.0 * rate)
    rel = t[first[0] : first[0] + n_time] - reward_time[0]
    epochs = np.stack([y[f : f + n_time].T for f in first], axis=1)  # (unit, trial, time)
    shift = np.array([t[f] - rt for f, rt in zip(first, reward_time)])
    return t, y, trials, epochs, rel, shift


def test_epochs_equal_the_signal_path():
    rng = np.random.default_rng(4)
    t, y, trials, epochs, rel, shift = _continuous(rng)
    # the sample grid is the same relative to every reward only up to a shift < 1 sample:
    # align each trial on its own first sample instead, so both paths see the same samples
    trials["reward_time"] = trials["reward_time"] + (shift - shift[0])
    trials["cue_time"] = trials["cue_time"] + (shift - shift[0])
    options = dict(window=(0.2, 0.6), baseline=(-0.5, 0.0), psth=True, psth_range=(-0.5, 1.0))
    ref = dopafit.responses_from_signal(t, y, trials, channel_ids=["g", "r"], **options)
    ds = dopafit.responses_from_epochs(
        epochs,
        rel,
        trials["reward"].to_numpy(),
        cue_time=(trials["cue_time"] - trials["reward_time"]).to_numpy(),
        event_time=trials["reward_time"].to_numpy(),
        unit_ids=["g", "r"],
        **options,
    )
    for name in ("response", "baseline", "window_count", "baseline_count", "reward", "cued"):
        np.testing.assert_allclose(
            ds[name].values.astype(float), ref[name].values.astype(float), atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(ds["psth"].values, ref["psth"].values, atol=1e-6)
    np.testing.assert_array_equal(ds["event_time"].values, ref["event_time"].values)
    assert ds.attrs["extraction"] == "epoch window mean" and ds.attrs["align"] == "reward"
    assert "filled_defaults" not in ds.attrs
    schema.validate_responses(ds)


def test_epochs_order_selection_nan_rewards_and_one_unit():
    times = np.arange(-1.0, 1.0, 0.1) + 0.05
    data = np.ones((4, times.size)) * np.array([1.0, 2.0, 3.0, 4.0])[:, None]
    data[:, times > 0.2] += 1.0
    ds = dopafit.responses_from_epochs(
        data,  # (trial, time): one unit
        times,
        np.array([1.0, np.nan, 3.0, 4.0]),
        event_time=np.array([30.0, 20.0, 10.0, 40.0]),
        select=np.array([True, True, True, False]),
    )
    assert ds.sizes["unit"] == 1
    assert ds["event_time"].values.tolist() == [[10.0, 30.0]]  # chronological
    assert ds["trial_index"].values.tolist() == [[2, 0]]
    assert ds["response"].values.tolist() == [[1.0, 1.0]]
    assert ds.attrs["n_trials_dropped"] == {
        "selection": 1,
        "no_reward": 1,
        "nan_event": 0,
        "cap": 0,
    }


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"window": (0.2, 1.5)}, "covers the window [0.2, 1.5) s"),
        ({"baseline": (-1.5, 0.0)}, "covers the baseline [-1.5, 0) s"),
        ({"cue_time": np.array([-0.8, np.nan, np.nan])}, "(before the earliest cue)"),
        ({"psth": True, "psth_range": (-2.0, 0.5)}, "covers the psth_range"),
    ],
)
def test_epochs_not_covering_the_window_are_a_named_error(kwargs, needle):
    times = np.arange(-1.0, 1.0, 0.05)
    data = np.zeros((2, 3, times.size))
    with pytest.raises(EventTimesError) as info:
        dopafit.responses_from_epochs(data, times, np.array([1.0, 2.0, 3.0]), **kwargs)
    text = str(info.value)
    assert needle in text and "samples from -1 s to 0.95 s (step 0.05 s)" in text
    assert "export longer epochs" in text and "\n" not in text


def test_epochs_bad_shapes_are_named_errors():
    times = np.arange(-1.0, 1.0, 0.05)
    with pytest.raises(ConfigError, match=r"\(unit, trial, time\)"):
        dopafit.responses_from_epochs(np.zeros(5), times, [1.0])
    with pytest.raises(ConfigError, match="one time per sample"):
        dopafit.responses_from_epochs(np.zeros((2, 7)), times, [1.0, 2.0])
    with pytest.raises(ConfigError, match="reward with one value per trial"):
        dopafit.responses_from_epochs(np.zeros((2, times.size)), times, [1.0, 2.0, 3.0])
    with pytest.raises(EventTimesError, match="increasing"):
        dopafit.responses_from_epochs(np.zeros((2, times.size)), times[::-1], [1.0, 2.0])
    with pytest.raises(ConfigError, match="baseline_event"):
        dopafit.responses_from_epochs(
            np.zeros((2, times.size)), times, [1.0, 2.0], baseline_event="cue"
        )


# ----------------------------------------------------------------------------- hand-built
def test_hand_built_dataset_goes_through_fit_and_compare_with_one_warning():
    rng = np.random.default_rng(5)
    reward = rng.choice([0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0], size=(8, 90))
    tau = np.linspace(0.15, 0.85, 8)[:, None]
    resp = np.where(reward > 3.0, 2 * tau, 2 * (1 - tau)) * (reward - 3.0)
    raw = xr.Dataset(
        {"response": (("unit", "trial"), resp + rng.normal(0, 1, reward.shape))},
        coords={"reward": (("unit", "trial"), reward), "cued": (("unit", "trial"), reward > 9)},
    )
    for run in (
        lambda: dopafit.fit_expectiles(raw, n_splits=5, n_boot=5),
        lambda: dopafit.compare(
            raw, accounts=("classical",), n_sim=9, n_splits=3, n_boot=0, mixed=False
        ),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run()
        filled = [w for w in caught if "filled with defaults" in str(w.message)]
        assert len(filled) == 1 and filled[0].category is DopafitWarning
        text = str(filled[0].message)
        for name in ("align", "window", "baseline", "source", "unit_id", "session"):
            assert name in text
        assert "cued" not in text.split("coordinates")[1].split(";")[0]  # it was given
        if "tau" in result:  # the fit records the responses' attrs
            assert result.attrs["responses_filled_defaults"][:6] == list(schema.REQUIRED_ATTRS[:6])
    assert "unit_id" not in raw.coords and not raw.attrs  # the input is untouched


# ----------------------------------------------------------------------------- the CLI
def _run(args, capsys):
    from dopafit.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


FAST = ["--n-splits", "3", "--n-boot", "0", "--no-population", "-q"]


def test_cli_fits_a_table_with_columns_or_a_config(tmp_path, simulated, capsys):
    csv = tmp_path / "cells.csv"
    _long(simulated).to_csv(csv, index=False)
    flags = "unit=cell,trial=trial_no,reward=volume,response=dff,cued=is_cued,event_time=t"
    code, _, err = _run(
        ["fit", str(csv), "-o", str(tmp_path / "a"), "--columns", flags, *FAST], capsys
    )
    assert code == 0, err
    assert "filled with defaults" in err  # align, window and baseline were not recorded
    got = schema.open_responses(tmp_path / "a" / "sessions" / "cells.nc", group="responses")
    np.testing.assert_allclose(got["response"].values, simulated["response"].values)
    config = tmp_path / "lab.toml"
    config.write_text(
        "[table]\n"
        + "".join(f'{k} = "{v}"\n' for k, v in COLUMNS.items())
        + 'attrs = { align = "reward_time", window = [0.2, 0.6], baseline = [-1.0, 0.0] }\n'
    )
    code, _, err = _run(
        ["fit", str(csv), "-o", str(tmp_path / "b"), "--config", str(config), *FAST], capsys
    )
    assert code == 0 and "filled" not in err, err
    fit = schema.open_responses(
        tmp_path / "b" / "sessions" / "cells.nc", group="fit", validate=False
    )
    assert fit.attrs["responses_columns"]["reward"] == "volume"
    assert fit.attrs["responses_window"] == [0.2, 0.6]


def test_cli_table_errors_are_one_line(tmp_path, simulated, capsys):
    csv = tmp_path / "cells.csv"
    _long(simulated).to_csv(csv, index=False)
    code, _, err = _run(
        ["fit", str(csv), "-o", str(tmp_path / "a"), "--columns", "unit=cel", *FAST], capsys
    )
    assert code == 1
    line = next(line for line in err.splitlines() if "cells.csv:" in line)
    assert "did you mean unit='cell'?" in line
    code, _, err = _run(
        ["fit", str(csv), "-o", str(tmp_path / "a"), "--columns", "units=cell"], capsys
    )
    assert code == 2 and "did you mean 'unit'?" in err
    code, _, err = _run(["fit", str(csv), "-o", str(tmp_path / "a"), "--columns", "unit"], capsys)
    assert code == 2 and "OPTION=COLUMN" in err
