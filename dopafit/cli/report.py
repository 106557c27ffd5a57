"""``dopafit report``: a self-contained HTML report (and figure files) from fit outputs."""

from __future__ import annotations

import click

from dopafit.cli._common import choice_option, command, count_option, option, output_file_option


def _formats(ctx, param, value: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower().lstrip(".") for f in str(value).split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise click.BadParameter(
            f"expected a comma-separated list of png, svg, pdf; got {value!r}",
            param_hint="--formats",
        )
    return formats


@command()
@click.argument("outdir", type=click.Path())
@output_file_option("HTML file to write (default: OUTDIR/report.html).")
@option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False),
    help="Also write every figure to this folder (for papers).",
)
@option(
    "--formats",
    default="png,svg",
    callback=_formats,
    help="Formats of the figure files: png (300 dpi), svg, pdf.",
)
@choice_option("--embed", ["png", "svg"], "How figures are embedded in the page.", default="png")
@option(
    "--comparison",
    type=click.Path(dir_okay=False),
    help="Comparison netCDF (default: OUTDIR/comparison.nc when it exists).",
)
@option("--title", help="Page title.")
@option("--no-decode", is_flag=True, help="Skip decoding the reward distribution.")
@count_option("--max-units", "Most units in the per-unit panel grid.", default=48)
def report(outdir, output, figures_dir, formats, embed, comparison, title, no_decode, max_units):
    """Write an HTML report of the fit outputs in OUTDIR.

    OUTDIR is a folder written by `dopafit fit` (population.nc, units.csv, and when present
    failures.csv and comparison.nc from `dopafit compare`), or one .nc output file. The page
    is a single file that works offline: figures are embedded, with no external CSS, script
    or font.

    \b
    Examples:
      dopafit fit nwb/ -o fits && dopafit compare fits && dopafit report fits
      dopafit report fits -o fits/report.html --figures fits/figures --formats png,svg,pdf
    """
    from dopafit.report.html import write_report

    path = write_report(
        outdir,
        output,
        figures_dir=figures_dir,
        formats=formats,
        embed=embed,
        title=title,
        comparison=comparison,
        decode=not no_decode,
        max_grid_units=max_units,
    )
    click.echo(f"report: {path}")
    if figures_dir:
        click.echo(f"figures: {figures_dir}")
