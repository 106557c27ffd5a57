"""``dopafit fit --discounting``: the discounting fit of each session, and of the population.

With a ``[discounting]`` table in the config (or ``--discounting``), :mod:`dopafit.batch`
loads each session aligned to the cue (``align="cue_time"`` unless ``[load]`` says
otherwise), fits :func:`dopafit.fit_discounting` and writes ``OUTDIR/sessions/<name>.nc``
with the groups ``responses`` and ``discounting``, atomically and resumably like the
expectile fits; :func:`combine_discounting` then pools every session's units into
``OUTDIR/population.nc`` (groups ``responses`` and ``discounting``) and ``OUTDIR/units.csv``.
A session without delays fails with one named error (in ``failures.csv``); the batch goes on.

Examples
--------
>>> from dopafit.batch import BatchSettings
>>> settings = BatchSettings(discounting={"n_splits": 20, "n_boot": 0})
>>> discounting_load(settings)
{'align': 'cue_time'}
>>> discount_options(settings.discounting).n_splits
20
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dopafit.errors import ConfigError, ResponsesError
from dopafit.outputs import DISCOUNTING_GROUP  # re-exported: the batch writes it

__all__ = [
    "DISCOUNTING_GROUP",
    "discount_options",
    "check_discounting",
    "discounting_load",
    "require_delays",
    "fit_session_discounting",
    "combine_discounting",
]


def discount_options(values, *, file=None):
    """The validated :class:`~dopafit.fit.discount_options.DiscountOptions` of a
    ``[discounting]`` table (errors name the table and the file).

    Parameters
    ----------
    values : mapping
        Options of :func:`dopafit.fit_discounting`.
    file : str or path-like, optional
        The config file, named in errors.

    Returns
    -------
    DiscountOptions

    Raises
    ------
    ConfigError
        An unknown key (naming the closest valid one) or a bad value.

    Examples
    --------
    >>> discount_options({"asymptote": 0.0}).fit_asymptote
    False
    """
    from dopafit.fit.discount_options import DiscountOptions

    try:
        return DiscountOptions.from_dict(values)
    except ConfigError as exc:
        raise ConfigError(
            f"[discounting] {exc.expected}", found=exc.found, remedy=exc.remedy, file=file
        ) from None


def check_discounting(values, learning, *, file=None) -> dict:
    """The ``[discounting]`` table, checked: valid options, and no ``[learning]`` beside it.

    Parameters
    ----------
    values : mapping
        Options of :func:`dopafit.fit_discounting`.
    learning : mapping
        The ``[learning]`` table (must be empty).
    file : str or path-like, optional
        The config file, named in errors.

    Returns
    -------
    dict
        ``values`` as a dict.

    Raises
    ------
    ConfigError
        A bad option, or both tables.

    Examples
    --------
    >>> check_discounting({"n_boot": 0}, {})
    {'n_boot': 0}
    """
    if learning:
        raise ConfigError(
            "either [discounting] or [learning] (learning models are fitted to reward-aligned "
            "responses, the discounting model to cue-aligned ones)",
            found="both",
            remedy="run dopafit fit twice, into two output folders",
            file=file,
        )
    values = dict(values)
    discount_options(values, file=file)
    return values


def discounting_load(settings) -> dict:
    """The keyword arguments of :func:`dopafit.load_nwb` for the discounting fit: the
    ``[load]`` table, aligned to the cue unless it names ``align``.

    Parameters
    ----------
    settings : BatchSettings

    Returns
    -------
    dict

    Examples
    --------
    >>> from dopafit.batch import BatchSettings
    >>> discounting_load(BatchSettings(load={"window": [0.1, 0.5]}, discounting={}))
    {'align': 'cue_time', 'window': [0.1, 0.5]}
    """
    return {"align": "cue_time", **settings.load}


def require_delays(responses, path=None) -> None:
    """Raise a named error unless some trial of ``responses`` has a finite delay.

    Parameters
    ----------
    responses : xarray.Dataset
        Loaded responses.
    path : str or path-like, optional
        The input file, named in the error.

    Raises
    ------
    ResponsesError
        No ``delay`` coordinate, or no finite delay.

    Examples
    --------
    >>> import dopafit
    >>> ds = dopafit.simulate_responses(n_units=2, n_trials=10, seed=0)
    >>> require_delays(ds, "ses.nwb")
    Traceback (most recent call last):
    ...
    dopafit.errors.ResponsesError: ses.nwb: expected a cue-to-reward delay per trial (coordinate
    'delay') for the discounting fit; found no delay column in the trials table. Fix: name the
    trials column with delay='<column>' in [load] (or --delay-column), or
    delay='reward_time - cue_time' to use the difference of the event times.
    """
    from dopafit.schema import DELAY

    remedy = (
        "name the trials column with delay='<column>' in [load] (or --delay-column), or "
        "delay='reward_time - cue_time' to use the difference of the event times"
    )
    if DELAY not in responses.coords:
        raise ResponsesError(
            "a cue-to-reward delay per trial (coordinate 'delay') for the discounting fit",
            found="no delay column in the trials table",
            remedy=remedy,
            file=path,
        )
    if not np.isfinite(responses[DELAY].values).any():
        raise ResponsesError(
            "a cue-to-reward delay per trial (coordinate 'delay') for the discounting fit",
            found="no finite delay on any trial",
            remedy=remedy,
            file=path,
        )


def fit_session_discounting(responses, settings, path=None):
    """The discounting fit of one session's responses (delays checked first).

    Parameters
    ----------
    responses : xarray.Dataset
        Cue-aligned responses with a ``delay`` coordinate.
    settings : BatchSettings
        With a ``discounting`` table.
    path : str or path-like, optional
        The input file, named in errors.

    Returns
    -------
    xarray.Dataset
        The result of :func:`dopafit.fit_discounting`.

    Raises
    ------
    ResponsesError
        The responses have no delays.
    """
    from dopafit.fit.discounting import fit_discounting

    require_delays(responses, path)
    options = discount_options(settings.discounting)
    return fit_discounting(responses, options=options, progress=False)


def combine_discounting(files, outdir, settings, key: str, *, progress=False) -> Path:
    """Pool the sessions' responses, fit the population and write ``population.nc`` (groups
    ``responses`` and ``discounting``) and ``units.csv``, atomically.

    Parameters
    ----------
    files : sequence of path
        The session outputs.
    outdir : path
        The output folder.
    settings : BatchSettings
        With a ``discounting`` table.
    key : str
        The population's provenance hash (sessions and settings), recorded in the attrs.
    progress : bool or None
        Progress bar of the population fit.

    Returns
    -------
    pathlib.Path
        ``population.nc``.
    """
    from dopafit import schema
    from dopafit.batch import atomic_path, pooled_responses, population_attrs
    from dopafit.fit.discounting import fit_discounting
    from dopafit.outputs import POPULATION_FILE, UNITS_FILE

    outdir = Path(outdir)
    responses = pooled_responses(files)
    fit = fit_discounting(
        responses, options=discount_options(settings.discounting), progress=progress
    )
    fit = fit.assign_attrs(population_attrs(files, settings, key))
    target = outdir / POPULATION_FILE
    with atomic_path(target) as tmp:
        schema.to_netcdf(responses, tmp, group="responses")
        schema.to_netcdf(fit, tmp, group=DISCOUNTING_GROUP, mode="a")
    table = units_table(fit, responses)
    with atomic_path(outdir / UNITS_FILE) as tmp:
        table.to_csv(tmp, index=False)
    return target


def units_table(fit, responses):
    """Tidy per-unit table: identifiers and every per-unit variable of the discounting fit.

    Parameters
    ----------
    fit : xarray.Dataset
        A discounting fit.
    responses : xarray.Dataset
        Its responses (same units).

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    from dopafit import schema

    cols = {
        schema.SESSION: responses[schema.SESSION].values,
        schema.SUBJECT: responses[schema.SUBJECT].values,
        schema.UNIT_ID: responses[schema.UNIT_ID].values,
    }
    for name, var in fit.data_vars.items():
        if var.dims == (schema.UNIT,) and name not in cols:
            cols[name] = var.values
    return pd.DataFrame(cols)
