"""Small helpers shared by the CLI commands: option parsing, progress, failure tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click


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
    """Report each finished session: a tqdm bar on a terminal, log lines otherwise."""

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
    """Print a table of failed files with one-line reasons and save it as failures.csv."""
    import csv

    click.echo(f"{len(failed)} file(s) failed:", err=True)
    width = max(len(Path(r.path).name) for r in failed)
    for r in failed:
        click.echo(f"  {Path(r.path).name:<{width}}  {r.reason}", err=True)
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / "failures.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "reason"])
        writer.writerows([r.path, r.reason] for r in failed)
