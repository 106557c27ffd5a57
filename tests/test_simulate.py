"""The simulator: exact expectiles, populations, trials, responses, spikes and learning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import optimize, stats

from dopafit import schema
from dopafit.errors import ConfigError
from dopafit.simulate import (
    Task,
    expectile,
    expectile_level,
    get_schedule,
    get_task,
    make_block_trials,
    make_population,
    make_trials,
    simulate_learning,
    simulate_responses,
    simulate_session,
    trial_type_codes,
)

DABNEY = get_task("dabney")
MAGS = np.asarray(DABNEY.magnitudes)
PROBS = np.asarray(DABNEY.probabilities)


# ---------------------------------------------------------------- tasks and expectiles
def test_dabney_task_matches_the_paper():
    assert DABNEY.magnitudes == (0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0)
    assert np.isclose(sum(DABNEY.probabilities), 1.0)
    assert round(DABNEY.mean, 2) == 5.21
    assert round(DABNEY.sd, 2) == 5.27
    assert DABNEY.cue_delay == 1.5 and DABNEY.reward_units == "ul"


def test_task_normalises_and_validates():
    task = Task([2.0, 0.0], [1, 3], name="t")
    assert task.magnitudes == (0.0, 2.0) and task.probabilities == (0.75, 0.25)
    assert task.mean == 0.5
    bad = [
        {"magnitudes": [1, 2], "probabilities": [1]},
        {"magnitudes": [1, 1], "probabilities": [1, 1]},
        {"magnitudes": [1, 2], "probabilities": [-1, 2]},
        {"magnitudes": [1, np.nan], "probabilities": [1, 1]},
        {"magnitudes": [1, 2], "probabilities": [1, 1], "cue_delay": 0},
        {"magnitudes": [1, 2], "probabilities": [1, 1], "cues": {0: ([1], [1])}},
    ]
    for kwargs in bad:
        with pytest.raises(ConfigError):
            Task(**kwargs)
    with pytest.raises(ConfigError):
        get_task("no_such_task")


def test_variable_probability_task():
    task = get_task("variable_probability")
    assert task.cue_ids == (1, 2, 3)
    for c, p in zip(task.cue_ids, (0.1, 0.5, 0.9)):
        mags, probs = task.distribution(c)
        assert mags.tolist() == [0.0, 5.0] and np.isclose(probs[1], p)
    assert get_task("variable_probability", magnitude=2.0).support.tolist() == [0.0, 2.0]


def _brute_expectile(v, p, tau):
    def g(e):
        return tau * np.sum(p * np.maximum(v - e, 0)) - (1 - tau) * np.sum(p * np.maximum(e - v, 0))

    if tau == 0:
        return v[p > 0].min()
    if tau == 1:
        return v[p > 0].max()
    return optimize.brentq(g, v.min() - 1, v.max() + 1, xtol=1e-14, rtol=1e-15, maxiter=500)


def test_expectile_matches_brute_force_root_finding():
    rng = np.random.default_rng(20240601)
    for _ in range(60):
        k = int(rng.integers(1, 12))
        v = rng.normal(0, 5, k) * rng.choice([1.0, 10.0])
        p = rng.dirichlet(np.ones(k))
        if k > 2:
            p[rng.integers(k)] = 0.0  # zero-probability points are ignored
        taus = np.concatenate([[0.0, 0.5, 1.0], rng.uniform(0, 1, 5)])
        got = expectile(v, p, taus)
        assert got.shape == taus.shape
        want = np.array([_brute_expectile(v, p / p.sum(), t) for t in taus])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * max(1.0, np.abs(v).max()))
        assert np.isclose(expectile(v, p, 0.5), np.dot(v, p / p.sum()), rtol=1e-13, atol=1e-13)
        assert np.all(np.diff(expectile(v, p, np.linspace(0, 1, 11))) >= -1e-12)


def test_expectile_handles_repeated_values_and_array_shapes():
    v, p = np.array([1.0, 1.0, 2.0, 5.0]), np.array([0.2, 0.3, 0.1, 0.4])
    merged = expectile([1.0, 2.0, 5.0], [0.5, 0.1, 0.4], [0.0, 0.3, 0.8, 1.0])
    np.testing.assert_allclose(expectile(v, p, [0.0, 0.3, 0.8, 1.0]), merged, atol=1e-12)
    assert expectile(v, p, np.full((2, 3), 0.5)).shape == (2, 3)
    assert isinstance(expectile(v, p, 0.5), float)


def test_expectile_of_bernoulli_has_closed_form():
    taus = np.linspace(0.01, 0.99, 25)
    for p in (0.1, 0.5, 0.9):
        want = taus * p / (taus * p + (1 - taus) * (1 - p))
        np.testing.assert_allclose(expectile([0.0, 1.0], [1 - p, p], taus), want, atol=1e-14)


def test_expectile_level_inverts_expectile():
    taus = np.linspace(0.02, 0.98, 49)
    e = expectile(MAGS, PROBS, taus)
    np.testing.assert_allclose(expectile_level(MAGS, PROBS, e), taus, atol=1e-12)
    with pytest.raises(ConfigError):
        expectile(MAGS, PROBS, 1.5)


# ---------------------------------------------------------------- populations
def _empirical_reversal(levels: np.ndarray, means: np.ndarray) -> float:
    """Where noise-free mean responses change sign, from a line through two same-side points."""
    up = np.nonzero(means > 0)[0]
    down = np.nonzero(means <= 0)[0]
    i, j = (up[0], up[1]) if up.size >= 2 else (down[-2], down[-1])
    slope = (means[j] - means[i]) / (levels[j] - levels[i])
    return levels[i] - means[i] / slope


def _mean_by_magnitude(ds: xr.Dataset) -> np.ndarray:
    out = np.full((ds.sizes["unit"], MAGS.size), np.nan)
    for k, m in enumerate(MAGS):
        out[:, k] = ds["response"].where(ds["reward"] == m).mean("trial").values
    return out


@pytest.mark.parametrize("utility", [None, np.sqrt])
def test_distributional_reversal_points_are_expectiles(utility):
    ds = simulate_responses(
        population="distributional", n_units=30, n_trials=300, seed=3, noise=0.0, utility=utility
    )
    levels = MAGS if utility is None else utility(MAGS)
    means = _mean_by_magnitude(ds)
    tau = ds["true_tau"].values
    want = expectile(levels, PROBS, tau)
    got = np.array([_empirical_reversal(levels, m) for m in means])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ds["true_reversal_point"].values, want, rtol=0, atol=1e-12)
    assert np.ptp(tau) > 0.5  # a spread of tau, not a degenerate population
    assert ds.attrs["reversal_point_space"] == ("reward" if utility is None else "utility")


def test_classical_units_share_one_reversal_point_at_the_mean():
    ds = simulate_responses(population="classical", n_units=20, n_trials=300, seed=4, noise=0.0)
    got = np.array([_empirical_reversal(MAGS, m) for m in _mean_by_magnitude(ds)])
    np.testing.assert_allclose(got, DABNEY.mean, atol=1e-6)
    np.testing.assert_allclose(ds["true_tau"].values, 0.5)


def test_bias_population_is_symmetric_with_diverse_reversal_points():
    pop = make_population("bias", 40, seed=5, tie_baseline=True)
    assert np.allclose(pop["alpha_pos"], pop["alpha_neg"]) and np.allclose(pop["tau"], 0.5)
    assert pop["reversal_point"].std() > 1.0
    rho = stats.spearmanr(pop["reversal_point"], pop["baseline_rate"]).statistic
    assert rho == pytest.approx(1.0)
    uni = make_population("bias", 40, seed=5, spread="uniform")
    assert uni["reversal_point"].between(MAGS.min(), MAGS.max()).all()


def test_sigmoid_truth_matches_its_responses():
    ds = simulate_responses(population="sigmoid", n_units=25, n_trials=400, seed=6, noise=0.0)
    means = _mean_by_magnitude(ds)
    z = ds["true_reversal_point"].values
    for i in range(ds.sizes["unit"]):
        below, above = MAGS < z[i], MAGS > z[i]
        assert np.all(means[i, below] < 0) and np.all(means[i, above] > 0)
        x = MAGS - z[i]
        a_pos = np.sum(PROBS * x * means[i] * above) / np.sum(PROBS * x * x * above)
        a_neg = np.sum(PROBS * x * means[i] * below) / np.sum(PROBS * x * x * below)
        assert a_pos == pytest.approx(ds["true_alpha_pos"].values[i], rel=1e-9)
        assert a_neg == pytest.approx(ds["true_alpha_neg"].values[i], rel=1e-9)
    thr = ds["true_sigmoid_threshold"].values
    assert thr.min() < MAGS[2] and thr.max() > MAGS[4]  # spread over the distribution


def test_population_options_and_errors():
    pop = make_population("distributional", 4, taus=[0.1, 0.3, 0.6, 0.9], gain=1.0, seed=0)
    np.testing.assert_allclose(pop["alpha_pos"], 2 * np.array([0.1, 0.3, 0.6, 0.9]))
    pop = make_population("distributional", 2, alpha_pos=[1.0, 3.0], alpha_neg=[3.0, 1.0])
    np.testing.assert_allclose(pop["tau"], [0.25, 0.75])
    np.testing.assert_allclose(pop["gain"], [2.0, 2.0])
    fixed = make_population("classical", 3, baseline=5.0, noise=(1.0, 2.0), seed=1)
    assert np.all(fixed["baseline_rate"] == 5.0) and fixed["noise"].between(1, 2).all()
    for kind, opts in [
        ("quantum", {}),
        ("classical", {"taus": [0.5]}),
        ("distributional", {"alpha_pos": [1.0]}),
        ("distributional", {"taus": [0.1, 1.2]}),
        ("bias", {"spread": "wide"}),
        ("classical", {"baseline": (5.0, 1.0)}),
    ]:
        with pytest.raises(ConfigError):
            make_population(kind, 2, **opts)
    with pytest.raises(ConfigError):
        make_population("classical", 2, utility=[1, 0, 2, 3, 4, 5, 6])  # not monotone


def test_same_seed_gives_paired_populations_across_kinds():
    a = make_population("classical", 10, seed=9)
    b = make_population("distributional", 10, seed=9)
    np.testing.assert_array_equal(a["baseline_rate"], b["baseline_rate"])
    np.testing.assert_array_equal(a["noise"], b["noise"])


# ---------------------------------------------------------------- trials
def test_make_trials_structure():
    trials = make_trials(DABNEY, 400, seed=2, cued_fraction=0.5)
    assert list(trials.columns) == list(schema_trial_columns())
    assert np.all(np.diff(trials["start_time"]) > 0)
    assert np.all(trials["stop_time"].to_numpy()[:-1] < trials["start_time"].to_numpy()[1:])
    cued = trials["cued"].to_numpy()
    np.testing.assert_allclose(
        trials.loc[cued, "reward_time"], trials.loc[cued, "cue_time"] + 1.5, atol=1e-12
    )
    assert trials.loc[~cued, "cue_time"].isna().all() and (trials.loc[~cued, "cue_id"] == 0).all()
    codes = trial_type_codes(DABNEY).set_index("trial_type")
    assert codes.index.tolist() == list(range(1, 15))
    np.testing.assert_array_equal(codes.loc[trials["trial_type"], "reward"], trials["reward"])
    np.testing.assert_array_equal(codes.loc[trials["trial_type"], "cue_id"], trials["cue_id"])
    assert trials["trial_type"].between(1, 7).eq(~trials["cued"]).all()


def schema_trial_columns():
    from dopafit.session import TRIAL_COLUMNS

    return TRIAL_COLUMNS


def test_make_trials_draws_the_task_distribution():
    trials = make_trials(DABNEY, 20000, seed=8, cued_fraction=0.3)
    counts = trials["reward"].value_counts().reindex(MAGS).to_numpy()
    assert stats.chisquare(counts, PROBS * counts.sum()).pvalue > 0.01
    assert stats.binomtest(int(trials["cued"].sum()), 20000, 0.3).pvalue > 0.01


# ---------------------------------------------------------------- responses
def test_responses_dataset_is_valid_ragged_and_round_trips(tmp_path):
    ds = simulate_responses(n_units=12, seed=1)
    schema.validate_responses(ds)
    counts = schema.trial_mask(ds).sum("trial").values
    assert counts.min() >= 200 and counts.max() <= 300 and len(set(counts)) > 1
    for name in schema.TRUTH_CORE:
        assert ds[name].dims == ("unit",) and np.all(np.isfinite(ds[name]))
    assert ds.attrs["task"] == "dabney" and ds.attrs["population"] == "distributional"
    assert ds.attrs["seed"] == 1
    back = schema.open_responses(schema.to_netcdf(ds, tmp_path / "r.nc"))
    np.testing.assert_array_equal(back["response"].values, ds["response"].values)
    assert back.attrs["task_spec"] == ds.attrs["task_spec"]


def test_response_noise_has_the_configured_sd():
    ds = simulate_responses(population="distributional", n_units=8, n_trials=3000, seed=12)
    clean = simulate_responses(
        population="distributional", n_units=8, n_trials=3000, seed=12, noise=0.0
    )
    resid = (ds["response"] - clean["response"]).values
    sd = ds["true_noise"].values
    for i in range(8):  # chi-square interval for the variance, alpha 0.01
        n = resid.shape[1]
        stat = np.sum(resid[i] ** 2) / sd[i] ** 2
        assert stats.chi2.ppf(0.005, n) < stat < stats.chi2.ppf(0.995, n)


def test_population_table_can_be_reused():
    pop = make_population("distributional", 6, seed=3)
    ds = simulate_responses(population=pop, n_trials=50, seed=4)
    np.testing.assert_allclose(ds["true_reversal_point"], pop["reversal_point"])
    assert list(ds["unit_id"].values) == list(pop["unit_id"])
    with pytest.raises(ConfigError):
        simulate_responses(population=pop, n_trials=50, noise=0.0)


def test_variable_probability_context_reversal_points():
    ds = simulate_responses(
        "variable_probability", "distributional", 10, 200, seed=2, cued_fraction=1.0, noise=0.0
    )
    tau = ds["true_tau"].values
    for c, p in ((1, 0.1), (2, 0.5), (3, 0.9)):
        want = 5.0 * tau * p / (tau * p + (1 - tau) * (1 - p))
        got = ds[f"true_reversal_point_cue{c}"].values
        np.testing.assert_allclose(got, want, atol=1e-12)
    assert "true_reversal_point_cue1" not in simulate_responses(n_units=2, n_trials=5)
    omitted = (ds["reward"] == 0.0).values
    assert omitted.any() and np.all(ds["response"].values[omitted] < 0)


def test_same_seed_same_data_different_seed_different():
    a = simulate_responses(n_units=5, seed=21)
    xr.testing.assert_identical(a, simulate_responses(n_units=5, seed=21))
    b = simulate_responses(n_units=5, seed=22)
    assert not np.array_equal(a["true_tau"].values, b["true_tau"].values)
    s1 = simulate_session(n_units=3, n_trials=20, seed=5)
    s2 = simulate_session(n_units=3, n_trials=20, seed=5)
    s3 = simulate_session(n_units=3, n_trials=20, seed=6)
    for x, y in zip(s1.spike_times, s2.spike_times):
        np.testing.assert_array_equal(x, y)
    pd.testing.assert_frame_equal(s1.trials, s2.trials)
    pd.testing.assert_frame_equal(s1.units, s2.units)
    assert s1.attrs == s2.attrs
    assert not np.array_equal(s1.spike_times[0], s3.spike_times[0])
    l1 = simulate_learning(n_units=3, n_trials=100, seed=7)
    xr.testing.assert_identical(l1, simulate_learning(n_units=3, n_trials=100, seed=7))


# ---------------------------------------------------------------- kernels vs numpy
def test_rescaled_to_times_matches_numpy_reference():
    from dopafit.kernels.simulate import rescaled_to_times

    rng = np.random.default_rng(31)
    for _ in range(30):
        k = int(rng.integers(1, 40))
        edges = np.concatenate([[0.0], np.cumsum(rng.exponential(1.0, k))])
        rates = rng.exponential(5.0, k) * (rng.random(k) > 0.3)  # some zero-rate segments
        cum = np.concatenate([[0.0], np.cumsum(rates * np.diff(edges))])
        if cum[-1] == 0:
            continue
        pts = np.sort(rng.uniform(0, cum[-1], int(rng.integers(0, 500))))
        got = rescaled_to_times(pts, edges, cum)
        seg = np.clip(np.searchsorted(cum, pts, side="right") - 1, 0, k - 1)
        want = edges[seg] + (pts - cum[seg]) / (cum[seg + 1] - cum[seg]) * np.diff(edges)[seg]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        assert np.all(np.diff(got) >= 0)
        assert np.all(rates[np.clip(np.searchsorted(edges, got, side="right") - 1, 0, k - 1)] > 0)


# ---------------------------------------------------------------- spike trains
def _window_counts(st, starts, stops):
    return np.searchsorted(st, stops) - np.searchsorted(st, starts)


def test_spike_trains_reproduce_the_configured_responses():
    """Per unit and magnitude: mean spike-count response vs the configured f_i(r).

    z-scores use the Poisson variance of the two counts; over all cells the sum of z^2 must
    pass a chi-square test and the z's a KS test against N(0, 1), both at alpha 0.01.
    """
    session = simulate_session(n_units=20, n_trials=300, seed=11, cue_scale=0.5)
    trials, units = session.trials, session.units
    reward_t = trials["reward_time"].to_numpy()
    cued = trials["cued"].to_numpy()
    first = np.where(cued, trials["cue_time"].to_numpy(), reward_t)
    reward = trials["reward"].to_numpy()
    w0, w1 = 0.2, 0.6
    zs = []
    for i, st in enumerate(session.spike_times):
        u = units.iloc[i]
        b, z = u["true_baseline"], u["true_reversal_point"]
        d = reward - z
        f = np.where(d > 0, u["true_alpha_pos"] * d, u["true_alpha_neg"] * d)
        lam = np.maximum(b + f, 0.0)  # the documented clipping at 0
        resp = _window_counts(st, reward_t + w0, reward_t + w1) / (w1 - w0)
        resp -= _window_counts(st, first - 1.0, first)
        var = lam / (w1 - w0) + b
        for m in MAGS:
            sel = reward == m
            n = sel.sum()
            zs.append((resp[sel].mean() - (lam[sel] - b).mean()) / np.sqrt(var[sel].mean() / n))
        # cue responses: scale * alpha_pos * (z - 0) in the window after odour onset
        c = cued
        lam_c = max(b + 0.5 * u["true_alpha_pos"] * z, 0.0)
        cue_resp = _window_counts(st, first[c] + w0, first[c] + w1) / (w1 - w0)
        cue_resp -= _window_counts(st, first[c] - 1.0, first[c])
        zs.append((cue_resp.mean() - (lam_c - b)) / np.sqrt((lam_c / (w1 - w0) + b) / c.sum()))
    zs = np.asarray(zs)
    assert stats.chi2.sf(np.sum(zs**2), zs.size) > 0.01
    assert stats.kstest(zs, "norm").pvalue > 0.01
    assert session.attrs["rate_clip_fraction"] < 0.02


def test_baseline_rate_is_the_configured_one():
    session = simulate_session(n_units=10, n_trials=200, seed=13)
    first = np.where(
        session.trials["cued"], session.trials["cue_time"], session.trials["reward_time"]
    ).astype(float)
    total_time = 1.0 * first.size
    for st, b in zip(session.spike_times, session.units["true_baseline"]):
        count = _window_counts(st, first - 1.0, first).sum()
        assert stats.poisson.cdf(count, b * total_time) > 0.0005
        assert stats.poisson.sf(count - 1, b * total_time) > 0.0005


def test_session_records_truth_and_settings():
    session = simulate_session(population="sigmoid", n_units=4, n_trials=30, seed=1, clock=1000.0)
    sigmoid = [n for n in schema.TRUTH_VARS if n.startswith("true_sigmoid")]
    for name in (*schema.TRUTH_CORE, *sigmoid):
        assert name in session.units
    assert session.attrs["population"] == "sigmoid" and session.attrs["window"] == [0.2, 0.6]
    for st in session.spike_times:
        np.testing.assert_allclose(st * 1000.0, np.round(st * 1000.0), atol=1e-6)
    vp = simulate_session("variable_probability", n_units=3, n_trials=30, seed=1)
    assert {"true_reversal_point_cue1", "true_reversal_point_cue3"} <= set(vp.units.columns)


# ---------------------------------------------------------------- learning
def test_learning_converges_to_the_expectile():
    n_units, n_trials, burn = 16, 40000, 20000
    ds = simulate_learning(
        population="distributional",
        n_units=n_units,
        n_trials=n_trials,
        seed=17,
        cued_fraction=0.0,
        learning_rate=0.02,
        tau_range=(0.2, 0.8),
        noise=0.0,
    )
    lp, ln = ds["true_eta_pos"].values, ds["true_eta_neg"].values
    target = expectile(MAGS, PROBS, lp / (lp + ln))
    np.testing.assert_allclose(ds["true_reversal_point"].values, target, atol=1e-12)
    late = ds["true_value"].values[:, burn:]
    batches = late.reshape(n_units, 20, -1).mean(axis=2)  # batch means (20 x 1000 trials)
    t = (batches.mean(1) - target) / (batches.std(1, ddof=1) / np.sqrt(20))
    p = 2 * stats.t.sf(np.abs(t), df=19)
    assert p.min() > 0.01 / n_units  # Bonferroni at alpha 0.01
    early = ds["true_value"].values[:, 0]
    assert np.all(np.abs(early - target) > 1.0)  # it did start away from the target
    # noise-free responses are the scaled prediction errors
    delta = ds["reward"].values - ds["true_value"].values
    a_pos, a_neg = ds["true_alpha_pos"].values[:, None], ds["true_alpha_neg"].values[:, None]
    np.testing.assert_allclose(
        ds["response"].values, np.where(delta > 0, a_pos * delta, a_neg * delta), atol=1e-12
    )


def test_block_trials_alternate_the_schedule():
    trials = make_block_trials("flip", 1000, block_trials=100, cued_fraction=0.5, seed=3)
    assert len(trials) == 1000
    np.testing.assert_array_equal(trials["block"], np.repeat(np.arange(10), 100))
    assert trials.groupby("block")["block_task"].first().tolist() == ["rich", "lean"] * 5
    assert np.all(np.diff(trials["start_time"]) > 0)  # one chronological session
    assert np.all(trials["start_time"].to_numpy()[1:] >= trials["stop_time"].to_numpy()[:-1])
    # each block's rewards follow its task: the rich blocks' mean is the rich mean
    rich, lean = get_schedule("flip")
    for task, sel in ((rich, trials.block % 2 == 0), (lean, trials.block % 2 == 1)):
        r = trials.loc[sel, "reward"].to_numpy()
        assert abs(r.mean() - task.mean) < 4 * task.sd / np.sqrt(r.size)
    with pytest.raises(ConfigError, match="same magnitudes"):
        get_schedule(["dabney", "variable_probability"])
    with pytest.raises(ConfigError):
        make_block_trials("flip", 10, block_trials=0)


def test_learning_on_a_schedule_records_blocks_and_truth():
    ds = simulate_learning("flip", n_units=3, n_trials=250, seed=2, scaling="asymmetric")
    assert ds.attrs["schedule"] == ["rich", "lean"] and ds.attrs["block_trials"] == 100
    np.testing.assert_array_equal(
        ds["block"].values[:, :250], np.repeat([0, 1, 2], [100, 100, 50])[None].repeat(3, 0)
    )
    lp, ln = ds["true_eta_pos"].values, ds["true_eta_neg"].values
    np.testing.assert_allclose(ds["true_tau_learning"], lp / (lp + ln))
    ap, an = ds["true_alpha_pos"].values, ds["true_alpha_neg"].values
    np.testing.assert_allclose(ds["true_tau_scaling"], ap / (ap + an))
    cued = ds["cued"].values & np.isfinite(ds["reward"].values)
    np.testing.assert_array_equal(ds["cue_id"].values[cued], 1)
    np.testing.assert_array_equal(ds["cue_id"].values[~cued], 0)
    # the values follow the block: high in rich blocks, low in lean ones (late in a block)
    v = ds["true_value"].values
    assert np.nanmean(v[:, 70:100]) > np.nanmean(v[:, 170:200]) + 2.0


def test_learning_kinds_and_errors():
    cl = simulate_learning(population="classical", n_units=4, n_trials=50, seed=1)
    assert np.ptp(cl["true_eta_pos"].values) == 0  # one shared learning rate
    np.testing.assert_allclose(cl["true_tau"], 0.5)
    bias = simulate_learning(population="bias", n_units=4, n_trials=50, seed=1)
    np.testing.assert_allclose(bias["true_alpha_pos"], bias["true_alpha_neg"])
    assert bias.attrs["scaling"] == "symmetric"
    with pytest.raises(ConfigError):
        simulate_learning(population="sigmoid", n_units=2, n_trials=10)
    with pytest.raises(ConfigError):
        simulate_learning(n_units=2, n_trials=10, learning_rate=0.9, taus=[0.9, 0.9])


# ---------------------------------------------------------------- malformed inputs
@pytest.mark.parametrize(
    ("kind", "options", "match"),
    [
        ("classical", {"response_range": "x"}, "response_range as a number"),
        ("classical", {"baseline": "abc"}, "baseline as a number"),
        ("classical", {"baseline": ("a", "b")}, "baseline as numbers"),
        ("distributional", {"tau_range": (0.5,)}, "tau_range as"),
        ("distributional", {"tau_range": (0.1, 0.5, 0.9)}, "tau_range as"),
        ("distributional", {"alpha_pos": "a", "alpha_neg": 1.0}, "alpha_pos as a number"),
        ("sigmoid", {"level_range": (0.5,)}, "levels as"),
        ("sigmoid", {"slope_scale": "x"}, "slope_scale as a number"),
    ],
)
def test_population_options_that_are_not_numbers_raise_config_errors(kind, options, match):
    with pytest.raises(ConfigError, match=match):
        make_population(kind, 3, seed=0, **options)


def test_population_size_must_be_an_integer():
    for bad in ("a", None, 2.5, 0, True):  # 2.5 was once truncated to 2 units
        with pytest.raises(ConfigError, match=r"expected n_units as an integer >= 1; found"):
            make_population("classical", bad)
    assert len(make_population("classical", 3.0, seed=0)) == 3


def test_session_clock_must_be_a_positive_number():
    for bad in (-1000.0, 0, float("nan"), "fast"):
        with pytest.raises(ConfigError, match=r"clock"):
            simulate_session(n_units=2, n_trials=10, seed=1, clock=bad)


def test_session_inputs_that_are_malformed_raise_config_errors():
    with pytest.raises(ConfigError, match="window"):
        simulate_session(n_units=2, n_trials=5, window=("a", 1.0))
    with pytest.raises(ConfigError, match="window"):
        simulate_session(n_units=2, n_trials=5, window=(0.1, 0.2, 0.3))
    for name in ("burst", "cue_scale", "uncued_offset"):
        with pytest.raises(ConfigError, match="as a number"):
            simulate_session(n_units=2, n_trials=5, **{name: "x"})
    with pytest.raises(ConfigError, match="DataFrame"):
        simulate_session(n_units=2, trials={"reward": [1.0]})
    trials = make_trials("dabney", 5, seed=0)
    with pytest.raises(ConfigError, match="finite stop_time"):
        simulate_session(n_units=2, trials=trials.assign(stop_time=np.nan))


def test_session_with_no_trials_has_no_spikes_beyond_its_end():
    trials = make_trials("dabney", 5, seed=0).iloc[:0]
    session = simulate_session(n_units=2, trials=trials, seed=1)
    assert session.n_trials == 0 and session.attrs["rate_clip_fraction"] == 0.0
    assert all(np.all((s >= 0) & (s <= 1.0)) for s in session.spike_times)


def test_learning_rates_of_the_wrong_shape_or_type_raise_config_errors():
    with pytest.raises(ConfigError, match="lr_pos: a number or one value per unit"):
        simulate_learning(n_units=3, n_trials=10, lr_pos=[0.1, 0.2], lr_neg=0.1)
    with pytest.raises(ConfigError, match="lr_pos as numbers"):
        simulate_learning(n_units=3, n_trials=10, lr_pos="a", lr_neg=0.1)
    with pytest.raises(ConfigError, match="learning_rate as a"):
        simulate_learning(n_units=3, n_trials=10, learning_rate=(0.1, 0.2, 0.3))
    with pytest.raises(ConfigError, match="learning_rate: a number or one value per unit"):
        simulate_learning(n_units=3, n_trials=10, learning_rate=[0.1, 0.2])
    with pytest.raises(ConfigError, match="learning_rate as numbers"):
        simulate_learning(n_units=3, n_trials=10, learning_rate="x")


def test_trial_counts_that_are_not_numbers_raise_config_errors():
    with pytest.raises(ConfigError, match="n_trials as a number"):
        simulate_responses(n_units=2, n_trials="many")
    with pytest.raises(ConfigError, match="n_trials as numbers"):
        simulate_responses(n_units=2, n_trials=["a", "b"])
    counts = simulate_responses(n_units=2, n_trials=[5, 7], seed=0)["response"].count("trial")
    assert counts.values.tolist() == [5, 7]
