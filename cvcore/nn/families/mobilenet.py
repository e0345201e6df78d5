"""MobileNet v1 with a width multiplier (mobilenet1.0/0.75/0.5/0.25), parameter-compatible with GluonCV.

GluonCV lays MobileNet out as one flat ``features`` sequence: a stride-2 3x3
conv-BN-ReLU stem, then 13 depthwise-separable blocks of six layers each
(3x3 depthwise conv, BN, ReLU, 1x1 pointwise conv, BN, ReLU), then global
pooling and flatten; the classifier is ``output``. The backbone keeps that
sequence (minus the pooling, which the ``classifier`` head does) with the same
indices, so GluonCV's ``features.N.*`` keys are ours under ``backbone.``; asked
for an earlier stage, it ends at that stage's last layer.

Stages (each ends with the last layer at its resolution; ``w`` = multiplier):

====  ======  ============  =====================================  ===========
name  stride  channels      blocks                                 last layer
====  ======  ============  =====================================  ===========
c1    2       64 w          stem, block 1                          features.8
c2    4       128 w         blocks 2-3                             features.20
c3    8       256 w         blocks 4-5                             features.32
c4    16      512 w         blocks 6-11                            features.68
c5    32      1024 w        blocks 12-13                           features.80
====  ======  ============  =====================================  ===========
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping, Sequence

from mxnet.gluon import HybridBlock, nn

from ...component import Component
from ...zoo import classification_model
from ..backbone import SequentialBackbone
from ..blocks import NormFactory, conv
from ..norm import norm_factory

WIDTHS: dict[str, float] = {"1.0": 1.0, "0.75": 0.75, "0.5": 0.5, "0.25": 0.25}
"""Name suffix -> width multiplier of the published MobileNets."""

STEM_CHANNELS = 32
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2), (128, 1),
    (256, 2), (256, 1),
    (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)
"""(pointwise output channels at width 1.0, depthwise stride) of the 13 depthwise-separable blocks."""

NAME_MAP: dict[str, str] = {"features.": "backbone.features.", "output.": "head.fc."}
"""GluonCV's MobileNet keys -> the pipeline's."""


class MobileNet(SequentialBackbone):
    """MobileNet v1 feature extractor (`arXiv:1704.04861 <https://arxiv.org/abs/1704.04861>`_).

    ``multiplier`` scales every layer's width (channels are ``int(c * multiplier)``).
    """

    def __init__(
        self,
        multiplier: float = 1.0,
        *,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        norm = norm_factory(norm_layer, norm_kwargs)
        self.multiplier = multiplier
        width = int(STEM_CHANNELS * multiplier)
        stride = 2
        with self.name_scope():
            self.add_layers(*_conv_bn_relu(3, width, norm, kernel=3, stride=2))
            for channels, block_stride in BLOCKS:
                if block_stride > 1:
                    self.end_stage(width, stride)
                    stride *= block_stride
                channels = int(channels * multiplier)
                self.add_layers(
                    *_conv_bn_relu(width, width, norm, kernel=3, stride=block_stride, groups=width),  # depthwise
                    *_conv_bn_relu(width, channels, norm, kernel=1),  # pointwise
                )
                width = channels
            self.end_stage(width, stride)
        self.finish(out_features)


def _conv_bn_relu(
    in_channels: int, channels: int, norm: NormFactory, *, kernel: int, stride: int = 1, groups: int = 1
) -> list[HybridBlock]:
    """A bias-free convolution, its normalization and a ReLU: three layers of ``features``."""
    return [conv(channels, kernel, in_channels, stride=stride, groups=groups), norm(in_channels=channels), nn.Activation("relu")]


def backbones() -> list[Component]:
    return [
        Component(
            f"mobilenet{suffix}",
            partial(MobileNet, multiplier),
            f"MobileNet v1 at width {suffix}: depthwise-separable convs, stages c1-c5 (strides 2-32).",
        )
        for suffix, multiplier in WIDTHS.items()
    ]


def classification_models() -> list[Component]:
    return [
        classification_model(
            f"mobilenet{suffix}",
            f"mobilenet{suffix}",
            NAME_MAP,
            f"MobileNet v1 at width {suffix}, ImageNet 1000 classes (GluonCV's weights).",
        )
        for suffix in WIDTHS
    ]
