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


OBJECT_KEYS = ("boxes", "labels", "crowd", "masks")
"""The target's per-object arrays, which :func:`crop` filters together."""


def expand(image: np.ndarray, target: Target, height: int, width: int, top: int, left: int,
           fill: tuple[float, float, float]) -> tuple[np.ndarray, Target]:
    """Place the sample at (``top``, ``left``) on a ``height`` x ``width`` canvas of colour ``fill``: SSD's zoom-out.

    Boxes move with the image; masks are padded with zeros.
    """
    old_h, old_w = image.shape[:2]
    if not (0 <= top <= height - old_h and 0 <= left <= width - old_w):
        raise ValueError(f"a {old_w}x{old_h} image does not fit a {width}x{height} canvas at left={left}, top={top}.")
    canvas = np.empty((height, width, 3), dtype=image.dtype)
    canvas[...] = np.asarray(fill, dtype=np.float32).round().astype(image.dtype)
    canvas[top : top + old_h, left : left + old_w] = image
    target = dict(target)
    if "boxes" in target:
        target["boxes"] = np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4) + np.array([left, top, left, top], np.float32)
    if "masks" in target:
        masks = np.zeros((len(target["masks"]), height, width), dtype=np.uint8)
        masks[:, top : top + old_h, left : left + old_w] = target["masks"]
        target["masks"] = masks
    target["size"] = (height, width)
    return canvas, target


def crop(image: np.ndarray, target: Target, box: tuple[int, int, int, int]) -> tuple[np.ndarray, Target]:
    """Cut the sample to the pixels ``box`` = (x1, y1, x2, y2): SSD's crop.

    Objects whose box centre falls outside the crop are dropped (every
    per-object array, :data:`OBJECT_KEYS`, alike); the others are clipped to it.
    """
    x1, y1, x2, y2 = (int(v) for v in box)
    height, width = image.shape[:2]
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"crop box {box} is not inside the {width}x{height} image.")
    target = dict(target)
    boxes = np.asarray(target.get("boxes", np.zeros((0, 4))), dtype=np.float32).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    keep = (centres[:, 0] > x1) & (centres[:, 0] < x2) & (centres[:, 1] > y1) & (centres[:, 1] < y2)
    for key in OBJECT_KEYS:
        if key in target:
            target[key] = np.asarray(target[key])[keep]
    if "boxes" in target:
        shift = np.array([x1, y1, x1, y1], np.float32)
        target["boxes"] = np.clip(target["boxes"] - shift, 0, [x2 - x1, y2 - y1, x2 - x1, y2 - y1]).astype(np.float32)
    if "masks" in target:
        target["masks"] = np.ascontiguousarray(target["masks"][:, y1:y2, x1:x2])
    target["size"] = (y2 - y1, x2 - x1)
    return np.ascontiguousarray(image[y1:y2, x1:x2]), target


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1, y1, x2, y2 box with each row of ``boxes`` (N, 4)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum((box[2] - box[0]) * (box[3] - box[1]) + areas - inter, np.finfo(np.float64).tiny)
