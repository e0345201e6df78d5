"""The simple-pose zoo: GluonCV's seven COCO keypoint models, and the head they use."""
from __future__ import annotations

from cvcore.component import Component
from cvcore.zoo import ModelRecipe, gluoncv_weights, model_component

from .head import SimplePoseHead

HEAD_NAME = "simple_pose"
LOSS_NAME = "heatmap_mse"
METRIC_NAME = "coco_keypoints"
TASK_NAME = "pose"

INPUT_SHAPE = (1, 3, 256, 192)
"""GluonCV's input: 256 high, 192 wide (heatmaps 64x48)."""

HEAD_OPTIONS = {"deconv_layers": 3, "deconv_channels": 256, "deconv_kernel": 4, "final_kernel": 1}
"""GluonCV's head: three 256-wide 4x4 transposed convolutions, then a 1x1 convolution."""

MODELS: dict[str, str] = {
    f"simple_pose_{backbone}": backbone
    for backbone in (
        "resnet18_v1b",
        "resnet50_v1b",
        "resnet50_v1d",
        "resnet101_v1b",
        "resnet101_v1d",
        "resnet152_v1b",
        "resnet152_v1d",
    )
}
"""Zoo name -> backbone name."""

NAME_MAP: dict[str, str] = {
    "resnet.0.": "backbone.conv1.",  # v1b: the 7x7 conv; v1d: the deep stem conv1.0 .. conv1.6
    "resnet.1.": "backbone.bn1.",
    # resnet.2 (relu) and resnet.3 (maxpool) have no parameters
    "resnet.4.": "backbone.layer1.",
    "resnet.5.": "backbone.layer2.",
    "resnet.6.": "backbone.layer3.",
    "resnet.7.": "backbone.layer4.",
    "deconv_layers.": "head.deconv_layers.",
    "final_layer.": "head.final_layer.",
}
"""GluonCV's ``SimplePoseResNet`` parameter names -> the pipeline's.

GluonCV wraps the backbone's ``conv1, bn1, relu, maxpool, layer1..layer4`` in
one ``HybridSequential`` named ``resnet`` (indices 0..7).
"""


def heads() -> list[Component]:
    return [
        Component(
            HEAD_NAME,
            SimplePoseHead,
            "Simple Baselines: transposed convolutions to one heatmap per joint (num_joints).",
            {"in_features": 1},
        )
    ]


def recipe(name: str) -> ModelRecipe:
    """The recipe of zoo model ``name`` (one of :data:`MODELS`)."""
    return ModelRecipe(
        TASK_NAME,
        backbone=MODELS[name],
        head={"name": HEAD_NAME, **HEAD_OPTIONS},
        loss=LOSS_NAME,
        metric=METRIC_NAME,
        options={"input_shape": list(INPUT_SHAPE), "num_joints": 17},
        weights=gluoncv_weights(name),
        name_map=dict(NAME_MAP),
    )


def pose_models() -> list[Component]:
    """The ``cvcore_models`` components of every simple-pose zoo entry."""
    components = []
    for name, backbone in MODELS.items():
        depth, variant = backbone[len("resnet"):].split("_")
        doc = f"Simple Baselines on ResNet-{depth} {variant}, 256x192 COCO person keypoints (GluonCV's {name})."
        components.append(model_component(name, recipe(name), doc))
    return components
