"""The compare kernels against plain-python/numpy references and the fitter's own kernels."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from dopafit.fit.axes import prepare
from dopafit.kernels import compare as ck
from dopafit.kernels import expectile as kern
from dopafit.simulate import expectile, simulate_responses
from dopafit.stats import statistics as st
from dopafit.stats.accounts import expectile_grid
from tests._compare import ref_simulate, ref_split_extras


@pytest.fixture(scope="module")
def dataset():
    ds = simulate_responses(
        population="distributional", n_units=12, n_trials=120, seed=4, uncued_offset=-2.0
    )
    # two subjects, one unit of unknown subject
    subj = np.array(["a"] * 6 + ["b"] * 5 + ["unknown"], dtype=object)
    return ds.assign_coords(subject=("unit", subj))


@pytest.mark.parametrize("residual", [False, True])
def test_simulate_rows_matches_python_stream(residual):
    rng = np.random.default_rng(0)
    n = 25
    mean = rng.normal(size=n)
    scale = rng.uniform(0.5, 2, n)
    pool = rng.normal(size=40)
    pool_start = rng.integers(0, 20, n).astype(np.int64)
    pool_len = rng.integers(0, 20, n).astype(np.int64)  # some 0: Gaussian fallback
    seeds = np.array([3, 2**63 + 5], dtype=np.uint64)
    mode = ck.NOISE_RESIDUAL if residual else ck.NOISE_GAUSSIAN
    got = ck.simulate_rows(mean, scale, pool, pool_start, pool_len, mode, seeds)
    want = ref_simulate(mean, scale, pool, pool_start, pool_len, residual, seeds)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_standard_normal_moments():
    mean = np.zeros(20000)
    out = ck.simulate_rows(
        mean,
        np.ones_like(mean),
        np.zeros(1),
        np.zeros(20000, np.int64),
        np.zeros(20000, np.int64),
        ck.NOISE_GAUSSIAN,
        np.array([11], dtype=np.uint64),
    )[0]
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03
    assert stats.kstest(out, "norm").pvalue > 0.001


@pytest.mark.parametrize("axis", ["utility", "reward", "zscore"])
def test_prepare_rows_matches_fitter(dataset, axis):
    layout = st.build_layout(dataset, axis=axis)
    prep = prepare(dataset, axis=axis)
    vals, ax, off = st.prepare_raw(layout, layout.raw[None, :])
    np.testing.assert_allclose(vals[0], prep.vals, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ax[0], prep.axis, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(off[0], prep.offset)
    # shifting every uncued response is undone by the pooling (utility and reward axes)
    if axis != "zscore":
        shifted = layout.raw + 3.0 * (~layout.cued)
        v2, _, _ = st.prepare_raw(layout, shifted[None, :])
        np.testing.assert_allclose(v2[0], prep.vals, atol=1e-9)


def test_fit_rows_matches_fit_units(dataset):
    layout = st.build_layout(dataset)
    prep = layout.prep
    z, tau, edge, status, rvar = ck.fit_rows(
        prep.vals[None, :], prep.start, prep.cnt, prep.axis[None, :], kern.METHOD_COUNT, 0.01, 0.1
    )
    z0, _, _, tau0, edge0, status0 = kern.fit_units(
        prep.vals, prep.start, prep.cnt, prep.axis, prep.order, kern.METHOD_COUNT, 0.01, 0.1
    )
    np.testing.assert_array_equal(z[0], z0)
    np.testing.assert_array_equal(tau[0], tau0)
    np.testing.assert_array_equal(edge[0], edge0)
    np.testing.assert_array_equal(status[0], status0)
    # pooled within-magnitude variance, numpy
    for u in range(prep.cnt.shape[0]):
        cells = [prep.vals[prep.start[u, m] : prep.start[u, m] + prep.cnt[u, m]] for m in range(7)]
        ss = sum(((c - c.mean()) ** 2).sum() for c in cells if c.size > 1)
        df = sum(c.size - 1 for c in cells if c.size > 1)
        assert rvar[0, u] == pytest.approx(ss / df, rel=1e-10)


@pytest.mark.parametrize("method", [kern.METHOD_COUNT, kern.METHOD_KINK])
def test_split_rows_reproduces_split_half(dataset, method):
    layout = st.build_layout(dataset)
    prep = layout.prep
    z_full = kern.fit_units(
        prep.vals, prep.start, prep.cnt, prep.axis, prep.order, method, 0.01, 0.1
    )[0]
    seeds = np.random.SeedSequence(9).generate_state(6, dtype=np.uint64)
    ref = kern.split_half(
        prep.vals, prep.start, prep.cnt, prep.axis, prep.order, method, 0.01, 0.1, z_full, seeds, 7
    )
    w = np.ones((1, prep.cnt.shape[0]))
    out = ck.split_rows(
        prep.vals[None, :],
        prep.start,
        prep.cnt,
        prep.axis[None, :],
        method,
        0.01,
        0.1,
        z_full[None, :],
        seeds[None, :],
        7,
        layout.probs,
        w,
    )
    for got, want in ((out[0], ref[0]), (out[1], ref[1]), (out[2], ref[4]), (out[3], ref[7])):
        if method == kern.METHOD_COUNT:
            np.testing.assert_array_equal(got[0], want)
        else:  # the kink search's floating point may be contracted differently when inlined
            np.testing.assert_allclose(got[0], want, rtol=1e-8, atol=1e-8)


def test_split_extras_match_numpy_reference(dataset):
    layout = st.build_layout(dataset)
    prep = layout.prep
    z_full = kern.fit_units(prep.vals, prep.start, prep.cnt, prep.axis, prep.order, 0, 0.01, 0.1)[0]
    seeds = np.random.SeedSequence(2).generate_state(4, dtype=np.uint64)
    rng = np.random.default_rng(1)
    weight = rng.uniform(0.01, 0.1, prep.cnt.shape[0])
    weight[3] = 0.0  # left out of the asymmetry statistic
    z_a, _, tau_b, _, sign, llr, mis = ck.split_rows(
        prep.vals[None, :],
        prep.start,
        prep.cnt,
        prep.axis[None, :],
        0,
        0.01,
        0.1,
        z_full[None, :],
        seeds[None, :],
        7,
        layout.probs,
        weight[None, :],
    )
    for k, seed in enumerate(seeds):
        perm = kern.draw_permutations(prep.cnt, seed, 7)
        want = ref_split_extras(
            prep.vals,
            prep.start,
            prep.cnt,
            prep.axis,
            perm,
            z_a[0, k],
            tau_b[0, k],
            layout.probs,
            weight,
        )
        assert sign[0, k] == pytest.approx(want[0], abs=1e-12)
        assert llr[0, k] == pytest.approx(want[1], rel=1e-9)
        assert mis[0, k] == pytest.approx(want[2], rel=1e-9)


def test_discrete_expectile_matches_simulator():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(2, 9))
        values = np.sort(rng.normal(0, 3, n))
        probs = rng.dirichlet(np.ones(n))
        taus = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 8)])
        order = np.argsort(values).astype(np.int64)
        want = np.array([expectile(values, probs, t) for t in taus])
        got = np.array([ck.discrete_expectile(values, probs, order, t) for t in taus])
        np.testing.assert_allclose(got, want, atol=1e-9)
        np.testing.assert_allclose(expectile_grid(values, probs, taus), want, atol=1e-9)
        # unsorted support gives the same
        shuffle = rng.permutation(n)
        got2 = [
            ck.discrete_expectile(values[shuffle], probs[shuffle], np.argsort(values[shuffle]), t)
            for t in taus
        ]
        np.testing.assert_allclose(got2, want, atol=1e-9)


def test_opposite_sign_rows_matches_scipy(dataset):
    layout = st.build_layout(dataset)
    prep = layout.prep
    t_crit = stats.t.ppf(0.975, np.maximum(np.arange(prep.cnt.max() + 2), 1))
    got = ck.opposite_sign_rows(
        prep.vals[None, :], prep.start, prep.cnt, layout.subject_idx, len(layout.subjects), t_crit
    )[0]
    sign = np.zeros(prep.cnt.shape)
    for u in range(prep.cnt.shape[0]):
        for m in range(prep.cnt.shape[1]):
            cell = prep.vals[prep.start[u, m] : prep.start[u, m] + prep.cnt[u, m]]
            if cell.size >= 2:
                res = stats.ttest_1samp(cell, 0.0)
                if res.pvalue < 0.05:
                    sign[u, m] = np.sign(res.statistic)
    want = 0
    for g in range(len(layout.subjects)):
        members = layout.subject_idx == g
        want += int(((sign[members] > 0).sum(axis=0) * (sign[members] < 0).sum(axis=0)).sum())
    assert got == want
    assert layout.subjects == ["a", "b"] and layout.subject_idx[-1] == -1


def test_pipeline_is_thread_invariant(dataset):
    layout = st.build_layout(dataset)
    raw = np.repeat(layout.raw[None, :], 3, axis=0) + np.arange(3)[:, None] * 0.1
    seeds = np.random.SeedSequence(0).generate_state(3 * 5, dtype=np.uint64).reshape(3, 5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = st.run_pipeline(layout, raw, seeds).stats
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = st.run_pipeline(layout, raw, seeds).stats
    finally:
        numba.set_num_threads(before)
    for name in one:
        np.testing.assert_array_equal(one[name], many[name])
