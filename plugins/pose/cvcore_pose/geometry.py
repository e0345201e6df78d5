"""Person boxes to crops and back: 2x3 affine matrices between image and network coordinates.

Coordinates are in pixels with pixel centres at integers (OpenCV's
convention). A crop maps its box centre to ``(width / 2, height / 2)`` of the
output, as Simple Baselines and GluonCV do, so heatmap coordinates are the
input's divided by the stride, and a decoder maps heatmap peaks back to the
image with ``invert_affine(affine_matrix(center, size, 0, heatmap_size))``.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np


def box_to_center_size(
    box: Sequence[float], aspect_ratio: float, padding: float = 1.25
) -> tuple[np.ndarray, np.ndarray]:
    """COCO box ``(x, y, w, h)`` -> its centre and the padded size ``(w, h)`` in pixels (float32).

    The shorter side (relative to ``aspect_ratio`` = w / h) is widened so the
    size has that aspect ratio, then both sides are multiplied by ``padding``.
    """
    x, y, w, h = (float(v) for v in box)
    if w < 0 or h < 0 or (w == 0 and h == 0) or not math.isfinite(w + h + x + y):
        raise ValueError(f"A person box (x, y, w, h) needs finite coordinates and a positive size, got {tuple(box)}.")
    if aspect_ratio <= 0:
        raise ValueError(f"aspect_ratio (width / height) must be positive, got {aspect_ratio}.")
    center = np.array([x + w / 2, y + h / 2], dtype=np.float32)
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    else:
        w = h * aspect_ratio
    size = np.array([w * padding, h * padding], dtype=np.float32)
    return center, size


def affine_matrix(
    center: Sequence[float], size: Sequence[float], rotation_deg: float, output_size: tuple[int, int]
) -> np.ndarray:
    """The 2x3 float64 matrix taking image coordinates to output coordinates.

    The box of ``size`` (w, h) around ``center``, rotated by ``rotation_deg``
    (counter-clockwise positive, as ``cv2.getRotationMatrix2D``), fills the
    output of ``output_size`` (width, height); the centre maps to the output's
    ``(width / 2, height / 2)``.
    """
    out_w, out_h = output_size
    size_w, size_h = float(size[0]), float(size[1])
    if size_w <= 0 or size_h <= 0:
        raise ValueError(f"The crop size (w, h) must be positive, got ({size_w}, {size_h}).")
    angle = math.radians(rotation_deg)
    cos, sin = math.cos(angle), math.sin(angle)
    linear = np.array([[cos, sin], [-sin, cos]]) * np.array([[out_w / size_w], [out_h / size_h]])
    offset = np.array([out_w / 2, out_h / 2]) - linear @ np.asarray(center, dtype=np.float64)
    return np.hstack([linear, offset[:, None]])


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the inverse mapping."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a 2x3 matrix."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def crop(image: np.ndarray, matrix: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Warp ``image`` (HxWx3 uint8) by ``matrix`` into ``output_size`` (width, height); outside is black."""
    return cv2.warpAffine(
        image,
        matrix,
        (int(output_size[0]), int(output_size[1])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
