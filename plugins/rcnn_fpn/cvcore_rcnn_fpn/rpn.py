"""The region proposal network: objectness and box deltas per anchor on every pyramid level, then proposals."""
from __future__ import annotations

from typing import Sequence

from mxnet import autograd, init, ndarray
from mxnet.gluon import HybridBlock, nn

from .anchors import AnchorGenerator
from .coder import decode_boxes


class RPNHead(HybridBlock):
    """One 3x3 convolution shared by all levels, then a 1x1 objectness logit and four deltas per anchor."""

    def __init__(self, in_channels: int, channels: int, anchors_per_cell: int) -> None:
        super().__init__()
        normal = init.Normal(0.01)
        with self.name_scope():
            self.conv1 = nn.HybridSequential()
            self.conv1.add(nn.Conv2D(channels, 3, padding=1, in_channels=in_channels, weight_initializer=normal), nn.Activation("relu"))
            self.score = nn.Conv2D(anchors_per_cell, 1, in_channels=channels, weight_initializer=normal)
            self.loc = nn.Conv2D(anchors_per_cell * 4, 1, in_channels=channels, weight_initializer=normal)

    def hybrid_forward(self, F, x):
        """``(logits (N, H*W*A), deltas (N, H*W*A, 4))``, cells row-major and anchors innermost, as the anchors are laid out."""
        x = self.conv1(x)
        logits = self.score(x).transpose((0, 2, 3, 1)).reshape((0, -1))
        deltas = self.loc(x).transpose((0, 2, 3, 1)).reshape((0, -1, 4))
        return logits, deltas


class RPN(HybridBlock):
    """Anchors per level (``sizes[i]`` on level ``i``, every ratio), the shared head, and proposal selection.

    A proposal is an anchor moved by its deltas (clipped to ``clip`` in log
    scale), cut to the input, and dropped when narrower than ``min_size``. Then
    NMS at ``nms_threshold`` among the best ``pre_nms``, and the best
    ``post_nms`` of all are kept (-1 rows pad). NMS sees all levels' proposals
    together (GluonCV), or with ``per_level`` each level's best ``pre_nms`` on
    their own (Detectron, torchvision), so that small objects' levels keep
    their share however confident the coarse levels are.
    """

    def __init__(self, in_channels: int, strides: Sequence[int], sizes: Sequence[float], ratios: Sequence[float], *,
                 channels: int, alloc: int, clip: float, nms_threshold: float, min_size: float, per_level: bool = False) -> None:
        super().__init__()
        self.strides, self.clip, self.nms_threshold, self.min_size = tuple(strides), clip, nms_threshold, min_size
        self.per_level = per_level
        with self.name_scope():
            self.anchor_generator = nn.HybridSequential()
            for stride, size in zip(strides, sizes):
                self.anchor_generator.add(AnchorGenerator(stride, size, ratios, alloc))
                alloc = max(alloc // 2, 16)
            self.rpn_head = RPNHead(in_channels, channels, len(ratios))

    def raw(self, features: Sequence) -> tuple[list, list, list]:
        """Each level's ``(logits, deltas, anchors)``."""
        logits, deltas, anchors = [], [], []
        for feature, generator in zip(features, self.anchor_generator):
            level_logits, level_deltas = self.rpn_head(feature)
            logits.append(level_logits)
            deltas.append(level_deltas)
            anchors.append(generator(feature))
        return logits, deltas, anchors

    def proposals(self, F, logits: Sequence, deltas: Sequence, anchors: Sequence, first_feature, *, pre_nms: int, post_nms: int):
        """``(scores (N, post_nms, 1), boxes (N, post_nms, 4))``, best first; rows without a proposal are -1.

        Proposals are not trained through. Run imperatively they are not even
        recorded: a backward pass through their comparisons crashes MXNet.
        """
        if F is ndarray:
            with autograd.pause():
                return self._proposals(F, logits, deltas, anchors, first_feature, pre_nms, post_nms)
        return self._proposals(F, logits, deltas, anchors, first_feature, pre_nms, post_nms)

    def _proposals(self, F, logits, deltas, anchors, first_feature, pre_nms: int, post_nms: int):
        window = F.cast(F.slice_axis(F.shape_array(first_feature), axis=0, begin=2, end=None), "float32") * self.strides[0]
        limits = F.tile(F.reverse(window, axis=0), reps=(2,)).reshape((1, 1, 4))
        candidates = []
        for level_logits, level_deltas, level_anchors in zip(logits, deltas, anchors):
            scores = F.sigmoid(F.stop_gradient(level_logits)).expand_dims(-1)
            boxes = decode_boxes(F, F.stop_gradient(level_deltas), level_anchors, (1.0, 1.0, 1.0, 1.0), self.clip)
            boxes = F.broadcast_minimum(F.maximum(boxes, 0.0), limits)
            x1, y1, x2, y2 = F.split(boxes, axis=-1, num_outputs=4)
            small = (x2 - x1 + 1.0 < self.min_size) + (y2 - y1 + 1.0 < self.min_size)
            scores = F.where(small, -F.ones_like(scores), scores)
            boxes = F.where(F.broadcast_axis(small, axis=2, size=4), -F.ones_like(boxes), boxes)
            level = F.concat(scores, boxes, dim=-1)
            candidates.append(self._nms(F, level, pre_nms) if self.per_level else level)
        every_level = F.concat(*candidates, dim=1)
        # per level, each level was suppressed on its own: the levels' survivors are only ranked together
        kept = _best(F, every_level, post_nms) if self.per_level else F.slice_axis(self._nms(F, every_level, pre_nms), axis=1,
                                                                                    begin=0, end=post_nms)
        return F.slice_axis(kept, axis=-1, begin=0, end=1), F.slice_axis(kept, axis=-1, begin=1, end=None)

    def _nms(self, F, candidates, topk: int):
        """``candidates`` (N, R, 5) ``[score, x1, y1, x2, y2]`` best first, suppressed ones -1."""
        return F.contrib.box_nms(candidates, overlap_thresh=self.nms_threshold, topk=topk, coord_start=1, score_index=0, id_index=-1,
                                 force_suppress=True)


def _best(F, rows, count: int):
    """The ``count`` rows (N, count, 5) of ``rows`` (N, R, 5) with the highest scores (column 0), best first.

    A top-k and a gather: ranking by an NMS that suppresses nothing compares
    every pair of the levels' thousands of survivors (seconds a training step).
    When ``R < count`` the missing rows are -1.
    """
    padding = -F.ones_like(F.slice_axis(rows, axis=1, begin=0, end=1))
    rows = F.concat(rows, F.broadcast_axis(padding, axis=1, size=count), dim=1)
    order = F.topk(F.slice_axis(rows, axis=-1, begin=0, end=1).reshape((0, -1)), axis=1, k=count, ret_typ="indices")
    images = F.broadcast_like(F.contrib.arange_like(order, axis=0).reshape((-1, 1)), order)
    return F.gather_nd(rows, F.cast(F.stack(images, order, axis=0), "int32"))
