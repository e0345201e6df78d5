"""Building blocks of the built-in backbones; most serve the ResNet families (v1, v1b..v1s, ResNeXt).

Every layer is given its input width, so parameter shapes are known at
construction (no deferred initialization). Attribute names and sequence
indices follow GluonCV, so GluonCV's parameter files load by structural name.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence, TypeVar

from mxnet.gluon import HybridBlock, nn

from .backbone import Backbone

NormFactory = Callable[..., HybridBlock]
"""What :func:`cvcore.nn.norm.norm_factory` returns: ``norm(in_channels=C, **layer_kwargs)``."""

Spec = TypeVar("Spec")
STAGE_FEATURES = ("c2", "c3", "c4", "c5")
FEATURE_STRIDES = {"c1": 2, "c2": 4, "c3": 8, "c4": 16, "c5": 32}


def depth_spec(family: str, depth: int, specs: Mapping[int, Spec]) -> Spec:
    """The layout of ``family`` at ``depth``; an unknown depth names the known ones."""
    if depth not in specs:
        raise ValueError(f"{family} has no depth {depth}; use one of {', '.join(map(str, specs))}.")
    return specs[depth]


def conv(channels: int, kernel: int, in_channels: int, *, stride: int = 1, groups: int = 1, use_bias: bool = False) -> nn.Conv2D:
    """A convolution padded to keep the size (up to ``stride``), with its input width given."""
    return nn.Conv2D(channels, kernel, strides=stride, padding=kernel // 2, groups=groups, use_bias=use_bias, in_channels=in_channels)


def output_norm(norm: NormFactory, channels: int, zero_gamma: bool) -> HybridBlock:
    """The last normalization of a residual branch; ``zero_gamma`` starts the branch at zero (the "last gamma" trick)."""
    return norm(in_channels=channels, gamma_initializer="zeros") if zero_gamma else norm(in_channels=channels)


def needs_projection(in_channels: int, out_channels: int, stride: int) -> bool:
    """Whether the shortcut must change width or resolution to be added to the branch."""
    return stride != 1 or in_channels != out_channels


def projection_shortcut(
    in_channels: int, out_channels: int, stride: int, norm: NormFactory, *, avg_down: bool = False
) -> nn.HybridSequential:
    """The shortcut ``[avg-pool,] 1x1 conv, norm`` that matches the branch's width and stride.

    With ``avg_down`` (ResNet-D) an average pool takes the stride, so the 1x1
    convolution sees every input pixel; the pool is present even at stride 1
    (as in GluonCV), which keeps the layer indices of every stage alike.
    """
    shortcut = nn.HybridSequential()
    if avg_down:
        shortcut.add(nn.AvgPool2D(pool_size=stride, strides=stride, ceil_mode=True, count_include_pad=False))
        stride = 1
    shortcut.add(conv(out_channels, 1, in_channels, stride=stride), norm(in_channels=out_channels))
    return shortcut


def residual_stages(
    make_unit: Callable[[int, int, int], HybridBlock], stage_units: Sequence[int], in_channels: int, stage_channels: Sequence[int]
) -> list[nn.HybridSequential]:
    """The residual stages, ``stage_units[i]`` units each; ``make_unit(in_channels, out_channels, stride)``.

    A stage's first unit changes the width, and from the second stage on
    halves the resolution; the other units keep both.
    """
    stages = []
    for index, (units, out_channels) in enumerate(zip(stage_units, stage_channels)):
        stage = nn.HybridSequential()
        for unit in range(units):
            first = unit == 0
            stage.add(make_unit(in_channels if first else out_channels, out_channels, 2 if first and index > 0 else 1))
        stages.append(stage)
        in_channels = out_channels
    return stages


class SequentialResidual(HybridBlock):
    """``relu(body(x) * gate + shortcut(x))`` with the branch as a numbered sequence: Gluon ResNet v1 and ResNeXt units.

    ``se`` (squeeze-and-excitation), when given, maps the branch's global
    average to per-channel gates in (0, 1). Parameters are named
    ``body.<i>.*``, ``se.<i>.*`` and ``downsample.<i>.*``.
    """

    def __init__(self, body: Sequence[HybridBlock], downsample: HybridBlock | None = None, se: Sequence[HybridBlock] | None = None):
        super().__init__()
        with self.name_scope():
            self.body = nn.HybridSequential()
            self.body.add(*body)
            self.se = None
            if se is not None:
                self.se = nn.HybridSequential()
                self.se.add(*se)
            self.downsample = downsample

    def hybrid_forward(self, F, x):
        out = self.body(x)
        if self.se is not None:
            gate = self.se(F.Pooling(out, kernel=(1, 1), global_pool=True, pool_type="avg"))
            out = F.broadcast_mul(out, gate)
        shortcut = self.downsample(x) if self.downsample is not None else x
        return F.Activation(out + shortcut, act_type="relu")


class ResidualBackbone(Backbone):
    """A stem (feature ``c1``, stride 2), a max-pool and four residual stages (``c2``..``c5``, strides 4..32).

    Subclasses call :meth:`plan_features` first, build the stem and the
    stages it says are needed, and list them in :meth:`levels`. Stages deeper
    than the deepest requested feature are not built: the forward never runs
    them, so they would be parameters that never get a gradient.
    """

    def plan_features(self, out_features: Sequence[str] | None, stem_channels: int, stage_channels: Sequence[int]) -> int:
        """Select the returned features; returns how many residual stages must be built (0..4)."""
        channels = {"c1": stem_channels, **dict(zip(STAGE_FEATURES, stage_channels))}
        self.select_features(out_features, channels, FEATURE_STRIDES)
        return self.feature_names.index(self.last_feature)

    def levels(self) -> list[list[HybridBlock]]:
        """The layers leading to each built feature, in order: stem, then max-pool + stage 1, then stages 2..4."""
        raise NotImplementedError

    def hybrid_forward(self, F, x):
        outputs = {}
        for name, layers in zip(self.feature_names, self.levels()):
            for layer in layers:
                x = layer(x)
            outputs[name] = x
        return self.pick(outputs)


class IndexedResNet(ResidualBackbone):
    """The layout of Gluon's ResNet v1 and of ResNeXt: one ``features`` sequence.

    ``features`` holds ``[conv 7x7, norm, relu, max-pool, stage 1, .., stage 4]``
    (GluonCV's indices 0..7; its global pool, index 8, belongs to the head).
    """

    def build_features(
        self,
        out_features: Sequence[str] | None,
        norm: NormFactory,
        make_unit: Callable[[int, int, int], HybridBlock],
        stage_channels: Sequence[int],
        stage_units: Sequence[int],
        stem_channels: int = 64,
    ) -> None:
        """Build ``features``; ``make_unit(in_channels, out_channels, stride)`` makes one residual unit."""
        stages = self.plan_features(out_features, stem_channels, stage_channels)
        with self.name_scope():
            self.features = nn.HybridSequential()
            self.features.add(conv(stem_channels, 7, 3, stride=2), norm(in_channels=stem_channels), nn.Activation("relu"))
            if stages:
                self.features.add(nn.MaxPool2D(pool_size=3, strides=2, padding=1))
                self.features.add(*residual_stages(make_unit, stage_units[:stages], stem_channels, stage_channels))

    def levels(self) -> list[list[HybridBlock]]:
        layers = [self.features[index] for index in range(len(self.features))]
        return [level for level in (layers[:3], layers[3:5], *([layer] for layer in layers[5:])) if level]
