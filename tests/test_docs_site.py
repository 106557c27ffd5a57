"""The documentation site covers the package: checks that need no build, and the build itself.

Fast checks read the sources: every public name has an entry in the API reference, every
command is reached by the CLI reference, every page is in a table of contents, no notebook is
tracked as ``.ipynb``. The ``slow`` test runs the whole build (``make docs``: warnings are
errors, notebooks and executed pages run) and checks that each public name, command and
tutorial got its page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import dopafit

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# folders written by the build, not sources
GENERATED = ("_build", "reference/generated")
TUTORIALS_MARKER = "<!-- tutorials: the notebooks, listed by docs/conf.py -->"


def _pages() -> set[str]:
    """Docnames (path below docs/ without suffix) of every Markdown source page."""
    names = set()
    for path in DOCS.rglob("*.md"):
        rel = path.relative_to(DOCS).as_posix()
        if not any(rel.startswith(g + "/") for g in GENERATED):
            names.add(rel[: -len(".md")])
    return names


def _fenced_directives(text: str, name: str) -> list[str]:
    """Bodies of the MyST directives ```{name} ... ``` in ``text`` (options included)."""
    return re.findall(r"^```\{" + re.escape(name) + r"\}[^\n]*\n(.*?)^```", text, re.M | re.S)


def _toctree_entries(docname: str) -> list[str]:
    """Docnames listed by the toctrees of one page, resolved against the page's folder."""
    text = (DOCS / f"{docname}.md").read_text(encoding="utf-8")
    folder = Path(docname).parent
    entries = []
    for body in _fenced_directives(text, "toctree"):
        for line in body.splitlines():
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            target = re.sub(r"^.*<(.+)>$", r"\1", line)  # "Title <page>"
            target = target.removesuffix(".md")
            entries.append(os.path.normpath((folder / target).as_posix()).replace(os.sep, "/"))
    return entries


def _autosummary_names(text: str) -> list[str]:
    """Names listed in the autosummary directives of an API page (eval-rst blocks)."""
    names = []
    for body in _fenced_directives(text, "eval-rst"):
        in_summary = False
        for line in body.splitlines():
            if line.startswith(".. autosummary::"):
                in_summary = True
                continue
            if in_summary:
                if line and not line.startswith(" "):
                    in_summary = False
                    continue
                item = line.strip()
                if item and not item.startswith(":"):
                    names.append(item)
    return names


def _walk_commands(command: click.Command, path: tuple[str, ...] = ("dopafit",)):
    """Every (path, command) of a click tree, as sphinx-click's ``:nested: full`` walks it."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name!r} but cannot load it"
            yield from _walk_commands(sub, (*path, name))


def test_api_reference_lists_every_public_name():
    names = _autosummary_names((DOCS / "reference" / "api.md").read_text(encoding="utf-8"))
    missing = sorted(set(dopafit.__all__) - set(names))
    assert not missing, f"docs/reference/api.md has no autosummary entry for {missing}"
    unknown = sorted(set(names) - set(dopafit.__all__))
    assert not unknown, f"docs/reference/api.md lists names not in dopafit.__all__: {unknown}"
    duplicated = sorted({n for n in names if names.count(n) > 1})
    assert not duplicated, f"docs/reference/api.md lists {duplicated} twice"


def test_api_reference_generates_a_page_per_name():
    text = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    for body in _fenced_directives(text, "eval-rst"):
        if ".. autosummary::" in body:
            assert ":toctree: generated" in body, "every autosummary block needs :toctree:"
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert re.search(r"^autosummary_generate = True", conf, re.M)


def test_cli_reference_covers_every_command():
    from dopafit.cli import _COMMANDS, cli

    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    directives = re.findall(r"^\.\. click:: ([\w.]+):(\w+)\n((?:   .*\n)*)", text, re.M)
    assert directives, "docs/reference/cli.md has no '.. click::' directive"
    documented = []
    for module, attr, options in directives:
        obj = getattr(__import__(module, fromlist=[attr]), attr)
        nested = re.search(r":nested: (\w+)", options)
        prog = re.search(r":prog: (.+)", options)
        assert prog and prog.group(1).strip() == "dopafit", ":prog: must be the command's name"
        if nested and nested.group(1) == "full":
            documented += [p for p, _ in _walk_commands(obj)]
        else:
            documented.append(("dopafit",))
    every = [p for p, _ in _walk_commands(cli)]
    missing = [" ".join(p) for p in every if p not in documented]
    assert not missing, f"docs/reference/cli.md does not document {missing}"
    # the lazy group lists every registered command, and every one has help to render
    assert {p[1] for p in every if len(p) == 2} == set(_COMMANDS)
    for path, command in _walk_commands(cli):
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    assert len(every) > len(_COMMANDS) + 1, "the nested walk found no subcommand"


def test_every_page_is_in_a_toctree():
    pages = _pages()
    listed = {"index"}
    for page in pages:
        listed.update(_toctree_entries(page))
    orphans = sorted(pages - listed)
    assert not orphans, f"pages in no toctree (add them to their section's index.md): {orphans}"
    missing = sorted(p for p in listed - pages)
    assert not missing, f"toctree entries without a page: {missing}"


def test_root_toctree_lists_the_five_sections():
    assert _toctree_entries("index") == [
        "getting-started",
        "tutorials/index",
        "howto/index",
        "explanation/index",
        "reference/index",
    ]


def test_tutorials_index_lists_every_notebook():
    # docs/conf.py replaces the marker by a toctree of every notebooks/*.py (converted)
    text = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    assert TUTORIALS_MARKER in text
    assert TUTORIALS_MARKER in (DOCS / "conf.py").read_text(encoding="utf-8")
    assert list((ROOT / "notebooks").glob("*.py")), "no notebooks/*.py to list"


def test_no_notebook_is_tracked_as_ipynb():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not tracked, f".ipynb files tracked by git (notebooks are notebooks/*.py): {tracked}"


def test_generated_folders_are_ignored():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for folder in ("docs/_build/", "docs/reference/generated/", "docs/tutorials/*.ipynb"):
        assert folder in ignored, f"{folder} is not in .gitignore"


def test_every_output_variable_has_a_description():
    # docs/reference/outputs.md renders these descriptions: none may be missing
    responses = dopafit.load_nwb(
        [
            ROOT / "data_samples" / "sub-sim01_ses-dist1.nwb",
            ROOT / "data_samples" / "sub-sim04_ses-classical1.nwb",
        ]
    )
    fit = dopafit.fit_expectiles(responses, n_splits=3, n_boot=3, seed=0)
    comparison = dopafit.compare(responses, n_sim=3, n_splits=3, n_boot=3, seed=0)
    cue = dopafit.simulate_discounting("delay-bimodal", "multi", n_units=8, n_trials=200, seed=0)
    discounting = dopafit.fit_discounting(cue, n_splits=3, n_boot=3, seed=0)
    timescales = dopafit.compare_timescales(cue, n_sim=3, n_splits=3, n_inner=2, seed=0)
    timing = dopafit.decode_timing(discounting, cue, cue_id=5, n_boot=3, n_folds=2)
    for kind, ds in (
        ("fit_expectiles", fit),
        ("compare", comparison),
        ("fit_discounting", discounting),
        ("compare_timescales", timescales),
        ("decode_timing", timing),
    ):
        missing = [k for k, v in ds.variables.items() if not v.attrs.get("description")]
        assert not missing, f"{kind} output variables without attrs['description']: {missing}"


@pytest.mark.slow
def test_site_builds_without_warnings(tmp_path):
    for module in ("sphinx", "myst_nb", "numpydoc", "sphinx_click", "jupytext", "ipykernel"):
        pytest.importorskip(module, reason="the docs extra is not installed: pip install .[docs]")
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-E", "-q", "-b", "html"]
    cmd += ["-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"the site build failed:\n{run.stderr[-20000:]}"
    for name in dopafit.__all__:
        assert (out / "reference" / "generated" / f"dopafit.{name}.html").is_file(), name
    for notebook in (ROOT / "notebooks").glob("*.py"):
        page = out / "tutorials" / f"{notebook.stem}.html"
        assert page.is_file(), f"no tutorial page for {notebook.name}"
    cli_page = (out / "reference" / "cli.html").read_text(encoding="utf-8")
    from dopafit.cli import cli

    for path, _ in _walk_commands(cli):  # sphinx-click: one section per command, id a-b-c
        assert f'id="{"-".join(path)}"' in cli_page, f"{' '.join(path)} not in the CLI reference"
