"""Named lists of class names shipped with cvcore, in label order.

``imagenet1k``: the 1,000 ImageNet classes; ``coco80``: COCO's 80 detection categories; ``voc20``: Pascal VOC's 20 classes.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from ...errors import ConfigError


def available() -> list[str]:
    """The names of the lists shipped here."""
    return sorted(p.name[:-4] for p in resources.files(__name__).iterdir() if p.name.endswith(".txt"))


@lru_cache(maxsize=None)
def _read(name: str) -> tuple[str, ...]:
    return tuple(resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8").splitlines())


def resolve(class_names: Any) -> list[str] | None:
    """``class_names`` as a list: a list as given, or the shipped list a string names (``"imagenet1k"``)."""
    if class_names is None:
        return None
    if isinstance(class_names, str):
        if class_names not in available():
            raise ConfigError(f"class_names = {class_names!r} is neither a list of names nor one of the shipped lists "
                              f"({', '.join(available())}).")
        return list(_read(class_names))
    if not isinstance(class_names, (list, tuple)) or not all(isinstance(name, str) for name in class_names):
        raise ConfigError(f"class_names must be a list of strings or the name of a shipped list; got {class_names!r}.")
    return list(class_names)
