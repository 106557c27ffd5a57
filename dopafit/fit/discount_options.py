"""Options of the discounting fit, validated once.

:class:`DiscountOptions` owns every analysis setting of :func:`dopafit.fit_discounting`,
including the bounds of the discount parameters: gamma in ``[gamma_min, 1]`` (per delay unit)
and the hyperbolic k in ``[0, k_max]`` (per delay unit), searched on a grid of ``n_grid``
points and refined by golden section (:mod:`dopafit.kernels.discount`).

Examples
--------
>>> from dopafit.fit.discount_options import DiscountOptions
>>> DiscountOptions(n_splits=50, seed=1).n_splits
50
>>> DiscountOptions().gamma_bounds
(0.01, 1.0)
>>> DiscountOptions.from_dict({"n_split": 50})
Traceback (most recent call last):
...
dopafit.errors.ConfigError: expected options of fit_discounting among aic_margin, asymptote, gamma_min, k_max, level, n_boot, n_grid, n_splits, seed; found unknown key 'n_split'. Fix: did you mean 'n_splits'?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dopafit._options import NamedOptions
from dopafit.errors import ConfigError

__all__ = ["DiscountOptions"]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class DiscountOptions(NamedOptions):
    """Every analysis setting of the discounting fit (see :func:`dopafit.fit_discounting`).

    Parameters
    ----------
    asymptote : "fit" or float, default "fit"
        The delay-independent offset ``b`` of ``R(d) = b + A gamma ** d``: fitted per unit, or
        fixed at this value (response units; e.g. 0.0).
    gamma_min : float, default 0.01
        Lower bound of gamma (per delay unit); gamma is searched in ``[gamma_min, 1]``.
    k_max : float, default 50.0
        Upper bound of the hyperbolic k (per delay unit); k is searched in ``[0, k_max]``.
    n_grid : int, default 200
        Grid points for gamma (uniform in ``[gamma_min, 1]``) and for k (0, then geometric
        from ``k_max / 10**4`` to ``k_max``) before golden-section refinement; >= 3.
    n_splits : int, default 1000
        Random split halves of each unit's trials within delay (0: none).
    n_boot : int, default 1000
        Trial-level bootstrap resamples within delay for ``gamma_lo``/``gamma_hi`` (0: none).
    seed : int or None, default 0
        Master seed of every random draw (see :mod:`dopafit.seeds`); None draws fresh
        entropy, recorded in the result.
    level : float, default 0.95
        Level of the bootstrap percentile intervals, in (0, 1).
    aic_margin : float, default 2.0
        ``discount_shape`` is "undecided" when ``|delta_aic| < aic_margin`` (>= 0).

    Raises
    ------
    ConfigError
        An invalid value (the message names the option, what it must be and what was given).

    Examples
    --------
    >>> from dopafit.fit.discount_options import DiscountOptions
    >>> opts = DiscountOptions(asymptote=0.0, n_boot=0)
    >>> opts.fit_asymptote, opts.changed()
    (False, {'asymptote': 0.0, 'n_boot': 0})
    >>> DiscountOptions(gamma_min=0.0)
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected gamma_min in (0, 1); found 0.0.
    """

    _OF = "fit_discounting"

    asymptote: str | float = "fit"
    gamma_min: float = 0.01
    k_max: float = 50.0
    n_grid: int = 200
    n_splits: int = 1000
    n_boot: int = 1000
    seed: int | None = 0
    level: float = 0.95
    aic_margin: float = 2.0

    def __post_init__(self):
        a = self.asymptote
        if isinstance(a, str):
            if a != "fit":
                raise ConfigError('asymptote "fit" or a finite number', found=repr(a))
        elif not (_is_real(a) and np.isfinite(a)):
            raise ConfigError('asymptote "fit" or a finite number', found=repr(a))
        if not (_is_real(self.gamma_min) and 0.0 < float(self.gamma_min) < 1.0):
            raise ConfigError("gamma_min in (0, 1)", found=repr(self.gamma_min))
        if not (_is_real(self.k_max) and np.isfinite(self.k_max) and self.k_max > 0):
            raise ConfigError("k_max finite and > 0", found=repr(self.k_max))
        if not _is_int(self.n_grid) or self.n_grid < 3:
            raise ConfigError("n_grid as an integer >= 3", found=repr(self.n_grid))
        for name in ("n_splits", "n_boot"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ConfigError(f"{name} as an integer >= 0", found=repr(value))
        if not (_is_real(self.level) and 0.0 < float(self.level) < 1.0):
            raise ConfigError("level in (0, 1)", found=repr(self.level))
        if not (_is_real(self.aic_margin) and np.isfinite(self.aic_margin)) or self.aic_margin < 0:
            raise ConfigError("aic_margin finite and >= 0", found=repr(self.aic_margin))
        if self.seed is not None and not (_is_int(self.seed) and self.seed >= 0):
            raise ConfigError("seed as an integer >= 0 or None", found=repr(self.seed))

    @property
    def fit_asymptote(self) -> bool:
        """Whether the asymptote is fitted per unit."""
        return isinstance(self.asymptote, str)

    @property
    def asymptote_value(self) -> float:
        """The fixed asymptote (0.0 when it is fitted; unused then)."""
        return 0.0 if self.fit_asymptote else float(self.asymptote)

    @property
    def gamma_bounds(self) -> tuple[float, float]:
        """``(gamma_min, 1.0)``."""
        return (float(self.gamma_min), 1.0)

    @property
    def k_bounds(self) -> tuple[float, float]:
        """``(0.0, k_max)``."""
        return (0.0, float(self.k_max))

    def gamma_grid(self) -> np.ndarray:
        """The gamma grid: ``n_grid`` points uniform in ``[gamma_min, 1]``."""
        return np.linspace(float(self.gamma_min), 1.0, int(self.n_grid))

    def k_grid(self) -> np.ndarray:
        """The k grid: 0, then ``n_grid - 1`` points geometric in ``[k_max / 1e4, k_max]``."""
        k = float(self.k_max)
        return np.concatenate([[0.0], np.geomspace(k * 1e-4, k, int(self.n_grid) - 1)])

    def record(self) -> dict:
        """JSON-friendly record of every setting, by option name."""
        out = {}
        for name in self.names():
            value = getattr(self, name)
            out[name] = value.item() if isinstance(value, np.generic) else value
        return out

    def to_attrs(self) -> dict:
        """The settings as the attrs of a fit record them (netCDF-friendly)."""
        return {
            "asymptote": "fit" if self.fit_asymptote else float(self.asymptote),
            "gamma_min": float(self.gamma_min),
            "gamma_bounds": list(self.gamma_bounds),
            "k_max": float(self.k_max),
            "k_bounds": list(self.k_bounds),
            "n_grid": int(self.n_grid),
            "n_splits": int(self.n_splits),
            "n_boot": int(self.n_boot),
            "ci_level": float(self.level),
            "aic_margin": float(self.aic_margin),
        }
