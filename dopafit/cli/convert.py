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
@overwrite_option("Replace existing NWB files that differ from the new ones.")
def uchida_mat(files, outdir, overwrite):
    """Convert Uchida-lab CommonFormat per-neuron MAT FILES (or folders of them) to NWB.

    Neurons with identical event arrays are one session and go into one file
    OUTDIR/<session>.nwb. Prints each file with what happened to it: written,
    unchanged (an identical file was already there, so a rerun is safe) or replaced
    (--overwrite, the file differed). Relative paths start at the working folder; a
    folder stands for its *.mat files.

    \b
    Example:
      dopafit convert uchida-mat ../shared/data/dabney2020/cells -o nwb/
      dopafit convert uchida-mat cells/*.mat -o nwb/ --overwrite
    """
    from collections import Counter

    from dopafit.io.uchida import convert_with_status

    written = convert_with_status(list(files), outdir, overwrite=overwrite)
    for path, status in written:
        click.echo(f"{path}  {status}")
    counts = Counter(status for _, status in written)
    done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"{len(written)} session file(s) in {outdir}: {done}", err=True)
