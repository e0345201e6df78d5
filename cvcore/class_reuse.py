"""Which new class takes which old class's weights when a trained model's classes change (``Pipeline.reset_class``)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .errors import ConfigError


def reuse_map(new: Sequence[str], old: Sequence[str], reuse_weights: Any) -> dict[int, int]:
    """``{new index: old index}`` from ``reuse_weights``.

    ``reuse_weights`` is ``None`` (nothing reused), a list of names found in both
    ``new`` and ``old``, or a mapping from a new class to an old one, each side a
    name or an index (``{"person": "person"}``, ``{"pedestrian": 0}``, ``{0: 14}``).
    """
    if reuse_weights is None:
        return {}
    if isinstance(reuse_weights, str) or not isinstance(reuse_weights, (Mapping, list, tuple)):
        raise ConfigError(f"reuse_weights is a list of class names or a mapping new -> old class; got {reuse_weights!r}.")
    pairs = reuse_weights.items() if isinstance(reuse_weights, Mapping) else ((name, name) for name in reuse_weights)
    mapping: dict[int, int] = {}
    for new_class, old_class in pairs:
        mapping[_index(new_class, new, "new")] = _index(old_class, old, "old")
    return mapping


def _index(value: Any, names: Sequence[str], which: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"A class in reuse_weights is a name or an index; got {value!r}.")
    if isinstance(value, int):
        if not 0 <= value < len(names):
            raise ConfigError(f"Class index {value} is outside the {which} classes (0 to {len(names) - 1}).")
        return value
    if value not in names:
        shown = ", ".join(list(names)[:10]) + (", ..." if len(names) > 10 else "")
        raise ConfigError(f"Class {value!r} is not among the {which} class names ({shown}).")
    return list(names).index(value)
