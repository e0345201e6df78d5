"""Values a user gives checked against their declared types, with errors naming the key, the value and what fits.

The declared types are ordinary annotations (``int``, ``float | None``,
``Sequence[float]``, ``Literal["raise", "skip"]``, ...), read from a
dataclass's fields or a factory's signature, so a part author declares an
option's type once, where the option is. TOML gives ints, floats, bools,
strings, lists and tables; the rules follow what each means:

* ``int`` takes integers only (``16.5``, ``"16"`` and ``true`` are refused);
* ``float`` takes integers and floats, not bools or strings;
* ``bool`` takes ``true``/``false`` only;
* ``Sequence[T]``/``list[T]``/``tuple[T, ...]`` take lists (not strings), each item a ``T``;
* ``Mapping``/``dict`` take tables; ``Literal[...]`` one of its values; ``Any`` anything.

An annotation this module cannot read (a forward reference to an unknown
name, a custom generic) accepts any value: the check never stands in the way
of a part it does not understand.
"""
from __future__ import annotations

import collections.abc
import inspect
import numbers
import types
import typing
from typing import Any, Callable, Mapping

from .errors import ConfigError


def describe(hint: Any) -> str:
    """A type annotation in words (``"an integer"``, ``"a list of numbers"``, ``"'raise' or 'skip'"``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return "anything"
    if hint is type(None) or hint is None:
        return "nothing (leave it out)"
    if origin in (typing.Union, types.UnionType):
        words = dict.fromkeys(describe(arg) for arg in args if arg is not type(None))  # list[int] | tuple[int, ...]: once
        return " or ".join(words) + (" (or leave it out)" if type(None) in args else "")
    if origin is typing.Literal:
        return " or ".join(repr(arg) for arg in args)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if _is_sequence(origin or hint):
        item = args[0] if args else Any
        return "a list" + ("" if item is Any else f" of {_plural(describe(item))}")
    if _is_mapping(origin or hint):
        return "a table"
    if origin is type or hint is type:
        return "a class"
    if isinstance(hint, type):
        return f"a {hint.__name__}"
    return str(hint)


def fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the annotated type (see the module's rules)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or isinstance(hint, (str, typing.TypeVar, typing.ForwardRef)):
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if origin is typing.Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    container = origin or hint
    if _is_sequence(container):
        if isinstance(value, (str, bytes)) or not isinstance(value, collections.abc.Sequence):
            return False
        if not args or (len(args) == 2 and args[1] is Ellipsis) or container not in (tuple,):
            item = args[0] if args else Any
            return all(fits(v, item) for v in value)
        return len(value) == len(args) and all(fits(v, a) for v, a in zip(value, args))
    if _is_mapping(container):
        return isinstance(value, collections.abc.Mapping)
    if origin is type or hint is type:
        return isinstance(value, type)
    if container is collections.abc.Callable:
        return callable(value)
    if isinstance(container, type):
        return isinstance(value, container)
    return True


def check_value(key: str, value: Any, hint: Any, where: str) -> None:
    """Raise :class:`ConfigError` unless ``value`` fits ``hint``: ``"epochs = '1' ([train] option) must be an integer, not a string."``."""
    if not fits(value, hint):
        raise ConfigError(f"{key} = {value!r} ({where}) must be {describe(hint)}, not {_kind(value)}.")


def check_values(values: Mapping[str, Any], hints: Mapping[str, Any], where: str) -> None:
    """:func:`check_value` for every key of ``values`` that ``hints`` declares."""
    for key, value in values.items():
        if key in hints:
            check_value(key, value, hints[key], where)


def annotations_of(func: Callable[..., Any]) -> dict[str, Any]:
    """The type annotations of a function's or class's keyword parameters, resolved; those that cannot be are left out."""
    target = getattr(func, "func", func)  # functools.partial
    target = target.__init__ if inspect.isclass(target) else target
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
    module = inspect.getmodule(target)
    namespace = {**vars(typing), **(vars(module) if module else {})}
    hints = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        if name not in parameters:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)
            except Exception:  # a name imported only for type checkers
                continue
        hints[name] = annotation
    return hints


def _is_sequence(container: Any) -> bool:
    return container in (list, tuple, collections.abc.Sequence, typing.Sequence, typing.List, typing.Tuple)


def _is_mapping(container: Any) -> bool:
    return container in (dict, collections.abc.Mapping, typing.Mapping, typing.Dict, collections.abc.MutableMapping)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, numbers.Integral):
        return "an integer"
    if isinstance(value, numbers.Real):
        return "a number with a fraction" if not float(value).is_integer() else "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"


def _plural(text: str) -> str:
    for article in ("an ", "a "):
        if text.startswith(article):
            word = text[len(article):]
            return {"integer": "integers", "number": "numbers", "string": "strings"}.get(word, word + "s")
    return text
