"""``dopafit inspect``: show what an NWB file holds and how ``load_nwb`` would read it."""

from __future__ import annotations

import json

import click

from dopafit.cli._common import command, option


@command()
@click.argument("path")
@option(
    "--trials-table",
    default="trials",
    help="Intervals table to check the column mapping against.",
)
@option("--reward", "reward", help="Reward column to check (default: reward and aliases).")
@option("--align", help="Alignment-event column to check (default: reward_time and aliases).")
@option("--units", help="HDF5 path of the Units table (default: auto-detect).")
@option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
@option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="For a URL: keep the fetched byte ranges in this folder.",
)
def inspect(path, trials_table, reward, align, units, as_json, cache_dir):
    """Print the units tables, intervals tables (columns, dtypes, first values) and time series
    of the NWB file PATH (a local file, an https:// URL or dandi://DANDISET/VERSION/path.nwb,
    read with range requests), then the mapping `load_nwb` would use and what is missing.

    \b
    Examples:
      dopafit inspect sub-01_ses-01.nwb
      dopafit inspect session.nwb --trials-table encoding_table --align cue_start_time
      dopafit inspect dandi://000006/draft/sub-anm369963/sub-anm369963_ses-20170228.nwb
    """
    from dopafit.io.nwb import describe_nwb, format_description

    mapping = {k: v for k, v in (("reward", reward), ("align", align), ("units", units)) if v}
    remote = {"cache_dir": cache_dir} if cache_dir else None
    info = describe_nwb(path, trials_table=trials_table, remote=remote, **mapping)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
    else:
        click.echo(format_description(info))
