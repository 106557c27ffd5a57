"""Every code block of README.md, data_samples/README.md and docs/**/*.md runs as written.

The rules (also in the docs' contributor notes) are those a page author follows:

- A file's blocks run in order, in one fresh working folder per file that holds a copy of
  ``data_samples/`` and where ``../shared/data`` resolves to the shared recordings (found at
  ``$DOPAFIT_SHARED_DATA`` or ``<repo>/../shared/data``). Files whose runnable blocks mention
  ``../shared/data`` are skipped, with a reason, when the recordings are absent.
- ``python`` blocks run in one namespace per file and must print nothing: what code prints is
  shown, and checked, in ``pycon`` blocks (doctest sessions in the same namespace, flags
  NUMBER, ELLIPSIS and NORMALIZE_WHITESPACE). MyST-NB ``{code-cell} python`` blocks run like
  python blocks (their output is shown by the executed page).
- ``bash`` blocks: every non-empty, non-comment line runs with bash in the working folder
  (the interpreter's ``bin`` first on PATH); lines starting with ``make``, ``pip`` or ``git``
  are set-up commands and are not run; a line ending in ``\\`` continues on the next one.
- A block preceded by the line ``<!-- file: NAME -->`` is written to NAME in the working
  folder. A file's blocks may take :data:`CPU_LIMIT` CPU seconds, or the number given on a
  line ``<!-- docs-cpu-limit: SECONDS -->`` of the page. Other known languages (:data:`SHOWN`) are not run; any other language, or a fence
  without one, fails :func:`test_every_block_has_a_known_language`.

Failures name the file and the line of the block (and, for python, the line in the file).
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUN_PYTHON = {"python"}
RUN_PYCON = {"pycon"}
RUN_BASH = {"bash"}
CODE_CELL_LANGUAGES = {"python", "python3", "ipython", "ipython3"}
#: languages shown but never run (outputs, configuration files, file listings)
SHOWN = {"text", "console", "toml", "yaml", "json", "ini", "csv", "output"}
#: MyST directives whose body is markup (may hold code blocks, which are parsed), not code
MARKUP_DIRECTIVE = re.compile(r"^\{[\w:-]+\}")
#: the class of a ``{code-block}`` that cannot run here (it needs the internet, a batch
#: scheduler or hours of CPU): shown, not run; the text just above it must say why
#: ("not run here: ..."), which :func:`test_not_run_blocks_say_why` checks
NOT_RUN_CLASS = "not-run"
#: MyST directives that display code: treated as a fenced block of their language
CODE_DIRECTIVE = re.compile(r"^\{(?:code-block|code|sourcecode)\}\s*(\S*)")
SETUP_COMMANDS = ("make", "pip", "git")
FILE_MARKER = re.compile(r"^<!--\s*file:\s*(\S+)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
SHARED_MARK = "../shared/data"

#: CPU seconds (this process and its children) one file's blocks may take; the rule is ~20 s,
#: the margin covers numba compiling its kernels on the first run in a fresh environment. A
#: page that needs more says so, visibly, with the line ``<!-- docs-cpu-limit: SECONDS -->``.
CPU_LIMIT = float(os.environ.get("DOPAFIT_DOCS_CPU_LIMIT", "40"))
CPU_LIMIT_MARK = re.compile(r"<!--\s*docs-cpu-limit:\s*(\d+(?:\.\d+)?)[^>]*-->")


@dataclass
class Block:
    """One fenced code block: ``line`` is the 1-based line of its opening fence."""

    path: Path
    line: int
    info: str
    text: str
    file_name: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def language(self) -> str:
        info = self.info.strip()
        m = re.match(r"^\{code-cell\}\s*(\S*)", info)
        if m:
            return "code-cell " + (m.group(1) or "")
        return info.split()[0] if info else ""

    @property
    def kind(self) -> str:
        """``python``, ``pycon``, ``bash``, ``file``, ``shown``, ``not-run`` or ``unknown``."""
        lang = self.language
        if "reason" in self.options:
            return "not-run"
        if self.file_name is not None:
            return "file"
        if lang.startswith("code-cell "):
            return "python" if lang.split()[1] in CODE_CELL_LANGUAGES else "unknown"
        if lang in RUN_PYTHON:
            return "python"
        if lang in RUN_PYCON:
            return "pycon"
        if lang in RUN_BASH:
            return "bash"
        if lang in SHOWN:
            return "shown"
        return "unknown"

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.line}"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def parse_blocks(text: str, path: Path, first_line: int = 1) -> list[Block]:
    """The fenced blocks of a Markdown text, in order, with their line numbers.

    Fences close on the same character repeated at least as often (CommonMark). The body of a
    MyST directive that is markup (``{note}``, ``{admonition}``, ...) is parsed for nested
    blocks; ``{code-cell}`` bodies lose their ``:option:`` lines and ``---`` front matter.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info").strip()
        start = i
        body: list[str] = []
        i += 1
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        while i < len(lines) and not closing.match(lines[i]):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1  # past the closing fence
        lineno = first_line + start
        display = CODE_DIRECTIVE.match(info)
        options: dict = {}
        if display:  # {code-block} python ... is a fenced block of that language
            body, options = _strip_cell_options(body)
            info = display.group(1)
            if NOT_RUN_CLASS in options.get("class", "").split():
                options["reason"] = " ".join(lines[max(0, start - 6) : start])
        elif MARKUP_DIRECTIVE.match(info) and not info.startswith("{code-cell}"):
            blocks.extend(parse_blocks("\n".join(body), path, lineno + 1))
            continue
        if info.startswith("{code-cell}"):
            body, options = _strip_cell_options(body)
        prev = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        fm = FILE_MARKER.match(prev.strip())
        blocks.append(
            Block(
                path,
                lineno,
                info,
                "\n".join(body) + "\n",
                fm.group(1) if fm else None,
                options,
            )
        )
    return blocks


def _strip_cell_options(body: list[str]) -> tuple[list[str], dict]:
    """A code cell's ``---`` front matter and ``:key: value`` lines, blanked so that line
    numbers still match the file."""
    options: dict = {}
    body = list(body)
    k = 0
    if body and body[0].strip() == "---":
        end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), None)
        if end is not None:
            for line in body[1:end]:
                key, _, value = line.partition(":")
                options[key.strip()] = value.strip()
            k = end + 1
    while k < len(body) and re.match(r"^:[\w-]+:", body[k]):
        key, _, value = body[k][1:].partition(":")
        options[key.strip()] = value.strip()
        k += 1
    return [""] * k + body[k:], options


def doc_files() -> list[Path]:
    """README.md, data_samples/README.md and every docs/**/*.md not built or ignored by git."""
    files = [ROOT / "README.md", ROOT / "data_samples" / "README.md"]
    docs = sorted(
        p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.relative_to(ROOT).parts
    )
    files += _not_ignored(docs)
    return [p for p in files if p.exists()]


def _not_ignored(paths: list[Path]) -> list[Path]:
    if not paths or shutil.which("git") is None or not (ROOT / ".git").exists():
        return paths
    proc = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        input="\n".join(str(p.relative_to(ROOT)) for p in paths),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    ignored = {ROOT / line for line in proc.stdout.splitlines() if line}
    return [p for p in paths if p not in ignored]


def shared_data() -> Path | None:
    env = os.environ.get("DOPAFIT_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if cand.is_dir() and any(cand.iterdir()):
            return cand.resolve()
    return None


# ----------------------------------------------------------------------------- doctest


class _NumberChecker(doctest.OutputChecker):
    """doctest's checker with NUMBER: a float written in the expected output matches any
    output number equal to it at the precision written (0.53 matches 0.5347...)."""

    _number = re.compile(
        r"(?P<number>(?P<mantissa>(?P<integer1>[+-]?\d*)\.(?P<fraction>\d+)"
        r"|(?P<integer2>[+-]?\d+)\.)(?:[Ee](?P<exponent1>[+-]?\d+))?"
        r"|(?P<integer3>[+-]?\d+)(?:[Ee](?P<exponent2>[+-]?\d+)))"
    )

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        if not optionflags & NUMBER:
            return False
        return super().check_output(want, self._align(want, got), optionflags)

    def _align(self, want: str, got: str) -> str:
        wants = list(self._number.finditer(want))
        gots = list(self._number.finditer(got))
        if len(wants) != len(gots):
            return got
        offset = 0
        for w, g in zip(wants, gots):
            fraction = w.group("fraction")
            exponent = w.group("exponent1") or w.group("exponent2")
            precision = len(fraction) if fraction else 0
            if exponent is not None:
                precision -= int(exponent)
            if abs(float(w.group()) - float(g.group())) <= 0.5 * 10.0 ** (-precision) + 1e-12:
                got = got[: g.start() + offset] + w.group() + got[g.end() + offset :]
                offset += len(w.group()) - len(g.group())
        return got


NUMBER = doctest.register_optionflag("NUMBER")
FLAGS = NUMBER | doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


# ----------------------------------------------------------------------------- running


class DocsCodeError(AssertionError):
    pass


def run_file(path: Path, workdir: Path, shared: Path | None) -> float:
    """Run every block of ``path`` in ``workdir``; returns the CPU seconds taken."""
    blocks = parse_blocks(path.read_text(encoding="utf-8"), path)
    _prepare_workdir(workdir, shared)
    namespace: dict = {"__name__": "__main__"}
    cpu0 = _cpu()
    old = Path.cwd()
    os.chdir(workdir)
    try:
        for block in blocks:
            kind = block.kind
            if kind == "file":
                target = workdir / block.file_name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text, encoding="utf-8")
            elif kind == "python":
                _run_python(block, namespace)
            elif kind == "pycon":
                _run_pycon(block, namespace)
            elif kind == "bash":
                _run_bash(block, workdir)
    finally:
        os.chdir(old)
        _close_figures()
    return _cpu() - cpu0


def _prepare_workdir(workdir: Path, shared: Path | None) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "data_samples", workdir / "data_samples")
    if shared is not None:
        link = workdir.parent / "shared" / "data"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(shared, target_is_directory=True)


def _cpu() -> float:
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _run_python(block: Block, namespace: dict) -> None:
    import contextlib
    import io
    import traceback

    code = "\n" * block.line + block.text  # tracebacks give the line in the Markdown file
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(block.path), "exec"), namespace)
    except Exception as exc:
        tb = traceback.format_exc(limit=-8)
        raise DocsCodeError(
            f"{block.where}: the {block.language} block raised {type(exc).__name__}: {exc}\n{tb}"
        ) from exc
    printed = out.getvalue()
    if printed.strip() and block.language == "python":
        raise DocsCodeError(
            f"{block.where}: the python block printed output the page does not show:\n"
            f"{printed[:2000]}\nShow it as a pycon block (>>> prompts and the printed output), "
            "so that the output is checked."
        )


def _run_pycon(block: Block, namespace: dict) -> None:
    parser = doctest.DocTestParser()
    try:
        examples = parser.get_examples(block.text)
    except ValueError as exc:
        raise DocsCodeError(f"{block.where}: malformed pycon block: {exc}") from exc
    if not examples:
        raise DocsCodeError(f"{block.where}: a pycon block without any >>> example")
    test = doctest.DocTest(examples, namespace, block.where, str(block.path), block.line, None)
    report: list[str] = []
    runner = doctest.DocTestRunner(checker=_NumberChecker(), optionflags=FLAGS, verbose=False)
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy of the namespace
    if runner.failures:
        raise DocsCodeError(
            f"{block.where}: {runner.failures} of {len(examples)} example(s) of the pycon "
            "block failed (lines below count from the opening fence):\n" + "".join(report)
        )


def bash_lines(block: Block) -> list[tuple[int, str]]:
    """(line number in the file, command) of every line of a bash block that is run."""
    lines: list[tuple[int, str]] = []
    pending, pending_line = "", 0
    for k, line in enumerate(block.text.splitlines(), start=block.line + 1):
        if pending:
            pending += "\n" + line
        else:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            pending, pending_line = line, k
        if pending.rstrip().endswith("\\"):
            continue
        if pending.split()[0] not in SETUP_COMMANDS:
            lines.append((pending_line, pending))
        pending = ""
    if pending:
        lines.append((pending_line, pending))
    return lines


def _run_bash(block: Block, workdir: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MPLBACKEND"] = "Agg"
    for lineno, command in bash_lines(block):
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise DocsCodeError(
                f"{_rel(block.path)}:{lineno}: `{command.strip()}` exited with "
                f"{proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}"
            )


# ----------------------------------------------------------------------------- tests


def _uses_shared(blocks: list[Block]) -> bool:
    return any(
        SHARED_MARK in b.text or "DOPAFIT_SHARED_DATA" in b.text
        for b in blocks
        if b.kind in ("python", "pycon", "bash", "file")
    )


FILES = doc_files()


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_docs_code_runs(path, tmp_path, monkeypatch, record_property):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # `dopafit` is on PATH for python blocks (subprocess) as for bash lines
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    blocks = parse_blocks(path.read_text(encoding="utf-8"), path)
    if not any(b.kind in ("python", "pycon", "bash") for b in blocks):
        return  # nothing to run (tables and prose only)
    shared = shared_data()
    if shared is None and _uses_shared(blocks):
        pytest.skip(
            f"{_rel(path)} uses ../shared/data: shared recordings not found at "
            "$DOPAFIT_SHARED_DATA or ../shared/data"
        )
    import matplotlib

    matplotlib.use("Agg")
    failure = None
    try:
        cpu = run_file(path, tmp_path / "work", shared)
    except DocsCodeError as exc:
        failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    record_property("cpu_seconds", round(cpu, 1))
    mark = CPU_LIMIT_MARK.search(path.read_text(encoding="utf-8"))
    limit = max(CPU_LIMIT, float(mark.group(1))) if mark else CPU_LIMIT
    assert cpu < limit, (
        f"{_rel(path)}: its blocks took {cpu:.0f} s CPU (limit {limit:.0f} s): choose "
        "smaller settings (n_splits, n_sim, n_boot) that still make the point"
    )


def test_every_block_has_a_known_language():
    unknown = [
        f"{b.where}: ```{b.info}"
        for path in FILES
        for b in parse_blocks(path.read_text(encoding="utf-8"), path)
        if b.kind == "unknown"
    ]
    assert not unknown, (
        "code blocks in a language the docs runner does not know (nothing may be silently "
        f"unrun): use python, pycon, bash, or one of {sorted(SHOWN)}:\n" + "\n".join(unknown)
    )


def test_not_run_blocks_say_why():
    silent = [
        f"{b.where}: a {NOT_RUN_CLASS} block with no 'not run' in the text just above it"
        for path in FILES
        for b in parse_blocks(path.read_text(encoding="utf-8"), path)
        if b.kind == "not-run" and "not run" not in b.options["reason"].lower()
    ]
    assert not silent, "\n".join(silent)
    demo = "Shown, not run here (it submits jobs):\n\n```{code-block} bash\n:class: not-run\nsbatch x\n```\n"
    assert [b.kind for b in parse_blocks(demo, Path("demo.md"))] == ["not-run"]
    assert parse_blocks("```{code-block} bash\nls\n```\n", Path("d.md"))[0].kind == "bash"


def test_runner_finds_the_pages():
    names = {_rel(p) for p in FILES}
    assert {"README.md", "data_samples/README.md"} <= names
    assert any(n.startswith("docs/") for n in names)
    assert not any("_build" in n for n in names)


def _commands(group, prefix=()):
    import click

    yield prefix, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            yield from _commands(group.get_command(ctx, name), (*prefix, name))


def test_every_command_help_has_an_example():
    """The README says every command's --help shows an example."""
    from click.testing import CliRunner

    from dopafit.cli import cli

    missing = []
    for names, _ in _commands(cli):
        res = CliRunner().invoke(cli, [*names, "--help"])
        assert res.exit_code == 0, res.output
        if not re.search(r"^\s*Examples?:\s*$", res.output, re.M) or "  dopafit " not in res.output:
            missing.append(" ".join(("dopafit", *names)))
    assert not missing, f"--help without an example: {missing}"


# ---- the runner itself, on small pages


def _page(tmp_path, text):
    path = tmp_path / "page.md"
    path.write_text(text)
    return path


def test_runner_parses_languages_lines_and_markers(tmp_path):
    text = (
        "# t\n\n<!-- file: cfg.toml -->\n```toml\na = 1\n```\n\n"
        "````{note}\nx\n```python\ny = 2\n```\n````\n\n"
        "```{code-cell} python\n:tags: [hide-input]\nz = 3\n```\n\n```\nbare\n```\n"
        "\n```{code-block} python\n:caption: c\nw = 4\n```\n```{code-block} sh\nls\n```\n"
    )
    blocks = parse_blocks(text, tmp_path / "p.md")
    assert [(b.line, b.kind) for b in blocks] == [
        (4, "file"),
        (10, "python"),
        (15, "python"),
        (20, "unknown"),
        (24, "python"),
        (28, "unknown"),
    ]
    assert blocks[0].file_name == "cfg.toml"
    assert blocks[2].text.strip() == "z = 3"


def test_runner_runs_and_checks_output(tmp_path):
    text = (
        "<!-- file: hello.txt -->\n```text\nhi\n```\n\n"
        "```python\nx = 0.123456\n```\n\n"
        "```pycon\n>>> print(round(x * 2, 6))\n0.25\n>>> open('hello.txt').read()\n'hi\\n'\n"
        ">>> y = x\n```\n\n```python\nassert y == x\n```\n\n"
        "```bash\nmake demo   # not run\ntest -f hello.txt && \\\n  test -d data_samples\n```\n"
    )
    run_file(_page(tmp_path, text), tmp_path / "work", None)


def test_runner_reports_file_and_line(tmp_path):
    path = _page(tmp_path, "x\n\n```pycon\n>>> 1 + 1\n3\n```\n")
    with pytest.raises(DocsCodeError, match=r"page.md:3: 1 of 1 example"):
        run_file(path, tmp_path / "w1", None)
    path = _page(tmp_path, "```python\na = 1\nb = 1 / 0\n```\n")
    with pytest.raises(DocsCodeError, match=r"page.md:1: the python block raised ZeroDivision"):
        run_file(path, tmp_path / "w2", None)
    path = _page(tmp_path, "```python\nprint(0.5)\n```\n")
    with pytest.raises(DocsCodeError, match="printed output the page does not show"):
        run_file(path, tmp_path / "w3", None)
    path = _page(tmp_path, "```bash\n# c\ntrue\nfalse  # fails\n```\n")
    with pytest.raises(DocsCodeError, match=r"page.md:4: `false  # fails` exited with 1"):
        run_file(path, tmp_path / "w4", None)


def test_number_flag(tmp_path):
    checker = _NumberChecker()
    assert checker.check_output("r 0.53, n 40\n", "r 0.5347, n 40\n", FLAGS)
    assert not checker.check_output("r 0.53, n 40\n", "r 0.5447, n 40\n", FLAGS)
    assert not checker.check_output("n 40\n", "n 41\n", FLAGS)
    assert checker.check_output("p 3e-09\n", "p 3.2e-09\n", FLAGS)


def test_runner_cpu_is_measured(tmp_path):
    t0 = time.process_time()
    cpu = run_file(_page(tmp_path, "```python\nsum(range(10))\n```\n"), tmp_path / "w", None)
    assert 0 <= cpu < 5 + time.process_time() - t0
