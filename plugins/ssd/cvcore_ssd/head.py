"""The SSD head: class and box predictors on every feature map, default boxes, decoding and per-class NMS."""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import mxnet as mx
from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError
from cvcore.nn.class_reset import class_rows, merge_absorbed, resized_layer

from .anchors import AnchorGenerator
from .coder import decode
from .targets import match

ANCHOR_ALLOC = 128
"""Cells a side of the first map's precomputed default boxes; each later map gets half, and at least 16."""


class TrainingOutputs(NamedTuple):
    """What the head returns in training: its predictions beside the targets of their default boxes (what the loss reads)."""

    class_logits: mx.nd.NDArray  # (N, B, classes + 1)
    offsets: mx.nd.NDArray  # (N, B, 4)
    class_targets: mx.nd.NDArray  # (N, B): 0 background, c + 1 class c
    offset_targets: mx.nd.NDArray  # (N, B, 4), zeros where background


class Predictor(HybridBlock):
    """A 3x3 convolution to ``channels`` outputs per cell (``predictor``, GluonCV's name)."""

    def __init__(self, channels: int, in_channels: int, prefix: str | None = None) -> None:
        super().__init__(prefix=prefix)
        with self.name_scope():
            self.predictor = nn.Conv2D(channels, 3, padding=1, in_channels=in_channels, weight_initializer=init.Xavier(magnitude=2),
                                       bias_initializer="zeros")

    def hybrid_forward(self, F, x):
        return self.predictor(x)


class SSDHead(HybridBlock):
    """Single-shot multibox detection (Liu et al., "SSD", ECCV 2016) over the neck's feature maps.

    Map ``i`` gets default boxes of sizes ``sizes[i]`` and ``sqrt(sizes[i] * sizes[i + 1])``
    and aspect ``ratios[i]`` (:class:`~cvcore_ssd.anchors.AnchorGenerator`), spaced
    ``steps[i]`` input pixels apart, and two 3x3 predictors: scores of the
    background and each class, and box offsets (scaled by :data:`STDS`).

    Called with the ground truth after the maps (``boxes, labels, meta``, as the
    training engine does), it returns :class:`TrainingOutputs`: the default boxes
    matched to the objects (:func:`~cvcore_ssd.targets.match`) beside the
    predictions. Inference returns the detection contract ``(labels (N, K), scores (N, K), boxes (N, K, 4))``:
    softmax scores above ``score_threshold`` for each class, per-class NMS at
    ``nms_threshold`` over the ``nms_topk`` best, the ``post_nms`` best kept
    (label -1 marks empty slots), boxes in input pixels.
    """

    def __init__(self, in_channels: Sequence[int], in_strides: Sequence[int], *, classes: int = 20,
                 sizes: Sequence[float] = (30, 60, 111, 162, 213, 264, 315),
                 ratios: Sequence[Sequence[float]] = ((1, 2, 0.5),) + ((1, 2, 0.5, 3, 1 / 3),) * 3 + ((1, 2, 0.5),) * 2,
                 steps: Sequence[float] = (8, 16, 32, 64, 100, 300), nms_threshold: float = 0.45, nms_topk: int = 400,
                 post_nms: int = 100, score_threshold: float = 0.01, absorbed: int = 0) -> None:
        super().__init__()
        maps = len(in_channels)
        if not (len(sizes) == maps + 1 and len(ratios) == len(steps) == maps):
            raise ConfigError(f"The ssd head gets {maps} feature maps: it needs {maps + 1} sizes, {maps} ratios lists and {maps} steps; "
                              f"got {len(sizes)}, {len(ratios)} and {len(steps)}.")
        if not 0 <= score_threshold < 1:
            raise ConfigError(f"score_threshold is a score from 0 to 1, got {score_threshold}.")
        self.classes, self.absorbed = int(classes), int(absorbed)
        self.nms_threshold, self.nms_topk, self.post_nms, self.score_threshold = nms_threshold, nms_topk, post_nms, score_threshold
        with self.name_scope():
            self.class_predictors = nn.HybridSequential()
            self.box_predictors = nn.HybridSequential()
            self.anchor_generators = nn.HybridSequential()
            alloc = ANCHOR_ALLOC
            for width, size, next_size, map_ratios, step in zip(in_channels, sizes, sizes[1:], ratios, steps):
                generator = AnchorGenerator(size, next_size, map_ratios, step, alloc)
                self.anchor_generators.add(generator)
                alloc = max(alloc // 2, 16)
                self.class_predictors.add(Predictor(generator.per_cell * (self.classes + 1 + self.absorbed), width))
                self.box_predictors.add(Predictor(generator.per_cell * 4, width))

    def forward(self, *inputs):
        """Inference on the maps; with the ground truth after them, the training pass."""
        maps = len(self.class_predictors)
        if len(inputs) > maps:
            scores, offsets, anchors = self._predict(mx.nd, inputs[:maps])
            boxes, labels = inputs[maps:maps + 2]
            return TrainingOutputs(scores, offsets, *match(anchors.detach(), boxes, labels))  # targets carry no gradient
        return super().forward(*inputs)

    def hybrid_forward(self, F, *features):
        scores, offsets, anchors = self._predict(F, features)
        return self._detections(F, F.softmax(scores, axis=-1), decode(F, offsets, anchors))

    def _predict(self, F, features):
        """Class logits (N, B, classes + 1), box offsets (N, B, 4) and default boxes (1, B, 4) of all maps."""
        scores = F.concat(*[F.flatten(F.transpose(p(x), (0, 2, 3, 1))) for x, p in zip(features, self.class_predictors)], dim=1)
        offsets = F.concat(*[F.flatten(F.transpose(p(x), (0, 2, 3, 1))) for x, p in zip(features, self.box_predictors)], dim=1)
        anchors = self._default_boxes(F, features)
        scores = scores.reshape((0, -1, self.classes + 1 + self.absorbed))
        if self.absorbed:
            scores = merge_absorbed(F, scores, self.classes)
        return scores, offsets.reshape((0, -1, 4)), anchors

    def default_boxes(self, *features: mx.nd.NDArray) -> mx.nd.NDArray:
        """The default boxes (1, B, 4) ``cx, cy, w, h`` (input pixels) on these feature maps, in the predictions' order."""
        return self._default_boxes(mx.nd, features)

    def _default_boxes(self, F, features):
        return F.concat(*[g(x).reshape((1, -1)) for x, g in zip(features, self.anchor_generators)], dim=1).reshape((1, -1, 4))

    def reset_class(self, classes: int, reuse: Mapping[int, int]) -> dict[str, Any]:
        """``classes`` classes from now on; new class ``i`` keeps old class ``reuse[i]``'s predictor rows exactly.

        Old classes not reused are absorbed into the background (their rows are
        kept, and their probability counts as background), so a reused class
        scores every default box exactly as before. Box predictors are shared by
        all classes and stay. Returns the head options to record.
        """
        if classes < 1:
            raise ConfigError(f"classes must be at least 1, got {classes}.")
        rows, absorbed = class_rows(classes, self.classes, self.absorbed, reuse)
        old_width, new_width = self.classes + 1 + self.absorbed, classes + 1 + absorbed
        with self.class_predictors.name_scope():
            for index, (predictor, generator) in enumerate(zip(list(self.class_predictors), self.anchor_generators)):
                layer = predictor.predictor
                fresh = Predictor(generator.per_cell * new_width, layer.weight.shape[1], prefix=predictor.prefix)
                per_anchor = {anchor * new_width + new: anchor * old_width + old for anchor in range(generator.per_cell)
                              for new, old in rows.items()}
                fresh.predictor = resized_layer(layer, fresh.predictor, per_anchor)
                self.class_predictors._children[str(index)] = fresh
        self.classes, self.absorbed = classes, absorbed
        return {"classes": classes, "absorbed": absorbed}

    def _detections(self, F, probabilities, boxes):
        """Per-class rows ``(label, score, x1, y1, x2, y2)`` of every default box, suppressed per class, best first."""
        rows = []
        for label in range(self.classes):
            score = probabilities.slice_axis(axis=-1, begin=label + 1, end=label + 2)
            kept = score > self.score_threshold
            label_or_none = F.where(kept, F.ones_like(score) * label, F.ones_like(score) * -1)
            rows.append(F.concat(label_or_none, F.where(kept, score, F.zeros_like(score)), boxes, dim=-1))
        found = F.concat(*rows, dim=1)
        if 0 < self.nms_threshold < 1:
            found = F.contrib.box_nms(found, overlap_thresh=self.nms_threshold, topk=self.nms_topk, valid_thresh=self.score_threshold,
                                      id_index=0, score_index=1, coord_start=2, force_suppress=False)
            if self.post_nms > 0:
                found = found.slice_axis(axis=1, begin=0, end=self.post_nms)
        labels = found.slice_axis(axis=2, begin=0, end=1).reshape((0, -1))
        return labels, found.slice_axis(axis=2, begin=1, end=2).reshape((0, -1)), found.slice_axis(axis=2, begin=2, end=6)

