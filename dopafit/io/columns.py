"""The named error for a trials column that is not there, shared by the loaders' options.

Examples
--------
>>> import pandas as pd
>>> err = missing_column(pd.DataFrame({"rewrd": [1.0]}), "reward", "reward", "pass reward=...")
>>> print(err)
expected a reward column (reward) in the trials table; found columns rewrd (float64). Fix: did you mean 'rewrd'? Else pass reward=...
"""

from __future__ import annotations

import difflib

import pandas as pd

from dopafit.errors import MissingColumnError

__all__ = ["missing_column"]


def missing_column(
    trials: pd.DataFrame,
    what: str,
    tried: str,
    remedy: str,
    *,
    option=None,
    keyword: str | None = None,
    file=None,
) -> MissingColumnError:
    """A :class:`MissingColumnError` listing the table's columns and the closest name.

    Parameters
    ----------
    trials : pandas.DataFrame
        The trials table.
    what : str
        What the column is (``"reward"``, ``"delay"``, ...).
    tried : str
        The column name(s) looked for, as shown in the message.
    remedy : str
        What to do; prefixed with "did you mean '<closest>'?" when a column is close.
    option : str, optional
        The name to match against the columns (default ``tried``).
    keyword : str, optional
        The option the user sets: the suggestion reads "did you mean keyword='<closest>'?".
    file : str or path-like, optional
        The file, named in the message.

    Returns
    -------
    MissingColumnError
    """
    listed = ", ".join(f"{c} ({trials[c].dtype})" for c in trials.columns)
    names = [str(c) for c in trials.columns]
    close = difflib.get_close_matches(str(tried if option is None else option), names, n=1)
    if close:
        suggestion = f"{keyword}={close[0]!r}" if keyword else repr(close[0])
        remedy = f"did you mean {suggestion}? Else {remedy}"
    return MissingColumnError(
        f"a {what} column ({tried}) in the trials table",
        found=f"columns {listed}" if listed else "no columns",
        remedy=remedy,
        file=file,
    )
