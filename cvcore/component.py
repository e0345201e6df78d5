"""The unit every hook returns: a named factory of one kind of part."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .options import check_call


@dataclass(frozen=True)
class Component:
    """A named part a plugin contributes.

    ``factory(**options)`` builds the part; what it must return depends on the
    kind and is written in the hook's docstring in :mod:`cvcore.hookspecs`.
    ``meta`` carries kind-specific facts (for example a head's ``in_features``
    or a dataset's ``synthesize`` function).
    """

    name: str
    factory: Callable[..., Any]
    doc: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise TypeError(f"Component name must be a non-empty string, got {self.name!r}")
        if not callable(self.factory):
            raise TypeError(f"Component {self.name!r}: factory must be callable, got {type(self.factory).__name__}")

    def build(self, **options: Any) -> Any:
        """Call the factory with ``options``; a name it does not take is a :class:`~cvcore.errors.ConfigError`."""
        check_call(self.factory, options, f"option of {self.name!r}")
        return self.factory(**options)

    @property
    def summary(self) -> str:
        """First line of the doc (or of the factory's docstring)."""
        text = self.doc or (getattr(self.factory, "__doc__", None) or "")
        return text.strip().splitlines()[0] if text.strip() else ""
