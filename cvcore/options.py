"""Names a user gives (config keys, part options, verb options) checked before use, with the closest known ones.

The values are checked too, against the types their parameters declare (:mod:`cvcore.typecheck`).
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Mapping

from .errors import ConfigError
from .typecheck import annotations_of, check_values


@dataclass(frozen=True)
class Option:
    """A top-level pipeline option a task adds: what it sets, and the type its value must have."""

    doc: str
    type: Any = Any

INTERNAL_PARAMETERS = frozenset({"self", "net", "example", "calib_data", "in_channels", "in_strides", "pipeline", "inputs",
                                 "data", "split"})
"""Parameters cvcore fills in itself; never listed to the user as options."""


def check_keys(given: Iterable[str], known: Collection[str], where: str, moved: Mapping[str, str] | None = None,
               hidden: Collection[str] = ()) -> None:
    """Raise :class:`ConfigError` for keys of ``given`` not in ``known``: each with its closest known key, then the known ones.

    ``where`` names the table or verb (``"[train] option"``, ``"option of 'resnet50_v1b'"``); ``moved``
    maps names users bring from elsewhere to a hint of where that option lives here; ``hidden`` keys
    are accepted but not listed.
    """
    unknown = [key for key in given if key not in known]
    if not unknown:
        return
    shown = sorted(key for key in known if key not in hidden)
    named = []
    for key in unknown:
        if moved and key in moved:
            named.append(f"{key!r} ({moved[key]})")
            continue
        close = difflib.get_close_matches(key, shown, n=1, cutoff=0.6)
        named.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigError(f"Unknown {where}: {', '.join(named)}; the accepted ones are: {', '.join(shown) or 'none'}.")


def accepted_keywords(func: Callable[..., Any]) -> list[str] | None:
    """The keyword arguments ``func`` takes; None when it takes ``**kwargs`` (then any name may be right)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin or C function without a signature
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in keyword]


def check_call(func: Callable[..., Any], options: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ConfigError` if ``func`` does not take every key of ``options`` (names checked unless it takes
    ``**kwargs``), or a value is not of the type its parameter declares."""
    accepted = accepted_keywords(func)
    if accepted is not None:
        check_keys(options, accepted, where, hidden=INTERNAL_PARAMETERS)
    check_values({k: v for k, v in options.items() if k not in INTERNAL_PARAMETERS}, annotations_of(func), where)
