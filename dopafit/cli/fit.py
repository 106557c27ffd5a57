"""``dopafit fit``: batch-fit sessions into an output folder (resumable, parallel)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from dopafit.cli._common import (
    axis_option,
    choice_option,
    command,
    count_option,
    input_paths_argument,
    n_splits_option,
    option,
    output_dir_option,
    overwrite_option,
    parse_pair,
    print_failures,
    progress_printer,
    seed_option,
)
from dopafit.outputs import POPULATION_FILE, UNITS_FILE


@command()
@input_paths_argument()
@output_dir_option()
@option(
    "--config",
    type=click.Path(dir_okay=False),
    help="TOML file with [load] and [fit] tables; flags given here override it.",
)
@count_option(
    "--workers", "Parallel local worker processes (one session each at a time).", default=1
)
@option("--scheduler", help="Address of a running dask scheduler, e.g. tcp://host:8786.")
@overwrite_option("Redo sessions whose output is up to date.")
@option("--window", help="Response window after the event, seconds: START,STOP.")
@option("--baseline", help="Baseline window before the trial's first event: START,STOP.")
@option("--trials-table", help="Name of the intervals table holding the trials.")
@option("--reward-column", help="Trials column holding the reward magnitude.")
@option("--align", help="Trials column holding the alignment event time.")
@option(
    "--columns",
    metavar="OPTION=COLUMN,...",
    help="Columns of table inputs (.csv, .tsv, .parquet: one row per unit and trial), e.g. "
    "unit=cell,reward=volume,response=dff; options unit, trial, reward, response, cued, "
    "event_time, session, subject (=none: not used). Other options in the [table] table of "
    "--config.",
)
@option(
    "--faithful",
    is_flag=True,
    default=None,
    help="Original smoothed-PSTH responses instead of spike counts.",
)
@axis_option()
@choice_option("--method", ["count", "kink"], "Reversal-point method.")
@n_splits_option()
@count_option("--n-boot", "Bootstrap resamples.", min=0)
@seed_option(None, "Random seed (results are identical for any --workers).")
@option(
    "--learning",
    metavar="MODEL",
    help="Also fit trial-by-trial learning models: all, or one of classical, "
    "asymmetric_learning, asymmetric_scaling, asymmetric_both (or SLSS, ALSS, SLAS, ALAS); "
    "other options in the [learning] table of --config.",
)
@count_option(
    "--learning-recovery",
    "Units of the model recovery written with the population's learning fit (0: none).",
    min=0,
)
@option(
    "--population/--no-population",
    default=True,
    help=f"Pool all units into {POPULATION_FILE} and {UNITS_FILE} after the sessions.",
)
@option("-q", "--quiet", is_flag=True, help="Print only the summary and failures.")
@option("-v", "--verbose", is_flag=True, help="Print one line per session even on a terminal.")
def fit(
    paths, outdir, config, workers, scheduler, overwrite, population, quiet, verbose, **options
):
    """Fit reversal points, asymmetric scaling and tau for every session in PATHS.

    PATHS are NWB files, folders (searched recursively for *.nwb) or glob patterns;
    tables of responses (.csv, .tsv, .parquet: one row per unit and trial) are read with
    their --columns.
    Each session is written to OUTDIR/sessions/NAME.nc; then all units are pooled into
    OUTDIR/population.nc and OUTDIR/units.csv. A rerun skips up-to-date sessions.
    With --learning, each output also holds a 'learning' group (fit_learning) and the
    population output a 'learning_recovery' group.
    Exit code: 0 all succeeded, 1 some failed, 2 usage error.

    \b
    Example:
      dopafit fit data/ -o fits --workers 2 --n-splits 1000 --seed 1
      dopafit fit 'raw/**/*.nwb' -o fits --config lab.toml
      dopafit fit data/ -o fits --learning all
      dopafit fit cells.csv -o fits --columns unit=cell,reward=volume,response=dff
    """
    from dopafit.batch import combine, find_inputs, run_batch

    settings = _settings(config, options)
    inputs = find_inputs(paths)
    if not inputs:
        raise click.UsageError("no input files found in PATHS")
    show = progress_printer(len(inputs), quiet=quiet, verbose=verbose)
    results = run_batch(
        inputs,
        outdir,
        settings,
        workers=workers,
        scheduler=scheduler,
        overwrite=overwrite,
        on_result=show,
    )
    show.close()
    pooled = combine(outdir, settings) if population else None
    _print_summary(results, pooled, Path(outdir))


#: ``dopafit fit`` option -> key of the [load] table
_LOAD_KEYS = {
    "window": "window",
    "baseline": "baseline",
    "trials_table": "trials_table",
    "reward_column": "reward",
    "align": "align",
    "faithful": "faithful",
}
#: ``dopafit fit`` option -> key of the [fit] table
_FIT_KEYS = {
    "axis": "axis",
    "method": "method",
    "n_splits": "n_splits",
    "n_boot": "n_boot",
    "seed": "seed",
}


def _settings(config, options: dict):
    """The batch settings: the config file's, overridden by the flags given, checked once."""
    from dopafit.batch import BatchSettings
    from dopafit.errors import ConfigError

    try:
        settings = BatchSettings.from_toml(config) if config else BatchSettings()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if options.get("learning") is not None:
        settings.learning["model"] = options["learning"]
    if options.get("learning_recovery") is not None:
        settings.learning_recovery = options["learning_recovery"]
    if options.get("columns") is not None:
        settings.table.update(parse_columns(options["columns"]))
    for flag, key in _LOAD_KEYS.items():
        value = options.get(flag)
        if value is not None:
            settings.load[key] = (
                parse_pair(value, flag) if flag in ("window", "baseline") else value
            )
    flags = {key: options[flag] for flag, key in _FIT_KEYS.items() if options.get(flag) is not None}
    try:
        settings.fit = dataclasses.replace(settings.fit, **flags)  # validated again
        settings.check(file=config)  # every table, once, before any work
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return settings


def parse_columns(text: str) -> dict:
    """``"unit=cell,reward=volume,cued=none"`` -> ``{"unit": "cell", "reward": "volume",
    "cued": None}`` (the names are checked with the settings)."""
    out = {}
    for item in str(text).split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(
                f"expected OPTION=COLUMN pairs separated by commas, got {item!r}",
                param_hint="--columns",
            )
        value = value.strip()
        out[key.strip()] = None if value.lower() == "none" else value
    return out


def _print_summary(results, pooled, outdir: Path) -> None:
    """One line of counts, the population file, and the failures (exit code 1 if any)."""
    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = [r for r in results if r.status == "failed"]
    click.echo(
        f"dopafit fit: {done} fitted, {skipped} up to date, {len(failed)} failed -> {outdir}"
    )
    if pooled is not None:
        click.echo(f"population: {pooled}")
    if failed:
        print_failures(failed, outdir)
        sys.exit(1)
