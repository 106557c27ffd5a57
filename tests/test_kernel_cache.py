"""numba's on-disk cache never serves a kernel compiled against an older version of a kernel
it calls in another module (dopafit.kernels._cache)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import dopafit.kernels
from dopafit.kernels._cache import package_stamp

KERNEL = textwrap.dedent(
    """
    from numba import njit

    @njit(cache=True)
    def value():
        return {value}
    """
)


def _run(root: Path) -> str:
    code = "from kpkg.caller import twice; print(twice())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_editing_a_callee_recompiles_its_callers(tmp_path):
    pkg = tmp_path / "kpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from dopafit.kernels._cache import install\n"
        "install(Path(__file__).parent)\n"
    )
    (pkg / "callee.py").write_text(KERNEL.format(value=1))
    (pkg / "caller.py").write_text(
        "from numba import njit\n"
        "from kpkg.callee import value\n\n"
        "@njit(cache=True)\n"
        "def twice():\n"
        "    return 2 * value()\n"
    )
    assert _run(tmp_path) == "2"
    assert _run(tmp_path) == "2"  # served from the cache
    assert list((pkg / "__pycache__").glob("caller.twice-*.nbi"))
    (pkg / "callee.py").write_text(KERNEL.format(value=5))
    assert _run(tmp_path) == "10"  # numba's own stamp (the caller's file) would give 2


def test_dopafit_kernels_are_stamped_by_the_whole_package():
    from dopafit.kernels import learning_fit

    locator = learning_fit.fit_rows._cache._impl.locator
    assert type(locator).__name__.startswith("Package")
    folder = Path(dopafit.kernels.__file__).parent
    assert locator.get_source_stamp() == package_stamp(folder)
