"""Sphinx configuration of the dopafit site (``make docs``; see docs/reference/index.md).

Pages are MyST Markdown (myst-nb), the API reference is generated from the numpydoc docstrings
(autosummary), the CLI reference from the click commands (sphinx-click), and the tutorials are
``notebooks/*.py`` (jupytext percent scripts) converted here to ``docs/tutorials/NAME.ipynb``
(git-ignored) and executed by myst-nb on every build. A notebook is a page of the tutorials
folder: its Markdown links are relative to ``docs/tutorials/`` (``../explanation/fitting.md``),
or absolute roles such as {doc}`</explanation/fitting>`. Nothing is fetched
from the network: no intersphinx, the theme's assets are bundled.

Settings read from the environment:

``DOPAFIT_DOCS_EXECUTE``
    ``1`` (the default): execute every notebook at full settings and every executed page;
    ``quick``: the same with ``DOPAFIT_NOTEBOOK_QUICK=1`` (the notebooks' small settings, as
    in the test suite); ``0``: execute nothing (``make docs-check``: links, references and
    markup only).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
TUTORIALS = DOCS / "tutorials"  # where the converted notebooks are written

sys.path.insert(0, str(ROOT))  # the checkout's dopafit, also when it is not installed

import dopafit  # noqa: E402

# -- project -------------------------------------------------------------------------------------
project = "dopafit"
author = "the dopafit developers"
copyright = "the dopafit developers"
release = dopafit.__version__
version = release

# -- extensions ----------------------------------------------------------------------------------
extensions = [
    "myst_nb",  # MyST Markdown pages and notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_click",
]

# .rst first: autosummary writes its generated pages (reStructuredText) with the first suffix
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "**/.ipynb_checkpoints",
    "Thumbs.db",
    ".DS_Store",
]
templates_path = ["_templates"]

# Every problem is an error (``-W``): a broken Markdown link, a missing anchor or document, an
# unknown role target. ``nitpicky`` makes a role to a dopafit object that has no reference page
# fail as well; external names (numpy, pandas, xarray, builtins, ...) cannot be resolved without
# intersphinx (the build is offline), so they are exempt below.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(numpy|np|pandas|pd|xarray|xr|scipy|matplotlib|mpl|dask|distributed|pynwb|hdmf|h5py"
        r"|click|pathlib|os|typing|collections|datetime|numbers|concurrent|statsmodels)(\..*)?",
    ),
    (
        r"py:.*",
        r"(int|float|str|bool|None|list|dict|tuple|set|frozenset|bytes|object|callable|type"
        r"|Path|PathLike|Sequence|Mapping|Iterable|Iterator|Callable|Any|Literal|Optional"
        r"|array|array-like|array_like|ndarray|DataFrame|Series|Dataset|DataArray|Figure|Axes"
        r"|Exception|ValueError|TypeError|KeyError|FileNotFoundError|OSError|RuntimeError"
        r"|UserWarning|Warning|ImportError|LookupError)",
    ),
]


def _python_object_exists(target: str, modules: list[str]) -> bool:
    """Whether ``target`` names an importable Python object, alone or inside one of ``modules``."""
    import importlib

    for name in [target, *(f"{m}.{target}" for m in modules)]:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except Exception:
                continue
            try:
                for part in parts[i:]:
                    obj = getattr(obj, part)
            except AttributeError:
                break
            return True
    return False


def _internal_reference(app, env, node, contnode):
    """Let a role to a real but undocumented dopafit object render as code, without a link.

    Docstrings name private helpers and modules (``dopafit.seeds``, ``fit_with_options``) that
    have no reference page: those exist, so they are shown as code. A role whose target does not
    exist at all (a typo, a renamed function) is left unresolved and fails the build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    modules = [m for m in (node.get("py:module"),) if m]
    origin = re.search(r"docstring of ([\w.]+)", str(node.source or ""))
    if origin:  # the docstring's own module, e.g. dopafit.fit.expectile
        parts = origin.group(1).split(".")
        modules += [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    if not (target.startswith("dopafit") or any(m.startswith("dopafit") for m in modules)):
        return None
    return contnode if _python_object_exists(target, modules) else None


# -- MyST ----------------------------------------------------------------------------------------
myst_enable_extensions = [
    "colon_fence",  # ::: fences for directives that hold Markdown
    "dollarmath",  # $...$ and $$...$$
    "amsmath",
    "deflist",
    "fieldlist",
    "substitution",
    "attrs_inline",
]
myst_heading_anchors = 3  # [text](page.md#a-heading) for headings down to ###
suppress_warnings: list[str] = []

# -- notebooks (myst-nb) -------------------------------------------------------------------------
_execute = os.environ.get("DOPAFIT_DOCS_EXECUTE", "1").strip().lower()
if _execute not in ("0", "1", "quick"):
    raise ValueError(f"DOPAFIT_DOCS_EXECUTE must be 0, 1 or quick, not {_execute!r}")
nb_execution_mode = "off" if _execute == "0" else "force"
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True  # ... with its traceback in the log
nb_execution_timeout = 600  # s per cell; a notebook should take < 90 s at full settings
nb_execution_in_temp = False  # run in the page's folder; notebooks walk up to data_samples/
nb_kernel_rgx_aliases = {".*": "python3"}  # the kernel of the Python that builds the site
nb_merge_streams = True
nb_render_markdown_format = "myst"  # Markdown outputs (tables) rendered like the pages

# Notebook kernels inherit this process's environment: full settings (unless quick), figures
# inline.
if _execute == "quick":
    os.environ["DOPAFIT_NOTEBOOK_QUICK"] = "1"
else:
    os.environ.pop("DOPAFIT_NOTEBOOK_QUICK", None)
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger notice in kernels
_shared = ROOT.parent / "shared" / "data"
if "DOPAFIT_SHARED_DATA" not in os.environ and _shared.is_dir():
    os.environ["DOPAFIT_SHARED_DATA"] = str(_shared)

# Tutorials: the order in which known notebooks appear; any other notebooks/*.py follow,
# alphabetically, so a new notebook is listed without editing anything.
TUTORIAL_ORDER = ["quickstart", "dabney2020", "photometry", "probability_task", "learning_models"]


def tutorial_names() -> list[str]:
    """The stems of ``notebooks/*.py`` in the order of the tutorials section."""
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.py") if not p.name.startswith("_"))
    rank = {name: i for i, name in enumerate(TUTORIAL_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def convert_notebooks() -> list[Path]:
    """Write ``notebooks/*.py`` as ``docs/tutorials/*.ipynb`` (jupytext).

    A notebook is rewritten only when its content changed, so that an incremental build re-runs
    only the notebooks that changed; stale ones (their script was removed) are deleted. No
    ``.ipynb`` is tracked by git: every one in ``docs/tutorials/`` is written here.
    """
    import jupytext

    written = []
    for name in tutorial_names():
        if (TUTORIALS / f"{name}.md").exists():
            raise ValueError(f"notebooks/{name}.py would replace docs/tutorials/{name}.md")
        nb = jupytext.read(NOTEBOOKS / f"{name}.py")
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        text = jupytext.writes(nb, fmt="ipynb")
        target = TUTORIALS / f"{name}.ipynb"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    for old in TUTORIALS.glob("*.ipynb"):
        if old not in written:
            old.unlink()
    return written


TUTORIALS_MARKER = "<!-- tutorials: the notebooks, listed by docs/conf.py -->"


def _convert_notebooks(app, config):
    convert_notebooks()


def _list_tutorials(app, docname, source):
    """Replace the marker in tutorials/index.md by a toctree of the converted notebooks."""
    if docname != "tutorials/index" or TUTORIALS_MARKER not in source[0]:
        return
    entries = "\n".join(tutorial_names())
    toctree = f"```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n"
    source[0] = source[0].replace(TUTORIALS_MARKER, toctree)


def _always_reread_tutorials_index(app, env, added, changed, removed):
    """The tutorials list depends on notebooks/, which Sphinx does not watch."""
    return ["tutorials/index"]


# -- API reference -------------------------------------------------------------------------------
autosummary_generate = True  # one page per public name, in docs/reference/generated/ (ignored)
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc sections carry the types; signatures stay short
autodoc_preserve_defaults = True
numpydoc_show_class_members = False  # class pages list their members (see _templates)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_use_plots = False

# -- CLI reference (sphinx-click) ---------------------------------------------------------------
# click help texts are written for a terminal: ``\b`` paragraphs (examples) and glob patterns such
# as ``*.nwb``. sphinx-click reads them as reStructuredText; these hooks show the examples as code
# blocks and keep ``*`` literal.


def _escape_rst(line: str) -> str:
    return line.replace("*", r"\*")


def _click_description(app, ctx, lines):
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("| "):
            out.append(_escape_rst(lines[i]))
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].startswith("| "):
            block.append(lines[i][2:])
            i += 1
        if not block[0].startswith(" ") and block[0].rstrip().endswith(":"):
            out += [_escape_rst(block[0]), ""]  # "Example:" stays a paragraph
            block = block[1:]
        if block:
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip())
            out += [".. code-block:: bash", ""] + ["   " + b[indent:] for b in block] + [""]
    lines[:] = out


def _click_options(app, ctx, lines):
    lines[:] = [line if line.lstrip().startswith("..") else _escape_rst(line) for line in lines]


# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"dopafit {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}


def setup(app):
    app.connect("config-inited", _convert_notebooks)
    app.connect("source-read", _list_tutorials)
    app.connect("missing-reference", _internal_reference)
    app.connect("env-get-outdated", _always_reread_tutorials_index)
    app.connect("sphinx-click-process-description", _click_description)
    app.connect("sphinx-click-process-options", _click_options)
    app.connect("sphinx-click-process-arguments", _click_options)
    app.connect("sphinx-click-process-epilog", _click_description)
