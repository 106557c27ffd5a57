"""dopafit: fit distributional and classical TD accounts to dopamine recordings.

The public API is re-exported here lazily: ``import dopafit`` imports no heavy dependency
(pynwb, matplotlib, dask, numba) and compiles nothing; each name is imported on first use.
The same names are imported under ``TYPE_CHECKING`` so that editors and type checkers see
them (``tests/test_package.py`` keeps that block and ``_LAZY`` equal).

Examples
--------
>>> import dopafit
>>> dopafit.__version__  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    "RemoteOptions": "dopafit.io.remote",
    "responses_from_spikes": "dopafit.io.tables",
    "responses_from_signal": "dopafit.io.photometry",
    "responses_from_pynapple": "dopafit.io.pynapple",
    "responses_from_table": "dopafit.io.longtable",
    "responses_from_epochs": "dopafit.io.epochs",
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
    "DelayTask": "dopafit.simulate",
    "simulate_discounting": "dopafit.simulate",
    "simulate_delay_session": "dopafit.simulate",
    "write_nwb": "dopafit.io.nwb_write",
    # fitting
    "fit_expectiles": "dopafit.fit.expectile",
    "FitOptions": "dopafit.fit.options",
    "split_summary": "dopafit.fit.expectile",
    "fit_learning": "dopafit.fit.learning",
    "learning_summary": "dopafit.fit.learning",
    "fit_discounting": "dopafit.fit.discounting",
    "DiscountOptions": "dopafit.fit.discount_options",
    "discount_summary": "dopafit.fit.discounting",
    "write_fit_nwb": "dopafit.io.nwb_fit_write",
    # statistics: decoding and the variable-probability task
    "decode_distribution": "dopafit.stats.decode",
    "decode_timing": "dopafit.stats.decode_timing",
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

if TYPE_CHECKING:  # the same names for type checkers and editors; `x as x` re-exports
    from dopafit.fit.discount_options import DiscountOptions as DiscountOptions
    from dopafit.fit.discounting import discount_summary as discount_summary
    from dopafit.fit.discounting import fit_discounting as fit_discounting
    from dopafit.fit.expectile import fit_expectiles as fit_expectiles
    from dopafit.fit.expectile import split_summary as split_summary
    from dopafit.fit.learning import fit_learning as fit_learning
    from dopafit.fit.learning import learning_summary as learning_summary
    from dopafit.fit.options import FitOptions as FitOptions
    from dopafit.io.epochs import responses_from_epochs as responses_from_epochs
    from dopafit.io.longtable import responses_from_table as responses_from_table
    from dopafit.io.nwb import describe_nwb as describe_nwb
    from dopafit.io.nwb import load_nwb as load_nwb
    from dopafit.io.nwb_fit_write import write_fit_nwb as write_fit_nwb
    from dopafit.io.nwb_write import write_nwb as write_nwb
    from dopafit.io.photometry import responses_from_signal as responses_from_signal
    from dopafit.io.pynapple import responses_from_pynapple as responses_from_pynapple
    from dopafit.io.remote import RemoteOptions as RemoteOptions
    from dopafit.io.tables import responses_from_spikes as responses_from_spikes
    from dopafit.io.uchida import convert_uchida_mat as convert_uchida_mat
    from dopafit.report.figures import save_figures as save_figures
    from dopafit.report.html import write_report as write_report
    from dopafit.schema import make_responses as make_responses
    from dopafit.schema import open_responses as open_responses
    from dopafit.schema import to_netcdf as to_netcdf
    from dopafit.schema import validate_responses as validate_responses
    from dopafit.simulate import DelayTask as DelayTask
    from dopafit.simulate import Task as Task
    from dopafit.simulate import expectile as expectile
    from dopafit.simulate import get_task as get_task
    from dopafit.simulate import make_block_trials as make_block_trials
    from dopafit.simulate import make_population as make_population
    from dopafit.simulate import make_trials as make_trials
    from dopafit.simulate import simulate_delay_session as simulate_delay_session
    from dopafit.simulate import simulate_discounting as simulate_discounting
    from dopafit.simulate import simulate_learning as simulate_learning
    from dopafit.simulate import simulate_responses as simulate_responses
    from dopafit.simulate import simulate_session as simulate_session
    from dopafit.stats.compare import compare as compare
    from dopafit.stats.compare import open_comparison as open_comparison
    from dopafit.stats.compare import simulate_account as simulate_account
    from dopafit.stats.compare_options import CompareOptions as CompareOptions
    from dopafit.stats.decode import decode_distribution as decode_distribution
    from dopafit.stats.decode_timing import decode_timing as decode_timing
    from dopafit.stats.learning_recovery import learning_recovery as learning_recovery
    from dopafit.stats.probability import probability_task_stats as probability_task_stats


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dopafit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
