"""A detector's outputs -> each image's detections in its own pixels: boxes scaled back and clipped, masks pasted.

Every detector of the ``detection`` task returns, in inference, ``(labels,
scores, boxes)`` or ``(labels, scores, boxes, masks)`` for a batch of N
network inputs: ``labels`` (N, K) class indices with -1 for unused slots,
``scores`` (N, K), ``boxes`` (N, K, 4) corners ``x1, y1, x2, y2`` in input
pixels, ``masks`` (N, K, Hm, Wm) each detection's mask probabilities over its
box (Mask R-CNN's 28x28).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from ..errors import CvcoreError

OUTPUTS = "(labels (N, K), scores (N, K), boxes (N, K, 4)[, masks (N, K, Hm, Wm)])"


@dataclass
class Detections:
    """One image's detections in its own pixels, best first."""

    boxes: np.ndarray  # (K, 4) float32 x1, y1, x2, y2
    scores: np.ndarray  # (K,) float32
    labels: np.ndarray  # (K,) int64 class indices
    masks: np.ndarray | None = None  # (K, H, W) bool, or None for a detector without masks

    def __len__(self) -> int:
        return len(self.scores)


def is_detection_batch(shapes: Sequence[tuple[int, ...]]) -> bool:
    """Whether arrays of these shapes are a batch of detections as :data:`OUTPUTS` describes."""
    if len(shapes) not in (3, 4) or len(shapes[0]) != 2:
        return False
    slots = tuple(shapes[0])
    return tuple(shapes[1]) == slots and tuple(shapes[2]) == (*slots, 4) and (len(shapes) == 3 or tuple(shapes[3][:2]) == slots)


def batch_outputs(outputs: Any) -> tuple[np.ndarray, ...]:
    """A detector's outputs for a batch as NumPy arrays, checked against :data:`OUTPUTS`."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    arrays = [o.asnumpy() if hasattr(o, "asnumpy") else np.asarray(o) for o in outputs]
    if not is_detection_batch([a.shape for a in arrays]):
        raise CvcoreError(f"A detection network returns {OUTPUTS} in inference; "
                          f"this one returned arrays of shapes {[a.shape for a in arrays]}.")
    return tuple(arrays)


def detection_differences(ours: Sequence[np.ndarray], theirs: Sequence[np.ndarray], rtol: float = 1e-3,
                          atol: float = 1e-4) -> tuple[list[str], float]:
    """Where two runs of one detector on one batch (two runtimes, say) disagree beyond float noise.

    Both are :func:`batch_outputs`. Each detection must have a counterpart of the
    same class, with score, box (and mask) within ``atol + rtol * |value|``, in
    any order: detections of equal score may come either way. A detection with no
    counterpart is noise only at its side's cut, scoring no more than that side's
    lowest kept score (a tie at the top-K slots, a score on the threshold).
    Returns one sentence per disagreement and the largest difference between
    matched values.
    """
    problems: list[str] = []
    worst = 0.0
    for image in range(len(ours[0])):
        mine, other = (_image_slots(outputs, image) for outputs in (ours, theirs))
        unmatched = list(range(len(other)))
        lonely = []
        for detection in mine:
            match = next((j for j in unmatched if _close(detection, other[j], rtol, atol)), None)
            if match is None:
                lonely.append((detection, mine, "the first"))
                continue
            unmatched.remove(match)
            worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(detection[1:], other[match][1:])))
        lonely += [(other[j], other, "the second") for j in unmatched]
        for (label, score, box, *_), side, which in lonely:
            if score > min(float(d[1]) for d in side) + atol + rtol * abs(score):
                problems.append(f"image {image}: {which} has a detection of class {int(label)}, score {float(score):.4g}, "
                                f"box {[round(float(v), 2) for v in box]} that the other lacks")
    return problems, worst


def _image_slots(outputs: Sequence[np.ndarray], image: int) -> list[tuple[np.ndarray, ...]]:
    """Image ``image``'s used slots as (label, score, box[, mask]) tuples."""
    used = outputs[0][image] >= 0
    return list(zip(*(array[image][used] for array in outputs)))


def _close(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], rtol: float, atol: float) -> bool:
    return a[0] == b[0] and all(np.allclose(x, y, rtol=rtol, atol=atol) for x, y in zip(a[1:], b[1:]))


def image_detections(outputs: Sequence[np.ndarray], index: int, image_size: tuple[int, int], resized: tuple[int, int],
                     threshold: float = 0.0) -> Detections:
    """Image ``index`` of a batch's :func:`batch_outputs`: slots with a label and a score above ``threshold``, in image pixels.

    ``image_size`` is the image's ``(height, width)``, ``resized`` the size it had
    in the network input (top left, the rest padding).
    """
    labels, scores, boxes = outputs[0][index], outputs[1][index], outputs[2][index]
    keep = (labels >= 0) & (scores > threshold)
    order = np.argsort(-scores[keep], kind="stable")
    height, width = image_size
    factors = np.array([width / resized[1], height / resized[0]] * 2, dtype=np.float32)
    kept_boxes = (boxes[keep][order] * factors).astype(np.float32)
    np.clip(kept_boxes[:, 0::2], 0, width, out=kept_boxes[:, 0::2])
    np.clip(kept_boxes[:, 1::2], 0, height, out=kept_boxes[:, 1::2])
    masks = paste_masks(outputs[3][index][keep][order], kept_boxes, image_size) if len(outputs) == 4 else None
    return Detections(kept_boxes, scores[keep][order].astype(np.float32), labels[keep][order].astype(np.int64), masks)


def paste_masks(masks: np.ndarray, boxes: np.ndarray, image_size: tuple[int, int], threshold: float = 0.5) -> np.ndarray:
    """Box-relative mask probabilities (K, Hm, Wm) -> full-image boolean masks (K, H, W), each resized over its box."""
    height, width = image_size
    pasted = np.zeros((len(masks), height, width), dtype=bool)
    for index, (mask, (x1, y1, x2, y2)) in enumerate(zip(masks, boxes)):
        left, top = int(np.floor(x1)), int(np.floor(y1))
        box_w, box_h = max(1, int(np.ceil(x2)) - left), max(1, int(np.ceil(y2)) - top)
        region = cv2.resize(mask.astype(np.float32), (box_w, box_h), interpolation=cv2.INTER_LINEAR) > threshold
        bottom, right = min(height, top + box_h), min(width, left + box_w)
        pasted[index, top:bottom, left:right] = region[: bottom - top, : right - left]
    return pasted
