"""numba kernels: arrays and scalars in, arrays out; no xarray, pandas or I/O.

Every kernel is ``@njit(cache=True)`` and has a plain-numpy reference in the tests.
Importing this package compiles nothing: kernels compile on first call (cached on disk).
Kernels call kernels of other modules of this package; the on-disk cache of every kernel is
stamped with a hash of all the package's modules (:mod:`dopafit.kernels._cache`), so an edit
of any of them recompiles what depends on it instead of loading stale code.
"""

from pathlib import Path

from dopafit.kernels._cache import install as _install_cache

_install_cache(Path(__file__).parent)
