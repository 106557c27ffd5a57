"""Options of the calibrated comparison, validated once.

:class:`CompareOptions` is the one owner of every analysis setting of
:func:`dopafit.compare`: the keyword arguments of :func:`dopafit.compare` and the flags of
``dopafit compare`` both build it, so a setting is checked in one place and an unknown key is
named with the closest valid one. The options of the fitting pipeline (``axis``, ``method``,
``n_folds``, ``pool_cued``, ``cap_low``, ``cap_high``, ...) are checked as
:func:`dopafit.fit_expectiles` checks them.

Examples
--------
>>> from dopafit.stats.compare_options import CompareOptions
>>> CompareOptions(accounts="classical, bias", n_sim=99).accounts
('classical', 'bias')
>>> CompareOptions.from_dict({"n_sims": 99})
Traceback (most recent call last):
...
dopafit.errors.ConfigError: expected compare options among accounts, alpha, axis, cap_high, cap_low, fold_exclude_edge, level, method, mixed, n_boot, n_folds, n_sim, n_splits, noise, pool_cued, seed; found unknown key 'n_sims'. Fix: did you mean 'n_sim'?
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from dopafit.errors import ConfigError, unknown_name
from dopafit.stats.accounts import ACCOUNTS, NOISE_MODES

__all__ = ["CompareOptions"]

#: options of the fitting pipeline, checked by :func:`dopafit.fit.expectile.check_fit_options`
FIT_PART = (
    "axis",
    "method",
    "n_splits",
    "n_folds",
    "n_boot",
    "seed",
    "pool_cued",
    "level",
    "cap_low",
    "cap_high",
)


def _accounts(value) -> tuple[str, ...]:
    """The requested accounts as a tuple (a string may list several, comma-separated)."""
    if isinstance(value, str):
        value = [a.strip() for a in value.split(",") if a.strip()] or [value]
    accounts = tuple(value)
    for name in accounts:
        if name not in ACCOUNTS:
            close = difflib.get_close_matches(str(name), ACCOUNTS, n=1)
            raise ConfigError(
                f"accounts among {', '.join(ACCOUNTS)}",
                found=f"unknown account {name!r}",
                remedy=f"did you mean {close[0]!r}?" if close else "remove it",
            )
    if not accounts or len(set(accounts)) != len(accounts):
        raise ConfigError(
            f"accounts: one or more distinct names among {', '.join(ACCOUNTS)}",
            found=repr(accounts),
        )
    return accounts


def _integer(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} as an integer >= {low}", found=repr(value))
    return int(value)


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} as true or false", found=repr(value))
    return bool(value)


@dataclass(frozen=True)
class CompareOptions:
    """Every analysis setting of the calibrated comparison (see :func:`dopafit.compare`).

    Parameters
    ----------
    accounts : str or sequence of str, default all four
        Among ``"classical"``, ``"bias"``, ``"distributional"``, ``"sigmoid"`` (a string may
        list several, comma-separated); stored as a tuple.
    n_sim : int, default 1000
        Simulated datasets per account.
    n_splits : int, default 100
        Split halves per dataset (observed and simulated alike).
    seed : int or None, default 0
        Master seed (:mod:`dopafit.seeds`).
    axis, method, n_folds, pool_cued, cap_low, cap_high, fold_exclude_edge
        Options of the fitting pipeline (see :func:`dopafit.fit_expectiles`).
    noise : {"gaussian", "residual"}, default "gaussian"
        Simulated noise (see :mod:`dopafit.stats.accounts`).
    n_boot : int, default 1000
        Neuron-level bootstrap resamples of the observed statistics (0 skips them).
    level : float, default 0.95
        Level of the bootstrap intervals and of the simulated ranges.
    alpha : float, default 0.05
        Threshold used by the verdict.
    mixed : bool, default True
        Also fit the mixed-effects models (:mod:`dopafit.stats.mixed`).

    Raises
    ------
    ConfigError
        An invalid value, naming the option, what was expected and what was found.

    Examples
    --------
    >>> import dopafit
    >>> options = dopafit.CompareOptions.from_dict({"accounts": "classical, bias", "n_sim": 99})
    >>> options.accounts, options.n_sim, options.n_splits
    (('classical', 'bias'), 99, 100)
    >>> dopafit.CompareOptions(noise="uniform")
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected noise one of gaussian, residual; found 'uniform'.
    """

    accounts: Sequence[str] | str = ACCOUNTS
    n_sim: int = 1000
    n_splits: int = 100
    seed: int | None = 0
    axis: str | Callable | np.ndarray = "utility"
    method: str = "count"
    n_folds: int = 7
    pool_cued: str = "auto"
    noise: str = "gaussian"
    n_boot: int = 1000
    level: float = 0.95
    alpha: float = 0.05
    mixed: bool = True
    cap_low: float = 0.01
    cap_high: float = 0.1
    fold_exclude_edge: bool = True

    def __post_init__(self):
        from dopafit.fit.expectile import check_fit_options

        set_ = object.__setattr__
        set_(self, "accounts", _accounts(self.accounts))
        set_(self, "n_sim", _integer("n_sim", self.n_sim, 1))
        set_(self, "n_splits", _integer("n_splits", self.n_splits, 1))
        set_(self, "n_boot", _integer("n_boot", self.n_boot, 0))
        set_(self, "n_folds", _integer("n_folds", self.n_folds, 0))
        if self.n_folds == 1:
            raise ConfigError("n_folds = 0 (no folds) or >= 2", found="1")
        if self.noise not in NOISE_MODES:
            raise ConfigError(f"noise one of {', '.join(NOISE_MODES)}", found=repr(self.noise))
        for name in ("level", "alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not 0.0 < float(value) < 1.0:
                raise ConfigError(f"{name} in (0, 1)", found=repr(value))
            set_(self, name, float(value))
        set_(self, "mixed", _flag("mixed", self.mixed))
        set_(self, "fold_exclude_edge", _flag("fold_exclude_edge", self.fold_exclude_edge))
        # the fitting pipeline's options, checked as fit_expectiles checks them
        check_fit_options(**{name: getattr(self, name) for name in FIT_PART})

    @classmethod
    def from_dict(cls, values: Mapping | None, *, file=None) -> CompareOptions:
        """Build from a mapping (a TOML table, CLI flags); unknown keys are named."""
        values = dict(values or {})
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise unknown_name(key, known, "compare options", file=file)
        return cls(**values)
