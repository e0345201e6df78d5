"""ResNeXt and SE-ResNeXt as in GluonCV (``resnext50_32x4d`` .. ``se_resnext101_64x4d``).

Xie et al., "Aggregated Residual Transformations for Deep Neural Networks"
(2016); Hu et al., "Squeeze-and-Excitation Networks" (2017). A unit is a
bottleneck whose 3x3 convolution is split into ``cardinality`` groups of
``bottleneck_width`` channels (at stage 1; doubling per stage), striding in
the 3x3. The SE gate uses 1x1 convolutions with biases, reducing 16-fold.
Parameters keep GluonCV's names (``features.<i>``, ``body.<i>``, ``se.<i>``,
``downsample.<i>``); the classifier ``output`` is the head's ``fc``.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping, Sequence

from mxnet.gluon import nn

from ...component import Component
from ...zoo import classification_model
from ..blocks import IndexedResNet, NormFactory, SequentialResidual, conv, depth_spec, needs_projection, output_norm, projection_shortcut
from ..norm import norm_factory

DEPTHS: dict[int, tuple[int, ...]] = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
"""Depth -> number of units per stage."""

STAGE_CHANNELS = (256, 512, 1024, 2048)
SE_REDUCTION = 16
NAME_MAP = {"output.": "head.fc.", "": "backbone."}
"""GluonCV parameter names -> the pipeline's."""

MODELS: dict[str, dict[str, Any]] = {
    "resnext50_32x4d": {"depth": 50, "cardinality": 32, "bottleneck_width": 4},
    "resnext101_32x4d": {"depth": 101, "cardinality": 32, "bottleneck_width": 4},
    "resnext101_64x4d": {"depth": 101, "cardinality": 64, "bottleneck_width": 4},
    "se_resnext50_32x4d": {"depth": 50, "cardinality": 32, "bottleneck_width": 4, "use_se": True},
    "se_resnext101_32x4d": {"depth": 101, "cardinality": 32, "bottleneck_width": 4, "use_se": True},
    "se_resnext101_64x4d": {"depth": 101, "cardinality": 64, "bottleneck_width": 4, "use_se": True},
}
"""GluonCV's names -> options of :class:`ResNeXt`."""


def resnext_unit(
    in_channels: int,
    channels: int,
    stride: int,
    *,
    cardinality: int,
    bottleneck_width: int,
    norm: NormFactory,
    last_gamma: bool = False,
    use_se: bool = False,
) -> SequentialResidual:
    """1x1 -> grouped 3x3 (strided) -> 1x1, optionally gated by squeeze-and-excitation."""
    group_width = cardinality * (channels // 4 * bottleneck_width // 64)
    body = [
        conv(group_width, 1, in_channels),
        norm(in_channels=group_width),
        nn.Activation("relu"),
        conv(group_width, 3, group_width, stride=stride, groups=cardinality),
        norm(in_channels=group_width),
        nn.Activation("relu"),
        conv(channels, 1, group_width),
        output_norm(norm, channels, last_gamma),
    ]
    se = None
    if use_se:
        reduced = channels // SE_REDUCTION
        se = [
            conv(reduced, 1, channels, use_bias=True), nn.Activation("relu"),
            conv(channels, 1, reduced, use_bias=True), nn.Activation("sigmoid"),
        ]
    downsample = projection_shortcut(in_channels, channels, stride, norm) if needs_projection(in_channels, channels, stride) else None
    return SequentialResidual(body, downsample, se)


class ResNeXt(IndexedResNet):
    """ResNeXt of depth 50 or 101 with ``cardinality`` groups of ``bottleneck_width``; ``use_se`` makes it SE-ResNeXt.

    ``c1`` is the stem (7x7 conv, norm, relu; stride 2, 64 channels), ``c2``..``c5``
    the four stages (strides 4..32); the default is ``("c5",)``. ``last_gamma``
    starts each residual branch's last norm at zero (GluonCV's ResNeXt does so
    when its ``last_gamma`` is False: its flag is inverted).
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        cardinality: int = 32,
        bottleneck_width: int = 4,
        use_se: bool = False,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
        last_gamma: bool = False,
    ):
        super().__init__()
        units = depth_spec("ResNeXt", depth, DEPTHS)
        norm = norm_factory(norm_layer, norm_kwargs)
        make_unit = partial(
            resnext_unit, cardinality=cardinality, bottleneck_width=bottleneck_width, norm=norm, last_gamma=last_gamma, use_se=use_se
        )
        self.build_features(out_features, norm, make_unit, STAGE_CHANNELS, units)


def _summary(name: str) -> str:
    spec = MODELS[name]
    kind = "SE-ResNeXt" if spec.get("use_se") else "ResNeXt"
    return f"{kind}-{spec['depth']} {spec['cardinality']}x{spec['bottleneck_width']}d"


def backbones() -> list[Component]:
    return [
        Component(name, partial(ResNeXt, **spec), f"{_summary(name)} (GluonCV): features c1..c5, strides 2..32.")
        for name, spec in MODELS.items()
    ]


def classification_models() -> list[Component]:
    return [classification_model(name, name, NAME_MAP, f"{_summary(name)} ImageNet classifier (GluonCV's {name}).") for name in MODELS]
