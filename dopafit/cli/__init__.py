"""The ``dopafit`` command line: parse options, call the library, write outputs; no maths.

Subcommands live in their own modules under :mod:`dopafit.cli` and are imported only when
invoked, so ``dopafit --help`` stays fast. Every :class:`dopafit.DopafitError` is printed as
one line (``dopafit: error: ...``) with exit code 1; usage errors exit with code 2.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from dopafit._version import __version__
from dopafit.errors import DopafitError

# command name -> (module, function, one-line help shown in `dopafit --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "fit": ("dopafit.cli.fit", "fit", "Batch-fit sessions (resumable, parallel with dask)."),
    "compare": ("dopafit.cli.compare", "compare", "Calibrated comparison of TD accounts."),
    "simulate": ("dopafit.cli.simulate", "simulate", "Simulate sessions and write them as NWB."),
    "inspect": ("dopafit.cli.inspect", "inspect", "Show what an NWB file holds and how it loads."),
    "convert": ("dopafit.cli.convert", "convert", "Convert lab formats (Uchida MAT) to NWB."),
    "report": (
        "dopafit.cli.report",
        "report",
        "Write an HTML report (and PNG/SVG figures) from fit outputs.",
    ),
}


class _LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, cmd_name):
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attr, _ = entry
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dopafit")
def cli():
    """Fit distributional and classical TD accounts to dopamine recordings.

    Long commands show a progress bar when standard error is a terminal. Ctrl-C stops any
    command with one line and exit code 130, leaving no partial output file.

    \b
    Examples:
      dopafit simulate -o data_samples --preset samples
      dopafit COMMAND --help
    """


def _print_warnings_on_one_line() -> None:
    """Show dopafit's warnings as ``dopafit: warning: ...`` lines and its notes of expected
    conditions (:class:`~dopafit.errors.DopafitNote`) as ``dopafit: note: ...``, each text
    once per run."""
    import warnings

    from dopafit.errors import DopafitNote, DopafitWarning

    seen: set[str] = set()
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, DopafitWarning):
            default(message, category, filename, lineno, file, line)
            return
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            label = "note" if issubclass(category, DopafitNote) else "warning"
            click.echo(f"dopafit: {label}: {text}", err=True)

    warnings.showwarning = show


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) during a command. Not a :class:`KeyboardInterrupt`, so that no layer
    in between (click prints a blank line for those) turns it into something else; like it,
    it is no :class:`Exception`, so ``except Exception`` blocks let it through and every
    output written through :class:`dopafit.batch.atomic_path` removes its temporary file."""

    dopafit_interrupt = True  # what :func:`dopafit.errors.interrupted_in` looks for


def _raise_interrupted(signum, frame):
    raise Interrupted()


class _sigint_raises_interrupted:
    """Within the block, SIGINT raises :class:`Interrupted` (main thread only; the previous
    handlers and ``sys.unraisablehook`` are restored after).

    Python runs a signal handler wherever the main thread is, including in a ``__del__`` or a
    weakref callback run by the garbage collector, where an exception cannot propagate (it
    would be printed as "Exception ignored in ..." and the command would go on). The block's
    ``sys.unraisablehook`` therefore raises such an :class:`Interrupted` again 10 ms later,
    from SIGALRM, where it can propagate; where there is no ``signal.setitimer`` the command
    still ends with the interrupt's exit code (:attr:`pending`).
    """

    #: an Interrupted was swallowed and not raised again yet
    pending = False

    def __enter__(self):
        import signal
        import threading

        self.previous = self.alarm = None
        self.hook = sys.unraisablehook
        type(self).pending = False
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, _raise_interrupted)
            if hasattr(signal, "setitimer"):
                self.alarm = signal.signal(signal.SIGALRM, _raise_interrupted)
            sys.unraisablehook = self._redeliver
        return self

    def _redeliver(self, unraisable) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            self.hook(unraisable)
            return
        type(self).pending = True
        if self.alarm is not None:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0.01)

    def __exit__(self, *exc) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            sys.unraisablehook = self.hook
        if self.alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.alarm)


def _exit_interrupted():
    click.echo("dopafit: interrupted (Ctrl-C): unfinished outputs were not written", err=True)
    sys.exit(130)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dopafit`` console script and ``python -m dopafit``.

    Ctrl-C stops any command with one line (``dopafit: interrupted ...``) and exit code 130;
    outputs are written to temporary names and renamed when complete, so none is left
    half-written.
    """
    _print_warnings_on_one_line()
    try:
        with _sigint_raises_interrupted():
            cli.main(args=argv, prog_name="dopafit", standalone_mode=False)
        if _sigint_raises_interrupted.pending:  # swallowed and never raised again
            raise Interrupted()
    except (Interrupted, KeyboardInterrupt):
        _exit_interrupted()
    except click.exceptions.Abort:
        click.echo("dopafit: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        from dopafit.errors import interrupted_in

        if interrupted_in(exc):  # Ctrl-C while a compiled kernel or a reader returned
            _exit_interrupted()
        if isinstance(exc, DopafitError):
            click.echo(f"dopafit: error: {exc}", err=True)
            sys.exit(1)
        if os.environ.get("DOPAFIT_DEBUG"):
            raise
        text = " ".join(str(exc).split())
        click.echo(
            f"dopafit: error: {exc.__class__.__name__}: {text} "
            "(unexpected; set DOPAFIT_DEBUG=1 to see the traceback and report it)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
