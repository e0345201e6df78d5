"""The SSD zoo: GluonCV's four Pascal VOC models, with its parameter names, and the parts they are made of."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cvcore.component import Component
from cvcore.nn.norm import SYMBOLIC_BATCH_NORM
from cvcore.nn.symbol_names import symbol_name_map
from cvcore.zoo import ModelRecipe, gluoncv_weights

HEAD_NAME = "ssd"
NECK_NAME = "ssd_extras"
LOSS_NAME = "multibox"
TASK_NAME = "detection"
VOC_RATIOS = ((1, 2, 0.5),) + ((1, 2, 0.5, 3, 1 / 3),) * 3 + ((1, 2, 0.5),) * 2


@dataclass(frozen=True)
class Model:
    """One zoo entry: its backbone, input size, extra layers and default boxes (GluonCV's presets)."""

    backbone: str
    size: int
    extras: str
    sizes: tuple[float, ...]
    ratios: tuple[tuple[float, ...], ...]
    steps: tuple[float, ...]
    batch_norm: bool = False
    head: dict[str, Any] = field(default_factory=dict)


EXPANDED = {"extras": "expand512", "batch_norm": True, "sizes": (51.2, 102.4, 189.4, 276.4, 363.52, 450.6, 492),
            "ratios": VOC_RATIOS, "steps": (16, 32, 64, 128, 256, 512)}
MODELS: dict[str, Model] = {
    "ssd_300_vgg16_atrous_voc": Model("vgg16_atrous", 300, "vgg300", (30, 60, 111, 162, 213, 264, 315), VOC_RATIOS,
                                      (8, 16, 32, 64, 100, 300)),
    "ssd_512_vgg16_atrous_voc": Model("vgg16_atrous", 512, "vgg512", (51.2, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6),
                                      ((1, 2, 0.5),) + ((1, 2, 0.5, 3, 1 / 3),) * 4 + ((1, 2, 0.5),) * 2, (8, 16, 32, 64, 128, 256, 512)),
    "ssd_512_resnet50_v1_voc": Model("resnet50_v1", 512, **EXPANDED),
    "ssd_512_mobilenet1.0_voc": Model("mobilenet1.0", 512, **EXPANDED),
}
HEAD_NAME_MAP = {prefix: f"head.{prefix}" for prefix in ("class_predictors.", "box_predictors.", "anchor_generators.")}
"""The head's children carry GluonCV's own names."""
VGG_NAME_MAP = {"features.stages.": "backbone.stages.", "features.init_scale": "backbone.init_scale", "features.norm4.": "backbone.norm4.",
                "features.extras.": "neck.extras."}
"""GluonCV builds the atrous VGG and its extra layers as one Gluon block (``features``)."""


@lru_cache(maxsize=None)
def _backbone_keys(backbone: str) -> tuple[str, ...]:
    from cvcore.plugins import get

    return tuple(get("backbone", backbone).build(out_features=["c4", "c5"])._collect_params_with_prefix())


def expander_name_map(layers: int) -> dict[str, str]:
    """GluonCV's feature expander (symbols ``expand_trans_conv<i>``, ``expand_conv<i>`` and their norms) -> ``neck.extras.*``."""
    mapping = {}
    for i in range(layers):
        for name, index in ((f"expand_trans_conv{i}_", 0), (f"expand_trans_bn{i}_", 1), (f"expand_conv{i}_", 3), (f"expand_bn{i}_", 4)):
            mapping[f"features.{name}"] = f"neck.extras.{i}.{index}."
    for theirs, ours in (("moving_mean", "running_mean"), ("moving_var", "running_var")):  # the expander's norms are symbolic
        for i in range(layers):
            for norm, index in ((f"expand_trans_bn{i}_", 1), (f"expand_bn{i}_", 4)):
                mapping[f"features.{norm}{theirs}"] = f"neck.extras.{i}.{index}.{ours}"
    return mapping


def name_map(model: Model) -> dict[str, str]:
    """GluonCV's parameter names of ``model`` -> the pipeline's."""
    if model.backbone == "vgg16_atrous":
        return {**VGG_NAME_MAP, **HEAD_NAME_MAP}
    keys = _backbone_keys(model.backbone)
    if model.backbone.startswith("resnet"):
        def scope(module: str) -> str:  # the stem, then features.4-7 = stage1-4
            stage = re.match(r"features\.(\d+)\.", module)
            return "resnetv10_" + (f"stage{int(stage.group(1)) - 3}_" if stage else "")
    else:
        def scope(module: str) -> str:  # one flat scope
            return "mobilenet0_"
    from .extras import PRESETS

    return {**symbol_name_map(keys, scope), **expander_name_map(len(PRESETS[model.extras])), **HEAD_NAME_MAP}


def recipe(name: str) -> ModelRecipe:
    """The recipe of zoo model ``name`` (one of :data:`MODELS`)."""
    model = MODELS[name]
    return ModelRecipe(
        TASK_NAME,
        backbone={"name": model.backbone},
        neck={"name": NECK_NAME, "layers": model.extras, "image_size": model.size,
              **({"batch_norm": True, "norm_kwargs": SYMBOLIC_BATCH_NORM} if model.batch_norm else {})},
        head={"name": HEAD_NAME, "sizes": list(model.sizes), "ratios": [list(r) for r in model.ratios], "steps": list(model.steps),
              **model.head},
        loss=LOSS_NAME,
        metric="voc07_map",
        options={"input_shape": [1, 3, model.size, model.size], "classes": 20, "class_names": "voc20"},
        weights=gluoncv_weights(name),
        name_map=name_map(model),
    )


def parts() -> dict[str, list[Component]]:
    """The neck, head and loss components."""
    from .extras import SSDExtras
    from .head import SSDHead
    from .loss import MultiBoxLoss

    return {
        "neck": [Component(NECK_NAME, SSDExtras, "SSD's extra layers after a backbone's last two maps (layers: vgg300, vgg512, "
                                                 "expand512 or your own; batch_norm for the expander).", {"in_features": 2})],
        "head": [Component(HEAD_NAME, SSDHead, "SSD: class and box predictors and default boxes on every map; per-class NMS.",
                           {"in_features": 0})],
        "loss": [Component(LOSS_NAME, MultiBoxLoss, "SSD's loss: cross-entropy on matched and hard-negative default boxes "
                                                    "(3 per match), smooth L1 on matched offsets.")],
    }


def ssd_models() -> list[Component]:
    """The ``cvcore_models`` components of every zoo entry."""
    components = []
    for name, model in MODELS.items():
        doc = f"SSD {model.size}x{model.size} on {model.backbone}, Pascal VOC 20 classes."
        components.append(Component(name, lambda name=name: recipe(name), doc=doc, meta={"task": TASK_NAME}))
    return components
