"""GluonCV's parameter names for its R-CNN FPN models -> the pipeline's structural names.

GluonCV builds the backbone and FPN as one symbol graph (``features``), so
their parameters carry the flat names of MXNet's old name scopes:
``features.resnetv1b_layers1_conv0_weight`` is the first convolution of
``layers1``, counted across its blocks. The map is derived from the backbone's
own structure, so every depth and the v1b/v1d stems come out of one rule.
"""
from __future__ import annotations

import re
from typing import Iterable

from cvcore.nn.symbol_names import NORM_SUFFIXES, symbol_name_map


def backbone_name_map(keys: Iterable[str], scope: str, norm: str = "batchnorm") -> dict[str, str]:
    """``{"features.<scope>_layers1_conv0_": "backbone.layer1.0.conv1.", ...}`` for a ResNet's structural ``keys``.

    ``scope`` is GluonCV's prefix (``resnetv1b``, ``resnetv1d``); ``norm`` its
    normalization's name (``batchnorm``, or ``syncbatchnorm``). Convolutions and
    normalizations are numbered per stage (the stem, ``layersN``, ``downN``) in
    the order the network creates them.
    """

    def group(module: str) -> str:
        stage = re.match(r"layer(\d+)\.\d+\.(downsample)?", module)
        return f"{scope}_" + ("" if stage is None else (f"down{stage.group(1)}_" if stage.group(2) else f"layers{stage.group(1)}_"))

    return symbol_name_map(keys, group, norm=norm)


def fpn_name_map(normalized: bool) -> dict[str, str]:
    """GluonCV's FPN symbol names (``P2_conv_lat``, ``P2_conv1``, ``P6_conv1`` and the BatchNorm variant's norms) -> ``neck.*``."""
    mapping = {}
    for index, level in enumerate(range(2, 6)):
        mapping[f"features.P{level}_conv_lat_"] = f"neck.lateral.{index}."
        mapping[f"features.P{level}_conv1_"] = f"neck.output.{index}."
        if normalized:
            lateral = "lat_bn" if level == 5 else "conv1_bn"  # GluonCV's names, quirk included
            for ours, theirs in zip(NORM_SUFFIXES, ("gamma", "beta", "moving_mean", "moving_var")):
                mapping[f"features.P{level}_{lateral}_{theirs}"] = f"neck.lateral_norm.{index}.{ours}"
                mapping[f"features.P{level}_bn_{theirs}"] = f"neck.output_norm.{index}.{ours}"
    mapping["features.P6_conv1_"] = "neck.p6."
    if normalized:
        for ours, theirs in zip(NORM_SUFFIXES, ("gamma", "beta", "moving_mean", "moving_var")):
            mapping[f"features.P6_pre_bn_{theirs}"] = f"neck.p6_norm.{ours}"
    return mapping


HEAD_NAME_MAP = {prefix: f"head.{prefix}" for prefix in ("rpn.", "box_features.", "class_predictor.", "box_predictor.", "mask.")}
"""The head's children carry GluonCV's own names."""
