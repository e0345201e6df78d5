"""Training targets of Faster/Mask R-CNN, computed in NumPy outside the graph.

Boxes are float32 corners (x1, y1, x2, y2) in input pixels with continuous
coordinates: a box's width is x2 - x1 (no +1).
"""
from __future__ import annotations

import cv2
import numpy as np

_EPS = 1e-6  # smallest width/height used when encoding, so degenerate boxes give finite deltas
_PAD_ROI = np.array([0.0, 0.0, 1.0, 1.0], dtype=np.float32)


def _as_boxes(boxes: np.ndarray) -> np.ndarray:
    """``boxes`` as a float32 (N, 4) array (an empty input becomes (0, 4))."""
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def _areas(boxes: np.ndarray) -> np.ndarray:
    """(N,) areas of (N, 4) corner boxes, 0 for inverted ones."""
    sizes = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None)
    return sizes[:, 0] * sizes[:, 1]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) float32 IoU of (N, 4) boxes ``a`` with (M, 4) boxes ``b``; 0 where the union is empty."""
    a, b = _as_boxes(a), _as_boxes(b)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0).astype(np.float32)


def _centres_sizes(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) and widths/heights (N, 2), at least ``_EPS``, of (N, 4) corner boxes."""
    return (boxes[:, :2] + boxes[:, 2:]) / 2, np.maximum(boxes[:, 2:] - boxes[:, :2], _EPS)


def encode_boxes(boxes: np.ndarray, references: np.ndarray, stds: tuple[float, float, float, float]) -> np.ndarray:
    """(N, 4) deltas of (N, 4) ``boxes`` from ``references``, divided by ``stds``.

    The inverse of ``mx.nd.contrib.box_decode(deltas, references, *stds, clip=-1, format='corner')``.
    """
    centres, sizes = _centres_sizes(_as_boxes(boxes).astype(np.float64))
    ref_centres, ref_sizes = _centres_sizes(_as_boxes(references).astype(np.float64))
    deltas = np.concatenate([(centres - ref_centres) / ref_sizes, np.log(sizes / ref_sizes)], axis=1)
    return (deltas / np.asarray(stds, dtype=np.float64)).astype(np.float32)


def _best_match(iou: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of (N, G) ``iou``: the int64 index and IoU of its best column; 0 and 0.0 when G == 0."""
    if iou.shape[1] == 0:
        return np.zeros(len(iou), dtype=np.int64), np.zeros(len(iou), dtype=np.float32)
    return iou.argmax(axis=1), iou.max(axis=1)


def _sample(
    positives: np.ndarray, negatives: np.ndarray, rng: np.random.Generator, num_sample: int, max_positive: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random subsets of the index arrays: up to ``max_positive`` positives, then negatives up to ``num_sample`` in all."""
    positives = rng.choice(positives, size=min(positives.size, max_positive), replace=False)
    negatives = rng.choice(negatives, size=min(negatives.size, num_sample - positives.size), replace=False)
    return positives, negatives


def rpn_targets(
    anchors: np.ndarray,
    gt_boxes: np.ndarray,
    valid_size: tuple[int, int],
    rng: np.random.Generator,
    *,
    num_sample: int = 256,
    positive_fraction: float = 0.5,
    positive_iou: float = 0.7,
    negative_iou: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (A,) float32 (1 positive, 0 negative, -1 ignored) and deltas (A, 4) float32 of (A, 4) ``anchors``.

    Anchors outside the ``valid_size`` (height, width) image are ignored; positives have IoU >= ``positive_iou``
    or are a gt's best anchor, negatives IoU < ``negative_iou``; both are subsampled to ``num_sample``.
    """
    anchors, gt_boxes = _as_boxes(anchors), _as_boxes(gt_boxes)
    height, width = valid_size
    inside = np.all(anchors >= 0, axis=1) & (anchors[:, 2] <= width) & (anchors[:, 3] <= height)
    iou = box_iou(anchors, gt_boxes)
    iou[~inside] = -1
    best_gt, best_iou = _best_match(iou)
    gt_max = iou.max(axis=0)
    is_best = np.any((iou == gt_max) & (gt_max > 0), axis=1)
    positive = inside & ((best_iou >= positive_iou) | is_best)
    negative = inside & (best_iou < negative_iou) & ~positive
    positives, negatives = _sample(
        np.flatnonzero(positive), np.flatnonzero(negative), rng, num_sample, int(num_sample * positive_fraction)
    )
    labels = np.full(len(anchors), -1, dtype=np.float32)
    labels[negatives] = 0
    labels[positives] = 1
    deltas = np.zeros((len(anchors), 4), dtype=np.float32)
    deltas[positives] = encode_boxes(gt_boxes[best_gt[positives]], anchors[positives], (1.0, 1.0, 1.0, 1.0))
    return labels, deltas


def sample_rois(
    proposals: np.ndarray,
    gt_boxes: np.ndarray,
    gt_labels: np.ndarray,
    rng: np.random.Generator,
    *,
    num_sample: int = 512,
    positive_fraction: float = 0.25,
    positive_iou: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rois (S, 4) float32, labels (S,) float32 and matched gt indices (S,) int64, S = ``num_sample``.

    Candidates are the proposals and the gt boxes; positives (IoU >= ``positive_iou``) are labelled class + 1,
    negatives 0, and slots left over when candidates run out hold a dummy roi labelled -1 (matched -1).
    """
    gt_boxes = _as_boxes(gt_boxes)
    candidates = np.concatenate([_as_boxes(proposals), gt_boxes])
    best_gt, best_iou = _best_match(box_iou(candidates, gt_boxes))
    positives, negatives = _sample(
        np.flatnonzero(best_iou >= positive_iou), np.flatnonzero(best_iou < positive_iou),
        rng, num_sample, round(num_sample * positive_fraction),
    )
    kept = np.concatenate([positives, negatives])
    rois = np.tile(_PAD_ROI, (num_sample, 1))
    rois[: kept.size] = candidates[kept]
    labels = np.full(num_sample, -1, dtype=np.float32)
    labels[: positives.size] = np.asarray(gt_labels)[best_gt[positives]] + 1
    labels[positives.size: kept.size] = 0
    matched = np.full(num_sample, -1, dtype=np.int64)
    matched[: positives.size] = best_gt[positives]
    return rois, labels, matched


def rcnn_box_targets(
    rois: np.ndarray, gt_boxes: np.ndarray, matched: np.ndarray, stds: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
) -> np.ndarray:
    """(S, 4) float32 deltas of (S, 4) ``rois`` to their ``matched`` gt boxes; zeros where ``matched`` is -1."""
    rois, gt_boxes = _as_boxes(rois), _as_boxes(gt_boxes)
    deltas = np.zeros((len(rois), 4), dtype=np.float32)
    positive = matched >= 0
    deltas[positive] = encode_boxes(gt_boxes[matched[positive]], rois[positive], stds)
    return deltas


def _roi_to_grid(roi: np.ndarray, size: int) -> np.ndarray:
    """2x3 affine from a ``size`` x ``size`` grid to OpenCV pixel coordinates, sample i at x1 + (i + 0.5) * w / size."""
    scale = (roi[2:] - roi[:2]) / size
    offset = roi[:2] + 0.5 * scale - 0.5  # OpenCV puts pixel j's centre at j, i.e. continuous j + 0.5
    return np.array([[scale[0], 0, offset[0]], [0, scale[1], offset[1]]], dtype=np.float64)


def mask_targets(rois: np.ndarray, gt_masks: np.ndarray, matched: np.ndarray, size: int = 28) -> np.ndarray:
    """(S, size, size) float32 {0, 1} masks: the ``matched`` gt mask (G, H, W) inside each (S, 4) roi, resampled.

    Bilinear sampling thresholded at 0.5; all zeros where ``matched`` is -1.
    """
    rois = _as_boxes(rois)
    targets = np.zeros((len(rois), size, size), dtype=np.float32)
    for index in np.flatnonzero(matched >= 0):
        mask = gt_masks[matched[index]].astype(np.float32)
        resampled = cv2.warpAffine(
            mask, _roi_to_grid(rois[index], size), (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )
        targets[index] = resampled >= 0.5
    return targets
