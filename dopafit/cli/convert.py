"""``dopafit convert``: turn lab-specific formats into NWB files that ``load_nwb`` reads."""

from __future__ import annotations

import click

from dopafit.cli._common import group, input_paths_argument, output_dir_option, overwrite_option


@group()
def convert():
    """Convert lab-specific recordings to NWB.

    \b
    Example:
      dopafit convert uchida-mat cells/*.mat -o nwb/
    """


@convert.command("uchida-mat")
@input_paths_argument("files")
@output_dir_option("Output folder for the NWB files (one per session).")
@overwrite_option("Replace existing NWB files.")
def uchida_mat(files, outdir, overwrite):
    """Convert Uchida-lab CommonFormat per-neuron MAT FILES (or folders of them) to NWB.

    Neurons with identical event arrays are one session and go into one file
    OUTDIR/<session>.nwb. Prints the files written. Relative paths start at the
    working folder; a folder stands for its *.mat files.

    \b
    Example:
      dopafit convert uchida-mat ../shared/data/dabney2020/cells -o nwb/
      dopafit convert uchida-mat cells/*.mat -o nwb/ --overwrite
    """
    from dopafit.io.uchida import convert_uchida_mat

    paths = convert_uchida_mat(list(files), outdir, overwrite=overwrite)
    for p in paths:
        click.echo(str(p))
    click.echo(f"{len(paths)} session file(s) written to {outdir}", err=True)
