"""CompareOptions: one validated owner of the comparison's settings, and the seeds it derives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr

import dopafit
from dopafit import seeds
from dopafit.cli import main
from dopafit.errors import ConfigError
from dopafit.simulate import simulate_responses
from dopafit.stats.compare import run_comparison
from dopafit.stats.compare_options import CompareOptions


@pytest.fixture(scope="module")
def responses():
    return simulate_responses(population="distributional", n_units=12, n_trials=150, seed=4)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"accounts": ("nope",)}, "expected accounts among classical, bias"),
        ({"accounts": "classicl"}, "did you mean 'classical'"),
        ({"accounts": "bias,sigmod"}, "unknown account 'sigmod'.*did you mean 'sigmoid'"),
        ({"accounts": ()}, "one or more distinct names"),
        ({"accounts": ("bias", "bias")}, "one or more distinct names"),
        ({"n_sim": 0}, r"n_sim as an integer >= 1; found 0"),
        ({"n_sim": True}, "n_sim as an integer >= 1; found True"),
        ({"n_splits": 2.5}, "n_splits as an integer >= 1; found 2.5"),
        ({"n_boot": -1}, "n_boot as an integer >= 0"),
        ({"n_folds": 1}, r"n_folds = 0 \(no folds\) or >= 2"),
        ({"n_folds": -2}, "n_folds as an integer >= 0"),
        ({"noise": "poisson"}, "noise one of gaussian, residual; found 'poisson'"),
        ({"level": 1.0}, r"level in \(0, 1\); found 1.0"),
        ({"alpha": 0}, r"alpha in \(0, 1\)"),
        ({"mixed": "yes"}, "mixed as true or false; found 'yes'"),
        ({"fold_exclude_edge": 1}, "fold_exclude_edge as true or false"),
        # the fitting pipeline's options, checked as fit_expectiles checks them
        ({"method": "kinky"}, "method one of count, kink"),
        ({"cap_low": -1.0}, "cap_low and cap_high finite and >= 0"),
        ({"cap_high": float("nan")}, "cap_low and cap_high finite and >= 0"),
        ({"seed": -3}, "seed as an integer >= 0 or None"),
        ({"pool_cued": "both"}, "pool_cued one of"),
        ({"axis": "log"}, "axis one of utility, reward, zscore"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(ConfigError, match=message):
        CompareOptions(**values)
    with pytest.raises(ConfigError, match=message):  # the same check from a mapping
        CompareOptions.from_dict(values)


@pytest.mark.parametrize(
    ("key", "closest"),
    [("n_sims", "n_sim"), ("nboot", "n_boot"), ("account", "accounts"), ("pool", "pool_cued")],
)
def test_unknown_key_names_the_closest_valid_one(key, closest):
    with pytest.raises(ConfigError, match=f"unknown key '{key}'.*did you mean '{closest}'") as e:
        CompareOptions.from_dict({key: 1}, file="analysis.toml")
    assert str(e.value).startswith("analysis.toml: expected compare options among")


def test_unrelated_unknown_key_is_to_be_removed():
    with pytest.raises(ConfigError, match="unknown key 'zzzz'. Fix: remove it"):
        CompareOptions.from_dict({"zzzz": 1})


def test_values_are_normalised_once():
    opts = CompareOptions.from_dict(
        {"accounts": " bias , classical", "n_sim": np.int64(50), "level": 0.9, "seed": None}
    )
    assert opts.accounts == ("bias", "classical")
    assert type(opts.n_sim) is int and opts.n_sim == 50
    assert opts.seed is None
    assert CompareOptions(accounts=["sigmoid"]).accounts == ("sigmoid",)
    assert CompareOptions.from_dict(None) == CompareOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.n_sim = 3
    # replace validates the new value too
    with pytest.raises(ConfigError, match="n_splits as an integer >= 1"):
        dataclasses.replace(opts, n_splits=0)


def _without_timing(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds.attrs.pop("timing_s")
    return ds


def test_keyword_path_equals_options_path(responses):
    kw = dict(accounts=("classical", "sigmoid"), n_sim=10, n_splits=4, n_boot=20, seed=11)
    kw.update(mixed=False, noise="residual", n_folds=3)
    by_keywords = dopafit.compare(responses, **kw)
    by_options = run_comparison(responses, CompareOptions(**kw), chunk_size=3)
    xr.testing.assert_identical(_without_timing(by_keywords), _without_timing(by_options))
    assert by_options.attrs["noise"] == "residual"
    assert by_options.attrs["accounts"] == "classical,sigmoid"
    assert by_options.attrs["n_folds"] == 3
    with pytest.raises(ConfigError, match="options as a CompareOptions; found dict"):
        run_comparison(responses, kw)


@pytest.mark.parametrize("seed", [5, None])
def test_observed_splits_are_the_fitters_for_the_recorded_seed(responses, seed):
    """The observed split halves descend from the seed as fit_expectiles' do: a fit with the
    seed the comparison records gives the same per-split statistics, split by split."""
    cmp = dopafit.compare(
        responses, accounts=("bias",), n_sim=5, n_splits=6, n_boot=0, seed=seed, mixed=False
    )
    recorded = cmp.attrs["seed"]
    if seed is None:  # fresh entropy, recorded in full (a string when beyond int64)
        assert int(recorded) >= 0
    else:
        assert recorded == seed
    assert cmp.attrs["seed_derivation"] == seeds.COMPARE_DERIVATION
    fit = dopafit.fit_expectiles(responses, n_splits=6, n_boot=0, seed=int(recorded))
    for name in ("r_tau_reversal", "rho_tau_reversal", "r_reliability", "anova_f"):
        mine = cmp[f"observed_split_{name}"].values
        assert np.isfinite(mine).all()
        np.testing.assert_array_equal(mine, fit[name].values, err_msg=name)
    other = dopafit.fit_expectiles(responses, n_splits=6, n_boot=0, seed=int(recorded) + 1)
    assert not np.array_equal(cmp["observed_split_r_tau_reversal"], other["r_tau_reversal"])


def test_account_and_bootstrap_streams_are_the_documented_ones(responses):
    """Every random draw of the comparison follows ``seeds.COMPARE_DERIVATION``: the
    account's stream is fixed by its index among all accounts, the bootstrap has its own."""
    from dopafit.stats import accounts as acc
    from dopafit.stats import statistics as st

    seed, n_sim, n_splits, n_boot = 4, 3, 4, 25
    cmp = dopafit.compare(
        responses,
        accounts=("sigmoid",),
        n_sim=n_sim,
        n_splits=n_splits,
        n_boot=n_boot,
        seed=seed,
        mixed=False,
    )
    layout = st.build_layout(responses)
    stream = seeds.account_stream(seed, acc.ACCOUNTS.index("sigmoid"))
    sim_seeds, split_seeds = seeds.account_seeds(stream, n_sim, n_splits)
    raw = acc.simulate(
        layout, acc.fit_account("sigmoid", layout), acc.fit_noise(layout), sim_seeds, "gaussian"
    )
    expected = st.run_pipeline(layout, raw, split_seeds).stats
    for name, values in expected.items():
        got = cmp["simulated"].sel(account="sigmoid", statistic=name).values
        np.testing.assert_array_equal(got, values, err_msg=name)
    prep = layout.prep  # the observed data enter with the fitter's own preparation
    observed = st.run_pipeline(
        layout,
        layout.raw[None, :],
        seeds.split_seeds(seed, n_splits)[None, :],
        keep_splits=True,
        prepared=(prep.vals[None, :], prep.axis[None, :]),
    )
    boot = st.neuron_bootstrap(observed.splits, n_boot, seeds.compare_bootstrap(seed), 0.95)
    assert boot
    for name, (lo, hi) in boot.items():
        assert float(cmp["boot_lo"].sel(statistic=name)) == lo, name
        assert float(cmp["boot_hi"].sel(statistic=name)) == hi, name


def test_cli_checks_the_options_before_reading_the_data(tmp_path, capsys):
    not_read = tmp_path / "population.nc"
    not_read.write_bytes(b"not a netCDF file")
    with pytest.raises(SystemExit) as exit_:
        main(["compare", str(not_read), "--accounts", "classical,biass", "--n-sim", "10"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "unknown account 'biass'" in err and "did you mean 'bias'" in err
    assert "Traceback" not in err


def test_cli_flags_build_the_same_options_as_the_api(responses, tmp_path):
    source = dopafit.to_netcdf(responses, tmp_path / "responses.nc")
    out = tmp_path / "cmp.nc"
    flags = ["--accounts", "classical", "--n-sim", "10", "--n-splits", "3", "--seed", "9"]
    with pytest.raises(SystemExit) as exit_:
        main(["compare", str(source), *flags, "--axis", "reward", "-o", str(out)])
    assert exit_.value.code in (0, None)
    got = dopafit.open_comparison(out)
    assert (got.attrs["accounts"], got.attrs["n_sim"], got.attrs["n_splits"]) == (
        "classical",
        10,
        3,
    )
    assert (got.attrs["axis"], got.attrs["seed"]) == ("reward", 9)
    api = dopafit.compare(
        responses, accounts="classical", n_sim=10, n_splits=3, seed=9, axis="reward"
    )
    for name in ("observed", "simulated", "p_calibrated"):
        np.testing.assert_array_equal(got[name].values, api[name].values, err_msg=name)
