"""Helpers shared by the CLI commands: option decorators, progress, failure tables.

Each option that more than one command takes is defined here once (flags, type, default and
help text), so the commands stay in step; a command passes its own help text only where the
option means something more specific there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dopafit.outputs import FAILURES_FILE

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
"""Click context settings of every command: ``-h`` is a synonym of ``--help``."""

AXES = ("utility", "reward", "zscore")
"""Axes on which reversal points can be reported (``--axis``)."""


def command(name: str | None = None, **attrs):
    """A :func:`click.command` decorator that also accepts ``-h`` for help.

    Parameters
    ----------
    name : str, optional
        Command name (default: the function name, underscores as dashes).
    **attrs
        Passed to :func:`click.command`.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> from click.testing import CliRunner
    >>> @command()
    ... def hello():
    ...     "Say hello."
    >>> "Say hello." in CliRunner().invoke(hello, ["-h"]).output
    True
    """
    return click.command(name, context_settings=CONTEXT_SETTINGS, **attrs)


def group(name: str | None = None, **attrs):
    """A :func:`click.group` decorator that also accepts ``-h`` for help (see :func:`command`)."""
    return click.group(name, context_settings=CONTEXT_SETTINGS, **attrs)


def option(*param_decls: str, **attrs):
    """A :func:`click.option` whose default, when it has one, is shown in ``--help``.

    Parameters
    ----------
    *param_decls : str
        Flags and optionally the parameter name, as for :func:`click.option`.
    **attrs
        Passed to :func:`click.option`; ``show_default`` defaults to True when a
        ``default`` other than None is given.

    Returns
    -------
    callable
        The decorator.
    """
    if attrs.get("default") is not None:
        attrs.setdefault("show_default", True)
    return click.option(*param_decls, **attrs)


def count_option(flag: str, help: str, *, default: int | None = None, min: int = 1):
    """An option taking a whole number of at least ``min`` (e.g. ``--n-sim 1000``).

    Parameters
    ----------
    flag : str
        The long flag, e.g. ``"--n-sim"``; the parameter is named after it.
    help : str
        Help text.
    default : int, optional
        Default value, shown in ``--help``; None leaves the option unset when not given.
    min : int
        Smallest value accepted; smaller ones are a usage error (exit code 2).

    Returns
    -------
    callable
        The decorator.
    """
    return option(flag, type=click.IntRange(min=min), default=default, help=help)


def choice_option(flag: str, choices, help: str, *, default: str | None = None):
    """An option taking one of a fixed set of words (shown as ``[a|b|c]`` in ``--help``).

    Parameters
    ----------
    flag : str
        The long flag, e.g. ``"--embed"``; the parameter is named after it.
    choices : sequence of str
        The accepted values; any other is a usage error (exit code 2).
    help : str
        Help text.
    default : str, optional
        Default value, shown in ``--help``.

    Returns
    -------
    callable
        The decorator.
    """
    return option(flag, type=click.Choice(choices), default=default, help=help)


def input_paths_argument(name: str = "paths"):
    """A required argument taking one or more input paths (shown as ``NAME...`` in usage).

    Parameters
    ----------
    name : str
        Parameter name; its upper-case form is the metavar, e.g. ``PATHS...``.

    Returns
    -------
    callable
        The decorator.
    """
    return click.argument(name, nargs=-1, required=True)


def output_dir_option(help: str = "Output folder (created if needed)."):
    """The required ``-o/--output`` folder option, passed to the command as ``outdir``.

    Parameters
    ----------
    help : str
        Help text, for commands that say what the folder holds.

    Returns
    -------
    callable
        The decorator.
    """
    return option(
        "-o", "--output", "outdir", required=True, type=click.Path(file_okay=False), help=help
    )


def output_file_option(help: str):
    """The optional ``-o/--output`` file option, passed to the command as ``output``.

    Parameters
    ----------
    help : str
        Help text naming the file and its default location.

    Returns
    -------
    callable
        The decorator.
    """
    return option("-o", "--output", type=click.Path(dir_okay=False), help=help)


def overwrite_option(help: str):
    """The ``--overwrite`` flag.

    Parameters
    ----------
    help : str
        What the command does with existing outputs when the flag is given.

    Returns
    -------
    callable
        The decorator.
    """
    return option("--overwrite", is_flag=True, help=help)


def seed_option(default: int | None = 0, help: str = "Random seed."):
    """The ``--seed`` option (an integer).

    Parameters
    ----------
    default : int or None
        Default seed, shown in ``--help``; None leaves it to the settings.
    help : str
        Help text, for commands that say how the seed is used.

    Returns
    -------
    callable
        The decorator.
    """
    return option("--seed", type=int, default=default, help=help)


def axis_option(default: str = "utility"):
    """The ``--axis`` option choosing the axis of reversal points (one of :data:`AXES`).

    Parameters
    ----------
    default : str
        How the default is described in ``--help``; the option itself defaults to None
        so the command can fall back on its own choice.

    Returns
    -------
    callable
        The decorator.
    """
    return choice_option("--axis", AXES, f"Axis of reversal points (default: {default}).")


def n_splits_option(default: int | None = None, help: str = "Random split halves."):
    """The ``--n-splits`` option: number of random split halves (at least 1).

    Parameters
    ----------
    default : int or None
        Default, shown in ``--help``; None leaves it to the settings.
    help : str
        Help text.

    Returns
    -------
    callable
        The decorator.
    """
    return count_option("--n-splits", help, default=default)


def progress_option():
    """The ``--progress/--no-progress`` flag, passed as ``progress`` (None when not given:
    a bar only when standard error is a terminal; see :mod:`dopafit._progress`).

    Returns
    -------
    callable
        The decorator.
    """
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress bar on standard error (default: only when it is a terminal).",
    )


def parse_pair(text: str, name: str) -> list[float]:
    """Parse ``"0.2,0.6"`` into ``[0.2, 0.6]`` or raise a usage error naming the option."""
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        values = []
    if len(values) != 2 or not values[0] < values[1]:
        raise click.BadParameter(
            f"expected START,STOP with START < STOP, got {text!r}",
            param_hint=f"--{name.replace('_', '-')}",
        )
    return values


class progress_printer:
    """Report each finished session: a tqdm bar on a terminal, log lines otherwise; dopafit's
    warnings of the sessions (those that ask for an action) as one line each, each text once.
    The sessions' notes of expected conditions are not printed here: the summary counts them
    (:func:`dopafit._notes.notes_line`)."""

    def __init__(self, total: int, *, quiet: bool = False, verbose: bool = False):
        self.total = total
        self.count = 0
        self.failed = 0
        self.quiet = quiet
        tty = sys.stderr.isatty()
        self.lines = verbose or not tty
        self.bar = None
        if tty and not quiet and not verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="session", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, result) -> None:
        self.count += 1
        self.failed += result.status == "failed"
        for text in getattr(result, "warnings", ()):
            # re-raised here, in the command's process, so that they print as every dopafit
            # warning does: one line each, each text once per run (dopafit.cli.main)
            import warnings

            from dopafit.errors import DopafitWarning

            warnings.warn(text, DopafitWarning, stacklevel=1)
        if self.bar is not None:
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
        elif not self.quiet and self.lines:
            name = Path(result.path).name
            extra = f" ({result.seconds:.1f} s)" if result.status == "done" else ""
            why = f": {result.reason}" if result.status == "failed" else ""
            click.echo(f"[{self.count}/{self.total}] {result.status} {name}{extra}{why}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def print_failures(failed, outdir: Path) -> None:
    """Print a table of failed files with one-line reasons and save it as
    :data:`~dopafit.outputs.FAILURES_FILE` in ``outdir``."""
    import csv

    click.echo(f"{len(failed)} file(s) failed:", err=True)
    width = max(len(Path(r.path).name) for r in failed)
    for r in failed:
        click.echo(f"  {Path(r.path).name:<{width}}  {r.reason}", err=True)
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / FAILURES_FILE, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "reason"])
        writer.writerows([r.path, r.reason] for r in failed)
