"""``dopafit report``: a self-contained HTML report (and figure files) from fit outputs."""

from __future__ import annotations

import click


def _formats(ctx, param, value: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower().lstrip(".") for f in str(value).split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise click.BadParameter(
            f"expected a comma-separated list of png, svg, pdf; got {value!r}",
            param_hint="--formats",
        )
    return formats


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("outdir", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="HTML file to write (default: OUTDIR/report.html).",
)
@click.option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False),
    help="Also write every figure to this folder (for papers).",
)
@click.option(
    "--formats",
    default="png,svg",
    show_default=True,
    callback=_formats,
    help="Formats of the figure files: png (300 dpi), svg, pdf.",
)
@click.option(
    "--embed",
    type=click.Choice(["png", "svg"]),
    default="png",
    show_default=True,
    help="How figures are embedded in the page.",
)
@click.option(
    "--comparison",
    type=click.Path(dir_okay=False),
    help="Comparison netCDF (default: OUTDIR/comparison.nc when it exists).",
)
@click.option("--title", help="Page title.")
@click.option("--no-decode", is_flag=True, help="Skip decoding the reward distribution.")
@click.option(
    "--max-units",
    type=click.IntRange(min=1),
    default=48,
    show_default=True,
    help="Most units in the per-unit panel grid.",
)
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
