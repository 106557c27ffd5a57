"""Every public name documents itself: numpydoc sections and an Examples section that runs.

The Examples themselves run as doctests (``--doctest-modules`` over ``dopafit/``, configured in
``pyproject.toml``; the root ``conftest.py`` runs each in a fresh folder holding
``data_samples/``). These tests check that the sections exist, are in numpydoc's order, that
the documented parameters are the signature's, and that pytest collects a doctest for every
public name.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dopafit

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = [name for name in dopafit.__all__ if name != "__version__"]
# numpydoc's order of sections (https://numpydoc.readthedocs.io/en/latest/format.html)
ORDER = [
    "Parameters",
    "Attributes",
    "Returns",
    "Yields",
    "Receives",
    "Other Parameters",
    "Raises",
    "Warns",
    "Warnings",
    "See Also",
    "Notes",
    "References",
    "Examples",
]
_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}[ \t]*$", re.MULTILINE)


def sections(doc: str) -> dict[str, str]:
    """Section title -> body of a numpydoc docstring (dedented), in order."""
    found = list(_HEADER.finditer(doc))
    return {
        m.group(1): doc[m.end() : found[i + 1].start() if i + 1 < len(found) else len(doc)]
        for i, m in enumerate(found)
    }


def documented_parameters(body: str) -> set[str]:
    """Names of a Parameters section (``a, b : type`` lines count every name)."""
    names = set()
    for line in body.splitlines():
        if line and not line[0].isspace():
            for part in line.split(" : ")[0].split(","):
                names.add(part.strip().lstrip("*"))
    return names


def _doc(name: str) -> str:
    doc = inspect.getdoc(getattr(dopafit, name))
    assert doc and doc.strip(), f"dopafit.{name} has no docstring"
    return doc


@pytest.mark.parametrize("name", PUBLIC)
def test_sections_present_and_in_numpydoc_order(name):
    obj = getattr(dopafit, name)
    found = sections(_doc(name))
    unknown = [title for title in found if title not in ORDER]
    assert not unknown, f"dopafit.{name}: unknown section(s) {unknown}"
    assert list(found) == sorted(found, key=ORDER.index), f"dopafit.{name}: {list(found)}"
    if inspect.signature(obj).parameters:
        assert "Parameters" in found, f"dopafit.{name} takes parameters but has no Parameters"
    if inspect.isfunction(obj):
        assert "Returns" in found or "Yields" in found, f"dopafit.{name} has no Returns"
    assert ">>> " in found.get("Examples", ""), f"dopafit.{name}: no Examples with a >>> line"


@pytest.mark.parametrize("name", PUBLIC)
def test_parameters_section_matches_signature(name):
    documented = documented_parameters(sections(_doc(name)).get("Parameters", ""))
    signature = {p for p in inspect.signature(getattr(dopafit, name)).parameters}
    assert signature - documented == set(), f"dopafit.{name}: undocumented parameters"
    assert documented - signature == set(), f"dopafit.{name}: documented but not in signature"


def test_package_docstring_has_examples():
    """``__version__`` (a string) is shown by the package docstring's Examples."""
    found = sections(inspect.getdoc(dopafit))
    assert ">>> " in found.get("Examples", "") and "__version__" in found["Examples"]


def test_every_public_name_is_collected_as_a_doctest():
    """pytest (configured in pyproject.toml) collects one doctest per public name."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "dopafit"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    items = {line.rsplit(".", 1)[-1] for line in out.stdout.splitlines() if "::" in line}
    missing = [name for name in PUBLIC if name not in items]
    assert not missing, f"no doctest collected for {missing}"
    assert "dopafit/__init__.py::dopafit" in out.stdout  # the package docstring
