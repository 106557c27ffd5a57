"""Package-level promises: light import, a complete public API, a working CLI entry point."""

from __future__ import annotations

import subprocess
import sys

import dopafit


def test_import_is_light_and_compiles_nothing():
    code = (
        "import sys, dopafit\n"
        "heavy = [m for m in ('pynwb', 'matplotlib', 'numba', 'dask', 'h5py', 'hdmf', 'scipy')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_all_names_resolve():
    for name in dopafit.__all__:
        assert getattr(dopafit, name) is not None, name
    assert set(dopafit.__all__) <= set(dir(dopafit))


def test_unknown_attribute_raises():
    try:
        dopafit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_cli_version():
    out = subprocess.run(
        [sys.executable, "-m", "dopafit", "--version"], capture_output=True, text=True, check=True
    )
    assert dopafit.__version__ in out.stdout
