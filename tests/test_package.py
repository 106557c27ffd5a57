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


def _type_checking_block():
    """The body of ``if TYPE_CHECKING:`` in dopafit/__init__.py."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(dopafit.__file__).read_text())
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "one `if TYPE_CHECKING:` block"
    return blocks[0].body


def test_type_checking_imports_and_lazy_exports_agree():
    imported = {}
    for node in _type_checking_block():
        assert type(node).__name__ == "ImportFrom", "only `from module import name as name`"
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name}: re-export as `x as x`"
            assert alias.name not in imported, f"{alias.name} imported twice"
            imported[alias.name] = node.module
    assert imported == dopafit._LAZY


def test_type_checking_imports_give_the_lazy_objects():
    import ast

    namespace: dict = {}
    exec(
        compile(ast.Module(body=_type_checking_block(), type_ignores=[]), "<block>", "exec"),
        namespace,
    )
    for name in dopafit._LAZY:
        assert namespace[name] is getattr(dopafit, name), name
