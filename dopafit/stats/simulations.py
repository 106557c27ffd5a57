"""The simulated datasets of each account: run in chunks, locally or as dask tasks, resumable.

:func:`dopafit.compare` fits every account to the recording, then simulates ``n_sim``
datasets from each and runs them through the identical pipeline. Every dataset has its own
seeds (:mod:`dopafit.seeds`), so the statistics do not depend on how the datasets are cut into
chunks, on which process or worker computes a chunk, nor on the order in which chunks finish:
:func:`run_account` computes an account's chunks here, :func:`run_accounts_dask` submits
every account's chunks as dask tasks, and :class:`ChunkStore` keeps finished chunks on disk so
that an interrupted comparison resumes with the missing ones only.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit import seeds
from dopafit._version import __version__
from dopafit.stats import accounts as acc
from dopafit.stats import statistics as st
from dopafit.stats.accounts import ACCOUNTS
from dopafit.stats.compare_options import CompareOptions
from dopafit.stats.statistics import STATISTICS

#: the key of each account's random stream (its place in :data:`ACCOUNTS`)
ACCOUNT_KEY = {name: i for i, name in enumerate(ACCOUNTS)}


def resolve_chunk_size(layout: st.Layout, options: CompareOptions, chunk_size: int | None) -> int:
    """Simulated datasets per chunk: the caller's, else what fits in about 64 MB and at most
    a tenth of ``n_sim`` (so that the progress bar moves; the numbers do not depend on it)."""
    if chunk_size is not None:
        return chunk_size
    per_sim = options.n_splits * max(1, layout.n_folds + 4) * layout.n_unit * 8
    tenth = -(-options.n_sim // 10)
    return int(max(8, min(options.n_sim, tenth, 64e6 // max(per_sim, 1))))


def run_account(
    layout, noise_model, name: str, root, options: CompareOptions, chunk_size: int, bar, store=None
):
    """One account fitted to the recording, and its statistics on ``n_sim`` simulations
    (``bar`` advances by each chunk's simulations; chunks found in ``store`` are read, the
    others saved there)."""
    fit = acc.fit_account(name, layout)
    stream = seeds.account_stream(root.entropy, ACCOUNT_KEY[name])
    sim_seeds, split_seeds = seeds.account_seeds(stream, options.n_sim, options.n_splits)
    names = list(STATISTICS)
    out = np.full((options.n_sim, len(names)), np.nan)
    for c0 in range(0, options.n_sim, chunk_size):
        c1 = min(options.n_sim, c0 + chunk_size)
        saved = None if store is None else store.load(name, sim_seeds[c0:c1], split_seeds[c0:c1])
        if saved is not None:
            out[c0:c1] = saved
            bar.update(c1 - c0)
            continue
        out[c0:c1] = chunk_statistics(
            layout, fit, noise_model, sim_seeds[c0:c1], split_seeds[c0:c1], options.noise
        )
        if store is not None:
            store.save(name, sim_seeds[c0:c1], split_seeds[c0:c1], out[c0:c1])
        bar.update(c1 - c0)
    return fit, out


def simulate_chunk(layout, fit, noise_model, sim_seeds, split_seeds, noise: str):
    """The statistics (n, statistic) of one chunk of simulated datasets, with
    single-threaded kernels (a dask task; every dataset has its own seeds, so the values do
    not depend on the chunk nor on the worker)."""
    from dopafit.batch import numba_threads_set

    with numba_threads_set(1):
        return chunk_statistics(layout, fit, noise_model, sim_seeds, split_seeds, noise)


def chunk_statistics(layout, fit, noise_model, sim_seeds, split_seeds, noise: str) -> np.ndarray:
    """The statistics (n, statistic) of the simulated datasets of one chunk of seeds."""
    raw = acc.simulate(layout, fit, noise_model, sim_seeds, noise)
    res = st.run_pipeline(layout, raw, split_seeds)
    return np.column_stack([np.asarray(res.stats[s], dtype=float) for s in STATISTICS])


def run_accounts_dask(
    client, layout, noise_model, root, options: CompareOptions, chunk_size, bar, store=None
):
    """Every account fitted here, its simulations run as one dask task per chunk (all
    accounts' chunks submitted at once, gathered in order); fits, statistics and the seconds
    from the start to each account's last chunk."""
    from dask.distributed import as_completed

    t0 = time.perf_counter()
    names = list(STATISTICS)
    shared = client.scatter([layout, noise_model], broadcast=True, hash=False)
    fits, sims, timing, futures = {}, {}, {}, {}
    left = {}
    for name in options.accounts:
        fits[name] = acc.fit_account(name, layout)
        stream = seeds.account_stream(root.entropy, ACCOUNT_KEY[name])
        sim_seeds, split_seeds = seeds.account_seeds(stream, options.n_sim, options.n_splits)
        sims[name] = np.full((options.n_sim, len(names)), np.nan)
        fit_future = client.scatter(fits[name], hash=False)
        left[name] = 0
        for c0 in range(0, options.n_sim, chunk_size):
            c1 = min(options.n_sim, c0 + chunk_size)
            chunk_seeds = (sim_seeds[c0:c1], split_seeds[c0:c1])
            saved = None if store is None else store.load(name, *chunk_seeds)
            if saved is not None:
                sims[name][c0:c1] = saved
                bar.update(c1 - c0)
                continue
            future = client.submit(
                simulate_chunk,
                shared[0],
                fit_future,
                shared[1],
                sim_seeds[c0:c1],
                split_seeds[c0:c1],
                options.noise,
                pure=False,
            )
            futures[future] = (name, c0, c1, chunk_seeds)
            left[name] += 1
        if left[name] == 0:
            timing[name] = time.perf_counter() - t0
    bar.set_description("compare")
    done = dict.fromkeys(options.accounts, options.n_sim)  # less what is still to compute
    for name, c0, c1, _ in futures.values():
        done[name] -= c1 - c0

    def show(name: str, n: int) -> None:  # progress per account beside the bar's time left
        done[name] += n
        bar.set_postfix_str(
            ", ".join(f"{a} {done[a]}/{options.n_sim}" for a in options.accounts), refresh=False
        )
        bar.update(n)

    try:
        for future in as_completed(futures):
            name, c0, c1, chunk_seeds = futures[future]
            sims[name][c0:c1] = future.result()
            if store is not None:
                store.save(name, *chunk_seeds, sims[name][c0:c1])
            left[name] -= 1
            if left[name] == 0:
                timing[name] = time.perf_counter() - t0
            show(name, c1 - c0)
    except BaseException:
        client.cancel(list(futures))
        raise
    return fits, sims, {name: timing[name] for name in options.accounts}


class ChunkStore:
    """Finished chunks of simulated statistics saved in ``folder/<key>/``, ``key`` the
    SHA-256 of the responses, the options and the dopafit version; a chunk's file is named
    after its account and the hash of its seeds, and is written to a temporary name then
    renamed (a killed run never leaves a partial chunk)."""

    def __init__(self, folder, responses: xr.Dataset, options: CompareOptions):
        import dataclasses
        import hashlib
        import json

        digest = hashlib.sha256(f"dopafit {__version__}|".encode())
        record = dataclasses.asdict(options)
        digest.update(json.dumps(record, sort_keys=True, default=str).encode())
        for name in sorted(map(str, responses.variables)):
            values = np.asarray(responses[name].values)
            digest.update(f"|{name}|{values.dtype}|{values.shape}|".encode())
            if values.dtype.kind == "O":
                digest.update("\x1f".join(map(str, values.ravel())).encode())
            else:
                digest.update(np.ascontiguousarray(values).tobytes())
        self.folder = Path(folder) / digest.hexdigest()[:32]
        self.n_stats = len(STATISTICS)

    def _path(self, account: str, sim_seeds, split_seeds) -> Path:
        import hashlib

        digest = hashlib.sha256(np.ascontiguousarray(sim_seeds).tobytes())
        digest.update(np.ascontiguousarray(split_seeds).tobytes())
        return self.folder / f"{account}-{len(sim_seeds)}-{digest.hexdigest()[:24]}.npy"

    def load(self, account: str, sim_seeds, split_seeds):
        """The saved statistics of this chunk, or None."""
        path = self._path(account, sim_seeds, split_seeds)
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if values.shape != (len(sim_seeds), self.n_stats):
            return None
        return values

    def save(self, account: str, sim_seeds, split_seeds, values) -> None:
        """Save a finished chunk atomically."""
        import os

        path = self._path(account, sim_seeds, split_seeds)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as handle:
            np.save(handle, np.asarray(values, dtype=float), allow_pickle=False)
        os.replace(tmp, path)
