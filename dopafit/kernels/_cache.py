"""numba's on-disk cache, made aware of calls between the modules of a package.

numba stamps a cached kernel with a hash of the file that defines it. A kernel that calls a
kernel of another module (``fit_rows`` calls ``stream_state`` of ``expectile``) is compiled
with the callee inlined, so after an edit of the callee the stamp of the caller's file is
unchanged and the stale compiled code would be loaded. :func:`install` makes the stamp of
every kernel defined in a package folder the hash of *all* the ``.py`` files of that folder:
editing any of them recompiles every kernel of the package once, and nothing is ever stale.
It adds two cache locators (numba's in-tree and user-directory locators, with that stamp) in
front of numba's own; functions outside the folder are untouched. ``NUMBA_CACHE_DIR`` is
honoured as usual.

Examples
--------
>>> from pathlib import Path
>>> import dopafit.kernels
>>> from dopafit.kernels._cache import package_stamp
>>> len(package_stamp(Path(dopafit.kernels.__file__).parent))
32
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

__all__ = ["package_stamp", "install"]

_INSTALLED: set[str] = set()


def package_stamp(folder: str | os.PathLike) -> bytes:
    """SHA-256 over the names and contents of the ``.py`` files of ``folder`` (sorted).

    Memoised on the files' names, sizes and modification times (one read per process).
    """
    paths = sorted(Path(folder).glob("*.py"))
    key = tuple((p.name, st.st_size, st.st_mtime_ns) for p in paths for st in [p.stat()])
    return _stamp(tuple(str(p) for p in paths), key)


@functools.lru_cache(maxsize=16)
def _stamp(paths: tuple, key: tuple) -> bytes:
    digest = hashlib.sha256()
    for path in map(Path, paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.digest()


def _inside(py_file: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(py_file), folder]) == folder
    except ValueError:  # different drives
        return False


def install(folder: str | os.PathLike) -> bool:
    """Stamp the cached kernels of ``folder`` with :func:`package_stamp` (idempotent).

    Returns
    -------
    bool
        True when the locators are in place; False when this numba has no such hook (the
        kernels are then cached as numba does by default).
    """
    folder = os.path.abspath(os.fspath(folder))
    if folder in _INSTALLED:
        return True
    try:
        from numba.core import caching

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in 0.6x
        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator)
        locators = list(impl._locator_classes)
    except (ImportError, AttributeError):
        return False

    def make(base):
        class PackageLocator(base):
            def get_source_stamp(self):
                return package_stamp(folder)

            @classmethod
            def from_function(cls, py_func, py_file):
                if not _inside(py_file, folder):
                    return None
                return super().from_function(py_func, py_file)

        PackageLocator.__name__ = f"Package{base.__name__}"
        return PackageLocator

    impl._locator_classes = [make(b) for b in bases] + locators
    _INSTALLED.add(folder)
    return True
