"""Tables and summaries that show everything: every column in a terminal and an HTML table in
a notebook, whatever the pandas display options.

:class:`FullTable` is a :class:`pandas.DataFrame` (so every pandas method works and returns
one) whose text form never elides columns: each row prints on one line (a terminal narrower
than the table folds the line; no column is replaced by "..."), so a summary can also be
read back line by line. Rows follow pandas' ``display.max_rows`` (summaries are short and
print whole; a per-unit table of thousands of units keeps its head and tail).
In a notebook ``_repr_html_`` gives the usual HTML table with every column. A subclass rather
than a :class:`pandas.io.formats.style.Styler` because it stays a DataFrame: indexing,
``round``, ``to_csv`` and comparisons work unchanged.

:class:`Summary` is the text of ``ds.dopafit.summary()``: a :class:`str` (so it can be
printed, searched and written as before) whose ``repr`` is the text itself (no quotes and
``\\n``) and which renders as an HTML table in a notebook.

Examples
--------
>>> from dopafit._table import FullTable
>>> t = FullTable({"a_long_column_name_" + str(i): [1.0] for i in range(12)})
>>> "..." in repr(t)
False
>>> all(name in repr(t) for name in t.columns)
True
>>> t._repr_html_().count("<th>a_long_column_name_")
12
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["FullTable", "Summary"]


class FullTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` whose text and HTML forms never elide columns."""

    @property
    def _constructor(self):
        return FullTable

    def __repr__(self) -> str:
        return self.to_string(
            max_rows=pd.get_option("display.max_rows"), min_rows=pd.get_option("display.min_rows")
        )

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_columns", None, "display.max_colwidth", None):
            return super()._repr_html_()


class Summary(str):
    """A summary's text that prints as itself and renders as HTML in a notebook.

    Parameters
    ----------
    text : str
        The plain-text summary.
    html_text : str, optional
        Its HTML form (a table); by default the text in a ``<pre>`` block.
    """

    _html: str | None

    def __new__(cls, text: str, html_text: str | None = None):
        obj = super().__new__(cls, text)
        obj._html = html_text
        return obj

    def __repr__(self) -> str:
        return str.__str__(self)

    def _repr_html_(self) -> str:
        if self._html is not None:
            return self._html
        return "<pre>" + html.escape(str.__str__(self)) + "</pre>"
