"""``dopafit compare``: simulation-calibrated comparison of the accounts on fitted responses."""

from __future__ import annotations

from pathlib import Path

import click

from dopafit.cli._common import (
    axis_option,
    command,
    count_option,
    n_splits_option,
    option,
    output_file_option,
    progress_option,
    seed_option,
)

ACCOUNTS = ("classical", "bias", "distributional", "sigmoid")


@command()
@click.argument("source", type=click.Path(exists=True))
@output_file_option("Comparison netCDF (default: comparison.nc beside the population file).")
@count_option("--n-sim", "Simulated datasets per account.", default=1000, min=10)
@n_splits_option(100, "Random split halves per dataset (observed and simulated alike).")
@option("--accounts", default=",".join(ACCOUNTS), help="Comma-separated accounts to simulate.")
@axis_option("the fit's, else utility")
@seed_option(0, "Random seed (results are identical for any --workers and --chunk-size).")
@count_option(
    "--workers",
    "Local dask worker processes running the chunks of simulations (1: this process).",
    default=1,
)
@option("--scheduler", help="Address of a running dask scheduler, e.g. tcp://host:8786.")
@count_option("--chunk-size", "Simulated datasets per chunk (default: automatic).")
@progress_option()
def compare(
    source, output, n_sim, n_splits, accounts, axis, seed, workers, scheduler, chunk_size, progress
):
    """Test classical TD, biased and distributional accounts on SOURCE.

    SOURCE is an output folder of `dopafit fit` (its population.nc is used), a netCDF file
    written by dopafit (a population or session file, or a responses file), or an NWB file
    (loaded with default options). Each account is fitted to the recording, simulated N times
    with the recording's own trials and noise, and passed through the identical pipeline;
    the observed statistics are placed in each simulated distribution.

    A progress bar (per account and chunk of simulations) is shown when standard error is a
    terminal. Ctrl-C stops the run: no comparison file is written, exit code 130.

    With --workers N (N > 1) the simulations run in chunks on a local dask cluster of N
    single-threaded worker processes; --scheduler runs them on an existing dask scheduler
    instead. The fits of the accounts, the observed statistics and the assembly stay in this
    process, and the result is identical to a run without either.

    Finished chunks are saved as they complete in a hidden folder beside the output
    (.NAME.chunks, removed once the comparison is written): a rerun after a crash or Ctrl-C
    computes only the missing ones; a changed input or setting starts afresh.

    On the output of `dopafit fit --discounting` (a population or session file holding a
    `discounting` group) it runs the timescale comparison instead
    (dopafit.compare_timescales: one shared discount factor against one per unit, and
    exponential against hyperbolic discounting) with --n-sim, --n-splits and --seed, and
    writes timescales.nc beside the population file; `dopafit report` shows it.

    \b
    Example:
      dopafit fit nwb/ -o fits && dopafit compare fits --n-sim 1000
      dopafit fit delays/ -o fits-delay --discounting && dopafit compare fits-delay
    """
    from dataclasses import replace

    from dopafit.stats.compare import CompareOptions

    if _discounting_source(Path(source)) is not None:
        if workers > 1 or scheduler or chunk_size:
            raise click.UsageError(
                "the timescale comparison runs in this process (numba kernels, parallel over "
                "the simulated datasets): drop --workers, --scheduler and --chunk-size"
            )
        _timescales(Path(source), output, n_sim, n_splits, seed, progress)
        return
    flags = {"accounts": accounts, "n_sim": n_sim, "n_splits": n_splits, "seed": seed}
    options = CompareOptions.from_dict(flags)  # checked before any data is read
    responses, default_out, fit_attrs = _load(Path(source))
    axis = axis or fit_attrs.get("axis")
    if axis:
        options = replace(options, axis=axis)
    out = Path(output) if output else default_out
    chunks = out.with_name(f".{out.name}.chunks")
    run = (workers, scheduler, chunk_size, chunks)
    result = _run(responses, options, Path(source), progress, *run)
    from dopafit.batch import atomic_path

    with atomic_path(out) as tmp:
        result.dopafit.to_netcdf(tmp)
    import shutil

    shutil.rmtree(chunks, ignore_errors=True)
    click.echo(result.dopafit.summary())
    click.echo(f"comparison: {out}")


def _discounting_source(source: Path) -> Path | None:
    """The file holding a discounting fit (group ``discounting``) that SOURCE names, or None."""
    from dopafit.errors import DopafitError
    from dopafit.outputs import DISCOUNTING_GROUP, FIT_GROUP, POPULATION_FILE

    path = source / POPULATION_FILE if source.is_dir() else source
    if not path.is_file() or path.suffix != ".nc":
        return None
    try:
        groups = _groups(path)
    except DopafitError:  # unreadable: the comparison's own reading says so, after the options
        return None
    return path if DISCOUNTING_GROUP in groups and FIT_GROUP not in groups else None


def _timescales(source: Path, output, n_sim: int, n_splits: int, seed: int, progress) -> None:
    """``dopafit compare`` on a discounting output: the calibrated timescale comparison."""
    from dopafit import schema
    from dopafit.batch import atomic_path
    from dopafit.errors import DopafitError
    from dopafit.outputs import RESPONSES_GROUP, TIMESCALES_FILE
    from dopafit.stats.timescales import compare_timescales

    path = _discounting_source(source)
    responses = schema.open_responses(path, group=RESPONSES_GROUP)
    try:
        result = compare_timescales(
            responses, n_sim=n_sim, n_splits=n_splits, seed=seed, progress=progress
        )
    except DopafitError as exc:
        if exc.file:
            raise
        raise type(exc)(
            exc.expected, found=exc.found, remedy=exc.remedy, file=path, problems=exc.problems
        ) from None
    out = Path(output) if output else path.parent / TIMESCALES_FILE
    with atomic_path(out) as tmp:
        result.dopafit.to_netcdf(tmp)
    click.echo(result.dopafit.summary())
    click.echo(f"timescale comparison: {out}")


def _load(source: Path):
    """Responses, the default output path and the fit attrs (if any) from SOURCE."""
    from dopafit import schema
    from dopafit.errors import NoDataError
    from dopafit.outputs import (
        COMPARISON_FILE,
        FIT_GROUP,
        POPULATION_FILE,
        RESPONSES_GROUP,
        comparison_beside,
    )

    if source.is_dir():
        population = source / POPULATION_FILE
        if not population.exists():
            raise NoDataError(
                f"a dopafit fit output folder holding {POPULATION_FILE}",
                found="no population file",
                file=source,
                remedy="run `dopafit fit ... -o FOLDER` first, or pass a file",
            )
        source = population
    if source.suffix == ".nwb":
        from dopafit.io.nwb import load_nwb

        return load_nwb(source), comparison_beside(source), {}
    groups = _groups(source)
    if RESPONSES_GROUP in groups:
        responses = schema.open_responses(source, group=RESPONSES_GROUP)
        fit_attrs = {}
        if FIT_GROUP in groups:
            fit_attrs = schema.open_responses(source, group=FIT_GROUP, validate=False).attrs
        return responses, source.parent / COMPARISON_FILE, fit_attrs
    return schema.open_responses(source), comparison_beside(source), {}


def _groups(source: Path) -> set[str]:
    """The HDF5 groups of SOURCE (a named error if it is not an HDF5/netCDF4 file)."""
    import h5py

    from dopafit.errors import NotNWBError

    try:
        with h5py.File(source, "r") as handle:
            return set(handle.keys())
    except OSError as exc:
        raise NotNWBError(
            "a netCDF4/HDF5 file written by dopafit, an NWB file or a `dopafit fit` folder",
            found=f"an unreadable file ({exc.__class__.__name__}: {exc})",
            remedy="pass a file written by dopafit (it may be truncated) or an NWB file",
            file=source,
        ) from None


def _run(
    responses,
    options,
    source: Path,
    progress=None,
    workers=1,
    scheduler=None,
    chunk=None,
    resume=None,
):
    """The comparison (on a dask cluster with ``workers`` > 1 or a ``scheduler``; finished
    chunks saved in ``resume``); its errors name SOURCE, the file the user passed."""
    from dopafit.errors import DopafitError
    from dopafit.stats.compare import run_comparison

    try:
        if scheduler is None and workers <= 1:
            return run_comparison(
                responses, options, progress=progress, chunk_size=chunk, resume=resume
            )
        from dopafit.batch import dask_client

        with dask_client(workers, scheduler) as client:
            return run_comparison(
                responses,
                options,
                progress=progress,
                chunk_size=chunk,
                client=client,
                resume=resume,
            )
    except DopafitError as exc:
        if exc.file == str(source):
            raise
        raise type(exc)(
            exc.expected,
            found=exc.found,
            remedy=exc.remedy,
            file=source,
            problems=exc.problems,
        ) from None
