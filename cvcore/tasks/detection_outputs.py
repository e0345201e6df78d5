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


def batch_outputs(outputs: Any) -> tuple[np.ndarray, ...]:
    """A detector's outputs for a batch as NumPy arrays, checked against :data:`OUTPUTS`."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    arrays = [o.asnumpy() if hasattr(o, "asnumpy") else np.asarray(o) for o in outputs]
    shapes = [a.shape for a in arrays]
    slots = arrays[0].shape if len(arrays) in (3, 4) and arrays[0].ndim == 2 else None
    if slots is None or shapes[1] != slots or shapes[2] != (*slots, 4) or (len(arrays) == 4 and shapes[3][:2] != slots):
        raise CvcoreError(f"A detection network returns {OUTPUTS} in inference; this one returned arrays of shapes {shapes}.")
    return tuple(arrays)


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
