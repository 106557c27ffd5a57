"""One result convention: every analysis returns an ``xarray.Dataset`` with a ``dopafit``
accessor.

Each result records its kind in ``attrs["dopafit_result"]`` (:data:`dopafit.schema.RESULT_KIND`):

- ``expectile_fit``: :func:`dopafit.fit_expectiles`;
- ``learning_fit``: :func:`dopafit.fit_learning`;
- ``comparison``: :func:`dopafit.compare` (and :func:`dopafit.open_comparison`);
- ``decoding``: :func:`dopafit.decode_distribution`;
- ``probability_task``: :func:`dopafit.probability_task_stats`;
- ``learning_recovery``: :func:`dopafit.learning_recovery`.

``ds.dopafit`` offers for every kind ``kind``, ``summary()`` (text), ``to_dataframe()`` and
``to_netcdf(path)`` (through :func:`dopafit.schema.to_netcdf`), and the members of one kind:
``verdict``, ``accounts``, ``accounts_table()``, ``mixed_table()``, ``mixed_tests()`` for a
comparison; ``samples``, ``mean``, ``sd``, ``residuals()``, ``expectiles()``,
``wasserstein()``, ``distances()`` for a decoding. A member used on another kind raises
:class:`~dopafit.errors.ResultKindError`.

The accessor only dispatches: the logic of every kind stays in its module, as free
functions taking the Dataset (:mod:`dopafit.fit.expectile`, :mod:`dopafit.fit.learning`,
:mod:`dopafit.stats.compare`, :mod:`dopafit.stats.decode`, :mod:`dopafit.stats.probability`,
:mod:`dopafit.stats.learning_recovery`).
It is registered when one of these modules is imported.

Examples
--------
>>> import numpy as np
>>> import dopafit
>>> res = dopafit.decode_distribution(np.array([0.2, 0.5, 0.8]), np.array([2.0, 3.0, 4.0]),
...                                   (0.0, 10.0), n_samples=10, n_starts=50, n_polish=1,
...                                   n_epochs=1)
>>> res.dopafit.kind
'decoding'
>>> res.dopafit.samples.shape
(10,)
>>> res.dopafit.verdict
Traceback (most recent call last):
...
dopafit.errors.ResultKindError: expected a result of kind 'comparison' for verdict; found a result of kind 'decoding'. Fix: verdict needs the output of dopafit.compare or dopafit.open_comparison.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from dopafit import schema
from dopafit.errors import ResultKindError

__all__ = ["DopafitAccessor", "result_kind", "check_kind"]

#: kind -> the function that makes it (named in error messages)
_MADE_BY = {
    schema.EXPECTILE_FIT: "dopafit.fit_expectiles",
    schema.LEARNING_FIT: "dopafit.fit_learning",
    schema.COMPARISON: "dopafit.compare or dopafit.open_comparison",
    schema.DECODING: "dopafit.decode_distribution",
    schema.PROBABILITY_TASK: "dopafit.probability_task_stats",
    schema.LEARNING_RECOVERY: "dopafit.learning_recovery",
    schema.DISCOUNT_FIT: "dopafit.fit_discounting (or the 'discounting' group of a dopafit fit "
    "--discounting output)",
    schema.TIMING_DECODING: "dopafit.decode_timing",
    schema.DISCOUNT_COMPARISON: "dopafit.compare_timescales",
}


def result_kind(ds: xr.Dataset) -> str | None:
    """The kind recorded in ``ds.attrs["dopafit_result"]``, or None (not a dopafit result)."""
    if not isinstance(ds, xr.Dataset):
        return None
    kind = ds.attrs.get(schema.RESULT_KIND)
    return None if kind is None else str(kind)


def _described(ds) -> str:
    """What ``ds`` is, for an error message."""
    if not isinstance(ds, xr.Dataset):
        return f"a {type(ds).__name__}, not an xarray.Dataset"
    kind = result_kind(ds)
    return (
        "a Dataset without a dopafit result kind" if kind is None else f"a result of kind {kind!r}"
    )


def check_kind(
    ds: xr.Dataset, kind: str, member: str, *, file: str | PathLike | None = None
) -> None:
    """Raise :class:`ResultKindError` unless ``ds`` is a result of ``kind``.

    Parameters
    ----------
    ds : xarray.Dataset
        The result.
    kind : str
        One of :data:`dopafit.schema.RESULT_KINDS`.
    member : str
        What needs that kind (named in the message).
    file : str or path-like, optional
        The file the Dataset was read from.
    """
    if result_kind(ds) != kind:
        raise ResultKindError(
            f"a result of kind {kind!r} for {member}",
            found=_described(ds),
            remedy=f"{member} needs the output of {_MADE_BY[kind]}",
            file=file,
        )


def _known_kind(ds: xr.Dataset, member: str) -> str:
    """The kind of ``ds`` if it is one dopafit knows, else the :class:`ResultKindError`."""
    kind = result_kind(ds)
    if kind not in schema.RESULT_KINDS:
        raise ResultKindError(
            f"a dopafit result (attrs[{schema.RESULT_KIND!r}] among "
            f"{', '.join(schema.RESULT_KINDS)}) for {member}",
            found=_described(ds),
            remedy="use the Dataset returned by a dopafit analysis ("
            + ", ".join(_MADE_BY.values())
            + ")",
        )
    return kind


def _table(ds: xr.Dataset, dims: tuple[str, ...]):
    """The variables of ``ds`` over exactly ``dims`` as a long table, coordinates as columns."""
    names = [v for v in ds.data_vars if ds[v].dims == dims]
    return ds[names].to_dataframe().reset_index()


def _full(df):
    """``df`` as a :class:`~dopafit._table.FullTable` (prints every column)."""
    from dopafit._table import FullTable

    return FullTable(df)


@xr.register_dataset_accessor("dopafit")
class DopafitAccessor:
    """``ds.dopafit``: the verbs of a dopafit result Dataset (see :mod:`dopafit.results`)."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def __repr__(self) -> str:
        return f"<dopafit result: {self.kind}>"

    # ---------------------------------------------------------------------------- every kind

    @property
    def kind(self) -> str | None:
        """The result's kind (one of :data:`dopafit.schema.RESULT_KINDS`), or None."""
        return result_kind(self._ds)

    def summary(self) -> str:
        """The text summary of the result.

        Returns
        -------
        str
            A :class:`~dopafit._table.Summary`: a ``str`` that prints whole, is its own
            ``repr`` and renders as an HTML table in a notebook.
            ``expectile_fit``: :func:`dopafit.split_summary` (needs split halves);
            ``learning_fit``: :func:`dopafit.learning_summary`; ``comparison``: the table
            of statistics and the verdict; ``decoding``: one line (N, M, mean, SD, loss, W1
            to the truth); ``probability_task``: labels and the dispersion test;
            ``learning_recovery``: the confusion matrix and the parameter recovery;
            ``discount_fit``: :func:`dopafit.discount_summary`;
            ``timing_decoding``: one line (units, lambda, mean time, W1 distances);
            ``discount_comparison``: :func:`dopafit.timescales_summary`.
        """
        kind = _known_kind(self._ds, "summary()")
        from dopafit._table import Summary

        if kind == schema.EXPECTILE_FIT:
            from dopafit.fit.expectile import split_summary

            table = split_summary(self._ds)
            return Summary(str(table), table._repr_html_())
        if kind == schema.LEARNING_FIT:
            from dopafit.fit.learning import learning_summary

            table = learning_summary(self._ds)
            return Summary(str(table), table._repr_html_())
        if kind == schema.COMPARISON:
            import html

            from dopafit.stats.compare_tables import comparison_summary, comparison_table, verdict

            table = _full(comparison_table(self._ds))
            return Summary(
                comparison_summary(self._ds),
                table._repr_html_() + "<p>Verdict: " + html.escape(verdict(self._ds)) + "</p>",
            )
        if kind == schema.DECODING:
            from dopafit.stats.decode import decoding_summary

            return Summary(decoding_summary(self._ds))
        if kind == schema.LEARNING_RECOVERY:
            from dopafit.stats.learning_recovery import recovery_summary

            return Summary(recovery_summary(self._ds))
        if kind == schema.DISCOUNT_FIT:
            from dopafit.fit.discounting import discount_summary

            return Summary(discount_summary(self._ds))
        if kind == schema.TIMING_DECODING:
            from dopafit.stats.decode_timing import timing_summary

            return Summary(timing_summary(self._ds))
        if kind == schema.DISCOUNT_COMPARISON:
            from dopafit.stats.timescales import timescales_summary

            return Summary(timescales_summary(self._ds))
        from dopafit.stats.probability import probability_summary

        return Summary(probability_summary(self._ds))

    def to_dataframe(self):
        """The result's main table as a :class:`pandas.DataFrame`.

        Returns
        -------
        pandas.DataFrame
            A :class:`~dopafit._table.FullTable` (a DataFrame that prints every column in a
            terminal and in a notebook). ``expectile_fit``, ``probability_task`` and
            ``discount_fit``: one row
            per unit (every per-unit
            variable, unit coordinates as columns); ``learning_fit``: one row per
            (model, unit); ``comparison``: one row per (account, statistic)
            (:func:`dopafit.stats.compare.comparison_table`); ``decoding``: one row per
            (tau, reversal point) pair (:func:`dopafit.stats.decode.pair_table`);
            ``learning_recovery``: one row per (true_model, parameter) (``recovery_r``,
            ``recovery_bias``, ``recovery_rmse``, ``coverage``, ``n_units``);
            ``timing_decoding``: one row per grid time
            (:func:`dopafit.stats.decode_timing.timing_table`).
        """
        kind = _known_kind(self._ds, "to_dataframe()")
        if kind == schema.COMPARISON:
            from dopafit.stats.compare_tables import comparison_table

            return _full(comparison_table(self._ds))
        if kind == schema.DECODING:
            from dopafit.stats.decode import pair_table

            return _full(pair_table(self._ds))
        if kind == schema.LEARNING_FIT:
            from dopafit.fit.learning import MODEL

            return _full(_table(self._ds, (MODEL, schema.UNIT)))
        if kind == schema.LEARNING_RECOVERY:
            from dopafit.stats.learning_recovery import PARAMETER, TRUE_MODEL

            return _full(_table(self._ds, (TRUE_MODEL, PARAMETER)))
        if kind == schema.TIMING_DECODING:
            from dopafit.stats.decode_timing import timing_table

            return _full(timing_table(self._ds))
        return _full(_table(self._ds, (schema.UNIT,)))

    def to_netcdf(self, path: str | PathLike) -> Path:
        """Write the result to netCDF with its attrs (:func:`dopafit.schema.to_netcdf`).

        Read it back with :func:`dopafit.open_responses` (``validate=False``),
        :func:`dopafit.open_comparison` or ``xarray.open_dataset``; the accessor works on
        what they return.
        """
        _known_kind(self._ds, "to_netcdf()")
        return schema.to_netcdf(self._ds, path)

    # ---------------------------------------------------------------------------- comparison

    def _comparison(self, member: str):
        check_kind(self._ds, schema.COMPARISON, member)
        from dopafit.stats import compare

        return compare

    @property
    def verdict(self) -> str:
        """Plain-language verdict of a comparison."""
        return self._comparison("verdict").verdict(self._ds)

    @property
    def accounts(self) -> list[str]:
        """The accounts of a comparison."""
        return self._comparison("accounts").account_names(self._ds)

    def accounts_table(self):
        """Per-unit fitted parameters of every account of a comparison (long format)."""
        return self._comparison("accounts_table()").accounts_table(self._ds)

    def mixed_table(self):
        """Mixed-model fits of a comparison (one row per model), or None if not fitted."""
        return self._comparison("mixed_table()").mixed_table(self._ds)

    def mixed_tests(self):
        """Likelihood-ratio tests of the mixed models of a comparison, or None."""
        return self._comparison("mixed_tests()").mixed_tests(self._ds)

    # ------------------------------------------------------------------------------ decoding

    def _decoding(self, member: str):
        check_kind(self._ds, schema.DECODING, member)
        from dopafit.stats import decode

        return decode

    @property
    def samples(self) -> np.ndarray:
        """Decoded reward samples, sorted, shape (N,); each has weight ``1/N``."""
        self._decoding("samples")
        return np.asarray(self._ds["samples"].values, dtype=np.float64)

    @property
    def mean(self) -> float:
        """Mean of the decoded samples."""
        return self._decoding("mean").decoded_mean(self._ds)

    @property
    def sd(self) -> float:
        """SD of the decoded samples as a distribution (``ddof=0``)."""
        return self._decoding("sd").decoded_sd(self._ds)

    def residuals(self) -> np.ndarray:
        """Per-pair violation of the expectile condition, shape (M,)
        (:func:`dopafit.stats.decode.residuals`)."""
        return self._decoding("residuals()").residuals(self._ds)

    def expectiles(self, tau=None) -> np.ndarray:
        """Exact expectiles of the decoded samples (default at the pairs' tau)."""
        return self._decoding("expectiles()").decoded_expectiles(self._ds, tau)

    def wasserstein(self, values, probabilities=None) -> float:
        """Wasserstein-1 distance from the decoded samples to a discrete distribution."""
        return self._decoding("wasserstein()").wasserstein(self._ds, values, probabilities)

    def distances(self, true_values=None, true_probabilities=None, **reference_kwargs):
        """Wasserstein-1 distances to the truth and to the references
        (:func:`dopafit.stats.decode.distances`)."""
        return self._decoding("distances()").distances(
            self._ds, true_values, true_probabilities, **reference_kwargs
        )
