"""Heatmaps back to keypoints: peaks with the quarter-pixel shift, flip test, instance rescoring.

All functions take and return numpy arrays (call ``.asnumpy()`` on network
outputs first).

Coordinates: a heatmap pixel ``(x, y)`` is the input crop's ``(x * s, y * s)``
with ``s`` the head's stride (input width / heatmap width); the crop maps a
box of ``size`` (w, h) image pixels around ``center`` onto the whole input, as
:func:`cvcore_pose.geometry.affine_matrix` does with rotation 0, so the
image point is ``center + (x / heatmap_w - 0.5, y / heatmap_h - 0.5) * size``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .keypoints import NUM_JOINTS, flip_permutation


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions ``(N, J, 2)`` (x, y in heatmap pixels, float32) and peak values ``(N, J)``.

    Each joint's position is its map's argmax (the first one on ties), moved
    0.25 pixel towards the higher of its two neighbours in x, and likewise in
    y (Simple Baselines' rule; no move when they are equal). An axis where
    the peak lies on the border, so that one neighbour is missing, is not
    moved. A joint whose peak is ``<= 0`` (nothing detected) still gets its
    argmax position: use the peak value to reject it.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f"decode_heatmaps needs heatmaps of shape (N, J, h, w), got {heatmaps.shape}.")
    n, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, j, h * w)
    index = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, index[..., None], axis=2)[..., 0]
    px, py = index % w, index // w
    coords = np.stack([px, py], axis=-1).astype(np.float32)

    batch, joint = np.meshgrid(np.arange(n), np.arange(j), indexing="ij")
    inner_x = (px > 0) & (px < w - 1)
    right = heatmaps[batch, joint, py, np.minimum(px + 1, w - 1)]
    left = heatmaps[batch, joint, py, np.maximum(px - 1, 0)]
    coords[..., 0] += np.where(inner_x, 0.25 * np.sign(right - left), 0.0)
    inner_y = (py > 0) & (py < h - 1)
    below = heatmaps[batch, joint, np.minimum(py + 1, h - 1), px]
    above = heatmaps[batch, joint, np.maximum(py - 1, 0), px]
    coords[..., 1] += np.where(inner_y, 0.25 * np.sign(below - above), 0.0)
    return coords, maxvals


def to_image_coords(
    coords: np.ndarray, centers: np.ndarray, sizes: np.ndarray, heatmap_size: Sequence[int]
) -> np.ndarray:
    """Heatmap coordinates ``(N, J, 2)`` -> image coordinates ``(N, J, 2)`` (float32).

    ``centers`` and ``sizes`` ``(N, 2)`` are each crop's box centre and (w, h)
    in image pixels, ``heatmap_size`` is (width, height):
    ``x_img = center_x + (x / heatmap_w - 0.5) * size_w``, likewise for y
    (the inverse of the unrotated crop, see the module docstring).
    """
    coords = np.asarray(coords, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 1, 2)
    if coords.ndim != 3 or coords.shape[-1] != 2 or len(centers) != len(coords) or len(sizes) != len(coords):
        raise ValueError(
            f"to_image_coords needs coords (N, J, 2), centers (N, 2) and sizes (N, 2), "
            f"got {coords.shape}, {centers.shape[:1] + centers.shape[2:]}, {sizes.shape[:1] + sizes.shape[2:]}."
        )
    grid = np.array([float(heatmap_size[0]), float(heatmap_size[1])])
    return (centers + (coords / grid - 0.5) * sizes).astype(np.float32)


def flip_back(flipped_heatmaps: np.ndarray, shift: bool = True, permutation: np.ndarray | None = None) -> np.ndarray:
    """Heatmaps computed on the mirrored input, mirrored back onto the original's joints.

    Mirrored along the width, left and right channels swapped (``permutation``,
    default :func:`~cvcore_pose.keypoints.flip_permutation`), and with
    ``shift`` moved one pixel right (``out[..., 1:] = out[..., :-1]``, the
    first column kept), as GluonCV's flip test does to undo the half-pixel
    offset of mirroring an even-width map. Works on ``(N, J, h, w)`` or ``(J, h, w)``.
    """
    flipped_heatmaps = np.asarray(flipped_heatmaps)
    if flipped_heatmaps.ndim not in (3, 4):
        raise ValueError(f"flip_back needs heatmaps of shape (N, J, h, w) or (J, h, w), got {flipped_heatmaps.shape}.")
    joints = flipped_heatmaps.shape[-3]
    if permutation is None:
        if joints != NUM_JOINTS:
            raise ValueError(f"The COCO flip permutation is for {NUM_JOINTS} joints; these heatmaps have {joints}: pass permutation=.")
        permutation = flip_permutation()
    out = flipped_heatmaps[..., ::-1][..., np.asarray(permutation), :, :].copy()
    if shift:
        out[..., 1:] = out[..., :-1].copy()
    return out


def flip_average(heatmaps: np.ndarray, flipped_heatmaps: np.ndarray, shift: bool = True) -> np.ndarray:
    """The flip test: the mean of ``heatmaps`` and :func:`flip_back` (``flipped_heatmaps``, ``shift``).

    ``flipped_heatmaps`` are the network's output on the horizontally mirrored
    input batch.
    """
    heatmaps = np.asarray(heatmaps)
    if np.shape(flipped_heatmaps) != heatmaps.shape:
        raise ValueError(f"flip_average needs heatmaps of one shape, got {heatmaps.shape} and {np.shape(flipped_heatmaps)}.")
    return (heatmaps + flip_back(flipped_heatmaps, shift)) / 2


def instance_scores(maxvals: np.ndarray, box_scores: np.ndarray, threshold: float = 0.2) -> np.ndarray:
    """Person scores ``(N,)``: box score times the mean of the joints' peak values above ``threshold`` (0 when none is)."""
    maxvals = np.asarray(maxvals, dtype=np.float64)
    box_scores = np.asarray(box_scores, dtype=np.float64).reshape(-1)
    if maxvals.ndim != 2 or len(box_scores) != len(maxvals):
        raise ValueError(f"instance_scores needs maxvals (N, J) and box_scores (N,), got {maxvals.shape} and {box_scores.shape}.")
    confident = maxvals > threshold
    count = confident.sum(axis=1)
    mean = np.where(count > 0, np.where(confident, maxvals, 0.0).sum(axis=1) / np.maximum(count, 1), 0.0)
    return (box_scores * mean).astype(np.float32)


def decode_instances(heatmaps: np.ndarray, meta: np.ndarray, threshold: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps (N, J, h, w) of crops described by evaluation-transform meta rows (N, 6) -> image keypoints.

    Returns ``(points (N, J, 2) image coordinates, maxvals (N, J), instance scores (N,))``;
    a meta row is ``[center_x, center_y, size_w, size_h, box_score, image_id]``.
    """
    meta = np.asarray(meta, dtype=np.float64)
    coords, maxvals = decode_heatmaps(heatmaps)
    points = to_image_coords(coords, meta[:, 0:2], meta[:, 2:4], (heatmaps.shape[3], heatmaps.shape[2]))
    return points, maxvals, instance_scores(maxvals, meta[:, 4], threshold)
