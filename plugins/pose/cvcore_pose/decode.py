"""Heatmaps back to keypoints: sub-pixel peaks (DARK or the quarter shift), flip test, instance rescoring.

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

REFINEMENTS = ("dark", "quarter")
"""Sub-pixel refinements :func:`decode_heatmaps` knows."""


def decode_heatmaps(heatmaps: np.ndarray, refine: str = "dark", blur: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions ``(N, J, 2)`` (x, y in heatmap pixels, float32) and peak values ``(N, J)``.

    Each joint starts at its map's argmax (the first one on ties) and is refined:

    - ``"dark"`` (default): the map is smoothed by a Gaussian of ``blur``
      pixels and one Newton step on its logarithm, from the 3x3
      neighbourhood's gradient and Hessian, moves the peak to where a Gaussian
      through those values peaks (DARK, Zhang et al. 2020), by at most one
      pixel per axis. A Gaussian stays a Gaussian under the blur, so any
      ``blur`` is exact on clean maps; 1 pixel smooths noise while hardly
      pulling peaks near a border inwards. Peaks where the log-map is not
      concave, or on the border, fall back to the quarter shift.
    - ``"quarter"``: moved 0.25 pixel towards the higher of its two neighbours
      in x, and likewise in y (Simple Baselines' rule; no move when they are
      equal or one is missing because the peak is on the border).

    A joint whose peak is ``<= 0`` (nothing detected) still gets a position:
    use the peak value to reject it.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f"decode_heatmaps needs heatmaps of shape (N, J, h, w), got {heatmaps.shape}.")
    if refine not in REFINEMENTS:
        raise ValueError(f"Unknown heatmap refinement {refine!r}; choose one of {', '.join(REFINEMENTS)}.")
    n, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, j, h * w)
    index = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, index[..., None], axis=2)[..., 0]
    peaks = np.stack([index % w, index // w], axis=-1)
    coords = peaks + _quarter_shift(heatmaps, peaks)
    if refine == "dark":
        offsets, concave = _newton_offsets(np.log(np.maximum(_gaussian_blur(heatmaps, blur), 1e-10)), peaks)
        coords = np.where(concave[..., None], peaks + offsets, coords)
    return coords.astype(np.float32), maxvals


def _neighbours(maps: np.ndarray, peaks: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``maps[n, j, y + dy, x + dx]`` at each peak ``(x, y)``, the coordinates clamped to the map."""
    n, j, h, w = maps.shape
    batch, joint = np.meshgrid(np.arange(n), np.arange(j), indexing="ij")
    return maps[batch, joint, np.clip(peaks[..., 1] + dy, 0, h - 1), np.clip(peaks[..., 0] + dx, 0, w - 1)]


def _inner(maps: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each peak has both neighbours in x, and in y."""
    h, w = maps.shape[2:]
    return (peaks[..., 0] > 0) & (peaks[..., 0] < w - 1), (peaks[..., 1] > 0) & (peaks[..., 1] < h - 1)


def _quarter_shift(maps: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """(N, J, 2) moves of +-0.25 towards the higher neighbour per axis (0 on ties and borders)."""
    inner_x, inner_y = _inner(maps, peaks)
    step_x = np.sign(_neighbours(maps, peaks, 1, 0) - _neighbours(maps, peaks, -1, 0))
    step_y = np.sign(_neighbours(maps, peaks, 0, 1) - _neighbours(maps, peaks, 0, -1))
    return 0.25 * np.stack([np.where(inner_x, step_x, 0.0), np.where(inner_y, step_y, 0.0)], axis=-1)


def _gaussian_blur(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Each (h, w) map convolved with a normalised Gaussian of ``sigma`` (zero outside the map)."""
    if sigma <= 0:
        raise ValueError(f"The blur sigma must be positive, got {sigma}.")
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma * sigma)).astype(np.float32)
    kernel /= kernel.sum()
    h, w = maps.shape[2:]
    padded = np.pad(maps, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
    rows = sum(k * padded[:, :, i:i + h, :] for i, k in enumerate(kernel))
    return sum(k * rows[:, :, :, i:i + w] for i, k in enumerate(kernel))


def _newton_offsets(log_maps: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Newton step ``-H^-1 g`` from each peak on ``log_maps`` (central differences), and where it is valid."""
    at = lambda dx, dy: _neighbours(log_maps, peaks, dx, dy).astype(np.float64)  # noqa: E731
    centre = at(0, 0)
    gx, gy = (at(1, 0) - at(-1, 0)) / 2, (at(0, 1) - at(0, -1)) / 2
    hxx, hyy = at(1, 0) - 2 * centre + at(-1, 0), at(0, 1) - 2 * centre + at(0, -1)
    hxy = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4
    det = hxx * hyy - hxy * hxy
    inner_x, inner_y = _inner(log_maps, peaks)
    concave = inner_x & inner_y & (hxx < 0) & (det > 1e-12)
    safe = np.where(concave, det, 1.0)
    offsets = np.stack([(hxy * gy - hyy * gx) / safe, (hxy * gx - hxx * gy) / safe], axis=-1)
    return np.clip(np.where(concave[..., None], offsets, 0.0), -1.0, 1.0), concave


def flip_shift(stride: int) -> float:
    """The exact shift, in heatmap pixels, that realigns a flipped-back heatmap: ``1 - 1 / stride``.

    Mirroring a crop of width ``W`` sends input x to ``W - 1 - x``, so a joint
    at heatmap x (input ``x * stride``) appears at ``W / stride - 1 / stride - x``,
    while mirroring the heatmap puts x at ``W / stride - 1 - x``. GluonCV
    shifts by a whole pixel; at stride 4 that is 0.25 pixel too far.
    """
    if stride < 1:
        raise ValueError(f"The heatmap stride must be at least 1, got {stride}.")
    return 1.0 - 1.0 / stride


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


def flip_back(flipped_heatmaps: np.ndarray, shift: float = 1.0, permutation: np.ndarray | None = None) -> np.ndarray:
    """Heatmaps computed on the mirrored input, mirrored back onto the original's joints.

    Mirrored along the width, left and right channels swapped (``permutation``,
    default :func:`~cvcore_pose.keypoints.flip_permutation`), and moved
    ``shift`` pixels right (``0 <= shift <= 1``; fractions interpolate
    linearly, the first column is kept). ``shift=1`` is GluonCV's flip test;
    :func:`flip_shift` gives the exact value for a stride. Works on
    ``(N, J, h, w)`` or ``(J, h, w)``.
    """
    flipped_heatmaps = np.asarray(flipped_heatmaps)
    if flipped_heatmaps.ndim not in (3, 4):
        raise ValueError(f"flip_back needs heatmaps of shape (N, J, h, w) or (J, h, w), got {flipped_heatmaps.shape}.")
    joints = flipped_heatmaps.shape[-3]
    if permutation is None:
        if joints != NUM_JOINTS:
            raise ValueError(f"The COCO flip permutation is for {NUM_JOINTS} joints; these heatmaps have {joints}: pass permutation=.")
        permutation = flip_permutation()
    if not 0 <= shift <= 1:
        raise ValueError(f"flip_back shifts by 0 to 1 pixel, got {shift}.")
    out = flipped_heatmaps[..., ::-1][..., np.asarray(permutation), :, :].copy()
    if shift:
        out[..., 1:] = (1 - shift) * out[..., 1:] + shift * out[..., :-1]
    return out


def flip_average(heatmaps: np.ndarray, flipped_heatmaps: np.ndarray, shift: float = 1.0) -> np.ndarray:
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


def decode_instances(heatmaps: np.ndarray, meta: np.ndarray, threshold: float = 0.2,
                     refine: str = "dark") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps (N, J, h, w) of crops described by evaluation-transform meta rows (N, 6 or 7) -> image keypoints.

    Returns ``(points (N, J, 2) image coordinates, maxvals (N, J), instance scores (N,))``;
    a meta row is ``[center_x, center_y, size_w, size_h, box_score, image_id]``;
    ``refine`` as in :func:`decode_heatmaps`.
    """
    meta = np.asarray(meta, dtype=np.float64)
    coords, maxvals = decode_heatmaps(heatmaps, refine)
    points = to_image_coords(coords, meta[:, 0:2], meta[:, 2:4], (heatmaps.shape[3], heatmaps.shape[2]))
    return points, maxvals, instance_scores(maxvals, meta[:, 4], threshold)
