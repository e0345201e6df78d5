"""ResNet v1 as in Gluon's and GluonCV's model zoo (``resnet18_v1`` .. ``resnet152_v1``).

He et al., "Deep Residual Learning for Image Recognition" (2015). In this
version a bottleneck downsamples in its first 1x1 convolution, and the 1x1
convolutions of a bottleneck have biases (GluonCV's parameter files hold them).
Parameters keep GluonCV's names: ``features.0`` (7x7 conv), ``features.1``
(norm), ``features.4``..``features.7`` (the four stages), each unit's
``body.<i>`` and ``downsample.<i>``; the classifier ``output`` is the head's ``fc``.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping, Sequence

from mxnet.gluon import nn

from ...component import Component
from ...zoo import classification_model
from ..blocks import IndexedResNet, NormFactory, SequentialResidual, conv, depth_spec, needs_projection, output_norm, projection_shortcut
from ..norm import norm_factory

DEPTHS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
"""Depth -> residual unit and number of units per stage."""

STAGE_CHANNELS = {"basic": (64, 128, 256, 512), "bottleneck": (256, 512, 1024, 2048)}
NAME_MAP = {"output.": "head.fc.", "": "backbone."}
"""GluonCV parameter names -> the pipeline's."""


def basic_unit(in_channels: int, channels: int, stride: int, *, norm: NormFactory, last_gamma: bool = False) -> SequentialResidual:
    """Two 3x3 convolutions, the first one strided."""
    body = [
        conv(channels, 3, in_channels, stride=stride),
        norm(in_channels=channels),
        nn.Activation("relu"),
        conv(channels, 3, channels),
        output_norm(norm, channels, last_gamma),
    ]
    downsample = projection_shortcut(in_channels, channels, stride, norm) if needs_projection(in_channels, channels, stride) else None
    return SequentialResidual(body, downsample)


def bottleneck_unit(in_channels: int, channels: int, stride: int, *, norm: NormFactory, last_gamma: bool = False) -> SequentialResidual:
    """1x1 (strided, with bias) -> 3x3 -> 1x1 (with bias) at a quarter of the output width."""
    mid = channels // 4
    body = [
        conv(mid, 1, in_channels, stride=stride, use_bias=True),
        norm(in_channels=mid),
        nn.Activation("relu"),
        conv(mid, 3, mid),
        norm(in_channels=mid),
        nn.Activation("relu"),
        conv(channels, 1, mid, use_bias=True),
        output_norm(norm, channels, last_gamma),
    ]
    downsample = projection_shortcut(in_channels, channels, stride, norm) if needs_projection(in_channels, channels, stride) else None
    return SequentialResidual(body, downsample)


UNITS = {"basic": basic_unit, "bottleneck": bottleneck_unit}


class ResNetV1(IndexedResNet):
    """ResNet v1 of depth 18, 34, 50, 101 or 152, returning the features in ``out_features``.

    ``c1`` is the stem (7x7 conv, norm, relu; stride 2, 64 channels), ``c2``..``c5``
    the four stages (strides 4..32); the default is ``("c5",)``. ``last_gamma``
    starts each residual branch's last norm at zero.
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
        last_gamma: bool = False,
    ):
        super().__init__()
        unit, units = depth_spec("ResNet v1", depth, DEPTHS)
        norm = norm_factory(norm_layer, norm_kwargs)
        make_unit = partial(UNITS[unit], norm=norm, last_gamma=last_gamma)
        self.build_features(out_features, norm, make_unit, STAGE_CHANNELS[unit], units)


def backbones() -> list[Component]:
    return [
        Component(f"resnet{depth}_v1", partial(ResNetV1, depth), f"ResNet-{depth} v1 (Gluon model zoo): features c1..c5, strides 2..32.")
        for depth in DEPTHS
    ]


def classification_models() -> list[Component]:
    return [
        classification_model(
            f"resnet{depth}_v1", f"resnet{depth}_v1", NAME_MAP, f"ResNet-{depth} v1 ImageNet classifier (GluonCV's resnet{depth}_v1)."
        )
        for depth in DEPTHS
    ]
