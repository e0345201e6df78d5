"""Which channels of a ResNet v1b-family backbone are pruned together, and how its parameters index them.

A *group* is a set of channels that must keep or lose each channel together:
the outputs of one inner convolution of a unit, one stem convolution, or a
stage's residual path (the last convolution of every unit of the stage and
the projection shortcut all write to it, and the next stage reads it). Each
convolution reads one group and writes one; each BatchNorm normalizes one.
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
    axes: dict[str, tuple[Group | None, ...]]  # parameter name (in the backbone) -> group of each axis (None: not pruned)

    @property
    def groups(self) -> list[Group]:
        """Every distinct group, stem first, then stage by stage (residual path, then the units' inner groups)."""
        seen: dict[int, Group] = {}
        for group in [*self.stem, *(g for s, stage in enumerate(self.units) for g in [self.residual[s], *sum(stage, [])])]:
            seen.setdefault(id(group), group)
        return list(seen.values())


def channel_map(backbone: gluon.HybridBlock) -> ChannelMap:
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
    stem, previous = [], None
    for index, ((conv, norm), width) in enumerate(zip(stem_layers, plan.stem)):
        group = Group(conv if index < len(plan.stem) - 1 else "stem", width, [(conv, norm)])
        _writes(axes, conv, norm, group, previous)
        stem.append(group)
        previous = group
    residual, units = [], []
    current = stem[-1]
    for s, stage_widths in enumerate(plan.stages, 1):
        stage = getattr(backbone, f"layer{s}")
        first = stage[0]
        path = current if first.downsample is None else Group(f"layer{s} (residual)", stage_widths[0][-1])
        if first.downsample is not None:
            conv, norm = _projection_layers(first.downsample, f"layer{s}.0.downsample")
            _writes(axes, conv, norm, path, current)
            path.writers.append((conv, norm))
        stage_units = []
        for u, widths in enumerate(stage_widths):
            reads, inner = current if u == 0 else path, []
            for k, width in enumerate(widths, 1):
                conv, norm = f"layer{s}.{u}.conv{k}", f"layer{s}.{u}.bn{k}"
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


def _writes(axes: dict, conv: str, norm: str, out: Group, reads: Group | None) -> None:
    axes[f"{conv}.weight"] = (out, reads, None, None)
    for name in ("gamma", "beta", "running_mean", "running_var"):
        axes[f"{norm}.{name}"] = (out,)


def _projection_layers(downsample: gluon.nn.HybridSequential, prefix: str) -> tuple[str, str]:
    """The convolution and norm of a projection shortcut (after an average pool in v1d)."""
    conv = next(i for i, layer in enumerate(downsample) if isinstance(layer, gluon.nn.Conv2D))
    return f"{prefix}.{conv}", f"{prefix}.{conv + 1}"
