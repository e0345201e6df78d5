"""Channel pruning of a pipeline's ResNet backbone (and its head, when it declares how) to a multiply-add or parameter budget.

1. Score every channel (:mod:`cvcore_prune.importance`), and divide each
   group's scores by their mean, so that layers of different scale compare.
2. Order all channels of all groups by score, ties by their rank within their
   group (equal scores then thin every group alike), and remove the first ``n``:
   each group keeps its best channels, rounded up to a multiple of
   ``multiple`` (at least ``multiple``). The smallest ``n`` whose network costs
   at most ``target`` times the original is found by bisection, measuring each
   candidate with :func:`cvcore.deploy.profile.profile`.
3. Build the pipeline again with those widths (its backbone gets a ``widths``
   table, a pruned head the options its ``pruned_options`` gives, so it saves
   and loads as any pipeline) and copy every kept weight: the kept channels of
   each axis, exactly. Other layers after the backbone lose the input channels
   of the features they read.

A head joins in by declaring its prunable layers: ``prunable_channels()``
gives its (convolution, norm) pairs in order and the layer reading the last,
``pruned_options(widths)`` the options that rebuild it with those widths (see
the pose plugin's head). Other heads keep every channel.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import mxnet as mx
import numpy as np

from cvcore import weights
from cvcore.calibration import calibration_batches
from cvcore.deploy.profile import profile
from cvcore.errors import ConfigError, CvcoreError
from cvcore.nn.assembled import AssembledNet
from cvcore.nn.widths import ResNetWidths
from cvcore.pipeline import Pipeline

from .channels import ChannelMap, Group, channel_map
from .importance import importance

MEASURES = ("macs", "params")
BACKBONE = "backbone."
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrunePlan:
    """The channels each group of the backbone keeps (indices, ascending), and what the pruned network costs against the original."""

    channels: ChannelMap
    kept: dict[Group, np.ndarray]
    widths: ResNetWidths
    ratio: float


def prune(pipeline: Pipeline, target: float = 0.5, *, measure: str = "macs", criterion: str = "bn_scale", calib_data: Any = None,
          multiple: int = 8) -> Pipeline:
    """A new pipeline whose backbone keeps the most important channels, costing about ``target`` times the original.

    ``measure`` is what ``target`` is a fraction of, for the whole network at
    its input shape: ``"macs"`` (multiply-adds) or ``"params"`` (trainable
    parameters). ``criterion``: ``"bn_scale"``, ``"l1"`` or ``"activation"``
    (which needs ``calib_data``: a dataset, an N x C x H x W array or batches).
    Widths are multiples of ``multiple`` (oneDNN's kernels like multiples of 8
    and 16). With nothing to remove (``target=1``) the outputs stay bit-identical.
    The pruned pipeline trains, saves, loads and deploys as any other; it needs
    fine-tuning to recover its accuracy.
    """
    plan = plan_pruning(pipeline, target, measure=measure, criterion=criterion, calib_data=calib_data, multiple=multiple)
    pruned = _rebuilt(pipeline, plan.channels, plan.kept, f"pruned to {plan.ratio:.3f} of its {measure} by {criterion}")
    _copy_kept_weights(pipeline.net, pruned, plan.channels, plan.kept)
    pruned.random_weights = pipeline.random_weights
    return pruned


def plan_pruning(pipeline: Pipeline, target: float, *, measure: str = "macs", criterion: str = "bn_scale", calib_data: Any = None,
                 multiple: int = 8) -> PrunePlan:
    """Which channels :func:`prune` keeps, and the cost ratio they give (nothing is built but candidates to measure)."""
    _check_arguments(pipeline, target, measure, multiple)
    channels = channel_map(pipeline.net)
    scores = importance(pipeline.net, channels, criterion, calibration_batches(pipeline, calib_data))
    order = _removal_order(channels.groups, scores)
    full = _cost(pipeline, measure)
    cache: dict[int, float] = {0: 1.0}

    def ratio(removed: int) -> float:
        if removed not in cache:
            kept = _kept(channels.groups, order[:removed], multiple)
            cache[removed] = _cost(_rebuilt(pipeline, channels, kept, None), measure) / full
        return cache[removed]

    low, high = 0, len(order)
    if ratio(high) > target:
        raise ConfigError(f"No pruning reaches {target:g} of the {measure}: with every layer at its narrowest ({multiple} "
                          f"channels) the network keeps {ratio(high):.3f} of them (only the "
                          f"{'backbone and the head are' if channels.head else 'backbone is'} pruned).")
    while low < high:  # the smallest number of removed channels that meets the target
        middle = (low + high) // 2
        if ratio(middle) <= target:
            high = middle
        else:
            low = middle + 1
    kept = _kept(channels.groups, order[:low], multiple)
    log.info("pruned %d of %d channels: %s %.3f of the original", sum(g.size - len(k) for g, k in kept.items()),
             len(order), measure, ratio(low))
    return PrunePlan(channels, kept, _widths_of(channels, kept), ratio(low))


def _check_arguments(pipeline: Pipeline, target: float, measure: str, multiple: int) -> None:
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 1:
        raise ConfigError(f"target {target!r} must be a fraction in (0, 1]: the cost to keep, e.g. 0.5 for half.")
    if measure not in MEASURES:
        raise ConfigError(f"measure {measure!r} is not one of {', '.join(MEASURES)}.")
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
        raise ConfigError(f"multiple {multiple!r} must be a positive integer (widths are rounded up to multiples of it).")
    if not isinstance(pipeline.net, AssembledNet):
        raise CvcoreError(f"Pruning needs the pipeline's trainable network, not a deployed {type(pipeline.net).__name__}: "
                          "prune before other deploy transforms, or open the run it was deployed from.")
    rebuilt = ("backbone", "head") if hasattr(pipeline.net.head, "prunable_channels") else ("backbone",)
    for kind in rebuilt:
        if pipeline.parts[kind].name is None:
            raise CvcoreError(f"Pruning rebuilds the {kind} by name with new widths; this pipeline's {kind} is an object. "
                              "Register it through a plugin and pass its name.")


def _removal_order(groups: list[Group], scores: dict[Group, np.ndarray]) -> list[tuple[Group, int]]:
    """Every channel as (group, index), least important first."""
    keyed = []
    for group in groups:
        score = np.asarray(scores[group], dtype=np.float64)
        mean = score.mean()
        normalized = score / mean if mean > 0 else np.ones_like(score)
        for rank, index in enumerate(np.argsort(normalized, kind="stable")):
            keyed.append((normalized[index], rank / group.size, group.name, int(index), group))
    keyed.sort(key=lambda item: item[:4])
    return [(item[4], item[3]) for item in keyed]


def _kept(groups: list[Group], removed: list[tuple[Group, int]], multiple: int) -> dict[Group, np.ndarray]:
    """Each group's kept channel indices: all but the removed ones, the best of those put back to reach a multiple of ``multiple``."""
    dropped: dict[Group, list[int]] = {group: [] for group in groups}
    for group, index in removed:  # least important first
        dropped[group].append(index)
    kept = {}
    for group in groups:
        count = min(group.size, max(multiple, math.ceil((group.size - len(dropped[group])) / multiple) * multiple))
        gone = set(dropped[group][: group.size - count])
        kept[group] = np.array([i for i in range(group.size) if i not in gone], dtype=np.int64)
    return kept


def _widths_of(channels: ChannelMap, kept: dict[Group, np.ndarray]) -> ResNetWidths:
    stem = tuple(len(kept[group]) for group in channels.stem)
    stages = tuple(
        tuple((*(len(kept[g]) for g in inner), len(kept[channels.residual[s]])) for inner in stage)
        for s, stage in enumerate(channels.units)
    )
    return ResNetWidths(stem, stages)


def _cost(pipeline: Pipeline, measure: str) -> float:
    found = profile(pipeline)
    return found.macs if measure == "macs" else found.trainable_params


def _rebuilt(pipeline: Pipeline, channels: ChannelMap, kept: dict[Group, np.ndarray], source: str | None) -> Pipeline:
    """``pipeline``'s configuration with the kept widths, uninitialized (no pretrained backbone: the weights come from the original)."""
    config = pipeline.config()
    config.pop("model", None)
    backbone = {key: value for key, value in config["backbone"].items() if key != "pretrained"}
    config["backbone"] = {**backbone, "widths": _widths_of(channels, kept).to_config(source)}
    if channels.head:
        config["head"] = {**config["head"], **pipeline.net.head.pruned_options([len(kept[group]) for group in channels.head])}
    return Pipeline(**config, ctx=pipeline.ctx, initialize=False)


def _copy_kept_weights(original: AssembledNet, pruned: Pipeline, channels: ChannelMap, kept: dict[Group, np.ndarray]) -> None:
    """Set every parameter of ``pruned``'s network to the kept slice of the same parameter of ``original``."""
    targets = pruned.net._collect_params_with_prefix()
    features = _read_features(original, channels)
    values = {}
    for name, param in original._collect_params_with_prefix().items():
        value = param.data(param.list_ctx()[0]).asnumpy()
        if name in channels.axes:
            axes = channels.axes[name]
        elif name.startswith(BACKBONE):
            raise CvcoreError(f"Pruning does not know which channels backbone parameter {name!r} indexes.")
        else:
            axes = _feature_axes(name, value.shape, targets[name].shape, features, kept)
        for axis, group in enumerate(axes):
            if group is not None:
                value = np.take(value, kept[group], axis=axis)
        values[name] = value
    arrays = {name: mx.nd.array(value, dtype=value.dtype) for name, value in values.items()}
    weights.assign(pruned.net, arrays, "the pruned network", ctx=pruned.ctx)


def _read_features(net: AssembledNet, channels: ChannelMap) -> list[Group]:
    """The groups of the feature maps the layers after the backbone read (c1: the stem, c2..c5: the stages)."""
    by_feature = {"c1": channels.stem[-1], **{f"c{s + 2}": group for s, group in enumerate(channels.residual)}}
    names = list(net.backbone.out_features)[-net.num_features:]
    return [by_feature[name] for name in names]


def _feature_axes(name: str, old: tuple, new: tuple, features: list[Group], kept: dict[Group, np.ndarray]) -> tuple:
    """The groups indexed by each axis of a parameter after the backbone: those whose size pruning changed."""
    axes: list[Group | None] = []
    for axis, (before, after) in enumerate(zip(old, new)):
        if before == after:
            axes.append(None)
            continue
        matches = {id(g): g for g in features if g.size == before and len(kept[g]) == after}
        if len(matches) != 1:
            raise CvcoreError(f"Pruning cannot tell which feature map axis {axis} of {name!r} reads ({before} -> {after} channels).")
        axes.append(next(iter(matches.values())))
    return tuple(axes)
