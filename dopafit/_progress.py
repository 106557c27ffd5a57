"""The one progress helper of dopafit: a tqdm bar where a person is watching, nothing otherwise.

Every call that can take more than a few seconds (:func:`dopafit.compare`,
:func:`dopafit.fit_expectiles`, :func:`dopafit.decode_distribution`,
:func:`dopafit.probability_task_stats`, :func:`dopafit.learning_recovery`) and the matching
CLI commands take ``progress``:

- ``None`` (the default): a bar when someone can see it, i.e. in a Jupyter notebook or when
  standard error is a terminal; nothing in scripts, pipes, logs and tests;
- ``True``: always a bar (on standard error);
- ``False``: never.

The setting changes what is shown, never a number: it is not an analysis option, so it is a
keyword of the call (like ``chunk_size``), not a field of :class:`~dopafit.FitOptions` or
:class:`~dopafit.CompareOptions`, and nothing about it is recorded in a result's attrs.

Examples
--------
>>> from dopafit._progress import progress_bar
>>> with progress_bar(3, "demo", progress=False) as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.n
3
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "wants_progress", "check_progress"]


def check_progress(progress) -> bool | None:
    """``progress`` if it is None, True or False; else the :class:`~dopafit.errors.ConfigError`.

    Examples
    --------
    >>> check_progress(None) is None
    True
    >>> check_progress("yes")
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected progress as None (automatic), True or False; found 'yes'.
    """
    if progress is None or isinstance(progress, bool):
        return progress
    try:
        import numpy as np

        if isinstance(progress, np.bool_):
            return bool(progress)
    except ImportError:  # pragma: no cover
        pass
    from dopafit.errors import ConfigError

    raise ConfigError("progress as None (automatic), True or False", found=repr(progress))


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - an exotic IPython
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def wants_progress(progress: bool | None) -> bool:
    """Whether a bar is shown: ``progress`` itself when given, else whether someone is watching
    (a notebook, or standard error on a terminal).

    Examples
    --------
    >>> wants_progress(True), wants_progress(False)
    (True, False)
    """
    progress = check_progress(progress)
    if progress is not None:
        return progress
    return _in_notebook() or _stderr_is_terminal()


class _Silent:
    """The stand-in bar when none is shown: counts, prints nothing."""

    def __init__(self, total: int):
        self.total = total
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tqdm_class():
    """tqdm.auto's choice (a widget in a notebook, text elsewhere), without its warning when
    a notebook lacks ipywidgets (then the text bar, which notebooks show as well)."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm
        except ImportError:
            from tqdm import tqdm
        return tqdm
    from tqdm import tqdm

    return tqdm


def progress_bar(total: int, desc: str, *, progress: bool | None = None, unit: str = "it"):
    """A progress bar of ``total`` steps (a context manager with ``update(n)``).

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        What is being done, shown before the bar (e.g. ``"compare classical"``).
    progress : bool or None, default None
        None: a bar in a notebook or when standard error is a terminal, else nothing;
        True: always; False: never.
    unit : str, default "it"
        Name of a step (``"sim"``, ``"split"``, ...).

    Returns
    -------
    tqdm.tqdm, tqdm.notebook.tqdm or a silent stand-in
        Either way: ``update(n)``, ``set_description(text)``, ``set_postfix_str(text)``,
        ``close()``, ``n`` and use in a ``with`` block.
    """
    if not wants_progress(progress):
        return _Silent(total)
    tqdm = _tqdm_class()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.5,
    )
