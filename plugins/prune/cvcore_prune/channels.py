"""Which channels of a pipeline's network are pruned together, and how its parameters index them.

A *group* is a set of channels that must keep or lose each channel together:
the outputs of one inner convolution of a unit, one stem convolution, or a
stage's residual path (the last convolution of every unit of the stage and
the projection shortcut all write to it, and the next stage reads it) of a
ResNet v1b-family backbone; and the outputs of each layer of a head that
declares its prunable layers (``head.prunable_channels()``, see
docs/prune.md). Each convolution reads one group and writes one; each
BatchNorm normalizes one. Names are the parameters' names in the network
(``backbone.layer1.0.conv1``, ``head.deconv_layers.0``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mxnet import gluon

from cvcore.errors import CvcoreError


@dataclass(eq=False)
class Group:
    """Channels pruned together; ``writers`` are the (convolution, norm) layers that produce them."""

    name: str
    size: int
    writers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChannelMap:
    """The groups of a backbone, and for each of its layers the groups its parameter axes index."""

    stem: list[Group]
    units: list[list[list[Group]]]  # per stage, per unit: its inner groups
    residual: list[Group]  # per stage
    axes: dict[str, tuple[Group | None, ...]]  # parameter name (in the network) -> group of each axis (None: not pruned)
    head: list[Group] = field(default_factory=list)  # the head's prunable layers, in order

    @property
    def groups(self) -> list[Group]:
        """Every distinct group, stem first, then stage by stage (residual path, then the units' inner groups), then the head's."""
        seen: dict[int, Group] = {}
        backbone = [*self.stem, *(g for s, stage in enumerate(self.units) for g in [self.residual[s], *sum(stage, [])])]
        for group in [*backbone, *self.head]:
            seen.setdefault(id(group), group)
        return list(seen.values())


def channel_map(net: gluon.HybridBlock) -> ChannelMap:
    """The groups of an assembled network: its ResNet v1b-family backbone's, then its head's if the head declares them."""
    channels = backbone_channel_map(net.backbone, prefix="backbone.")
    declare = getattr(net.head, "prunable_channels", None)
    if declare is not None and getattr(net, "neck", None) is None and net.num_features == 1:
        pairs, reader = declare()
        channels.head = _chain(net.head, pairs, reader, channels.residual[-1], channels.axes, prefix="head.")
    return channels


def backbone_channel_map(backbone: gluon.HybridBlock, prefix: str = "") -> ChannelMap:
    """The groups of a ResNet v1b-family backbone (v1b, v1c, v1d, v1e, v1s, pruned or not, with all four stages)."""
    plan = getattr(backbone, "widths", None)
    if plan is None or not hasattr(backbone, "layer1"):
        raise CvcoreError(f"Pruning needs a ResNet v1b-family backbone (resnet50_v1b, resnet50_v1d, ...); this pipeline's is a "
                          f"{type(backbone).__name__}.")
    if getattr(backbone, "num_stages", 0) != len(plan.stages):
        raise CvcoreError("Pruning needs every stage of the backbone built (out_features up to c5).")
    axes: dict[str, tuple[Group | None, ...]] = {}
    deep = len(plan.stem) == 3
    stem_layers = [("conv1.0", "conv1.1"), ("conv1.3", "conv1.4"), ("conv1.6", "bn1")] if deep else [("conv1", "bn1")]
    stem_layers = [(prefix + conv, prefix + norm) for conv, norm in stem_layers]
    stem, previous = [], None
    for index, ((conv, norm), width) in enumerate(zip(stem_layers, plan.stem)):
        group = Group(conv if index < len(plan.stem) - 1 else f"{prefix}stem", width, [(conv, norm)])
        _writes(axes, conv, norm, group, previous)
        stem.append(group)
        previous = group
    residual, units = [], []
    current = stem[-1]
    for s, stage_widths in enumerate(plan.stages, 1):
        stage = getattr(backbone, f"layer{s}")
        first = stage[0]
        path = current if first.downsample is None else Group(f"{prefix}layer{s} (residual)", stage_widths[0][-1])
        if first.downsample is not None:
            conv, norm = _projection_layers(first.downsample, f"{prefix}layer{s}.0.downsample")
            _writes(axes, conv, norm, path, current)
            path.writers.append((conv, norm))
        stage_units = []
        for u, widths in enumerate(stage_widths):
            reads, inner = current if u == 0 else path, []
            for k, width in enumerate(widths, 1):
                conv, norm = f"{prefix}layer{s}.{u}.conv{k}", f"{prefix}layer{s}.{u}.bn{k}"
                group = path if k == len(widths) else Group(conv, width)
                _writes(axes, conv, norm, group, reads)
                group.writers.append((conv, norm))
                if k < len(widths):
                    inner.append(group)
                reads = group
            stage_units.append(inner)
        residual.append(path)
        units.append(stage_units)
        current = path
    return ChannelMap(stem, units, residual, axes)


def _chain(head: gluon.HybridBlock, pairs: list[tuple[str, str]], reader: str, reads: Group, axes: dict,
           prefix: str) -> list[Group]:
    """The groups of a head's chain of (convolution, norm) layers, each reading the one before, and its reader's input axis."""
    layers = dict(_named_layers(head))
    groups = []
    for conv, norm in pairs:
        layer = layers.get(conv)
        if not isinstance(layer, (gluon.nn.Conv2D, gluon.nn.Conv2DTranspose)) or norm not in layers:
            raise CvcoreError(f"The head's prunable_channels() names {conv!r}/{norm!r}, not a convolution and a layer of the head.")
        group = Group(prefix + conv, layer._channels, [(prefix + conv, prefix + norm)])
        _writes(axes, prefix + conv, prefix + norm, group, reads, transposed=isinstance(layer, gluon.nn.Conv2DTranspose))
        groups.append(group)
        reads = group
    if not isinstance(layers.get(reader), gluon.nn.Conv2D) or isinstance(layers[reader], gluon.nn.Conv2DTranspose):
        raise CvcoreError(f"The head's prunable_channels() names {reader!r} as the reader of its last layer: not a convolution.")
    axes[f"{prefix}{reader}.weight"] = (None, reads, None, None)
    return groups


def _named_layers(block: gluon.Block, prefix: str = ""):
    for name, child in block._children.items():
        yield prefix + name, child
        yield from _named_layers(child, f"{prefix}{name}.")


def _writes(axes: dict, conv: str, norm: str, out: Group, reads: Group | None, transposed: bool = False) -> None:
    axes[f"{conv}.weight"] = (reads, out, None, None) if transposed else (out, reads, None, None)
    axes[f"{conv}.bias"] = (out,)
    for name in ("gamma", "beta", "running_mean", "running_var"):
        axes[f"{norm}.{name}"] = (out,)


def _projection_layers(downsample: gluon.nn.HybridSequential, prefix: str) -> tuple[str, str]:
    """The convolution and norm of a projection shortcut (after an average pool in v1d)."""
    conv = next(i for i, layer in enumerate(downsample) if isinstance(layer, gluon.nn.Conv2D))
    return f"{prefix}.{conv}", f"{prefix}.{conv + 1}"
