"""Response-extraction kernels: spike counts in windows, the faithful smoothed-PSTH response.

Spike trains of many units are passed in one ragged (CSR) layout: ``spikes`` holds every
unit's sorted spike times (s) back to back, and unit ``u`` owns
``spikes[offsets[u]:offsets[u + 1]]``. Every kernel is ``@njit(cache=True)``; the per-unit
loops run in parallel with ``prange`` and each unit's result depends only on its own input,
so results are identical whatever the number of threads.

Notes
-----
The faithful kernel reproduces the smoothed-PSTH response of Dabney et al. (2020) on a 1-ms
grid around each trial's anchor event ``a`` (the baseline event):

1. spikes with relative time ``r = 1000 (s - a)`` (ms) strictly inside ``(lo, hi)`` are
   assigned to bin ``round(r) - lo`` (rounding half away from zero), giving counts
   :math:`h_p`, :math:`p = 0 .. hi - lo`;
2. causal smoothing with the kernel :math:`k_j \\propto (1 - e^{-j}) e^{-j/20}`,
   :math:`j = 0..50` ms, normalised to sum 1, and conversion to spikes/s:
   :math:`x_u = 1000 \\sum_j k_j h_{u-j}` (truncated to the grid);
3. baseline :math:`b = \\text{mean}(x_u)` over the baseline bins;
4. a second, centred ('same') convolution of :math:`x - b` with the same kernel, zero
   outside the grid: :math:`y_t = \\sum_j k_j (x - b)_{t + 25 - j}`;
5. response = mean of :math:`y_t` over the window bins.

Relative times are snapped to a 1-ns grid before comparing and rounding, so that times
stored in seconds give the same bins as the original millisecond clock.

:func:`faithful_responses` evaluates steps 2–5 without building the grid: both the baseline
and the window mean are linear in the spikes, and a spike at bin :math:`p` adds
:math:`1000 (C(c - 1 - p) - C(a - 1 - p))` to the sum of :math:`x` over bins
:math:`[a, c)`, with :math:`C` the cumulative kernel. Each trial costs its nearby spikes
times the kernel length instead of the grid length (tested against the dense computation).
:func:`faithful_traces` builds the grid.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "faithful_kernel",
    "window_counts",
    "count_rates",
    "faithful_responses",
    "faithful_traces",
    "binned_counts",
    "check_spikes",
]

_SNAP = 1e6  # relative times (ms) are snapped to 1e-6 ms before binning


def faithful_kernel(length: int = 51, tau_decay: float = 20.0) -> np.ndarray:
    """The causal smoothing kernel of the original analysis, normalised to sum 1.

    Parameters
    ----------
    length : int, default 51
        Number of 1-ms taps (t = 0 .. length - 1 ms).
    tau_decay : float, default 20.0
        Decay time constant (ms).

    Returns
    -------
    ndarray, shape (length,)
        :math:`k(t) \\propto (1 - e^{-t}) e^{-t/\\tau}`; ``k[0] == 0``.
    """
    t = np.arange(float(length))
    k = (1.0 - np.exp(-t)) * np.exp(-t / tau_decay)
    return k / k.sum()


@njit(cache=True)
def _lower_bound(x, lo, hi, value):
    """First index i in [lo, hi) with x[i] >= value (hi if none), by binary search."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if x[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


_CHUNK = 16  # spikes compared with an edge at once by _advance


@njit(cache=True, inline="always")
def _advance(spikes, i, stop, value):
    """First index j >= i in [i, stop) with spikes[j] >= value (stop if none), for sorted spikes.

    Compares a block of ``_CHUNK`` spikes at a time without branches (the block count is the
    number of spikes below ``value``), so the loop exit is predictable when consecutive
    edges are less than a block apart; the tail of the train is scanned one by one.
    """
    while i + _CHUNK <= stop:
        c = 0
        for k in range(_CHUNK):
            c += spikes[i + k] < value
        i += c
        if c < _CHUNK:
            return i
    while i < stop and spikes[i] < value:
        i += 1
    return i


@njit(cache=True, parallel=True)
def window_counts(spikes, offsets, edges, order, win_lo, win_hi):
    """Number of spikes of every unit in every half-open window ``[edges[lo], edges[hi])``.

    Parameters
    ----------
    spikes : ndarray of float64, shape (n_spikes,)
        Spike times of all units, back to back, each unit's sorted.
    offsets : ndarray of int64, shape (n_unit + 1,)
        Unit ``u`` owns ``spikes[offsets[u]:offsets[u + 1]]``.
    edges : ndarray of float64, shape (n_edge,)
        Window boundaries (s), finite, in any order.
    order : ndarray of int64, shape (n_edge,)
        ``np.argsort(edges)``.
    win_lo, win_hi : ndarray of int64, shape (n_kind, n_win)
        Indices into ``edges`` of each window's start and stop, one row per kind of window
        (e.g. response windows and baseline windows).

    Returns
    -------
    counts : ndarray of float64, shape (n_kind, n_unit, n_win)
        ``#{s : edges[win_lo[k, w]] <= s < edges[win_hi[k, w]]}`` per unit (negative when
        the stop precedes the start); whole numbers. Meaningful only for units with
        ``n_bad == 0``.
    n_bad : ndarray of int64, shape (n_unit,)
        Per unit, the number of spike times that are NaN or smaller than their predecessor:
        zero when the train is sorted and finite (see :func:`check_spikes` for the detail).

    Notes
    -----
    The sorted edges are walked forward along each unit's sorted spikes (:math:`O(S + E)`
    per unit with sequential memory access), in two interleaved halves so that two
    independent searches overlap in the pipeline; units run in parallel. The order check
    is a branch-free pass over the unit's spikes.
    """
    n_unit = offsets.shape[0] - 1
    n_edge = edges.shape[0]
    n_kind, n_win = win_lo.shape
    sorted_edges = np.empty(n_edge)
    for e in range(n_edge):
        sorted_edges[e] = edges[order[e]]
    half = (n_edge + 1) // 2
    counts = np.empty((n_kind, n_unit, n_win))
    n_bad = np.zeros(n_unit, dtype=np.int64)
    for u in prange(n_unit):
        start = offsets[u]
        stop = offsets[u + 1]
        if stop > start:
            s = spikes[start:stop]
            n_bad[u] = np.sum(~(s[1:] >= s[:-1])) + np.isnan(s[0])
        pos = np.empty(n_edge, dtype=np.int64)
        i = start
        j = stop
        if half < n_edge:
            j = _lower_bound(spikes, start, stop, sorted_edges[half])
        for e in range(half):
            i = _advance(spikes, i, stop, sorted_edges[e])
            pos[order[e]] = i
            f = half + e
            if f < n_edge:
                j = _advance(spikes, j, stop, sorted_edges[f])
                pos[order[f]] = j
        for k in range(n_kind):
            for w in range(n_win):
                counts[k, u, w] = pos[win_hi[k, w]] - pos[win_lo[k, w]]
    return counts, n_bad


@njit(cache=True, parallel=True)
def count_rates(window_count, baseline_count, window_len, baseline_len):
    """Baseline rate and baseline-subtracted window rate from spike counts (units in parallel).

    Parameters
    ----------
    window_count, baseline_count : ndarray of float64, shape (n_unit, n_trial)
    window_len, baseline_len : float
        Window and baseline durations (s).

    Returns
    -------
    response, baseline : ndarray of float64, shape (n_unit, n_trial)
        ``window_count / window_len - baseline`` and ``baseline_count / baseline_len``.
    """
    n_unit, n_trial = window_count.shape
    response = np.empty((n_unit, n_trial))
    baseline = np.empty((n_unit, n_trial))
    for u in prange(n_unit):
        for t in range(n_trial):
            b = baseline_count[u, t] / baseline_len
            baseline[u, t] = b
            response[u, t] = window_count[u, t] / window_len - b
    return response, baseline


@njit(cache=True)
def _round_half_away(x):
    if x >= 0.0:
        return np.floor(x + 0.5)
    return -np.floor(-x + 0.5)


@njit(cache=True)
def _faithful_grid(spikes, start, stop, anchor, lo_ms, hi_ms, kernel, x):
    """Fill ``x`` (length hi - lo + 1) with the causally smoothed rate around ``anchor``."""
    n_bin = x.shape[0]
    n_k = kernel.shape[0]
    x[:] = 0.0
    first = _lower_bound(spikes, start, stop, anchor + (lo_ms - 1.0) / 1000.0)
    limit = anchor + (hi_ms + 1.0) / 1000.0
    n_in = 0
    for i in range(first, stop):
        s = spikes[i]
        if s > limit:
            break
        rel = np.floor((s - anchor) * 1000.0 * _SNAP + 0.5) / _SNAP
        if rel <= lo_ms or rel >= hi_ms:
            continue
        p = int(_round_half_away(rel) - lo_ms)
        n_in += 1
        for j in range(n_k):
            if p + j >= n_bin:
                break
            x[p + j] += 1000.0 * kernel[j]
    return n_in


@njit(cache=True, inline="always")
def _mean(x, start, length):
    acc = 0.0
    for q in range(start, start + length):
        acc += x[q]
    return acc / length


@njit(cache=True)
def _same_conv_at(x, b, kernel, t):
    """Centred ('same') convolution of ``x - b`` with ``kernel`` at bin ``t`` (zero-padded)."""
    n_bin = x.shape[0]
    n_k = kernel.shape[0]
    half = (n_k - 1) // 2
    acc = 0.0
    for j in range(n_k):
        q = t + half - j
        if 0 <= q < n_bin:
            acc += kernel[j] * (x[q] - b)
    return acc


@njit(cache=True, parallel=True)
def faithful_responses(
    spikes, offsets, anchor, win_start, win_len, base_start, base_len, lo_ms, hi_ms, kernel
):
    """Faithful smoothed-PSTH responses (see the module Notes) for every unit and trial.

    Parameters
    ----------
    spikes, offsets : ndarray
        Ragged spike trains (see :func:`window_counts`).
    anchor : ndarray of float64, shape (n_trial,)
        Each trial's grid anchor (baseline event) in seconds.
    win_start : ndarray of int64, shape (n_trial,)
        First window bin of each trial (grid index, 0 = ``lo_ms``).
    win_len : int
        Number of window bins.
    base_start, base_len : int
        First baseline bin (grid index) and number of baseline bins.
    lo_ms, hi_ms : float
        Grid limits (ms) relative to the anchor; the grid has ``hi - lo + 1`` bins.
    kernel : ndarray of float64, shape (n_k,)
        Smoothing kernel (odd length), summing to 1.

    Returns
    -------
    response, baseline : ndarray of float64, shape (n_unit, n_trial)
        Window mean of the baseline-subtracted twice-smoothed rate, and the baseline rate
        (spikes/s).
    """
    n_unit = offsets.shape[0] - 1
    n_trial = anchor.shape[0]
    n_bin = int(hi_ms - lo_ms) + 1
    n_k = kernel.shape[0]
    half = (n_k - 1) // 2
    cum = np.cumsum(kernel)
    response = np.empty((n_unit, n_trial))
    baseline = np.empty((n_unit, n_trial))
    # per trial, the window bins the centred convolution reads through tap j: [lo_j, hi_j)
    lo_j = np.empty((n_trial, n_k), dtype=np.int64)
    hi_j = np.empty((n_trial, n_k), dtype=np.int64)
    ones = np.zeros(n_trial)
    for t in range(n_trial):
        for j in range(n_k):
            lo_j[t, j] = min(max(win_start[t] + half - j, 0), n_bin)
            hi_j[t, j] = min(max(win_start[t] + win_len + half - j, 0), n_bin)
            ones[t] += kernel[j] * (hi_j[t, j] - lo_j[t, j])
    for u in prange(n_unit):
        for t in range(n_trial):
            reach_lo = win_start[t] + half - 2 * (n_k - 1)
            reach_hi = win_start[t] + win_len + half
            b = 0.0
            acc = 0.0
            first = _lower_bound(
                spikes, offsets[u], offsets[u + 1], anchor[t] + (lo_ms - 1.0) / 1000.0
            )
            limit = anchor[t] + (hi_ms + 1.0) / 1000.0
            for i in range(first, offsets[u + 1]):
                sp = spikes[i]
                if sp > limit:
                    break
                rel = np.floor((sp - anchor[t]) * 1000.0 * _SNAP + 0.5) / _SNAP
                if rel <= lo_ms or rel >= hi_ms:
                    continue
                p = int(_round_half_away(rel) - lo_ms)
                # the spike's taps 1000 k[q - p] (q in [p, p + n_k), truncated to the grid)
                # summed over the baseline bins and over each tap's window bins
                b += _cum_at(cum, base_start + base_len - 1 - p) - _cum_at(cum, base_start - 1 - p)
                if reach_lo <= p < reach_hi:
                    for j in range(n_k):
                        q0 = lo_j[t, j]
                        q1 = hi_j[t, j]
                        if q1 > q0:
                            acc += kernel[j] * (_cum_at(cum, q1 - 1 - p) - _cum_at(cum, q0 - 1 - p))
            b *= 1000.0 / base_len
            response[u, t] = (1000.0 * acc - b * ones[t]) / win_len
            baseline[u, t] = b
    return response, baseline


@njit(cache=True, inline="always")
def _cum_at(cum, j):
    """``sum(kernel[:j + 1])``: 0 below the kernel, 1 (its total) beyond it."""
    if j < 0:
        return 0.0
    if j >= cum.shape[0]:
        return cum[cum.shape[0] - 1]
    return cum[j]


@njit(cache=True, parallel=True)
def faithful_traces(
    spikes, offsets, anchor, trace_start, n_out, bin_ms, base_start, base_len, lo_ms, hi_ms, kernel
):
    """Baseline-subtracted twice-smoothed rate traces, averaged in blocks of ``bin_ms`` bins.

    Parameters
    ----------
    spikes, offsets, anchor, base_start, base_len, lo_ms, hi_ms, kernel
        As in :func:`faithful_responses`.
    trace_start : ndarray of int64, shape (n_trial,)
        Grid index of each trial's first output bin (may lie outside the grid).
    n_out : int
        Number of output bins.
    bin_ms : int
        Grid bins averaged into one output bin.

    Returns
    -------
    ndarray of float32, shape (n_unit, n_trial, n_out)
        NaN where an output bin reaches outside the grid.
    """
    n_unit = offsets.shape[0] - 1
    n_trial = anchor.shape[0]
    n_bin = int(hi_ms - lo_ms) + 1
    out = np.empty((n_unit, n_trial, n_out), dtype=np.float32)
    for u in prange(n_unit):
        x = np.empty(n_bin)
        for t in range(n_trial):
            _faithful_grid(spikes, offsets[u], offsets[u + 1], anchor[t], lo_ms, hi_ms, kernel, x)
            b = _mean(x, base_start, base_len)
            for o in range(n_out):
                q0 = trace_start[t] + o * bin_ms
                if q0 < 0 or q0 + bin_ms > n_bin:
                    out[u, t, o] = np.nan
                    continue
                acc = 0.0
                for q in range(q0, q0 + bin_ms):
                    acc += _same_conv_at(x, b, kernel, q)
                out[u, t, o] = acc / bin_ms
    return out


@njit(cache=True, parallel=True)
def binned_counts(spikes, offsets, t0, bin_width, n_bins):
    """Spike counts in ``n_bins`` consecutive bins ``[t0 + i w, t0 + (i + 1) w)`` per trial.

    Parameters
    ----------
    spikes, offsets : ndarray
        Ragged spike trains (see :func:`window_counts`).
    t0 : ndarray of float64, shape (n_trial,)
        Start of each trial's first bin (s).
    bin_width : float
        Bin width (s).
    n_bins : int
        Number of bins.

    Returns
    -------
    ndarray of float32, shape (n_unit, n_trial, n_bins)
    """
    n_unit = offsets.shape[0] - 1
    n_trial = t0.shape[0]
    out = np.zeros((n_unit, n_trial, n_bins), dtype=np.float32)
    for u in prange(n_unit):
        start = offsets[u]
        stop = offsets[u + 1]
        for t in range(n_trial):
            i = _lower_bound(spikes, start, stop, t0[t])
            for b in range(n_bins):
                edge = t0[t] + (b + 1) * bin_width
                c = 0
                while i < stop and spikes[i] < edge:
                    c += 1
                    i += 1
                out[u, t, b] = c
    return out


@njit(cache=True, parallel=True)
def check_spikes(spikes, offsets):
    """Per-unit counts of NaN spike times and of decreasing consecutive pairs.

    Returns
    -------
    n_nan, n_unsorted : ndarray of int64, shape (n_unit,)
    """
    n_unit = offsets.shape[0] - 1
    n_nan = np.zeros(n_unit, dtype=np.int64)
    n_unsorted = np.zeros(n_unit, dtype=np.int64)
    for u in prange(n_unit):
        prev = -np.inf
        for i in range(offsets[u], offsets[u + 1]):
            s = spikes[i]
            if np.isnan(s):
                n_nan[u] += 1
                continue
            if s < prev:
                n_unsorted[u] += 1
            prev = s
    return n_nan, n_unsorted
