"""A pandas table that prints whole: every row and column, whatever the pandas display options.

Summaries (:func:`dopafit.split_summary`, :func:`dopafit.learning_summary`) return it so that
``print(summary)`` in a terminal shows every column; in a notebook it renders as the usual
HTML table.

Examples
--------
>>> from dopafit._table import FullTable
>>> t = FullTable({"a_long_column_name_" + str(i): [1.0] for i in range(12)})
>>> "..." in repr(t)
False
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FullTable"]


class FullTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` whose text form is never truncated."""

    @property
    def _constructor(self):
        return FullTable

    def __repr__(self) -> str:
        return self.to_string()
