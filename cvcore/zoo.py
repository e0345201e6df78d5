"""Zoo recipes: a model name -> task, parts with their options, and its weights."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Mapping

from .component import Component


@dataclass(frozen=True)
class WeightsSpec:
    """Where a zoo entry's pretrained parameters live.

    ``file_name`` is looked up in ``$CVCORE_HOME/models``; ``sha1`` is checked
    before use; ``url`` is tried only when the file is absent.
    """

    file_name: str
    sha1: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ModelRecipe:
    """Everything needed to assemble a named model as a :class:`cvcore.Pipeline`."""

    task: str
    backbone: Mapping[str, Any] | str | None = None
    head: Mapping[str, Any] | str | None = None
    neck: Mapping[str, Any] | str | None = None
    loss: Mapping[str, Any] | str | None = None
    metric: Mapping[str, Any] | str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    weights: WeightsSpec | None = None
    name_map: Mapping[str, str] = field(default_factory=dict)
    """Renames keys of the parameter files published for this model (GluonCV's) to the
    pipeline's structural names, as ``{foreign_prefix: our_prefix}``."""
    base: str | None = None
    """For a deployed entry (``resnet50_v1_int8``): the FP32 zoo model it is made from."""
    deploy: tuple[Mapping[str, Any], ...] = ()
    """For a deployed entry: the deploy steps, each ``{"transform": name, **options}``, applied to ``base``."""
    graph: tuple[WeightsSpec, ...] = ()
    """For a deployed entry: the files of its deployed graph in the weight store
    (``NAME-symbol.json`` and ``NAME-0000.params``, as ``Pipeline.save`` writes them)."""

    def config(self) -> dict[str, Any]:
        """The recipe as a pipeline configuration (the same keys as a TOML file)."""
        config: dict[str, Any] = {"task": self.task}
        for kind in ("backbone", "neck", "head", "loss", "metric"):
            spec = getattr(self, kind)
            if spec is not None:
                config[kind] = {"name": spec} if isinstance(spec, str) else dict(spec)
        config.update(self.options)
        return config


GLUONCV_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/{file}.zip"


def gluoncv_weights(name: str) -> WeightsSpec | None:
    """The published GluonCV parameter file of ``name`` (None when GluonCV published none)."""
    from .gluoncv_hashes import GLUONCV_SHA1

    sha1 = GLUONCV_SHA1.get(name)
    if sha1 is None:
        return None
    file = f"{name}-{sha1[:8]}"
    return WeightsSpec(f"{file}.params", sha1=sha1, url=GLUONCV_URL.format(file=file))


def classification_model(
    name: str,
    backbone: Mapping[str, Any] | str,
    name_map: Mapping[str, str],
    doc: str = "",
    *,
    head: Mapping[str, Any] | str = "classifier",
    input_size: int = 224,
    published_as: str | None = None,
) -> Component:
    """A 1000-class ImageNet classification zoo entry whose weights are GluonCV's file for ``name`` (or ``published_as``)."""
    recipe = ModelRecipe(
        "classification",
        backbone=backbone,
        head=head,
        options={"classes": 1000, "class_names": "imagenet1k", "input_shape": [1, 3, input_size, input_size]},
        weights=gluoncv_weights(published_as or name),
        name_map=dict(name_map),
    )
    return model_component(name, recipe, doc)


def deployed_model(name: str, base: str, steps: tuple[Mapping[str, Any], ...], task: str, doc: str = "") -> Component:
    """A zoo entry that is ``base`` after deploy ``steps`` (``resnet50_v1_int8``); its graph lives in the weight store.

    The base recipe is looked up when the entry is built, so ``base`` may come
    from another plugin; without that plugin the error names it.
    """
    from dataclasses import replace

    def recipe() -> ModelRecipe:
        fp32 = get_recipe(base)
        graph = (WeightsSpec(f"{name}-symbol.json"), WeightsSpec(f"{name}-0000.params"))
        return replace(fp32, base=base, deploy=tuple(dict(step) for step in steps), graph=graph)

    return Component(name, recipe, doc=doc or f"{base} after {' -> '.join(s['transform'] for s in steps)}",
                     meta={"task": task, "base": base})


def model_component(name: str, recipe: ModelRecipe, doc: str = "") -> Component:
    """A ``cvcore_models`` component for ``recipe``."""
    return Component(name, lambda: recipe, doc=doc, meta={"task": recipe.task})


def get_recipe(name: str) -> ModelRecipe:
    """The recipe of the zoo entry ``name``."""
    from .plugins import get

    recipe = get("model", name).build()
    if not isinstance(recipe, ModelRecipe):
        raise TypeError(f"Model {name!r}: its factory returned {type(recipe).__name__}, not a ModelRecipe")
    return recipe


def list_models(task: str | None = None, pattern: str | None = None) -> list[str]:
    """Names of zoo models, optionally only those of ``task`` or matching a glob ``pattern``."""
    from .plugins import host

    names = []
    for entry in host().registry.entries("model"):
        if task is not None and entry.component.meta.get("task") != task:
            continue
        if pattern is not None and not fnmatch.fnmatchcase(entry.name, pattern):
            continue
        names.append(entry.name)
    return names
