"""dopafit: fit distributional and classical TD accounts to dopamine recordings.

The public API is re-exported here lazily: ``import dopafit`` imports no heavy dependency
(pynwb, matplotlib, dask, numba) and compiles nothing; each name is imported on first use.

Examples
--------
>>> import dopafit
>>> dopafit.__version__  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import importlib

from dopafit._version import __version__
from dopafit.errors import DopafitError

# public name -> module that defines it
_LAZY = {
    # data model
    "make_responses": "dopafit.schema",
    "validate_responses": "dopafit.schema",
    "open_responses": "dopafit.schema",
    "to_netcdf": "dopafit.schema",
    # loaders
    "load_nwb": "dopafit.io.nwb",
    "describe_nwb": "dopafit.io.nwb",
    "responses_from_spikes": "dopafit.io.tables",
    "responses_from_signal": "dopafit.io.photometry",
    "convert_uchida_mat": "dopafit.io.uchida",
    # simulation
    "Task": "dopafit.simulate",
    "get_task": "dopafit.simulate",
    "expectile": "dopafit.simulate",
    "make_population": "dopafit.simulate",
    "make_trials": "dopafit.simulate",
    "simulate_responses": "dopafit.simulate",
    "simulate_session": "dopafit.simulate",
    "simulate_learning": "dopafit.simulate",
    "make_block_trials": "dopafit.simulate",
    "write_nwb": "dopafit.io.nwb_write",
    # fitting
    "fit_expectiles": "dopafit.fit.expectile",
    "split_summary": "dopafit.fit.expectile",
    "fit_learning": "dopafit.fit.learning",
    "learning_summary": "dopafit.fit.learning",
    # statistics: decoding and the variable-probability task
    "decode_distribution": "dopafit.stats.decode",
    "probability_task_stats": "dopafit.stats.probability",
    # statistics: simulation-calibrated comparison of accounts
    "compare": "dopafit.stats.compare",
    "CompareOptions": "dopafit.stats.compare_options",
    "open_comparison": "dopafit.stats.compare",
    "simulate_account": "dopafit.stats.compare",
    # statistics: recovery of the learning models
    "learning_recovery": "dopafit.stats.learning_recovery",
    # figures and the HTML report
    "write_report": "dopafit.report.html",
    "save_figures": "dopafit.report.figures",
}

__all__ = ["DopafitError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dopafit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
