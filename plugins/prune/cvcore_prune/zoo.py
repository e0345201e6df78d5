"""The seven pruned ResNets GluonCV published: ordinary ResNet v1b/v1d backbones whose widths are data."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from cvcore import Component
from cvcore.nn.families.resnet_v1b import NAME_MAP
from cvcore.zoo import classification_model

PRUNED: dict[str, tuple[str, str, str]] = {
    "resnet18_v1b_0.89": ("resnet18_v1b", "resnet18_v1b_2.6x", "2.6x fewer multiply-adds"),
    "resnet50_v1d_0.86": ("resnet50_v1d", "resnet50_v1d_1.8x", "1.8x fewer multiply-adds"),
    "resnet50_v1d_0.48": ("resnet50_v1d", "resnet50_v1d_3.6x", "3.6x fewer multiply-adds"),
    "resnet50_v1d_0.37": ("resnet50_v1d", "resnet50_v1d_5.9x", "5.9x fewer multiply-adds"),
    "resnet50_v1d_0.11": ("resnet50_v1d", "resnet50_v1d_8.8x", "8.8x fewer multiply-adds"),
    "resnet101_v1d_0.76": ("resnet101_v1d", "resnet101_v1d_1.9x", "1.9x fewer multiply-adds"),
    "resnet101_v1d_0.73": ("resnet101_v1d", "resnet101_v1d_2.2x", "2.2x fewer multiply-adds"),
}
"""Name -> (the backbone it was pruned from, GluonCV's file name, what pruning saved); the name's suffix is GluonCV's
ratio of its FLOPs to the original's, as published."""


def widths(name: str) -> dict[str, Any]:
    """The widths table of pruned model ``name`` (shipped in ``cvcore_prune/widths/``)."""
    return json.loads(resources.files(__package__).joinpath("widths", f"{name}.json").read_text())


def pruned_models() -> list[Component]:
    return [
        classification_model(name, {"name": base, "widths": widths(name)}, NAME_MAP,
                             f"{base} pruned by GluonCV ({saved}), ImageNet 1000 classes.", published_as=published)
        for name, (base, published, saved) in PRUNED.items()
    ]
