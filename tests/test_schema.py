"""The responses data model: construction, validation errors, netCDF round trip."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dopafit
from dopafit import schema
from dopafit.errors import DopafitError, DopafitWarning, ResponsesError

ATTRS = {
    "response_units": "spikes/s",
    "reward_units": "ul",
    "align": "reward_time",
    "window": [0.2, 0.6],
    "baseline": [-1.0, 0.0],
    "source": "test",
}


def _ds(n_unit=3, n_trial=5, seed=0):
    rng = np.random.default_rng(seed)
    reward = rng.choice([0.1, 1.2, 5.0, 20.0], size=(n_unit, n_trial))
    response = rng.normal(size=(n_unit, n_trial))
    reward[0, -2:] = np.nan  # unit 0 has fewer trials: padded
    response[0, -2:] = np.nan
    return schema.make_responses(
        response,
        reward,
        cued=rng.random((n_unit, n_trial)) < 0.5,
        event_time=np.cumsum(rng.random((n_unit, n_trial)), axis=1),
        unit_id=[f"u{i}" for i in range(n_unit)],
        session=["s0"] * n_unit,
        subject=["m0"] * n_unit,
        baseline_rate=rng.uniform(1, 10, n_unit),
        unit_vars={"true_tau": rng.random(n_unit)},
        attrs=ATTRS,
    )


def test_valid_dataset_passes_and_mask_counts_trials():
    ds = _ds()
    assert schema.validate_responses(ds) is ds
    assert int(schema.trial_mask(ds).sum()) == 3 * 5 - 2
    for name in schema.REQUIRED_ATTRS:
        assert name in ds.attrs


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda ds: ds.drop_vars("reward"), "missing coordinate 'reward'"),
        (lambda ds: ds.drop_vars("response"), "missing data variable 'response'"),
        (lambda ds: ds.transpose("trial", "unit"), "has dims ('trial', 'unit')"),
        (lambda ds: _set(ds, "reward", 0, 0, np.inf), "infinite reward"),
        (lambda ds: _set(ds, "reward", 1, 2, np.nan), "response(s) with a NaN reward"),
        (lambda ds: _set(ds, "response", 1, 2, -np.inf), "infinite response"),
        (lambda ds: _empty_unit(ds, 2), "unit(s) with no trials: u2"),
    ],
)
def test_each_problem_is_named(mutate, needle):
    bad = mutate(_ds())
    with pytest.raises(ResponsesError) as info:
        schema.validate_responses(bad)
    assert needle in str(info.value)
    assert isinstance(info.value, DopafitError)
    assert "\n" not in str(info.value)


def test_every_problem_is_listed_at_once():
    bad = _empty_unit(_set(_ds(), "reward", 0, 0, np.inf), 2).drop_vars("cued")
    with pytest.raises(ResponsesError) as info:
        schema.validate_responses(bad, fill=False)
    err = info.value
    assert len(err.problems) == 3
    assert "3 problem(s)" in str(err)
    assert "Fix:" in str(err)
    with pytest.raises(ResponsesError) as info:  # cued is filled; the other two remain
        schema.validate_responses(bad)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("mutate", "coords", "attrs"),
    [
        (lambda ds: ds.drop_vars("cued"), ["cued"], []),
        (lambda ds: ds.drop_vars(["session", "subject"]), ["session", "subject"], []),
        (lambda ds: _drop_attr(ds, "window"), [], ["window"]),
        (lambda ds: _drop_attr(_drop_attr(ds, "align"), "source"), [], ["align", "source"]),
    ],
)
def test_missing_coordinates_and_attrs_are_filled_with_one_warning(mutate, coords, attrs):
    bad = mutate(_ds())
    with pytest.raises(ResponsesError) as info:
        schema.validate_responses(bad, fill=False)
    assert len(info.value.problems) == len(coords) + len(attrs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = schema.validate_responses(bad)
    assert [w.category for w in caught] == [DopafitWarning]
    text = str(caught[0].message)
    for name in coords + attrs:
        assert name in text and name not in bad.variables and name not in bad.attrs
    assert full.attrs["filled_defaults"] == attrs + coords
    for name in attrs:
        assert full.attrs[name] == schema.DEFAULT_ATTRS[name]
    assert schema.validate_responses(full) is full  # complete now: no second warning
    assert "filled_defaults" not in bad.attrs  # the input is never modified


def test_hand_built_dataset_with_response_and_reward_only():
    rng = np.random.default_rng(0)
    reward = rng.choice([1.0, 5.0], size=(2, 6))
    raw = xr.Dataset(
        {
            "response": (("unit", "trial"), rng.normal(size=(2, 6))),
            "reward": (("unit", "trial"), reward),  # a data variable: becomes a coordinate
            "cued": (("unit", "trial"), rng.random((2, 6)) < 0.5),
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = schema.validate_responses(raw)
    assert len(caught) == 1
    assert full.attrs["filled_defaults"] == [
        *schema.REQUIRED_ATTRS,
        "event_time",
        "unit_id",
        "session",
        "subject",
        "baseline_rate",
    ]
    assert "reward" in full.coords and "cued" in full.coords
    np.testing.assert_array_equal(full["cued"].values, raw["cued"].values)
    assert full["unit_id"].values.tolist() == ["0", "1"]
    assert full.attrs["dopafit_version"] == dopafit.__version__
    assert "dopafit_version" not in raw.attrs


def test_make_responses_warns_for_attrs_it_fills():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = schema.make_responses(np.ones((1, 2)), np.ones((1, 2)), attrs=ATTRS)
    assert not caught and "filled_defaults" not in ds.attrs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = schema.make_responses(np.ones((1, 2)), np.ones((1, 2)), attrs={"source": "x.csv"})
    assert len(caught) == 1 and str(caught[0].message).startswith("x.csv: ")
    assert ds.attrs["filled_defaults"] == [
        "response_units",
        "reward_units",
        "align",
        "window",
        "baseline",
    ]


def test_not_a_dataset():
    with pytest.raises(ResponsesError, match="not an xarray.Dataset"):
        schema.validate_responses(np.zeros((2, 2)))


def test_make_responses_rejects_mismatched_shapes():
    with pytest.raises(ResponsesError, match="equal shape"):
        schema.make_responses(np.zeros((2, 3)), np.zeros((2, 4)))


def test_netcdf_round_trip_keeps_attrs_and_dtypes(tmp_path):
    ds = _ds().assign_attrs(
        nested={"seed": 3, "windows": [0.2, 0.6]}, flag=True, nothing=None, name="x"
    )
    path = schema.to_netcdf(ds, tmp_path / "r.nc")
    back = schema.open_responses(path)
    xr.testing.assert_identical(ds, back)
    assert back.attrs["nested"] == {"seed": 3, "windows": [0.2, 0.6]}
    assert back.attrs["flag"] is True
    assert back.attrs["nothing"] is None
    assert back["cued"].dtype == bool


def test_open_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DopafitError, match="no such path"):
        schema.open_responses(tmp_path / "nope.nc")
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file at all")
    with pytest.raises(DopafitError, match="junk.nc") as info:
        schema.open_responses(junk)
    assert "truncated" in str(info.value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_unit=st.integers(1, 4),
    n_trial=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_round_trip_property(tmp_path_factory, n_unit, n_trial, seed, data):
    rng = np.random.default_rng(seed)
    reward = rng.choice([0.1, 2.5, 20.0], size=(n_unit, n_trial))
    response = rng.normal(size=(n_unit, n_trial)) * 10
    n_pad = data.draw(st.integers(0, n_trial - 1))
    if n_pad:
        reward[-1, -n_pad:] = np.nan
        response[-1, -n_pad:] = np.nan
    ds = schema.make_responses(
        response, reward, attrs={**ATTRS, "seed": seed, "window": [0.1, 0.5]}
    )
    schema.validate_responses(ds)
    path = tmp_path_factory.mktemp("rt") / "p.nc"
    back = schema.open_responses(schema.to_netcdf(ds, path))
    xr.testing.assert_identical(ds, back)


def _set(ds, name, i, j, value):
    ds = ds.copy(deep=True)
    ds[name].values[i, j] = value
    return ds


def _drop_attr(ds, key):
    ds = ds.copy()
    ds.attrs = {k: v for k, v in ds.attrs.items() if k != key}
    return ds


def _empty_unit(ds, i):
    ds = ds.copy(deep=True)
    ds["reward"].values[i, :] = np.nan
    ds["response"].values[i, :] = np.nan
    return ds
