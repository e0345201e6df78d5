"""Built-in backbone families, one module each.

Every module here defines ``backbones() -> list[Component]`` (the feature
extractors) and ``classification_models() -> list[Component]`` (their
ImageNet zoo entries), and may define ``heads() -> list[Component]`` for a
head its classification models need (VGG's fully connected layers). The
core's plugin face collects them all.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def family_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
