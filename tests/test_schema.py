"""The responses data model: construction, validation errors, netCDF round trip."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dopafit import schema
from dopafit.errors import DopafitError, ResponsesError


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
        (lambda ds: ds.drop_vars("cued"), "missing coordinate 'cued'"),
        (lambda ds: ds.drop_vars("session"), "missing coordinate 'session'"),
        (lambda ds: ds.drop_vars("response"), "missing data variable 'response'"),
        (lambda ds: ds.transpose("trial", "unit"), "has dims ('trial', 'unit')"),
        (lambda ds: _drop_attr(ds, "window"), "attr 'window'"),
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
        schema.validate_responses(bad)
    err = info.value
    assert len(err.problems) == 3
    assert "3 problem(s)" in str(err)
    assert "Fix:" in str(err)


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
    ds = schema.make_responses(response, reward, attrs={"seed": seed, "window": [0.1, 0.5]})
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
