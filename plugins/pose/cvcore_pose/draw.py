"""Drawing people's keypoints and skeletons on images."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from cvcore.data.image import write_image
from cvcore.files import atomic_path

from .keypoints import JOINTS, NUM_JOINTS, SKELETON

LEFT_COLOR = (0, 160, 255)
"""RGB of left joints and limbs (blue)."""
RIGHT_COLOR = (255, 120, 0)
"""RGB of right joints and limbs (orange)."""
CENTER_COLOR = (40, 220, 40)
"""RGB of centre joints (the nose) and of limbs joining sides (green)."""
BOX_COLOR = (255, 255, 0)
"""RGB of person boxes (yellow)."""


def _side(joint: int) -> str:
    name = JOINTS[joint]
    return "left" if name.startswith("left_") else "right" if name.startswith("right_") else "center"


_COLORS = {"left": LEFT_COLOR, "right": RIGHT_COLOR, "center": CENTER_COLOR}


def draw_keypoints(
    image: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray | None = None,
    *,
    threshold: float = 0.2,
    boxes: np.ndarray | None = None,
    radius: int | None = None,
    thickness: int | None = None,
    skeleton: Sequence[tuple[int, int]] | None = None,
) -> np.ndarray:
    """A copy of ``image`` (RGB ``uint8`` HxWx3) with each person's skeleton, joints and box drawn.

    ``keypoints`` is ``(P, J, 2)`` or ``(P, J, 3)`` in image pixels; the third
    column, when present and ``scores`` is None, is each joint's score.
    Joints scoring ``<= threshold`` (or not finite) are not drawn, nor any
    limb touching them; without scores every joint is drawn. Limbs are
    ``skeleton`` (default: COCO's, for 17 joints; none for other joint
    counts), coloured blue on the left, orange on the right and green where
    they join the sides; joints are dots of the same colours. ``boxes``
    ``(P, 4)`` are ``(x, y, w, h)``. ``radius`` and ``thickness`` default to
    about 0.6% and 0.4% of the image's longer side.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"draw_keypoints needs an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}.")
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim == 2:
        keypoints = keypoints[None]
    if keypoints.ndim != 3 or keypoints.shape[2] not in (2, 3):
        raise ValueError(f"keypoints must be (P, J, 2) or (P, J, 3), got {keypoints.shape}.")
    people, joints = keypoints.shape[:2]
    if scores is None:
        scores = keypoints[..., 2] if keypoints.shape[2] == 3 else np.full((people, joints), np.inf)
    scores = np.asarray(scores, dtype=np.float64).reshape(people, joints)
    if skeleton is None:
        skeleton = SKELETON if joints == NUM_JOINTS else ()
    sides = [_side(j) if joints == NUM_JOINTS else "center" for j in range(joints)]
    longer = max(image.shape[:2])
    radius = int(radius) if radius is not None else max(2, round(0.006 * longer))
    thickness = int(thickness) if thickness is not None else max(1, round(0.004 * longer))

    out = np.ascontiguousarray(image.copy())
    if boxes is not None:
        for x, y, w, h in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
            if np.isfinite([x, y, w, h]).all():
                cv2.rectangle(out, (round(x), round(y)), (round(x + w), round(y + h)), BOX_COLOR, thickness, cv2.LINE_AA)
    for person in range(people):
        points = keypoints[person, :, :2]
        shown = np.isfinite(points).all(axis=1) & (scores[person] > threshold)
        pixel = [(round(x), round(y)) if ok else None for (x, y), ok in zip(points, shown)]
        for a, b in skeleton:
            if shown[a] and shown[b]:
                side = sides[a] if sides[a] == sides[b] else "center"
                cv2.line(out, pixel[a], pixel[b], _COLORS[side], thickness, cv2.LINE_AA)
        for joint in np.flatnonzero(shown):
            cv2.circle(out, pixel[joint], radius, _COLORS[sides[joint]], -1, cv2.LINE_AA)
    return out


def save_drawing(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write ``image`` (RGB ``uint8``) to ``path`` (format from the suffix) atomically; returns the path."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix or ".png") as tmp:
        write_image(tmp, image)
    return path
