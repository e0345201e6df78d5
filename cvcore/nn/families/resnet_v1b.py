"""ResNet v1b and its variants v1c, v1d, v1e and v1s, as GluonCV defines them.

- v1b: a bottleneck strides in its 3x3 convolution, not in the first 1x1.
- v1c: the 7x7 stem is replaced by three 3x3 convolutions (32, 32, 64 wide).
- v1d: v1c, and the projection shortcuts average-pool before their 1x1 convolution.
- v1e: v1d with a stem twice as wide (64, 64, 128).
- v1s: v1c with a stem twice as wide (64, 64, 128).

He et al., "Bag of Tricks for Image Classification with Convolutional Neural
Networks" (2018). Parameters keep GluonCV's names: ``conv1`` (a conv, or the
deep stem ``conv1.0``..``conv1.6``), ``bn1``, ``layer1``..``layer4`` of units
with ``conv1/bn1/conv2/bn2[/conv3/bn3]`` and ``downsample.<i>``; the
classifier ``fc`` is the head's ``fc``. GluonCV defines v1c, v1d, v1e and v1s
only at depths 50, 101 and 152; the options ``deep_stem``, ``stem_width`` and
``avg_down`` give them at any depth.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping, Sequence

from mxnet.gluon import HybridBlock, nn

from ...component import Component
from ...zoo import classification_model
from ..blocks import NormFactory, ResidualBackbone, conv, depth_spec, needs_projection, output_norm, projection_shortcut
from ..norm import norm_factory
from ..widths import ResNetWidths

DEPTHS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
"""Depth -> residual unit and number of units per stage."""

EXPANSION = {"basic": 1, "bottleneck": 4}
"""A unit's output width over its inner width (64, 128, 256, 512 by stage)."""

VARIANTS: dict[str, tuple[dict[str, Any], tuple[int, ...], str]] = {
    "b": ({}, (18, 34, 50, 101, 152), "7x7 stem, stride in the 3x3 conv"),
    "c": ({"deep_stem": True}, (50, 101, 152), "deep 3x3 stem"),
    "d": ({"deep_stem": True, "avg_down": True}, (50, 101, 152), "deep 3x3 stem, average-pool shortcuts"),
    "e": ({"deep_stem": True, "avg_down": True, "stem_width": 64}, (50, 101, 152), "wide deep stem, average-pool shortcuts"),
    "s": ({"deep_stem": True, "stem_width": 64}, (50, 101, 152), "wide deep stem"),
}
"""Variant letter -> options of :class:`ResNetV1b`, GluonCV's depths, and a summary."""

NAME_MAP = {"fc.": "head.fc.", "": "backbone."}
"""GluonCV parameter names -> the pipeline's."""


class UnitV1b(HybridBlock):
    """A residual unit with named layers: ``relu(branch(x) + shortcut(x))``; subclasses define the branch."""

    downsample: HybridBlock | None

    def branch(self, F, x):
        raise NotImplementedError

    def hybrid_forward(self, F, x):
        shortcut = self.downsample(x) if self.downsample is not None else x
        return F.Activation(self.branch(F, x) + shortcut, act_type="relu")


class BasicUnitV1b(UnitV1b):
    """Two 3x3 convolutions, the first one strided (``inner``: its width, by default ``channels``)."""

    def __init__(
        self, in_channels: int, channels: int, stride: int, *, norm: NormFactory, last_gamma: bool = False, avg_down: bool = False,
        inner: Sequence[int] | None = None, projection: bool | None = None,
    ):
        super().__init__()
        (mid,) = inner or (channels,)
        with self.name_scope():
            self.conv1 = conv(mid, 3, in_channels, stride=stride)
            self.bn1 = norm(in_channels=mid)
            self.conv2 = conv(channels, 3, mid)
            self.bn2 = output_norm(norm, channels, last_gamma)
            self.downsample = _shortcut(in_channels, channels, stride, norm, avg_down, projection)

    def branch(self, F, x):
        out = F.Activation(self.bn1(self.conv1(x)), act_type="relu")
        return self.bn2(self.conv2(out))


class BottleneckUnitV1b(UnitV1b):
    """1x1 -> 3x3 (strided) -> 1x1; ``inner`` gives the widths of the first two (default: a quarter of ``channels``)."""

    def __init__(
        self, in_channels: int, channels: int, stride: int, *, norm: NormFactory, last_gamma: bool = False, avg_down: bool = False,
        inner: Sequence[int] | None = None, projection: bool | None = None,
    ):
        super().__init__()
        first, second = inner or (channels // EXPANSION["bottleneck"],) * 2
        with self.name_scope():
            self.conv1 = conv(first, 1, in_channels)
            self.bn1 = norm(in_channels=first)
            self.conv2 = conv(second, 3, first, stride=stride)
            self.bn2 = norm(in_channels=second)
            self.conv3 = conv(channels, 1, second)
            self.bn3 = output_norm(norm, channels, last_gamma)
            self.downsample = _shortcut(in_channels, channels, stride, norm, avg_down, projection)

    def branch(self, F, x):
        out = F.Activation(self.bn1(self.conv1(x)), act_type="relu")
        out = F.Activation(self.bn2(self.conv2(out)), act_type="relu")
        return self.bn3(self.conv3(out))


UNITS = {"basic": BasicUnitV1b, "bottleneck": BottleneckUnitV1b}


def _shortcut(in_channels: int, channels: int, stride: int, norm: NormFactory, avg_down: bool,
              projection: bool | None) -> nn.HybridSequential | None:
    """The projection shortcut, when ``projection`` (default: when the width or resolution changes)."""
    if not (needs_projection(in_channels, channels, stride) if projection is None else projection):
        return None
    return projection_shortcut(in_channels, channels, stride, norm, avg_down=avg_down)


def deep_stem_layers(widths: Sequence[int], norm: NormFactory) -> nn.HybridSequential:
    """Three 3x3 convolutions (the first strided) of ``widths`` (``w, w, 2w`` unpruned); the last norm is the backbone's ``bn1``."""
    first, second, third = widths
    stem = nn.HybridSequential()
    stem.add(
        conv(first, 3, 3, stride=2),
        norm(in_channels=first),
        nn.Activation("relu"),
        conv(second, 3, first),
        norm(in_channels=second),
        nn.Activation("relu"),
        conv(third, 3, second),
    )
    return stem


class ResNetV1b(ResidualBackbone):
    """ResNet v1b of depth 18, 34, 50, 101 or 152; ``deep_stem``/``stem_width``/``avg_down`` make v1c, v1d, v1e, v1s.

    ``c1`` is the stem output (stride 2; 64 channels, or ``2 * stem_width``
    with ``deep_stem``), ``c2``..``c5`` the four stages (strides 4..32); the
    default is ``("c5",)``. ``last_gamma`` starts each residual branch's last
    norm at zero. ``widths`` (a table, see :mod:`cvcore.nn.widths`) sets every
    convolution's width: a pruned network.
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
        last_gamma: bool = False,
        deep_stem: bool = False,
        stem_width: int = 32,
        avg_down: bool = False,
        widths: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        unit, units = depth_spec("ResNet v1b", depth, DEPTHS)
        full = ResNetWidths.full(unit, units, (stem_width, stem_width, 2 * stem_width) if deep_stem else (64,))
        plan = full if widths is None else ResNetWidths.from_config(widths)
        projections = full.projections()  # a pruned network keeps the shortcuts of the one it was pruned from
        if widths is not None:
            plan.check_fits(unit, units, deep_stem, projections)
        self.widths = plan
        stages = self.plan_features(out_features, plan.stem_channels, plan.stage_channels)
        norm = norm_factory(norm_layer, norm_kwargs)
        make_unit = partial(UNITS[unit], norm=norm, last_gamma=last_gamma, avg_down=avg_down)
        with self.name_scope():
            self.conv1 = deep_stem_layers(plan.stem, norm) if deep_stem else conv(plan.stem[0], 7, 3, stride=2)
            self.bn1 = norm(in_channels=plan.stem_channels)
            self.relu = nn.Activation("relu")
            if stages:
                self.maxpool = nn.MaxPool2D(pool_size=3, strides=2, padding=1)
            in_channels = plan.stem_channels
            for index, stage_widths in enumerate(plan.stages[:stages]):
                stage = nn.HybridSequential()
                for position, unit_widths in enumerate(stage_widths):
                    stride = 2 if position == 0 and index > 0 else 1
                    projection = projections[index][position]
                    stage.add(make_unit(in_channels, unit_widths[-1], stride, inner=unit_widths[:-1], projection=projection))
                    in_channels = unit_widths[-1]
                setattr(self, f"layer{index + 1}", stage)
        self.num_stages = stages

    def levels(self) -> list[list[HybridBlock]]:
        stages = [getattr(self, f"layer{index + 1}") for index in range(self.num_stages)]
        return [[self.conv1, self.bn1, self.relu]] + [
            [self.maxpool, stage] if index == 0 else [stage] for index, stage in enumerate(stages)
        ]


def model_names() -> list[tuple[str, int, str]]:
    """``(name, depth, variant)`` of every GluonCV ResNet v1b..v1s name."""
    return [(f"resnet{depth}_v1{letter}", depth, letter) for letter, (_, depths, _) in VARIANTS.items() for depth in depths]


def backbones() -> list[Component]:
    return [
        Component(name, partial(ResNetV1b, depth, **VARIANTS[letter][0]), f"ResNet-{depth} v1{letter} (GluonCV): {VARIANTS[letter][2]}.")
        for name, depth, letter in model_names()
    ]


def classification_models() -> list[Component]:
    return [
        classification_model(
            name, name, NAME_MAP, f"ResNet-{depth} v1{letter} ImageNet classifier (GluonCV's {name}): {VARIANTS[letter][2]}."
        )
        for name, depth, letter in model_names()
    ]
