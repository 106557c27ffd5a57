"""Options of the learning-model fit, validated once, and the four models of Muller et al.

:class:`LearningOptions` is the one owner of every setting of :func:`dopafit.fit_learning`:
the Python API, the batch (``BatchSettings.learning``) and the ``[learning]`` table of a TOML
config all build it, so a setting is checked in one place and an unknown key is named with the
closest valid one.

Examples
--------
>>> from dopafit.fit.learning_options import LearningOptions, resolve_models
>>> resolve_models("ALSS")
('asymmetric_learning',)
>>> LearningOptions(n_starts=3).n_starts
3
>>> LearningOptions.from_dict({"n_start": 3})
Traceback (most recent call last):
...
dopafit.errors.ConfigError: expected learning options among axis, cv_blocks, intervals, level, max_iter, min_trials, model, n_starts, noise, seed, select, uncued, v0, v0_trials; found unknown key 'n_start'. Fix: did you mean 'n_starts'?
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import numpy as np

from dopafit.errors import ConfigError, unknown_name

__all__ = [
    "MODELS",
    "MODEL_CODES",
    "MODEL_LEARNING",
    "MODEL_SCALING",
    "LearningOptions",
    "resolve_models",
    "first_scored_block",
]

#: The four models (Muller et al. 2024), in order of increasing number of parameters.
MODELS = ("classical", "asymmetric_learning", "asymmetric_scaling", "asymmetric_both")
#: The paper's codes: symmetric (S) or asymmetric (A) learning (L) and scaling (S).
MODEL_CODES = {
    "SLSS": "classical",
    "ALSS": "asymmetric_learning",
    "SLAS": "asymmetric_scaling",
    "ALAS": "asymmetric_both",
}
#: Whether each model has separate learning rates after positive and negative errors.
MODEL_LEARNING = {
    "classical": False,
    "asymmetric_learning": True,
    "asymmetric_scaling": False,
    "asymmetric_both": True,
}
#: Whether each model has separate response slopes above and below zero error.
MODEL_SCALING = {
    "classical": False,
    "asymmetric_learning": False,
    "asymmetric_scaling": True,
    "asymmetric_both": True,
}

NOISE_MODELS = ("gaussian", "poisson")
UNCUED_MODES = ("learned", "zero")
V0_MODES = ("free", "first")
SELECT_RULES = ("cv", "aic", "bic")
INTERVALS = ("profile", "wald")
AXES = ("reward", "utility", "zscore")


def resolve_models(model) -> tuple[str, ...]:
    """The model names asked for, in :data:`MODELS` order.

    Parameters
    ----------
    model : str or sequence of str
        ``"all"``, a model name, a code of :data:`MODEL_CODES` (case and dashes ignored:
        ``"AL-SS"``), or several of them.

    Returns
    -------
    tuple of str

    Raises
    ------
    ConfigError
        An unknown name.
    """
    items = [model] if isinstance(model, str) else list(model)
    if not items:
        raise ConfigError("at least one learning model", found="an empty list")
    chosen = set()
    for item in items:
        text = str(item).strip()
        if text.lower() == "all":
            chosen.update(MODELS)
            continue
        code = text.upper().replace("-", "").replace("_", "")
        name = MODEL_CODES.get(code, text.lower())
        if name not in MODELS:
            valid = [*MODELS, *MODEL_CODES, "all"]
            close = difflib.get_close_matches(text, valid, n=1)
            raise ConfigError(
                f"a learning model among {', '.join(MODELS)}, the codes "
                f"{', '.join(MODEL_CODES)} or 'all'",
                found=repr(item),
                remedy=f"did you mean {close[0]!r}?" if close else None,
            )
        chosen.add(name)
    return tuple(m for m in MODELS if m in chosen)


def first_scored_block(cv_blocks: int) -> int:
    """The first block the leave-future-out cross-validation scores: ``max(1, cv_blocks //
    2)``, so that every fit sees at least about 40% of the trials (a shorter past leaves
    parameters unconstrained, e.g. a slope for errors of a sign not yet seen, and one wild
    forecast swamps the sum)."""
    return max(1, int(cv_blocks) // 2)


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} as an integer >= {low}", found=repr(value))
    return int(value)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ConfigError(f"{name} one of {', '.join(choices)}", found=repr(value))
    return value


@dataclass(frozen=True)
class LearningOptions:
    """Every setting of the learning-model fit (see :func:`dopafit.fit_learning`).

    Parameters
    ----------
    model : str or tuple of str, default "all"
        Models to fit (see :func:`resolve_models`); stored resolved.
    axis : {"reward", "utility", "zscore"}, callable or array-like, default "reward"
        The utility ``u(r)`` the values learn: the reward itself, the empirical utility axis
        of :func:`dopafit.fit_expectiles`, or the reward with responses z-scored per unit.
    noise : {"gaussian", "poisson"}, default "gaussian"
        Gaussian responses with SD ``sigma``, or Poisson window spike counts (needs the
        ``window_count`` and ``baseline`` variables of a spike-count Dataset).
    uncued : {"learned", "zero"}, default "learned"
        Uncued trials have a learned context value, or a fixed value 0.
    v0 : {"free", "first"}, default "free"
        Initial context values estimated, or fixed at the mean utility of the first
        ``v0_trials`` trials of each context.
    v0_trials : int, default 5
    n_starts : int, default 10
        Optimiser starts per fit (the first deterministic, the others seeded draws): the
        likelihood has local maxima (initial values against baseline, one learning rate
        near 0).
    cv_blocks : int, default 5
        Contiguous blocks of the leave-future-out cross-validation (0: none).
    select : {"bic", "aic", "cv"}, default "bic"
        Criterion of ``best_model``. BIC recovers the generating model best on simulated
        learning tasks (docs/explanation/learning.md: confusion matrices of all three); the
        cross-validated log-likelihood, like AIC, prefers the richer model more often.
    level : float, default 0.95
        Level of the intervals.
    intervals : {"profile", "wald"}, default "profile"
        Intervals of the learning rates and tau_learning: profile likelihood (the
        likelihood-ratio test inverted; reliable when the likelihood is far from quadratic,
        as it is for learning rates at low signal-to-noise) or Wald (from the Hessian, on the
        logit scale; faster). Other parameters always get Wald intervals.
    min_trials : int, default 20
        Units with fewer trials with a response are not fitted.
    max_iter : int, default 500
        Optimiser iteration limit per start.
    seed : int, default 0
    """

    model: tuple[str, ...] | str = "all"
    axis: str | Callable | np.ndarray = "reward"
    noise: str = "gaussian"
    uncued: str = "learned"
    v0: str = "free"
    v0_trials: int = 5
    n_starts: int = 10
    cv_blocks: int = 5
    select: str = "bic"
    level: float = 0.95
    intervals: str = "profile"
    min_trials: int = 20
    max_iter: int = 500
    seed: int = 0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "model", resolve_models(self.model))
        if isinstance(self.axis, str):
            _check_choice("axis", self.axis, AXES)
        elif not callable(self.axis):
            values = np.asarray(self.axis, dtype=np.float64)
            if values.ndim != 1 or not np.all(np.isfinite(values)):
                raise ConfigError(
                    "axis as a name, a callable or one finite value per magnitude",
                    found=repr(self.axis),
                )
        _check_choice("noise", self.noise, NOISE_MODELS)
        _check_choice("uncued", self.uncued, UNCUED_MODES)
        _check_choice("v0", self.v0, V0_MODES)
        _check_choice("select", self.select, SELECT_RULES)
        if self.select == "cv" and self.cv_blocks == 0:
            raise ConfigError(
                "cv_blocks >= 2 with select='cv'",
                found="cv_blocks = 0 (no cross-validation)",
                remedy="set cv_blocks or select='bic'",
            )
        _check_choice("intervals", self.intervals, INTERVALS)
        set_(self, "v0_trials", _check_int("v0_trials", self.v0_trials, 1))
        set_(self, "n_starts", _check_int("n_starts", self.n_starts, 1))
        set_(self, "cv_blocks", _check_int("cv_blocks", self.cv_blocks, 0))
        if self.cv_blocks == 1:
            raise ConfigError("cv_blocks = 0 (no cross-validation) or >= 2", found="1")
        set_(self, "min_trials", _check_int("min_trials", self.min_trials, 3))
        set_(self, "max_iter", _check_int("max_iter", self.max_iter, 1))
        set_(self, "seed", _check_int("seed", self.seed, 0))
        if isinstance(self.level, bool) or not 0.0 < float(self.level) < 1.0:
            raise ConfigError("level in (0, 1)", found=repr(self.level))
        set_(self, "level", float(self.level))
        if self.noise == "poisson" and isinstance(self.axis, str) and self.axis == "zscore":
            raise ConfigError(
                "axis 'reward' or 'utility' with Poisson noise",
                found="axis 'zscore' (z-scored responses are not counts)",
                remedy="use noise='gaussian' with axis='zscore'",
            )

    @classmethod
    def from_dict(cls, values: Mapping | None, *, file=None) -> LearningOptions:
        """Build from a mapping (a TOML table, CLI flags); unknown keys are named."""
        values = dict(values or {})
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise unknown_name(key, known, "learning options", file=file)
        return cls(**values)

    def record(self) -> dict:
        """JSON-friendly record of every setting (the attrs of the fit)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "axis" and not isinstance(value, str):
                value = (
                    f"callable:{getattr(value, '__name__', type(value).__name__)}"
                    if callable(value)
                    else np.asarray(value, dtype=float).tolist()
                )
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out
