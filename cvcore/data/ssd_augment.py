"""SSD's training augmentation of detection samples: colour distortion, zoom-out and IoU-constrained crops.

As in Liu et al., "SSD: Single Shot MultiBox Detector" (2016): the colours are
distorted (:class:`~cvcore.data.transforms.PhotometricDistort`); with
probability 1/2 the image is placed on a canvas up to ``max_expand`` times its
size filled with the mean colour, which makes small objects; then a crop is
drawn that overlaps some object by at least an IoU picked at random from
:data:`MIN_IOUS` (or the image is kept whole). Flipping and resizing are the
detection task's own steps, after these. Random numbers come only from the
``rng`` given, so a seeded sample replays exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .detection_transforms import Target, box_iou, crop, expand
from .transforms import IMAGENET_MEAN, PhotometricDistort

MIN_IOUS: tuple[float | None, ...] = (None, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
"""The crop modes, one drawn per sample: None keeps the image whole; a number is the least IoU the crop must have
with one object (0: any crop holding an object's centre)."""
SCALE = (0.3, 1.0)
"""A crop's sides as fractions of the image's."""
ASPECT = (0.5, 2.0)
"""A crop's aspect ratio (width / height relative to the image's)."""
TRIALS = 50
"""Crops drawn per mode before the image is kept whole."""


@dataclass(frozen=True)
class SSDAugment:
    """``(image, target, rng) -> (image, target)``: :class:`PhotometricDistort` (when ``photometric``), zoom-out up to
    ``max_expand`` (1 turns it off) and an IoU-constrained crop (when ``crop``), in SSD's order."""

    photometric: bool = True
    max_expand: float = 4.0
    crop: bool = True
    fill: tuple[float, float, float] = IMAGENET_MEAN

    def __post_init__(self) -> None:
        if not (isinstance(self.max_expand, (int, float)) and math.isfinite(self.max_expand) and self.max_expand >= 1):
            raise ValueError(f"max_expand is the largest zoom-out ratio, a number >= 1 (1: none), got {self.max_expand!r}.")

    def __call__(self, image: np.ndarray, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, Target]:
        if self.photometric:
            image = PhotometricDistort()(image, rng)
        if self.max_expand > 1 and rng.random() < 0.5:
            image, target = random_expand(image, target, rng, self.max_expand, self.fill)
        if self.crop:
            box = sample_crop(np.asarray(target.get("boxes", np.zeros((0, 4))), np.float32).reshape(-1, 4), *image.shape[:2], rng)
            if box is not None:
                image, target = crop(image, target, box)
        return image, target


def random_expand(image: np.ndarray, target: Target, rng: np.random.Generator, max_ratio: float,
                  fill: tuple[float, float, float]) -> tuple[np.ndarray, Target]:
    """:func:`expand` onto a canvas ``ratio`` (uniform in [1, ``max_ratio``]) times the image's sides, at a random place."""
    height, width = image.shape[:2]
    ratio = rng.uniform(1.0, max_ratio)
    new_h, new_w = int(height * ratio), int(width * ratio)
    top, left = int(rng.integers(0, new_h - height + 1)), int(rng.integers(0, new_w - width + 1))
    return expand(image, target, new_h, new_w, top, left, fill)


def sample_crop(boxes: np.ndarray, height: int, width: int, rng: np.random.Generator) -> tuple[int, int, int, int] | None:
    """A crop (x1, y1, x2, y2) in pixels of SSD's kind for objects ``boxes``, or None to keep the image whole.

    The mode is drawn from :data:`MIN_IOUS`; a crop of it has sides
    :data:`SCALE` of the image's at an :data:`ASPECT` ratio, overlaps some object
    by at least the mode's IoU and holds at least one object's centre. After
    :data:`TRIALS` misses the image stays whole. An image without objects stays whole.
    """
    if len(boxes) == 0:
        return None
    min_iou = MIN_IOUS[int(rng.integers(len(MIN_IOUS)))]
    if min_iou is None:
        return None
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    for _ in range(TRIALS):
        scale = rng.uniform(*SCALE)
        aspect = rng.uniform(max(ASPECT[0], scale**2), min(ASPECT[1], 1 / scale**2))
        crop_w, crop_h = int(width * scale * math.sqrt(aspect)), int(height * scale / math.sqrt(aspect))
        if crop_w < 1 or crop_h < 1:
            continue
        x1, y1 = int(rng.integers(0, width - crop_w + 1)), int(rng.integers(0, height - crop_h + 1))
        box = (x1, y1, x1 + crop_w, y1 + crop_h)
        inside = (centres[:, 0] > box[0]) & (centres[:, 0] < box[2]) & (centres[:, 1] > box[1]) & (centres[:, 1] < box[3])
        if inside.any() and box_iou(np.array(box, np.float64), boxes).max() >= min_iou:
            return box
    return None

