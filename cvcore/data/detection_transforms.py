"""Geometric transforms of detection samples that keep ``boxes``, ``masks`` and ``size`` consistent with the image.

A sample is ``(image RGB uint8 HxWx3, target)`` as :class:`~cvcore.data.coco_detection.COCODetection`
gives it: ``boxes`` float32 (N, 4) x1, y1, x2, y2 in pixel-edge coordinates
(a box around pixel column 3 alone spans x 3..4), optional ``masks`` uint8
(N, H, W). Every function returns a new target and leaves its input alone; none
draws random numbers (the caller decides, e.g. ``if rng.random() < 0.5:
flip_horizontal(...)``). Images are resized bilinearly (as
:func:`cvcore.data.transforms.resize`), masks by nearest neighbour on pixel
centres, so a mask stays where its box goes. End a chain with
:class:`cvcore.data.transforms.Normalize` for the network's float32 3xHxW input.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .transforms import resize

Target = dict[str, Any]


def short_side_scale(height: int, width: int, short: int, max_size: int) -> float:
    """The factor taking the shorter side to ``short``, or less when the longer side would pass ``max_size``."""
    if short <= 0 or max_size <= 0:
        raise ValueError(f"short and max_size must be positive, got short={short}, max_size={max_size}.")
    return min(short / min(height, width), max_size / max(height, width))


def resize_masks(masks: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, h, w) masks resized to (N, ``height``, ``width``) by nearest neighbour on pixel centres."""
    old_h, old_w = masks.shape[1:]
    rows = np.minimum(((np.arange(height) + 0.5) * (old_h / height)).astype(np.int64), old_h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * (old_w / width)).astype(np.int64), old_w - 1)
    return masks[:, rows[:, None], cols[None, :]]


def resize_to(image: np.ndarray, target: Target, height: int, width: int) -> tuple[np.ndarray, Target]:
    """Resize the sample to ``height`` x ``width``: boxes scaled per axis, masks by nearest neighbour, ``size`` updated."""
    old_h, old_w = image.shape[:2]
    target = dict(target)
    if "boxes" in target:
        factors = np.array([width / old_w, height / old_h] * 2, dtype=np.float32)
        target["boxes"] = np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4) * factors
    if "masks" in target:
        target["masks"] = resize_masks(target["masks"], height, width)
    target["size"] = (height, width)
    return resize(image, height, width), target


def resize_short(image: np.ndarray, target: Target, short: int, max_size: int) -> tuple[np.ndarray, Target, float]:
    """Resize so the shorter side is ``short`` unless the longer would pass ``max_size`` (then that one is ``max_size``).

    Returns the image, the target and the scale (divide predicted boxes by it to
    get back to the original image; sizes are rounded, so it is exact to half a pixel).
    """
    height, width = image.shape[:2]
    scale = short_side_scale(height, width, short, max_size)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    image, target = resize_to(image, target, new_h, new_w)
    return image, target, scale


def flip_horizontal(image: np.ndarray, target: Target) -> tuple[np.ndarray, Target]:
    """Mirror the sample left-right: x1' = w - x2, x2' = w - x1; masks mirrored."""
    width = image.shape[1]
    target = dict(target)
    if "boxes" in target:
        boxes = np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4)
        target["boxes"] = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)
    if "masks" in target:
        target["masks"] = np.ascontiguousarray(target["masks"][:, :, ::-1])
    return cv2.flip(image, 1), target


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    """float32 (N, 4) x1, y1, x2, y2 pixel-edge boxes around each mask's pixels (zeros for an empty mask)."""
    boxes = np.zeros((len(masks), 4), dtype=np.float32)
    for i, mask in enumerate(masks):
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size:
            boxes[i] = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
    return boxes
