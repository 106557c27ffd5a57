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
@seed_option()
def compare(source, output, n_sim, n_splits, accounts, axis, seed):
    """Test classical TD, biased and distributional accounts on SOURCE.

    SOURCE is an output folder of `dopafit fit` (its population.nc is used), a netCDF file
    written by dopafit (a population or session file, or a responses file), or an NWB file
    (loaded with default options). Each account is fitted to the recording, simulated N times
    with the recording's own trials and noise, and passed through the identical pipeline;
    the observed statistics are placed in each simulated distribution.

    \b
    Example:
      dopafit fit nwb/ -o fits && dopafit compare fits --n-sim 1000
    """
    from dataclasses import replace

    from dopafit.stats.compare import CompareOptions, run_comparison

    flags = {"accounts": accounts, "n_sim": n_sim, "n_splits": n_splits, "seed": seed}
    options = CompareOptions.from_dict(flags)  # checked before any data is read
    responses, default_out, fit_attrs = _load(Path(source))
    axis = axis or fit_attrs.get("axis")
    if axis:
        options = replace(options, axis=axis)
    result = run_comparison(responses, options)
    out = Path(output) if output else default_out
    from dopafit.batch import atomic_path

    with atomic_path(out) as tmp:
        result.dopafit.to_netcdf(tmp)
    click.echo(result.dopafit.summary())
    click.echo(f"comparison: {out}")


def _load(source: Path):
    """Responses, the default output path and the fit attrs (if any) from SOURCE."""
    from dopafit import schema
    from dopafit.errors import NoDataError
    from dopafit.outputs import COMPARISON_FILE, POPULATION_FILE, comparison_beside

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
    import h5py

    with h5py.File(source, "r") as handle:
        groups = set(handle.keys())
    if "responses" in groups:
        responses = schema.open_responses(source, group="responses")
        fit_attrs = {}
        if "fit" in groups:
            fit_attrs = schema.open_responses(source, group="fit", validate=False).attrs
        return responses, source.parent / COMPARISON_FILE, fit_attrs
    return schema.open_responses(source), comparison_beside(source), {}
