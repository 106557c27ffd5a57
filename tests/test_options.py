"""FitOptions: one validated owner of the options of fit_expectiles, the batch and the config."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from _fit import UTILITY, synth_responses

from dopafit.batch import BatchSettings
from dopafit.errors import ConfigError
from dopafit.fit.expectile import check_fit_options, fit_expectiles, fit_with_options
from dopafit.fit.options import FitOptions

#: per option, invalid values and the text their ConfigError must hold
BAD = {
    "axis": (["utilty", "Reward"], r"axis one of utility, reward, zscore"),
    "method": (["kinky", None], r"method one of count, kink"),
    "n_splits": ([-1, 2.5, True, "10"], r"n_splits as an integer >= 0"),
    "n_folds": ([-2, 3.0, "7"], r"n_folds as an integer >= 0"),
    "n_boot": ([-1, 1e3, None], r"n_boot as an integer >= 0"),
    "seed": ([-1, 1.5, "0", True], r"seed as an integer >= 0 or None"),
    "pool_cued": (["both", None], r"pool_cued one of auto, offset, none, cued, uncued"),
    "level": ([0, 1.0, 1.5, -0.2, "high", True, None], r"level in \(0, 1\)"),
    "cap_low": ([-0.01, np.inf, np.nan, "x", None], r"cap_low and cap_high finite and >= 0"),
    "cap_high": ([-1, -np.inf, "0.1"], r"cap_low and cap_high finite and >= 0"),
    "fold_exclude_edge": (["yes", 1, None], r"fold_exclude_edge as True or False"),
}
CASES = [(name, value, text) for name, (values, text) in BAD.items() for value in values]


@pytest.fixture(scope="module")
def small():
    return synth_responses("distributional", n_units=12, seed=5, axis_values=UTILITY)


def test_every_option_has_validation_cases():
    assert set(BAD) == set(FitOptions.names())


@pytest.mark.parametrize(("name", "value", "text"), CASES)
def test_a_bad_value_is_a_config_error_naming_it(name, value, text):
    with pytest.raises(ConfigError, match=text) as info:
        FitOptions(**{name: value})
    assert repr(value) in info.value.found or name in ("cap_low", "cap_high")
    # the keyword path checks before touching the data; the data-free check agrees
    with pytest.raises(ConfigError, match=text):
        fit_expectiles(None, **{name: value})
    with pytest.raises(ConfigError, match=text):
        check_fit_options(**{name: value})


def test_one_fold_is_refused():
    with pytest.raises(ConfigError, match=r"n_folds = 0 \(no folds\) or >= 2"):
        FitOptions(n_folds=1)


def test_valid_edge_values_are_accepted():
    opts = FitOptions(
        axis=np.array([1.0, 2.0, 3.0]),
        n_splits=np.int64(0),
        n_folds=0,
        n_boot=0,
        seed=None,
        level=np.float32(0.5),
        cap_low=0,
        cap_high=np.float64(0.0),
        fold_exclude_edge=np.bool_(False),
    )
    assert opts.n_splits == 0 and opts.seed is None
    assert FitOptions(axis=np.exp).record()["axis"] == "callable:exp"


def test_check_fit_options_leaves_unknown_names_to_the_caller():
    check_fit_options(n_sim=10, n_splits=5)  # n_sim is an option of compare, not of the fit
    with pytest.raises(ConfigError, match="n_splits"):
        check_fit_options(n_sim=10, n_splits=-5)


def test_from_dict_names_the_closest_valid_key():
    with pytest.raises(ConfigError, match="did you mean 'n_splits'") as info:
        FitOptions.from_dict({"n_split": 10})
    assert "unknown key 'n_split'" in str(info.value)
    assert str(info.value).endswith("Fix: did you mean 'n_splits'?")  # no "?."
    with pytest.raises(ConfigError, match="did you mean 'fold_exclude_edge'"):
        FitOptions.from_dict({"fold_exclude_edges": False}, file="lab.toml")
    with pytest.raises(ConfigError, match="remove it"):
        FitOptions.from_dict({"zzz": 1})
    with pytest.raises(ConfigError, match=r"^lab\.toml: expected level in \(0, 1\)"):
        FitOptions.from_dict({"level": 2}, file="lab.toml")
    assert FitOptions.from_dict(None) == FitOptions()
    assert FitOptions.from_dict({"n_boot": 5, "seed": 2}) == FitOptions(n_boot=5, seed=2)


def test_options_unpack_as_the_keywords_of_fit_expectiles():
    opts = FitOptions(n_splits=3, method="kink")
    assert dict(**opts) == {name: getattr(opts, name) for name in FitOptions.names()}
    assert list(opts.keys()) == list(FitOptions.names())
    with pytest.raises(KeyError):
        opts["n_sim"]


def test_keyword_path_and_options_path_give_identical_results(small):
    kw = dict(
        axis="reward",
        method="kink",
        n_splits=12,
        n_folds=3,
        n_boot=15,
        seed=4,
        level=0.8,
        cap_low=0.02,
        cap_high=0.2,
        fold_exclude_edge=False,
    )
    opts = FitOptions(**kw)
    by_keywords = fit_expectiles(small, **kw)
    xr.testing.assert_identical(by_keywords, fit_with_options(small, opts))
    xr.testing.assert_identical(by_keywords, fit_expectiles(small, **opts))
    for key, value in opts.to_attrs().items():
        assert by_keywords.attrs[key] == value


def test_fold_grand_mean_tau_is_kept_in_attrs(small):
    """Regression: the fold grand mean was written to the attrs, then lost when the fit's
    attrs were set."""
    fit = fit_expectiles(small, n_splits=5, n_folds=4, n_boot=0, seed=2)
    included = fit["fold_included"].values
    assert included.sum() >= 3
    expected = fit["tau_fold"].values[:, included].mean()
    assert fit.attrs["fold_grand_mean_tau"] == pytest.approx(expected, rel=1e-12)
    # the attribute the per-unit t statistics are centred on
    t = (fit["tau_fold_mean"] - fit.attrs["fold_grand_mean_tau"]) / fit["tau_fold_sem"]
    np.testing.assert_allclose(t.values, fit["tau_fold_t"].values, rtol=1e-10)
    no_folds = fit_expectiles(small, n_splits=5, n_folds=0, n_boot=0, seed=2)
    assert "fold_grand_mean_tau" not in no_folds.attrs


def test_a_recorded_fresh_seed_reproduces_the_fit(small):
    kw = dict(n_splits=6, n_folds=3, n_boot=8)
    fresh = fit_expectiles(small, seed=None, **kw)
    again = fit_expectiles(small, seed=int(fresh.attrs["seed"]), **kw)
    for name in ("reversal_point_a", "tau_b", "tau_fold", "tau_lo", "reversal_point_hi"):
        np.testing.assert_array_equal(fresh[name].values, again[name].values)
    other = fit_expectiles(small, seed=int(fresh.attrs["seed"]) + 1, **kw)
    assert not np.array_equal(fresh["reversal_point_a"].values, other["reversal_point_a"].values)


def test_batch_settings_hold_validated_fit_options():
    settings = BatchSettings(fit={"n_splits": 10, "axis": "reward"})
    assert settings.fit == FitOptions(n_splits=10, axis="reward")
    opts = FitOptions(n_boot=3)
    assert BatchSettings(fit=opts).fit is opts
    with pytest.raises(ConfigError, match=r"expected \[fit\] level in \(0, 1\)"):
        BatchSettings(fit={"level": 2})
    with pytest.raises(ConfigError, match="did you mean 'n_boot'"):
        BatchSettings(fit={"n_boots": 10})


def test_settings_hash_covers_only_options_that_differ_from_the_defaults():
    given = {"n_splits": 10, "axis": "reward"}
    settings = BatchSettings(fit=given)
    assert json.loads(settings.to_json())["fit"] == given  # as before FitOptions
    assert BatchSettings(fit={"n_splits": 1000, "seed": 0}).sha256 == BatchSettings().sha256
    assert BatchSettings(fit=FitOptions(**given)).sha256 == settings.sha256
    assert BatchSettings(fit={"n_splits": 11, "axis": "reward"}).sha256 != settings.sha256


def test_config_fit_table_goes_through_fit_options(tmp_path):
    config = tmp_path / "lab.toml"
    config.write_text('[fit]\nn_splits = 10\nmethod = "kink"\nseed = 3\n')
    settings = BatchSettings.from_toml(config)
    assert settings.fit == FitOptions(n_splits=10, method="kink", seed=3)
    config.write_text("[fit]\nn_folds = 1\n")
    with pytest.raises(ConfigError, match=r"lab\.toml: expected \[fit\] n_folds = 0"):
        BatchSettings.from_toml(config)


def test_cli_choices_are_the_options_choices():
    """The CLI keeps its own copies of the choices (``dopafit --help`` imports no numpy);
    they must stay those FitOptions accepts."""
    from dopafit.cli import _common
    from dopafit.cli.fit import fit
    from dopafit.fit.axes import AXES
    from dopafit.fit.options import METHODS

    choices = {p.name: tuple(p.type.choices) for p in fit.params if hasattr(p.type, "choices")}
    assert choices["method"] == METHODS
    assert choices["axis"] == _common.AXES == AXES
