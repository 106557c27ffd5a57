"""numba kernels: arrays and scalars in, arrays out; no xarray, pandas or I/O.

Every kernel is ``@njit(cache=True)`` and has a plain-numpy reference in the tests.
Importing this package compiles nothing: kernels compile on first call (cached on disk).
"""
