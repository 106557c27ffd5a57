"""What every frozen options dataclass shares: checked construction from a mapping (a TOML
table, CLI flags), mapping-style access (``**options``), checked copies and the record of the
settings that differ from the defaults.

Examples
--------
>>> from dopafit.fit.discount_options import DiscountOptions
>>> options = DiscountOptions.from_dict({"n_splits": 10})
>>> options["n_splits"], options.updated(n_boot=5).n_boot, options.changed()
(10, 5, {'n_splits': 10})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace

from dopafit.errors import ConfigError, unknown_name

__all__ = ["NamedOptions"]


class NamedOptions:
    """Mixin of the options dataclasses; ``_OF`` names the function they configure (errors
    say "options of <_OF>"), and subclasses define ``record()``."""

    _OF = "this analysis"

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in signature order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping | None, *, file=None):
        """Build from a mapping (a TOML table, CLI flags); unknown keys are named.

        Parameters
        ----------
        values : mapping or None
            Option names and values; missing ones take their defaults.
        file : str or path-like, optional
            The file the values come from, named in errors.

        Returns
        -------
        The options.

        Raises
        ------
        ConfigError
            An unknown key (naming the closest valid one) or an invalid value.
        """
        values = dict(values or {})
        for key in values:
            if key not in cls.names():
                raise unknown_name(key, cls.names(), f"options of {cls._OF}", file=file)
        try:
            return cls(**values)
        except ConfigError as exc:
            if file is None:
                raise
            raise ConfigError(exc.expected, found=exc.found, remedy=exc.remedy, file=file) from None

    def updated(self, **overrides):
        """A copy with ``overrides`` (option names) changed; unknown names are named."""
        for key in overrides:
            if key not in self.names():
                raise unknown_name(key, self.names(), f"options of {self._OF}")
        return replace(self, **overrides)

    def keys(self) -> tuple[str, ...]:
        """The option names: with :meth:`__getitem__`, ``**options`` gives keyword arguments."""
        return self.names()

    def __getitem__(self, name: str):
        if name not in self.names():
            raise KeyError(name)
        return getattr(self, name)

    def record(self) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def changed(self) -> dict:
        """The settings that differ from the defaults, as in ``record()`` (what a batch's
        settings hash covers, so that spelling out a default does not change it)."""
        default = type(self)().record()
        return {k: v for k, v in self.record().items() if k not in default or v != default[k]}
