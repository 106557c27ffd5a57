"""The ``delay=`` trials column in every loader: coordinate, units, named errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dopafit
from dopafit.errors import ConfigError, EventTimesError, MissingColumnError


def _trials(delays=(0.5, 3.0, 1.5, 6.0), *, with_delay=True):
    """Four trials, out of chronological order (the loader sorts them by reward time)."""
    cue = np.array([30.0, 10.0, 20.0, 40.0])
    d = np.asarray(delays, dtype=float)
    table = {
        "reward": [1.0, 1.0, 1.0, 1.0],
        "cue_time": cue,
        "reward_time": cue + np.nan_to_num(d, nan=1.0),
    }
    if with_delay:
        table["delay"] = d
    return pd.DataFrame(table)


def _spikes(trials):
    """One unit with 4 spikes in every cue window (0.2-0.6 s after the cue), none elsewhere."""
    times = np.sort(np.concatenate([c + np.array([0.25, 0.3, 0.4, 0.5]) for c in trials.cue_time]))
    return [times]


def test_delay_column_follows_the_trials_sorted_by_time():
    trials = _trials()
    ds = dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time")
    assert ds["delay"].dims == ("unit", "trial") and ds["delay"].dtype == np.float64
    # trials sorted by cue time: 10, 20, 30, 40 -> delays 3.0, 1.5, 0.5, 6.0
    assert ds["delay"].values.tolist() == [[3.0, 1.5, 0.5, 6.0]]
    assert ds["trial_index"].values.tolist() == [[1, 2, 0, 3]]
    assert ds.attrs["delay_units"] == "s" and ds.attrs["columns"]["delay"] == "delay"
    assert np.allclose(ds["response"].values, 4 / 0.4)  # the cue window, as aligned
    assert ds.attrs["options"]["delay"] == "delay"


def test_no_delay_column_gives_no_delays_even_with_cue_and_reward_times():
    trials = _trials(with_delay=False)
    ds = dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time")
    assert "delay" not in ds.coords and "delay_units" not in ds.attrs
    assert "delay" not in ds.attrs["columns"]


def test_difference_of_two_event_columns_only_when_asked():
    trials = _trials(with_delay=False)
    ds = dopafit.responses_from_spikes(
        _spikes(trials),
        trials,
        align="cue_time",
        delay="reward_time - cue_time",
        delay_units="s",
    )
    assert np.allclose(ds["delay"].values, [[3.0, 1.5, 0.5, 6.0]])
    assert ds.attrs["columns"]["delay"] == "reward_time - cue_time"
    compact = dopafit.responses_from_spikes(
        _spikes(trials), trials, align="cue_time", delay="reward_time-cue_time"
    )
    assert np.array_equal(compact["delay"].values, ds["delay"].values)


def test_delay_none_disables_and_units_are_recorded():
    trials = _trials()
    off = dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time", delay=None)
    assert "delay" not in off.coords
    ms = dopafit.responses_from_spikes(
        _spikes(trials),
        trials.assign(delay=trials["delay"] * 1000),
        align="cue_time",
        delay_units="ms",
    )
    assert ms.attrs["delay_units"] == "ms" and ms["delay"].attrs["units"] == "ms"
    assert ms["delay"].values.tolist() == [[3000.0, 1500.0, 500.0, 6000.0]]


def test_nan_delay_is_kept_as_unknown():
    trials = _trials(delays=(0.5, np.nan, 1.5, 6.0))
    ds = dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time")
    assert np.isnan(ds["delay"].values[0, 0]) and ds.sizes["trial"] == 4


def test_missing_named_column_lists_columns_and_the_closest():
    trials = _trials().rename(columns={"delay": "delay_s"})
    with pytest.raises(MissingColumnError) as err:
        dopafit.responses_from_spikes(
            _spikes(trials), trials, align="cue_time", delay="delays", source="ses.nwb"
        )
    text = str(err.value)
    assert "ses.nwb" in text and "delay_s (float64)" in text and "'delay_s'" in text
    with pytest.raises(MissingColumnError, match="reward_tme"):
        dopafit.responses_from_spikes(
            _spikes(trials), trials, align="cue_time", delay="reward_tme - cue_time"
        )


def test_negative_or_text_delays_are_named_errors():
    trials = _trials(delays=(0.5, -3.0, 1.5, 6.0))
    with pytest.raises(EventTimesError) as err:
        dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time", source="a.nwb")
    assert "a.nwb" in str(err.value) and "'delay'" in str(err.value) and "-3" in str(err.value)
    trials = _trials().astype({"delay": object})
    trials.loc[2, "delay"] = "long"
    with pytest.raises(ConfigError) as err:
        dopafit.responses_from_spikes(_spikes(trials), trials, align="cue_time", source="b.nwb")
    assert "b.nwb" in str(err.value) and "'long'" in str(err.value)
    with pytest.raises(EventTimesError, match="infinite"):
        dopafit.responses_from_spikes(
            _spikes(trials), _trials(delays=(0.5, np.inf, 1.5, 6.0)), align="cue_time"
        )


def test_signal_epochs_and_table_loaders():
    trials = _trials()
    t = np.arange(0.0, 50.0, 0.05)
    ds = dopafit.responses_from_signal(t, np.zeros_like(t), trials, align="cue_time")
    assert ds["delay"].values.tolist() == [[3.0, 1.5, 0.5, 6.0]]
    times = np.arange(-1.0, 2.0, 0.05) + 0.025
    data = np.zeros((2, 4, times.size))
    ep = dopafit.responses_from_epochs(
        data, times, np.ones(4), delay=[0.5, 3.0, 1.5, 6.0], event_time=[30, 10, 20, 40]
    )
    assert ep["delay"].values.tolist() == [[3.0, 1.5, 0.5, 6.0]] * 2
    assert "delay" not in dopafit.responses_from_epochs(data, times, np.ones(4)).coords
    with pytest.raises(EventTimesError):
        dopafit.responses_from_epochs(data, times, np.ones(4), delay=[0.5, -1.0, 1.5, 6.0])
    long = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "trial": [2, 1, 1, 2],
            "reward": 1.0,
            "response": [1.0, 2.0, 3.0, 4.0],
            "wait": [6.0, 0.5, 0.5, 6.0],
        }
    )
    made = {"align": "cue_time", "window": [0.2, 0.6], "baseline": [-1.0, 0.0]}
    tab = dopafit.responses_from_table(long, delay="wait", attrs=made)
    assert tab["delay"].values.tolist() == [[0.5, 6.0], [0.5, 6.0]]
    assert tab.attrs["delay_units"] == "s" and tab.attrs["columns"]["delay"] == "wait"
    assert "delay" not in dopafit.responses_from_table(long, attrs=made).coords
    with pytest.raises(MissingColumnError, match="'wait'"):
        dopafit.responses_from_table(long, delay="wiat", attrs=made)
    with pytest.raises(EventTimesError, match="wait"):
        dopafit.responses_from_table(long.assign(wait=-long["wait"]), delay="wait", attrs=made)


def test_pynapple_passes_delay_through():
    nap = pytest.importorskip("pynapple")
    trials = _trials().sort_values("cue_time").reset_index(drop=True)
    interval = nap.IntervalSet(
        start=trials["cue_time"] - 1.5,
        end=trials["reward_time"] + 1.0,
        metadata={c: trials[c].to_numpy() for c in trials.columns},
    )
    units = nap.TsGroup({0: nap.Ts(_spikes(trials)[0])})
    ds = dopafit.responses_from_pynapple(units, interval, align="cue_time")
    assert ds["delay"].values.tolist() == [[3.0, 1.5, 0.5, 6.0]]


def _delay_file(tmp_path, with_delay=True):
    session = dopafit.simulate_session(n_units=2, n_trials=20, seed=3)
    trials = session.trials
    if with_delay:
        trials["delay"] = np.where(
            trials["cued"], trials["reward_time"] - trials["cue_time"], np.nan
        )
    return dopafit.write_nwb(session, tmp_path / "ses.nwb"), trials


def test_load_nwb_reads_the_delay_column(tmp_path):
    path, trials = _delay_file(tmp_path)
    ds = dopafit.load_nwb(path)
    rows = ds["trial_index"].values[0]
    expected = trials["delay"].to_numpy()[rows]
    assert np.array_equal(ds["delay"].values[0], expected, equal_nan=True)
    assert np.isfinite(expected).any() and np.isnan(expected).any()
    info = dopafit.describe_nwb(path)
    assert info["mapping"]["columns"]["delay"] == "delay"
    assert "delay" not in dopafit.load_nwb(path, delay=None).coords
    with pytest.raises(MissingColumnError) as err:
        dopafit.load_nwb(path, delay="dealy")
    assert str(path) in str(err.value) and "'delay'" in str(err.value)


def test_config_load_table_and_cli_flag_take_delay(tmp_path):
    from dopafit.batch import BatchSettings
    from dopafit.cli.fit import _settings

    config = tmp_path / "lab.toml"
    config.write_text('[load]\nreward = "reward"\ndelay = "reward_time - cue_time"\n')
    settings = BatchSettings.from_toml(config)
    assert settings.load["delay"] == "reward_time - cue_time"
    flags = _settings(None, {"delay_column": "wait"})
    assert flags.load["delay"] == "wait"
    assert BatchSettings(load={"delay": None}).load == {"delay": None}


# ----------------------------------------------------------------------------- sessions
def _per_cue_means(ds, key):
    """Mean response, SD and count per value of ``key`` (unit, value) from a loaded session."""
    r, k = ds["response"].values, ds[key].values
    values = np.unique(k[np.isfinite(k)])
    mean = np.stack([np.nanmean(np.where(k == v, r, np.nan), axis=1) for v in values], 1)
    sd = np.stack([np.nanstd(np.where(k == v, r, np.nan), axis=1, ddof=1) for v in values], 1)
    count = np.stack([(k == v).sum(axis=1) for v in values], 1)
    return values, mean, sd, count


def _grid_gamma(delays, mean, count):
    """Plain numpy least squares of ``b + A * g ** d`` on per-delay means, g on a fine grid."""
    grid = np.linspace(0.005, 1.0, 400)
    out = []
    for m, n in zip(mean, count):
        w = np.sqrt(n)
        rss = []
        for g in grid:
            x = np.c_[np.ones(delays.size), g**delays] * w[:, None]
            coef = np.linalg.lstsq(x, m * w, rcond=None)[0]
            rss.append(((x @ coef - m * w) ** 2).sum())
        out.append(grid[int(np.argmin(rss))])
    return np.array(out)


def test_delay_session_to_nwb_and_back_recovers_the_truth(tmp_path):
    session = dopafit.simulate_delay_session(
        "delay", "multi", n_units=40, n_trials=400, seed=2, amplitude=(10.0, 20.0)
    )
    trials = session.trials
    assert {"cue_time", "reward_time", "delay", "cue_id", "reward"} <= set(trials.columns)
    assert np.allclose(trials["reward_time"] - trials["cue_time"], trials["delay"])
    assert (np.diff(trials["cue_time"]) > 0).all()
    path = dopafit.write_nwb(session, tmp_path / "delay.nwb")
    ds = dopafit.load_nwb(path, align="cue_time")
    assert ds.attrs["align"] == "cue_time" and ds.attrs["delay_units"] == "s"
    delays, mean, sd, count = _per_cue_means(ds, "delay")
    assert delays.tolist() == [0.5, 1.5, 3.0, 6.0]
    g, a, b = (ds[f"true_{n}"].values[:, None] for n in ("gamma", "amplitude", "asymptote"))
    truth = b + a * g**delays
    z = (mean - truth) / (sd / np.sqrt(count))
    # 160 unit x delay means: z ~ N(0, 1) when the cue window's rate change is the truth
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and 0.8 < z.std() < 1.25
    fitted = _grid_gamma(delays, mean, count)
    true_gamma = ds["true_gamma"].values
    r = np.corrcoef(fitted, true_gamma)[0, 1]
    bias, rmse = np.mean(fitted - true_gamma), np.sqrt(np.mean((fitted - true_gamma) ** 2))
    # measured (seed 2): r 0.84, bias -0.02, rmse 0.11
    assert r > 0.75 and abs(bias) < 0.06 and rmse < 0.15
    assert ds["true_discount"].values.tolist() == ["exponential"] * 40


def test_delay_session_mixture_cue_and_reward_responses(tmp_path):
    task = dopafit.DelayTask(magnitudes=(1.0, 4.0, 8.0), mixtures={5: ((1.0, 6.0), (0.5, 0.5))})
    session = dopafit.simulate_delay_session(
        task, "single", n_units=12, n_trials=500, seed=4, amplitude=(10.0, 20.0), gamma=0.7
    )
    assert set(session.trials.loc[session.trials["cue_id"] == 5, "delay"]) == {1.0, 6.0}
    assert {"true_tau", "true_reversal_point", "true_alpha_pos"} <= set(session.units)
    path = dopafit.write_nwb(session, tmp_path / "mix.nwb")
    cue = dopafit.load_nwb(path, align="cue_time")
    ids, mean, sd, count = _per_cue_means(cue, "cue_id")
    assert ids.tolist() == [1, 2, 3, 4, 5]
    b, a = cue["true_asymptote"].values[:, None], cue["true_amplitude"].values[:, None]
    expected = np.r_[0.7 ** np.array(task.delays), 0.5 * 0.7**1.0 + 0.5 * 0.7**6.0]
    z = (mean - (b + a * expected)) / (sd / np.sqrt(count))
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and 0.7 < z.std() < 1.35
    reward = dopafit.load_nwb(path)  # aligned to the reward
    mags, mean, sd, count = _per_cue_means(reward, "reward")
    zr, ap, an = (
        reward[f"true_{n}"].values[:, None] for n in ("reversal_point", "alpha_pos", "alpha_neg")
    )
    f = np.where(mags > zr, ap * (mags - zr), an * (mags - zr))
    z = (mean - f) / (sd / np.sqrt(count))
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and 0.7 < z.std() < 1.35


def test_cli_simulate_delay_task(tmp_path, capsys):
    from dopafit.cli import main

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        return info.value.code, capsys.readouterr()

    out = tmp_path / "sims"
    code, _ = run(
        "simulate",
        "-o",
        out,
        "--task",
        "delay-bimodal",
        "--population",
        "single",
        "--n-units",
        4,
        "--n-trials",
        50,
        "--delays",
        "0.5,2,4",
    )
    assert code == 0
    path = out / "sub-sim_ses-single-delay-bimodal-seed0.nwb"
    ds = dopafit.load_nwb(path, align="cue_time")
    assert set(np.unique(ds["delay"].values)) <= {0.5, 2.0, 4.0, 1.0, 6.0}
    assert np.unique(ds["true_gamma"].values).size == 1  # one shared discount factor
    code, result = run("simulate", "-o", out, "--task", "delay", "--population", "classical")
    assert code == 2 and "single, multi, hyperbolic" in result.err
    code, result = run("simulate", "-o", out, "--population", "multi")
    assert code == 2 and "--task delay" in result.err


def test_delay_sessions_fitted_by_fit_discounting(tmp_path):
    """Written to NWB, loaded cue-aligned and fitted: gamma recovered on a multi-timescale
    population, split-half reliability high there and near 0 with one shared gamma."""
    fits = {}
    for population in ("multi", "single"):
        session = dopafit.simulate_delay_session(
            population=population, n_trials=400, seed=2, amplitude=(10.0, 20.0)
        )
        path = dopafit.write_nwb(session, tmp_path / f"{population}.nwb")
        ds = dopafit.load_nwb(path, align="cue_time")
        fit = dopafit.fit_discounting(ds, n_splits=100, n_boot=0, seed=1, progress=False)
        fits[population] = (ds["true_gamma"].values, fit)
    truth, fit = fits["multi"]
    gamma = fit["gamma"].values
    # measured (seed 2, 40 units): r 0.84, bias -0.02, rmse 0.11; reliability 0.66
    assert np.corrcoef(gamma, truth)[0, 1] > 0.75
    assert abs(np.mean(gamma - truth)) < 0.06 and np.sqrt(np.mean((gamma - truth) ** 2)) < 0.15
    truth, single = fits["single"]
    # measured: bias -0.01, rmse 0.09 around the shared 0.8; reliability -0.02
    assert abs(np.mean(single["gamma"].values - truth)) < 0.05
    assert np.sqrt(np.mean((single["gamma"].values - truth) ** 2)) < 0.15
    multi_rel = float(np.nanmedian(fit["gamma_reliability"].values))
    single_rel = float(np.nanmedian(single["gamma_reliability"].values))
    assert multi_rel > 0.4 and abs(single_rel) < 0.2
