"""The R-CNN FPN zoo: GluonCV's five COCO models, with its parameter names, and the parts they are made of."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cvcore.component import Component
from cvcore.nn.norm import SYMBOLIC_BATCH_NORM
from cvcore.zoo import ModelRecipe, gluoncv_weights

from .names import HEAD_NAME_MAP, backbone_name_map, fpn_name_map

HEAD_NAME = "rcnn_fpn"
NECK_NAME = "fpn"
LOSS_NAME = "rcnn"
TASK_NAME = "detection"
INPUT_SHAPE = (1, 3, 512, 512)
"""Every image scaled to fit 512x512 (GluonCV evaluates at 800 on the short side, up to 1333: input_shape = [1, 3, 800, 1344])."""


@dataclass(frozen=True)
class Model:
    """One zoo entry: its backbone and what differs from the plain Faster R-CNN FPN head."""

    backbone: str
    head: dict[str, Any] = field(default_factory=dict)
    sync_batch_norm: bool = False
    masks: bool = False


FASTER = {"rpn_channels": 1024, "box_head": "fc", "roi_size": 7, "clip": 4.14}
MASK = {"rpn_channels": 1024, "box_head": "fc", "roi_size": 14, "clip": 4.42, "masks": True}
SYNC_BN = {"rpn_channels": 256, "box_head": "conv", "roi_size": 7, "clip": 4.14, "norm_layer": "SyncBatchNorm"}

MODELS: dict[str, Model] = {
    "faster_rcnn_fpn_resnet50_v1b_coco": Model("resnet50_v1b", FASTER),
    "faster_rcnn_fpn_syncbn_resnet50_v1b_coco": Model("resnet50_v1b", SYNC_BN, sync_batch_norm=True),
    "faster_rcnn_fpn_resnet101_v1d_coco": Model("resnet101_v1d", FASTER),
    "mask_rcnn_fpn_resnet50_v1b_coco": Model("resnet50_v1b", MASK, masks=True),
    "mask_rcnn_fpn_resnet101_v1d_coco": Model("resnet101_v1d", MASK, masks=True),
}
ALIASES = {"faster_rcnn_fpn_bn_resnet50_v1b_coco": "faster_rcnn_fpn_syncbn_resnet50_v1b_coco"}
"""GluonCV 0.4's name for its BatchNorm model -> the later name."""


@lru_cache(maxsize=None)
def _backbone_keys(backbone: str) -> tuple[str, ...]:
    from cvcore.plugins import get

    return tuple(get("backbone", backbone).build()._collect_params_with_prefix())


def name_map(model: Model) -> dict[str, str]:
    """GluonCV's parameter names of ``model`` -> the pipeline's."""
    scope = "resnetv1" + model.backbone.rsplit("_v1", 1)[1]
    norm = "syncbatchnorm" if model.sync_batch_norm else "batchnorm"
    return {**backbone_name_map(_backbone_keys(model.backbone), scope, norm), **fpn_name_map(model.sync_batch_norm), **HEAD_NAME_MAP}


def recipe(name: str) -> ModelRecipe:
    """The recipe of zoo model ``name`` (one of :data:`MODELS` or :data:`ALIASES`)."""
    published = ALIASES.get(name, name)
    model = MODELS[published]
    norm = {"norm_layer": "SyncBatchNorm"} if model.sync_batch_norm else {}
    return ModelRecipe(
        TASK_NAME,
        backbone={"name": model.backbone, **norm},
        neck={"name": NECK_NAME, **norm, **({"norm_kwargs": SYMBOLIC_BATCH_NORM} if model.sync_batch_norm else {})},
        head={"name": HEAD_NAME, **model.head},
        loss=LOSS_NAME,
        metric="coco_detection",
        options={"input_shape": list(INPUT_SHAPE), "classes": 80, "class_names": "coco80", **({"masks": True} if model.masks else {})},
        weights=gluoncv_weights(published),
        name_map=name_map(model),
    )


def parts() -> dict[str, list[Component]]:
    """The neck, head and loss components."""
    from .fpn import FPN
    from .loss import RCNNLoss
    from .rcnn import RCNNHead

    return {
        "neck": [Component(NECK_NAME, FPN, "Feature pyramid: P2-P6 (256 wide) from a backbone's C2-C5; "
                                           "norm_layer for the BatchNorm variant.", {"in_features": 4})],
        "head": [Component(HEAD_NAME, RCNNHead, "Faster R-CNN on P2-P6 (RPN, multi-level ROIAlign, class-specific boxes); "
                                                "masks = true for Mask R-CNN.", {"in_features": 5})],
        "loss": [Component(LOSS_NAME, RCNNLoss, "RPN and region classification and box losses, and the mask loss, per image.")],
    }


def rcnn_models() -> list[Component]:
    """The ``cvcore_models`` components of every zoo entry and alias."""
    components = []
    for name in (*MODELS, *ALIASES):
        model = MODELS[ALIASES.get(name, name)]
        kind = "Mask" if model.masks else "Faster"
        depth, variant = model.backbone[len("resnet"):].split("_")
        extra = ", BatchNorm in the neck and box head" if model.sync_batch_norm else ""
        alias = f" (GluonCV 0.4's name for {ALIASES[name]})" if name in ALIASES else ""
        doc = f"{kind} R-CNN FPN on ResNet-{depth} {variant}{extra}, COCO 80 classes{alias}."
        # built when asked for: the name map reads the backbone, which the registry may not hold yet
        components.append(Component(name, lambda name=name: recipe(name), doc=doc, meta={"task": TASK_NAME}))
    return components
