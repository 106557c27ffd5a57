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


def test_cli_prints_dopafit_warnings_once_on_one_line(capsys):
    import warnings

    from dopafit.cli import _print_warnings_on_one_line
    from dopafit.errors import DopafitWarning

    saved = warnings.showwarning
    passed_on = []
    warnings.showwarning = lambda message, category, *args, **kw: passed_on.append(category)
    try:
        _print_warnings_on_one_line()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for _ in range(3):  # e.g. one per session of a batch
                warnings.warn("only 1 fittable\n   unit(s)", DopafitWarning, stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
    finally:
        warnings.showwarning = saved
    err = capsys.readouterr().err
    assert err == "dopafit: warning: only 1 fittable unit(s)\n"
    assert passed_on == [UserWarning]  # other warnings are shown as before
