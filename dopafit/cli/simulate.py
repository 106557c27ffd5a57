"""``dopafit simulate``: simulate spike-train sessions and write them as NWB files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click

from dopafit.cli._common import (
    choice_option,
    command,
    count_option,
    option,
    output_dir_option,
    overwrite_option,
    seed_option,
)

_KINDS = ["classical", "distributional", "bias", "sigmoid"]
#: delay tasks and their population kinds (dopafit.simulate_delay_session)
_DELAY_TASKS = ["delay", "delay-bimodal"]
_DELAY_KINDS = ["single", "multi", "hyperbolic"]


@command()
@output_dir_option()
@choice_option(
    "--preset",
    ["samples"],
    "A named set of sessions; 'samples' regenerates data_samples/ exactly "
    "(other simulation options are then not allowed).",
)
@choice_option(
    "--task",
    ["dabney", "variable_probability", *_DELAY_TASKS],
    "Task: reward distribution(s) and cue structure; delay and delay-bimodal are delay "
    "tasks (cues predicting reward after 0.5, 1.5, 3 or 6 s; delay-bimodal adds a cue "
    "predicting 1 s or 6 s).",
    default="dabney",
)
@choice_option(
    "--population",
    _KINDS + _DELAY_KINDS,
    "Population kind; for delay tasks single (one discount factor), multi (one per unit, "
    "the default there) or hyperbolic. [default: distributional]",
)
@option(
    "--delays",
    help="Delay tasks: the cues' delays in seconds, e.g. 0.5,1.5,3,6 (default of the task).",
)
@count_option("--n-units", "Units/session.", default=30)
@count_option("--n-trials", "Trials/session.", default=250)
@count_option("--n-sessions", "Sessions.", default=1)
@seed_option(help="Random seed; session k (0, 1, ...) uses SEED + k.")
@option(
    "--cued-fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    help="Probability that a trial is cued.",
)
@overwrite_option("Replace existing files that differ.")
def simulate(
    outdir,
    preset,
    task,
    population,
    delays,
    n_units,
    n_trials,
    n_sessions,
    seed,
    cued_fraction,
    overwrite,
):
    """Simulate sessions of model dopamine units and write one NWB file per session.

    Units fire as inhomogeneous Poisson processes around cue and reward events; the mean
    rate change 0.2-0.6 s after reward is the unit's configured response. Ground truth
    (true_reversal_point, true_tau, ...) is stored in the units table. Files are named
    sub-SUBJECT_ses-SESSION.nwb; identical settings give byte-identical files. An
    existing file is left alone when identical to the new one ("unchanged") and replaced
    only with --overwrite. Prints one line per file. --preset also writes MANIFEST.json
    (checksums and library versions).

    Delay tasks (--task delay) simulate cue responses that discount the reward delay
    (dopafit.simulate_delay_session): the trials table holds each trial's delay, the units
    table true_gamma, true_amplitude, true_asymptote, ...; load them with
    dopafit.load_nwb(file, align="cue_time") or fit them with dopafit fit --discounting.

    \b
    Examples:
      dopafit simulate --preset samples -o data_samples
      dopafit simulate -o sims --population classical --n-sessions 3 --seed 7
      dopafit simulate -o delays --task delay --population multi --n-sessions 2
    """
    from dopafit.simulate import PRESETS, preset_sessions, simulate_session

    out = Path(outdir)
    if preset:
        ctx = click.get_current_context()
        names = (
            "task",
            "population",
            "delays",
            "n_units",
            "n_trials",
            "n_sessions",
            "seed",
            "cued_fraction",
        )
        changed = [
            name
            for name in names
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if changed:
            flags = ", ".join("--" + c.replace("_", "-") for c in changed)
            raise click.UsageError(f"--preset fixes every simulation setting; drop {flags}")
        files = [name for name, _ in PRESETS[preset]]
        jobs = preset_sessions(preset)
    else:
        population, make = _kind_and_maker(task, population, delays)
        seeds = [seed + k for k in range(n_sessions)]
        files = [f"sub-sim_ses-{population}-{task}-seed{s}.nwb" for s in seeds]

        def _jobs():
            for name, s in zip(files, seeds):
                if make is not None:
                    yield name, make(s, n_units, n_trials, f"{population}-{task}-seed{s}")
                    continue
                session = simulate_session(
                    task,
                    population,
                    n_units,
                    n_trials,
                    seed=s,
                    cued_fraction=cued_fraction,
                    session_id=f"{population}-{task}-seed{s}",
                    subject_id="sim",
                )
                yield name, session

        jobs = _jobs()
    for name, session in jobs:
        status = _write(session, out / name, overwrite)
        click.echo(
            f"{out / name}  {status} ({session.n_units} units, {session.n_trials} trials, "
            f"{sum(len(s) for s in session.spike_times)} spikes)"
        )
    if preset:
        manifest = _write_manifest(out, files, preset)
        click.echo(f"{manifest}  written (file checksums and library versions)")


def _kind_and_maker(task: str, population: str | None, delays: str | None):
    """The population kind, and for delay tasks a function making one session from
    ``(seed, n_units, n_trials, session_id)`` (None for the reward tasks)."""
    ctx = click.get_current_context()
    if task not in _DELAY_TASKS:
        if population in _DELAY_KINDS:
            raise click.UsageError(
                f"--population {population} is a kind of the delay tasks; use --task delay "
                f"or one of {', '.join(_KINDS)}"
            )
        if delays is not None:
            raise click.UsageError("--delays needs a delay task (--task delay)")
        return population or "distributional", None
    population = population or "multi"
    if population not in _DELAY_KINDS:
        raise click.UsageError(
            f"delay tasks take --population {', '.join(_DELAY_KINDS)}; got {population}"
        )
    if ctx.get_parameter_source("cued_fraction") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError(
            "--cued-fraction does not apply to delay tasks (every trial is cued)"
        )
    from dopafit.errors import ConfigError
    from dopafit.simulate import DelayTask, get_delay_task, simulate_delay_session

    spec = get_delay_task(task)
    if delays is not None:
        try:
            values = [float(v) for v in delays.split(",")]
            spec = DelayTask(delays=values, mixtures={c: (d, p) for c, d, p in spec.mixtures})
        except (ValueError, ConfigError) as exc:
            raise click.BadParameter(str(exc), param_hint="--delays") from None

    def make(seed, n_units, n_trials, session_id):
        return simulate_delay_session(
            spec, population, n_units, n_trials, seed=seed, session_id=session_id
        )

    return population, make


def _write(session, target: Path, overwrite: bool) -> str:
    """Write one file; an existing identical file is left alone ("unchanged")."""
    from dopafit.io.nwb_write import write_nwb_status

    return write_nwb_status(session, target, overwrite=overwrite)


def _write_manifest(out: Path, files: list[str], preset: str) -> Path:
    """MANIFEST.json: SHA-256 of each file and the versions of the libraries that wrote them.

    File bytes depend on numpy (random streams), pynwb/hdmf (NWB schema) and h5py/HDF5
    (file layout); tests compare bytes only when these versions match.
    """
    from dopafit.io.nwb_write import library_versions
    from dopafit.outputs import MANIFEST_FILE

    manifest = {
        "command": f"dopafit simulate --preset {preset} -o {out.name}",
        "files": {
            name: {
                "sha256": hashlib.sha256((out / name).read_bytes()).hexdigest(),
                "bytes": (out / name).stat().st_size,
            }
            for name in files
        },
        "versions": library_versions(),
    }
    from dopafit.batch import atomic_path

    path = out / MANIFEST_FILE
    with atomic_path(path) as tmp:  # Ctrl-C never leaves half a manifest
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path
