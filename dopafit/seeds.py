"""The one place that derives every random stream from a user's seed.

A user gives one integer (or ``None`` for fresh entropy). Every random draw dopafit makes
descends from :class:`numpy.random.SeedSequence` of that integer through the named keys
below, so that results are reproducible from the seed alone and the streams of different
parts (the split halves of the fit, its bootstrap, each account's simulations in the
comparison) never overlap, whatever else is requested.

Examples
--------
>>> from dopafit import seeds
>>> a = seeds.split_seeds(0, 3)
>>> b = seeds.split_seeds(0, 3)
>>> bool((a == b).all()), a.dtype.name
(True, 'uint64')
>>> seeds.recorded(seeds.master(None)) != seeds.recorded(seeds.master(None))
True
"""

from __future__ import annotations

import numpy as np

#: children of ``SeedSequence(seed).spawn(2)`` used by :func:`dopafit.fit_expectiles`
FIT_SPLITS, FIT_BOOTSTRAP = 0, 1
#: first spawn-key element of an account's stream in :func:`dopafit.compare`
#: (``spawn_key=(ACCOUNT_KEY, index of the account)``)
ACCOUNT_KEY = 7
#: spawn key of the neuron bootstrap in :func:`dopafit.compare`
COMPARE_BOOTSTRAP_KEY = 8
#: last spawn-key element of an account's split seeds (appended to the account's key)
ACCOUNT_SPLITS = 1

#: first spawn-key element of the streams of :func:`dopafit.fit_discounting`
#: (``spawn_key=(DISCOUNT_KEY, DISCOUNT_SPLITS | DISCOUNT_BOOTSTRAP | DISCOUNT_RELATION)``)
DISCOUNT_KEY = 9
#: first spawn-key element of an account's streams in :func:`dopafit.compare_timescales`
#: (``spawn_key=(TIMESCALE_KEY, index of the account)``)
TIMESCALE_KEY = 10
DISCOUNT_SPLITS, DISCOUNT_BOOTSTRAP, DISCOUNT_RELATION = 0, 1, 2

FIT_DERIVATION = (
    "SeedSequence(seed).spawn(2): [splits, bootstrap]; splitmix64 stream per (split, unit) "
    "and per (bootstrap, unit)"
)
COMPARE_DERIVATION = (
    "observed splits: SeedSequence(seed).spawn(2)[0] as in fit_expectiles; account a: "
    "SeedSequence(seed, spawn_key=(7, index of a)) -> simulation seeds (first spawned child) "
    "and split seeds (spawn_key + (1,)); bootstrap: spawn_key=(8,)"
)
DISCOUNT_DERIVATION = (
    "SeedSequence(seed, spawn_key=(9, i)): i = 0 split seeds (one per split; splitmix64 stream "
    "per (split, unit)), 1 bootstrap (splitmix64 stream per (bootstrap seed, unit)), 2 the "
    "gamma-tau relation (unit bootstrap and permutations, numpy Generator)"
)
KERNEL_DERIVATION = "SeedSequence(seed).generate_state(1)"


def master(seed) -> np.random.SeedSequence:
    """The root sequence of ``seed`` (an int >= 0, a SeedSequence, or None for entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def recorded(ss: np.random.SeedSequence) -> int | str:
    """The seed as written to a result's attrs.

    An int that fits netCDF's int64, else its decimal string (``seed=None`` draws 128-bit
    entropy).
    """
    entropy = ss.entropy
    if np.ndim(entropy) == 0 and 0 <= int(entropy) < 2**63:
        return int(entropy)
    return str(entropy)


def fit_streams(seed) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """The split and bootstrap streams of :func:`dopafit.fit_expectiles`."""
    children = master(seed).spawn(2)
    return children[FIT_SPLITS], children[FIT_BOOTSTRAP]


def split_seeds(seed, n_splits: int) -> np.ndarray:
    """The uint64 split seeds :func:`dopafit.fit_expectiles` draws for ``seed``."""
    return fit_streams(seed)[0].generate_state(int(n_splits), dtype=np.uint64)


def first_state(ss: np.random.SeedSequence) -> np.uint64:
    """One uint64 from ``ss`` (the seed handed to a numba kernel)."""
    return ss.generate_state(1, dtype=np.uint64)[0]


def kernel_seed(seed) -> np.uint64:
    """The uint64 seed of a numba kernel derived directly from the user's seed."""
    return first_state(master(seed))


def discount_stream(seed, part: int) -> np.random.SeedSequence:
    """The stream ``part`` (:data:`DISCOUNT_SPLITS`, :data:`DISCOUNT_BOOTSTRAP` or
    :data:`DISCOUNT_RELATION`) of :func:`dopafit.fit_discounting` under ``seed``."""
    return np.random.SeedSequence(master(seed).entropy, spawn_key=(DISCOUNT_KEY, int(part)))


def account_stream(entropy, index: int) -> np.random.SeedSequence:
    """The stream of the account with fixed ``index`` in :func:`dopafit.compare`.

    The index is the account's position in the full list of accounts, so an account's
    simulations do not depend on which other accounts are requested.
    """
    return np.random.SeedSequence(entropy, spawn_key=(ACCOUNT_KEY, int(index)))


def account_seeds(ss: np.random.SeedSequence, n_sim: int, n_splits: int):
    """Simulation seeds ``(n_sim,)`` and split seeds ``(n_sim, n_splits)`` of one account."""
    sim = ss.spawn(1)[0].generate_state(int(n_sim), dtype=np.uint64)
    splits = (
        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, ACCOUNT_SPLITS))
        .generate_state(int(n_sim) * int(n_splits), dtype=np.uint64)
        .reshape(int(n_sim), int(n_splits))
    )
    return sim, splits


def compare_bootstrap(entropy) -> np.random.SeedSequence:
    """The stream of the neuron bootstrap in :func:`dopafit.compare`."""
    return np.random.SeedSequence(entropy, spawn_key=(COMPARE_BOOTSTRAP_KEY,))
