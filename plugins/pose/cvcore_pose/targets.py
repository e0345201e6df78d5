"""Gaussian heatmap training targets, one map per joint (Simple Baselines' MSE targets, optionally unbiased)."""
from __future__ import annotations

import math

import numpy as np


def _gaussians_1d(centers: np.ndarray, windows: np.ndarray, length: int, sigma: float, radius: int) -> np.ndarray:
    """(J, length) unnormalised 1-D Gaussians around ``centers``, zero farther than ``radius`` from the integer ``windows``."""
    positions = np.arange(length, dtype=np.float32)[None, :]
    offsets = positions - centers[:, None]
    values = np.exp(offsets * offsets / np.float32(-2 * sigma * sigma))
    values[np.abs(positions - windows[:, None]) > radius] = 0
    return values


def heatmap_targets(
    joints: np.ndarray, visible: np.ndarray, heatmap_size: tuple[int, int], sigma: float = 2.0, subpixel: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (J, H, W) float32 and target weights (J,) float32 for joints in heatmap pixels.

    Each map is a Gaussian centred on the joint itself (``subpixel``, the
    unbiased encoding of DARK), or, with ``subpixel=False``, of peak 1 at the
    joint rounded to the nearest pixel (Simple Baselines). Either way it is
    zero more than 3 ``sigma`` (in x or y) from the rounded joint. Sub-pixel
    centres matter at low resolution: at stride 4 rounding moves a joint by up
    to 2 input pixels, which the network then learns. A joint that is not ``visible`` or
    whose 3-sigma window misses the ``heatmap_size`` (width, height) map gets
    weight 0 and an all-zero map.
    """
    joints = np.asarray(joints, dtype=np.float32)
    visible = np.asarray(visible, dtype=bool)
    if joints.ndim != 2 or joints.shape[1] != 2 or visible.shape != joints.shape[:1]:
        raise ValueError(
            f"heatmap_targets needs joints (J, 2) and visible (J,), got {joints.shape} and {visible.shape}."
        )
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    width, height = heatmap_size
    radius = math.floor(3 * sigma)
    with np.errstate(invalid="ignore"):
        windows = np.floor(joints + 0.5)
        overlaps = (windows + radius >= 0).all(axis=1) & (windows[:, 0] - radius <= width - 1) & (
            windows[:, 1] - radius <= height - 1
        )
    weight = visible & overlaps
    windows[~weight] = 0  # also clears NaN coordinates of unlabeled joints
    centers = np.where(weight[:, None], joints, 0) if subpixel else windows
    gx = _gaussians_1d(centers[:, 0], windows[:, 0], width, sigma, radius)
    gy = _gaussians_1d(centers[:, 1], windows[:, 1], height, sigma, radius)
    gx[~weight] = 0
    heatmaps = gy[:, :, None] * gx[:, None, :]
    return heatmaps, weight.astype(np.float32)
