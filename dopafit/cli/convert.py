"""``dopafit convert``: turn lab-specific formats into NWB files that ``load_nwb`` reads."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def convert():
    """Convert lab-specific recordings to NWB.

    \b
    Example:
      dopafit convert uchida-mat cells/*.mat -o nwb/
    """


@convert.command("uchida-mat")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder for the NWB files (one per session).",
)
@click.option("--overwrite", is_flag=True, help="Replace existing NWB files.")
def uchida_mat(files, outdir, overwrite):
    """Convert Uchida-lab CommonFormat per-neuron MAT FILES (or folders of them) to NWB.

    Neurons with identical event arrays are one session and go into one file
    OUTDIR/<session>.nwb. Prints the files written.
    """
    from dopafit.io.uchida import convert_uchida_mat

    paths = convert_uchida_mat(list(files), outdir, overwrite=overwrite)
    for p in paths:
        click.echo(str(p))
    click.echo(f"{len(paths)} session file(s) written to {outdir}", err=True)
