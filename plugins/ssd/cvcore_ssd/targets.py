"""Matching SSD's default boxes to the ground truth, and the offsets each matched box should predict."""
from __future__ import annotations

import mxnet as mx
import numpy as np

from .coder import corners, encode

MATCH_IOU = 0.5
"""A default box overlapping an object by at least this much is matched to it (besides each object's best box)."""


def match(anchors: mx.nd.NDArray, boxes: mx.nd.NDArray, labels: mx.nd.NDArray,
          threshold: float = MATCH_IOU) -> tuple[mx.nd.NDArray, mx.nd.NDArray]:
    """Class targets (N, B) and box offset targets (N, B, 4) of default boxes ``anchors`` (1, B, 4) ``cx, cy, w, h``.

    ``boxes`` (N, M, 4) ``x1, y1, x2, y2`` and ``labels`` (N, M) are the ground
    truth padded with label -1. Each object claims the default box that overlaps
    it most; every other box goes to the object it overlaps most when that IoU
    is at least ``threshold``. A matched box's class target is its object's
    label + 1 and its offsets encode the object relative to it (scaled by
    :data:`~cvcore_ssd.head.STDS`); unmatched boxes are background (0).
    """
    boxes, labels = _without_padding(boxes, labels)
    valid = labels >= 0  # (N, M)
    iou = mx.nd.contrib.box_iou(corners(anchors[0]), boxes)  # (B, N, M)
    iou = mx.nd.where(mx.nd.broadcast_like(valid.expand_dims(0), iou), iou, mx.nd.ones_like(iou) * -1).transpose((1, 0, 2))  # (N, B, M)
    best_object = mx.nd.argmax(iou, axis=2)  # (N, B)
    best_iou = mx.nd.max(iou, axis=2)
    claimed = mx.nd.one_hot(mx.nd.argmax(iou, axis=1), depth=iou.shape[1]) * valid.expand_dims(-1)  # (N, M, B): each object's box
    claimed_by = mx.nd.argmax(claimed, axis=1)  # (N, B): the object claiming the box (when any does)
    forced = mx.nd.max(claimed, axis=1) > 0
    owner = mx.nd.where(forced, claimed_by, best_object)
    matched = forced + (best_iou >= threshold) > 0
    flat = mx.nd.broadcast_add(owner, mx.nd.arange(boxes.shape[0], ctx=owner.context).expand_dims(1) * boxes.shape[1])  # into N * M rows
    class_targets = mx.nd.where(matched, mx.nd.take(labels.reshape((-1,)), flat) + 1, mx.nd.zeros_like(owner))
    objects = mx.nd.take(boxes.reshape((-1, 4)), flat)  # (N, B, 4)
    return class_targets, encode(objects, anchors) * matched.expand_dims(-1)


def _without_padding(boxes: mx.nd.NDArray, labels: mx.nd.NDArray) -> tuple[mx.nd.NDArray, mx.nd.NDArray]:
    """The ground truth without the columns that are padding in every image (at least one column kept).

    The detection task pads to ``max_objects`` (100) columns while an image holds
    a few objects: matching on the used ones is 10x cheaper, and the same.
    """
    used = np.flatnonzero((labels.asnumpy() >= 0).any(axis=0))
    columns = int(used[-1]) + 1 if len(used) else 1
    return (boxes[:, :columns], labels[:, :columns]) if columns < labels.shape[1] else (boxes, labels)


def coverage(anchors: mx.nd.NDArray, boxes: np.ndarray, threshold: float = MATCH_IOU) -> dict[str, float]:
    """How well default boxes ``anchors`` (1, B, 4) ``cx, cy, w, h`` cover objects ``boxes`` (M, 4) ``x1, y1, x2, y2``.

    ``covered``: the fraction of objects that some default box overlaps by at
    least ``threshold`` (:func:`match` gives each other object only its best
    box, however poor); ``per_object``: the default boxes an object overlaps by
    at least ``threshold``, on average; ``median_best_iou``: the median over
    objects of their best box's IoU. Layouts whose boxes sit too far apart for
    their size cover few objects, and such a detector learns slowly.
    """
    boxes = np.asarray(boxes, dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or not len(boxes):
        raise ValueError(f"coverage takes at least one object box as rows x1, y1, x2, y2 (shape (M, 4)); got shape {boxes.shape}.")
    if not 0 < threshold <= 1:
        raise ValueError(f"coverage's threshold is an IoU in (0, 1], got {threshold}.")
    iou = mx.nd.contrib.box_iou(corners(anchors[0]), mx.nd.array(boxes, ctx=anchors.context)).asnumpy()  # (B, M)
    return {"covered": float((iou.max(axis=0) >= threshold).mean()), "per_object": float((iou >= threshold).sum(axis=0).mean()),
            "median_best_iou": float(np.median(iou.max(axis=0)))}
