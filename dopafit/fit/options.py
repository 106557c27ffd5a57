"""Options of the expectile fit, validated once.

:class:`FitOptions` is the one owner of every analysis setting of
:func:`dopafit.fit_expectiles`: the Python API, the batch (``BatchSettings.fit``), the
``[fit]`` table of a TOML config and the flags of ``dopafit fit`` all build it, so a setting
is checked in one place and an unknown key is named with the closest valid one.

Examples
--------
>>> from dopafit.fit.options import FitOptions
>>> FitOptions(n_splits=50, seed=1).n_splits
50
>>> FitOptions.from_dict({"n_split": 50})
Traceback (most recent call last):
...
dopafit.errors.ConfigError: expected options of fit_expectiles among axis, cap_high, cap_low, fold_exclude_edge, level, method, n_boot, n_folds, n_splits, pool_cued, seed; found unknown key 'n_split'. Fix: did you mean 'n_splits'?
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dopafit._options import NamedOptions
from dopafit.errors import ConfigError
from dopafit.fit.axes import AXES, POOL_MODES

__all__ = ["METHODS", "FitOptions"]

#: Reversal-point methods: the counting rule of Dabney et al. (2020), or a free kink.
METHODS = ("count", "kink")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class FitOptions(NamedOptions):
    """Every analysis setting of the expectile fit (see :func:`dopafit.fit_expectiles`).

    Parameters
    ----------
    axis : {"utility", "reward", "zscore"}, callable or array-like, default "utility"
        The axis reversal points and slopes live on (see :mod:`dopafit.fit.axes`).
    method : {"count", "kink"}, default "count"
        The counting rule of Dabney et al. (2020), or a least-squares free kink.
    n_splits : int, default 1000
        Random split halves (0: none, and no fold ANOVA).
    n_folds : int, default 7
        Folds per split for the precision of tau (0: none; 1 is not allowed).
    n_boot : int, default 1000
        Trial-level bootstrap resamples within magnitude (0: no intervals).
    seed : int or None, default 0
        Master seed of every random draw (see :mod:`dopafit.seeds`); None draws fresh
        entropy, recorded in the result.
    pool_cued : {"auto", "offset", "none", "cued", "uncued"}, default "auto"
        How cued and uncued trials are combined (see :func:`dopafit.fit.axes.prepare`).
    level : float, default 0.95
        Level of the bootstrap percentile intervals, in (0, 1).
    cap_low, cap_high : float, default 0.01, 0.1
        Edge estimates ``axis[lowest] + cap_low`` and ``axis[highest] - cap_high`` (axis
        units, finite and >= 0).
    fold_exclude_edge : bool, default True
        Leave units whose all-trial reversal point is an edge estimate out of the fold ANOVA.

    Raises
    ------
    ConfigError
        An invalid value (the message names the option, what it must be and what was given).

    Notes
    -----
    A ``FitOptions`` unpacks as the keyword arguments of :func:`dopafit.fit_expectiles`:
    ``fit_expectiles(ds, **options)`` equals
    :func:`dopafit.fit.expectile.fit_with_options` ``(ds, options)``.

    Examples
    --------
    >>> import dopafit
    >>> options = dopafit.FitOptions(n_splits=50, n_boot=0, seed=1)
    >>> options.changed()
    {'n_splits': 50, 'n_boot': 0, 'seed': 1}
    >>> ds = dopafit.load_nwb("data_samples/sub-sim01_ses-dist1.nwb")
    >>> fit = dopafit.fit_expectiles(ds, **options)  # a FitOptions unpacks as keyword arguments
    >>> fit.attrs["n_splits"]
    50
    >>> dopafit.FitOptions(n_folds=1)
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected n_folds = 0 (no folds) or >= 2; found 1.
    """

    _OF = "fit_expectiles"

    axis: str | Callable | np.ndarray = "utility"
    method: str = "count"
    n_splits: int = 1000
    n_folds: int = 7
    n_boot: int = 1000
    seed: int | None = 0
    pool_cued: str = "auto"
    level: float = 0.95
    cap_low: float = 0.01
    cap_high: float = 0.1
    fold_exclude_edge: bool = True

    def __post_init__(self):
        if isinstance(self.axis, str) and self.axis not in AXES:
            raise ConfigError(
                f"axis one of {', '.join(AXES)}, a callable or one value per magnitude",
                found=repr(self.axis),
            )
        if self.method not in METHODS:
            raise ConfigError(f"method one of {', '.join(METHODS)}", found=repr(self.method))
        for name in ("n_splits", "n_boot", "n_folds"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ConfigError(f"{name} as an integer >= 0", found=repr(value))
        if self.n_folds == 1:
            raise ConfigError("n_folds = 0 (no folds) or >= 2", found="1")
        level = self.level
        if isinstance(level, bool) or not isinstance(level, (int, float, np.number)):
            raise ConfigError("level in (0, 1)", found=repr(level))
        if not 0.0 < float(level) < 1.0:
            raise ConfigError("level in (0, 1)", found=repr(level))
        caps = (self.cap_low, self.cap_high)
        if not all(
            isinstance(c, (int, float, np.number)) and not isinstance(c, bool) for c in caps
        ) or not (np.isfinite(caps).all() and min(caps) >= 0):
            raise ConfigError(
                "cap_low and cap_high finite and >= 0", found=f"{caps[0]!r}, {caps[1]!r}"
            )
        if self.pool_cued not in POOL_MODES:
            raise ConfigError(
                f"pool_cued one of {', '.join(POOL_MODES)}", found=repr(self.pool_cued)
            )
        if self.seed is not None and not (_is_int(self.seed) and self.seed >= 0):
            raise ConfigError("seed as an integer >= 0 or None", found=repr(self.seed))
        if not isinstance(self.fold_exclude_edge, (bool, np.bool_)):
            raise ConfigError(
                "fold_exclude_edge as True or False", found=repr(self.fold_exclude_edge)
            )

    def record(self) -> dict:
        """JSON-friendly record of every setting, by option name."""
        out = {}
        for name in self.names():
            value = getattr(self, name)
            if name == "axis" and not isinstance(value, str):
                value = (
                    f"callable:{getattr(value, '__name__', type(value).__name__)}"
                    if callable(value)
                    else np.asarray(value, dtype=float).tolist()
                )
            elif isinstance(value, np.generic):
                value = value.item()
            out[name] = value
        return out

    def to_attrs(self) -> dict:
        """The settings as the attrs of a fit records them (the axis, pooling and seed are
        recorded as resolved on the data, by the fit)."""
        return {
            "method": self.method,
            "n_splits": int(self.n_splits),
            "n_folds": int(self.n_folds),
            "n_boot": int(self.n_boot),
            "ci_level": float(self.level),
            "cap_low": float(self.cap_low),
            "cap_high": float(self.cap_high),
            "fold_exclude_edge": bool(self.fold_exclude_edge),
        }
