"""Response-extraction kernels against plain-numpy references on random inputs."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from dopafit.kernels import extract as K


def _ragged(rng, n_unit, t_max, rate_range=(0.0, 20.0), exact_ms=False):
    trains = []
    for _ in range(n_unit):
        n = rng.poisson(rng.uniform(*rate_range) * t_max)
        s = np.sort(rng.uniform(0, t_max, n))
        if exact_ms:  # times on a 0.05-ms grid, like the Uchida-lab files, in seconds
            s = np.round(s * 20000.0) / 20000.0
        trains.append(s)
    offsets = np.concatenate([[0], np.cumsum([t.size for t in trains])]).astype(np.int64)
    spikes = np.concatenate(trains) if trains else np.zeros(0)
    return trains, spikes, offsets


def _ref_counts(trains, starts, stops):
    return np.array(
        [np.searchsorted(s, stops, "left") - np.searchsorted(s, starts, "left") for s in trains]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_counts_matches_searchsorted(seed):
    rng = np.random.default_rng(seed)
    trains, spikes, offsets = _ragged(rng, 7, 100.0)
    trains.append(np.zeros(0))  # a unit without spikes
    offsets = np.append(offsets, offsets[-1])
    n_win = 300
    starts = rng.uniform(-5, 105, n_win)
    stops = starts + rng.uniform(0, 3, n_win)
    # put some edges exactly on spikes to exercise the half-open convention
    starts[:20] = trains[0][:20] if trains[0].size >= 20 else starts[:20]
    edges = np.concatenate([starts, stops])
    order = np.argsort(edges, kind="stable").astype(np.int64)
    idx = np.arange(n_win, dtype=np.int64)
    half = n_win // 2  # two kinds of window, as the extraction uses them
    lo = np.stack([idx[:half], idx[half:]])
    hi = lo + n_win
    got, n_bad = K.window_counts(spikes, offsets, edges, order, lo, hi)
    ref = _ref_counts(trains, starts, stops)
    np.testing.assert_array_equal(got[0], ref[:, :half])
    np.testing.assert_array_equal(got[1], ref[:, half:])
    assert not n_bad.any()


@pytest.mark.parametrize("seed", [3, 4])
def test_window_counts_dense_trains_and_tails(seed):
    # rates high enough that many edges are more than one compared block apart, windows at
    # the very start and end of each train, and trains shorter than one block
    rng = np.random.default_rng(seed)
    trains, spikes, offsets = _ragged(rng, 6, 20.0, (0.1, 400.0))
    trains.append(np.array([3.0, 4.0, 5.0]))
    spikes = np.concatenate([spikes, trains[-1]])
    offsets = np.append(offsets, offsets[-1] + 3)
    n_win = 401
    starts = np.concatenate([[-1.0, 19.9], rng.uniform(-1, 21, n_win - 2)])
    stops = starts + rng.exponential(1.0, n_win)
    edges = np.concatenate([starts, stops])
    order = np.argsort(edges, kind="stable").astype(np.int64)
    idx = np.arange(n_win, dtype=np.int64)[None, :]
    got, n_bad = K.window_counts(spikes, offsets, edges, order, idx, idx + n_win)
    np.testing.assert_array_equal(got[0], _ref_counts(trains, starts, stops))
    assert not n_bad.any()


def test_window_counts_flags_nan_and_unsorted_units():
    spikes = np.array([1.0, 2.0, np.nan, 3.0, 5.0, 4.0, 6.0, 0.5, np.nan, 1.0, 2.0, 3.0])
    offsets = np.array([0, 4, 8, 9, 12], dtype=np.int64)
    edges = np.array([0.0, 10.0])
    idx = np.array([[0]], dtype=np.int64)
    _, n_bad = K.window_counts(spikes, offsets, edges, np.array([0, 1]), idx, idx + 1)
    assert (n_bad > 0).tolist() == [True, True, True, False]


def _kernel_from_formula(length: int = 51, tau_decay_ms: float = 20.0) -> np.ndarray:
    """The smoothing kernel of the original analysis, written out: 1-ms taps t = 0..50,
    k(t) = (1 - exp(-t)) exp(-t / 20 ms), normalised to sum 1."""
    k = np.array([(1.0 - math.exp(-t)) * math.exp(-t / tau_decay_ms) for t in range(length)])
    return k / k.sum()


FORMULA_KERNEL = _kernel_from_formula()


def test_faithful_kernel_is_the_20ms_decay_formula():
    np.testing.assert_allclose(K.faithful_kernel(), FORMULA_KERNEL, rtol=1e-13, atol=0)
    # the 20-ms decay: far from the rise, successive taps shrink by exp(-1/20)
    k = K.faithful_kernel()
    np.testing.assert_allclose(k[21:] / k[20:-1], math.exp(-1 / 20), rtol=1e-7)
    assert k[0] == 0.0 and k.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(K.faithful_kernel(31, 5.0), _kernel_from_formula(31, 5.0))


def _ref_faithful(train, anchor, win_start, win_len, base_start, base_len, lo, hi, k):
    """Dense reference: histogram, causal convolution, baseline, 'same' convolution."""
    n_bin = int(hi - lo) + 1
    rel = (train - anchor) * 1000.0
    rel = np.round(rel, 6)
    rel = rel[(rel > lo) & (rel < hi)]
    b = (np.sign(rel) * np.floor(np.abs(rel) + 0.5) - lo).astype(int)
    h = np.bincount(b, minlength=n_bin).astype(float)
    x = np.convolve(h, k)[:n_bin] * 1000.0
    base = x[base_start : base_start + base_len].mean()
    y = np.convolve(x - base, k, mode="same")
    return y[win_start : win_start + win_len].mean(), base, y


@pytest.mark.parametrize("seed", [0, 1])
def test_faithful_responses_match_dense_reference(seed):
    rng = np.random.default_rng(seed)
    trains, spikes, offsets = _ragged(rng, 4, 60.0, (2.0, 40.0), exact_ms=True)
    n_trial = 25
    anchor = np.round(rng.uniform(2, 55, n_trial) * 20000.0) / 20000.0
    k = FORMULA_KERNEL
    lo, hi = -1000.0, 3000.0
    win_start = np.where(rng.random(n_trial) < 0.5, 1200, 2700).astype(np.int64)
    resp, base = K.faithful_responses(spikes, offsets, anchor, win_start, 400, 0, 1000, lo, hi, k)
    for u, train in enumerate(trains):
        for t in range(n_trial):
            r, b, _ = _ref_faithful(train, anchor[t], win_start[t], 400, 0, 1000, lo, hi, k)
            assert resp[u, t] == pytest.approx(r, abs=1e-9)
            assert base[u, t] == pytest.approx(b, abs=1e-9)


def test_faithful_traces_average_the_dense_trace():
    rng = np.random.default_rng(3)
    trains, spikes, offsets = _ragged(rng, 2, 30.0, (5.0, 30.0))
    anchor = np.array([3.0, 10.0, 20.0])
    k = FORMULA_KERNEL
    start = np.array([-20, 500, 3990], dtype=np.int64)  # outside, inside, across the end
    cube = K.faithful_traces(spikes, offsets, anchor, start, 10, 5, 0, 1000, -1000.0, 3000.0, k)
    for u, train in enumerate(trains):
        for t in range(3):
            _, _, y = _ref_faithful(train, anchor[t], 0, 1, 0, 1000, -1000.0, 3000.0, k)
            for o in range(10):
                q0 = start[t] + 5 * o
                if q0 < 0 or q0 + 5 > y.size:
                    assert np.isnan(cube[u, t, o])
                else:
                    assert cube[u, t, o] == pytest.approx(y[q0 : q0 + 5].mean(), abs=1e-3)


def test_rounding_is_half_away_from_zero_on_the_ms_grid():
    # spikes 0.5 ms before/after the anchor go to bins -1 / +1 (np.round would put both at 0)
    k = np.zeros(51)
    k[25] = 1.0  # delta kernel: the causal pass delays by 25 bins, the centred pass does not
    anchor = np.array([10.0])
    spikes = np.array([10.0 - 0.0005, 10.0 + 0.0005])
    offsets = np.array([0, 2], dtype=np.int64)
    # grid index of relative ms m is m + 1000; after the 25-bin delay: m + 1025
    start = np.array([1000 + 25 - 2], dtype=np.int64)
    trace = K.faithful_traces(spikes, offsets, anchor, start, 5, 1, 0, 1000, -1000.0, 3000.0, k)
    np.testing.assert_allclose(trace[0, 0], [0.0, 1000.0, 0.0, 1000.0, 0.0])


def test_binned_counts_matches_histogram():
    rng = np.random.default_rng(4)
    trains, spikes, offsets = _ragged(rng, 3, 50.0)
    t0 = rng.uniform(0, 45, 12)
    got = K.binned_counts(spikes, offsets, t0, 0.05, 40)
    for u, s in enumerate(trains):
        for t in range(12):
            edges = t0[t] + np.arange(41) * 0.05
            ref = np.searchsorted(s, edges[1:], "left") - np.searchsorted(s, edges[:-1], "left")
            np.testing.assert_array_equal(got[u, t], ref)


def test_check_spikes_counts_nan_and_disorder():
    spikes = np.array([1.0, 2.0, np.nan, 3.0, 5.0, 4.0, 6.0, 0.5])
    offsets = np.array([0, 4, 8], dtype=np.int64)
    n_nan, n_unsorted = K.check_spikes(spikes, offsets)
    assert n_nan.tolist() == [1, 0] and n_unsorted.tolist() == [0, 2]


def test_kernels_identical_whatever_the_thread_count():
    rng = np.random.default_rng(5)
    _, spikes, offsets = _ragged(rng, 16, 40.0)
    anchor = rng.uniform(2, 35, 30)
    win = np.full(30, 1200, dtype=np.int64)
    k = K.faithful_kernel()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = K.faithful_responses(spikes, offsets, anchor, win, 400, 0, 1000, -1e3, 3e3, k)
        numba.set_num_threads(max(before, 1))
        many = K.faithful_responses(spikes, offsets, anchor, win, 400, 0, 1000, -1e3, 3e3, k)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one[0], many[0])


def test_count_rates_match_numpy():
    rng = np.random.default_rng(6)
    win = rng.poisson(3.0, (5, 40)).astype(float)
    base = rng.poisson(5.0, (5, 40)).astype(float)
    resp, rate = K.count_rates(win, base, 0.4, 1.0)
    np.testing.assert_array_equal(rate, base / 1.0)
    np.testing.assert_array_equal(resp, win / 0.4 - base / 1.0)
