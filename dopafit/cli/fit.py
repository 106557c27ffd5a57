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
    "--delay-column",
    help="Trials column holding the cue-to-reward delay (or 'reward_time - cue_time'; "
    "default: a 'delay' column when present).",
)
@option(
    "--columns",
    metavar="OPTION=COLUMN,...",
    help="Columns of table inputs (.csv, .tsv, .parquet: one row per unit and trial), e.g. "
    "unit=cell,reward=volume,response=dff; options unit, trial, reward, response, cued, "
    "event_time, delay, session, subject (=none: not used). Other options in the [table] table of "
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
    "--discounting",
    is_flag=True,
    default=None,
    help="Fit the discounting model (fit_discounting: cue response against the reward "
    "delay) instead of reversal points: sessions are loaded aligned to the cue unless "
    "--align is given, and need a delay per trial (--delay-column); other options in the "
    "[discounting] table of --config (whose presence also asks for it).",
)
@option(
    "--population/--no-population",
    default=True,
    help=f"Pool all units into {POPULATION_FILE} and {UNITS_FILE} after the sessions.",
)
@option(
    "--write-nwb",
    is_flag=True,
    help="Also write each session's per-unit results into its source NWB file "
    "(processing/dopafit; with --overwrite, replace an existing one).",
)
@option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="For URLs among PATHS: keep the fetched byte ranges in this folder.",
)
@option("-q", "--quiet", is_flag=True, help="Print only the summary and failures.")
@option("-v", "--verbose", is_flag=True, help="Print one line per session even on a terminal.")
def fit(
    paths,
    outdir,
    config,
    workers,
    scheduler,
    overwrite,
    population,
    write_nwb,
    quiet,
    verbose,
    **options,
):
    """Fit reversal points, asymmetric scaling and tau for every session in PATHS.

    PATHS are NWB files, folders (searched recursively for *.nwb), glob patterns, https://
    URLs or DANDI assets dandi://DANDISET/VERSION/path.nwb (read with range requests);
    tables of responses (.csv, .tsv, .parquet: one row per unit and trial) are read with
    their --columns.
    Each session is written to OUTDIR/sessions/NAME.nc; then all units are pooled into
    OUTDIR/population.nc and OUTDIR/units.csv. A rerun skips up-to-date sessions.
    With --learning, each output also holds a 'learning' group (fit_learning) and the
    population output a 'learning_recovery' group.

    Expected conditions of a session (fewer than 3 fittable units, edge reversal points,
    trials dropped for NaN event times, flagged units) are not printed per session: one
    'notes' line at the end counts them with the sessions concerned, and they are recorded
    in each session's fit attrs 'notes' and in population.nc (fit attrs 'session_notes').
    Warnings printed during the run ask for an action. Ctrl-C stops cleanly: finished
    sessions are kept (a rerun resumes), no partial file is left, exit code 130.
    Exit code: 0 all succeeded, 1 some failed, 2 usage error.

    With --discounting (or a [discounting] table), each session is loaded aligned to the
    cue and fitted by dopafit.fit_discounting (the groups of the outputs are 'responses' and
    'discounting'; --n-splits, --n-boot and --seed set its options); a session without
    delays fails with one line in failures.csv and the batch goes on.

    \b
    Example:
      dopafit fit data/ -o fits --workers 2 --n-splits 1000 --seed 1
      dopafit fit 'raw/**/*.nwb' -o fits --config lab.toml
      dopafit fit data/ -o fits --learning all
      dopafit fit data/ -o fits --write-nwb
      dopafit fit https://host/a.nwb dandi://000006/draft/sub-x/sub-x_ses-y.nwb -o fits
      dopafit fit cells.csv -o fits --columns unit=cell,reward=volume,response=dff
      dopafit fit delays/ -o fits-delay --discounting --n-splits 200
    """
    from dopafit.batch import combine, find_inputs, run_batch

    settings = _settings(config, options)
    if write_nwb and settings.discounting is not None:
        raise click.UsageError("--write-nwb writes reversal-point fits; drop it with --discounting")
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
    pooled = combine(outdir, settings, progress=False if quiet else None) if population else None
    nwb_ok = _write_back(results, overwrite) if write_nwb else True
    _print_summary(results, pooled, Path(outdir))
    if not nwb_ok:
        sys.exit(1)


def _write_back(results, overwrite: bool) -> bool:
    """``--write-nwb``: each fitted session's results into its source file; one line each."""
    from dopafit.errors import DopafitError
    from dopafit.io.nwb_fit_write import write_fit_nwb
    from dopafit.outputs import FIT_GROUP, LEARNING_GROUP
    from dopafit.report.data import optional_groups
    from dopafit.schema import open_responses

    ok = True
    for r in results:
        if r.status == "failed" or not r.output:
            continue
        try:
            fit = open_responses(r.output, group=FIT_GROUP, validate=False)
            learning = optional_groups(Path(r.output), (LEARNING_GROUP,)).get(LEARNING_GROUP)
            write_fit_nwb(fit, r.path, learning=learning, overwrite=overwrite)
            click.echo(f"nwb: results written into {r.path} (processing/dopafit)")
        except DopafitError as exc:
            click.echo(f"nwb: {exc}", err=True)
            ok = False
    return ok


#: ``dopafit fit`` option -> key of the [load] table
_LOAD_KEYS = {
    "window": "window",
    "baseline": "baseline",
    "trials_table": "trials_table",
    "reward_column": "reward",
    "delay_column": "delay",
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
    if options.get("cache_dir"):
        settings.load["remote"] = {
            **settings.load.get("remote", {}),
            "cache_dir": options["cache_dir"],
        }
    if options.get("columns") is not None:
        settings.table.update(parse_columns(options["columns"]))
    for flag, key in _LOAD_KEYS.items():
        value = options.get(flag)
        if value is not None:
            settings.load[key] = (
                parse_pair(value, flag) if flag in ("window", "baseline") else value
            )
    flags = {key: options[flag] for flag, key in _FIT_KEYS.items() if options.get(flag) is not None}
    if options.get("discounting") and settings.discounting is None:
        settings.discounting = {}
    if settings.discounting is not None:  # the shared flags set the discounting options
        shared = {k: flags[k] for k in ("n_splits", "n_boot", "seed") if k in flags}
        settings.discounting = {**settings.discounting, **shared}
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
    """One line of counts, one line counting the expected conditions (notes), the population
    file, and the failures (exit code 1 if any)."""
    from dopafit._notes import notes_line

    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = [r for r in results if r.status == "failed"]
    click.echo(
        f"dopafit fit: {done} fitted, {skipped} up to date, {len(failed)} failed -> {outdir}"
    )
    notes = notes_line(results)
    if notes:
        where = f"{pooled.name} attrs 'session_notes' and " if pooled is not None else ""
        click.echo(f"{notes} (recorded in {where}each session's fit attrs 'notes')")
    if pooled is not None:
        click.echo(f"population: {pooled}")
    if failed:
        print_failures(failed, outdir)
        sys.exit(1)
