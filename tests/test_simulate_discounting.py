"""The delay task and the simulated cue responses that discount delay."""

import numpy as np
import pytest
import xarray as xr

import dopafit
from dopafit import schema
from dopafit.errors import ConfigError, DopafitError
from dopafit.simulate import DelayTask, get_delay_task


def _cue_means(ds: xr.Dataset) -> dict[int, np.ndarray]:
    """Mean response of each unit on the trials of each cue (plain numpy)."""
    resp, cue = ds["response"].values, ds["cue_id"].values
    out = {}
    for c in np.unique(cue[np.isfinite(cue)]).astype(int):
        mask = cue == c
        out[c] = np.array([resp[i][mask[i]].mean() for i in range(resp.shape[0])])
    return out


@pytest.mark.parametrize("kind", ["single", "multi", "hyperbolic"])
def test_mean_cue_response_follows_the_discount(kind):
    task = get_delay_task("delay-bimodal")
    ds = dopafit.simulate_discounting(task, kind, n_units=6, n_trials=6000, seed=3)
    b, a = ds["true_asymptote"].values, ds["true_amplitude"].values
    g, k = ds["true_gamma"].values, ds["true_hyperbolic_k"].values
    noise = ds["true_noise"].values
    for cue, mean in _cue_means(ds).items():
        delays, probs = task.cue_delays(cue)
        if kind == "hyperbolic":
            disc = (1.0 / (1.0 + k[:, None] * delays[None, :])) @ probs
        else:
            disc = (g[:, None] ** delays[None, :]) @ probs
        n_cue = (ds["cue_id"].values == cue).sum(axis=1)
        se = noise / np.sqrt(n_cue)
        assert np.all(np.abs(mean - (b + a * disc)) < 4.5 * se), (cue, mean, b + a * disc)


def test_population_kinds_and_truth():
    single = dopafit.simulate_discounting(population="single", gamma=0.7, seed=0)
    multi = dopafit.simulate_discounting(population="multi", gammas=(0.3, 0.9), seed=0)
    assert np.all(single["true_gamma"].values == 0.7)
    g = np.sort(multi["true_gamma"].values)
    # stratified: one gamma in each of 40 strata of (0.3, 0.9)
    strata = np.floor((g - 0.3) / 0.6 * 40).astype(int)
    assert strata.tolist() == list(range(40))
    assert np.isnan(multi["true_hyperbolic_k"].values).all()
    hyper = dopafit.simulate_discounting(population="hyperbolic", seed=0)
    assert np.isnan(hyper["true_gamma"].values).all()
    assert set(hyper["true_discount"].values) == {"hyperbolic"}
    # paired designs: same trials, amplitudes and noise whatever the kind
    for name in ("true_amplitude", "true_asymptote", "true_noise"):
        np.testing.assert_array_equal(single[name].values, multi[name].values)
    np.testing.assert_array_equal(single["delay"].values, hyper["delay"].values)


def test_layout_attrs_and_reproducibility():
    ds = dopafit.simulate_discounting(n_units=5, n_trials=[50, 60, 70, 80, 90], seed=2)
    assert schema.validate_responses(ds) is ds
    assert ds.sizes["trial"] == 90
    assert np.isfinite(ds["delay"].values).sum(axis=1).tolist() == [50, 60, 70, 80, 90]
    assert ds.attrs["align"] == "cue_time" and ds.attrs["delay_units"] == "s"
    assert ds.attrs["task_spec"]["delays"] == [0.5, 1.5, 3.0, 6.0]
    times = ds["event_time"].values[0, :50]
    assert np.all(np.diff(times) > ds["delay"].values[0, :49])  # next cue after the reward
    again = dopafit.simulate_discounting(n_units=5, n_trials=[50, 60, 70, 80, 90], seed=2)
    xr.testing.assert_identical(ds, again)
    other = dopafit.simulate_discounting(n_units=5, n_trials=[50, 60, 70, 80, 90], seed=3)
    assert not np.allclose(np.nan_to_num(ds["response"].values), np.nan_to_num(other["response"]))


def test_reward_responses_of_the_same_units():
    task = DelayTask(magnitudes=[1.0, 2.0, 4.0, 8.0])
    cue = dopafit.simulate_discounting(task, n_units=30, seed=4, axes="aligned")
    reward = dopafit.simulate_discounting(task, n_units=30, seed=4, axes="aligned", align="reward")
    assert reward.attrs["align"] == "reward_time"
    np.testing.assert_array_equal(cue["reward"].values, reward["reward"].values)
    np.testing.assert_allclose(
        reward["event_time"].values, cue["event_time"].values + cue["delay"].values
    )
    rank = np.corrcoef(
        np.argsort(np.argsort(cue["true_tau"])), np.argsort(np.argsort(cue["true_gamma"]))
    )
    assert rank[0, 1] == pytest.approx(1.0)
    indep = dopafit.simulate_discounting(task, n_units=30, seed=4)
    assert abs(np.corrcoef(indep["true_tau"], indep["true_gamma"])[0, 1]) < 0.5
    # the reward response changes sign at the unit's reversal point
    z = reward["true_reversal_point"].values[:, None]
    r = reward["reward"].values
    fine = np.isfinite(r) & (np.abs(r - z) > 0.5)
    expected_sign = np.sign(r - z)[fine]
    noiseless = dopafit.simulate_discounting(
        task, n_units=30, seed=4, axes="aligned", align="reward", noise=0.0
    )
    # noise=0 is the cue noise; the reward noise comes from the magnitude population
    assert noiseless.attrs["align"] == "reward_time"
    assert np.mean(np.sign(reward["response"].values[fine]) == expected_sign) > 0.6


@pytest.mark.parametrize(
    "make",
    [
        lambda: DelayTask(delays=[1.0, -0.5]),
        lambda: DelayTask(delays=[1.0, 1.0]),
        lambda: DelayTask(delays=["a", 1.0]),
        lambda: DelayTask(mixtures={2: ((1.0, 6.0), (1, 1))}),
        lambda: DelayTask(mixtures={5: ((1.0, -6.0), (1, 1))}),
        lambda: get_delay_task("nope"),
        lambda: dopafit.simulate_discounting(population="nope"),
        lambda: dopafit.simulate_discounting(population="single", gamma=1.5),
        lambda: dopafit.simulate_discounting(align="reward"),  # one magnitude
        lambda: dopafit.simulate_discounting(n_trials=0),
        lambda: dopafit.simulate_discounting(amplitude=(5.0, 1.0)),
    ],
)
def test_bad_settings_are_named_errors(make):
    with pytest.raises(ConfigError) as err:
        make()
    assert isinstance(err.value, DopafitError)
    assert "expected" in str(err.value).lower() or str(err.value)


def test_mixture_cue_with_magnitudes_is_the_expectile_of_the_discounted_reward():
    from dopafit.simulate import expectile

    task = DelayTask(magnitudes=[1.0, 3.0, 9.0], mixtures={5: ((1.0, 6.0), (0.5, 0.5))})
    ds = dopafit.simulate_discounting(task, n_units=5, n_trials=20000, seed=5, noise=1.0)
    b, a = ds["true_asymptote"].values, ds["true_amplitude"].values
    g, tau = ds["true_gamma"].values, ds["true_tau"].values
    means = _cue_means(ds)
    n5 = (ds["cue_id"].values == 5).sum(axis=1)
    for i in range(5):
        # brute force from the definition: tau E[(X - e)+] = (1 - tau) E[(e - X)+]
        x = np.array([g[i] ** t * m for t in (1.0, 6.0) for m in (1.0, 3.0, 9.0)])
        w = np.full(6, 1 / 6)
        grid = np.linspace(x.min(), x.max(), 200001)
        gap = [
            abs(tau[i] * w @ np.maximum(x - e, 0) - (1 - tau[i]) * w @ np.maximum(e - x, 0))
            for e in grid[::100]
        ]
        e_mix = grid[::100][int(np.argmin(gap))]
        e_now = expectile([1.0, 3.0, 9.0], [1 / 3] * 3, tau[i])
        expected = b[i] + a[i] * e_mix / e_now
        assert abs(means[5][i] - expected) < 4.5 / np.sqrt(n5[i]) + a[i] * 1e-3
        # plain cues are unchanged: b + A gamma^d
        assert abs(means[2][i] - (b[i] + a[i] * g[i] ** 1.5)) < 4.5 / np.sqrt(n5[i])
    with pytest.raises(ConfigError, match="magnitudes > 0"):
        DelayTask(magnitudes=[0.0, 2.0])
