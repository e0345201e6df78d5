"""Top-down pose transforms: a person box -> the network's input crop (and heatmap targets).

A sample is ``(image, record)``: an RGB ``uint8`` HxWx3 image and a record
dict with ``joints`` (17, 3) float32 ``x, y, v`` (COCO visibility; ``v > 0``
is labeled), ``box`` ``(x, y, w, h)``, ``image_id``, ``score``, ``ann_id`` and
``file`` (see :mod:`cvcore_pose.coco`). The transforms are frozen dataclasses,
so DataLoader worker processes can pickle them; random ones draw only from
the ``rng`` they are given (a fresh ``numpy.random.default_rng()`` without one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from cvcore.data.transforms import Normalize, as_size

from .geometry import affine_matrix, apply_affine, box_to_center_size, crop
from .keypoints import NUM_JOINTS, flip_permutation
from .targets import heatmap_targets

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

UPPER_BODY = np.arange(11)  # nose .. wrists
HALF_BODY_MIN_JOINTS = 9  # labeled joints a person needs before a half-body box is tried (as HRNet's COCO setup)
HALF_BODY_PADDING = 1.5


def _normalizer(mean: Sequence[float], std: Sequence[float]) -> Normalize:
    """Per-channel ``(x / 255 - mean) / std`` for ``mean`` and ``std`` given on the 0-1 scale."""
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError(f"mean and std need 3 values each (RGB, 0-1 scale) and a positive std, got {mean}, {std}.")
    return Normalize(tuple(255 * m for m in mean), tuple(255 * s for s in std))


def _check_probability(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} is a probability and must lie in [0, 1], got {value}.")


def _mirrored(matrix: np.ndarray, center_x: float) -> np.ndarray:
    """``matrix`` applied after mirroring the image about the vertical line ``x = center_x``."""
    out = matrix.copy()
    out[:, 0] = -matrix[:, 0]
    out[:, 2] = matrix[:, 2] + 2 * center_x * matrix[:, 0]
    return out


def meta_center_size(meta_batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) and crop sizes (N, 2) from a batch of :class:`TopDownEvalTransform` metas (N, 7), or (N, 6) without ``replaces``."""
    meta_batch = np.asarray(meta_batch, dtype=np.float64)
    if meta_batch.ndim != 2 or meta_batch.shape[1] not in (6, 7):
        raise ValueError(f"meta_batch must be (N, 7) [cx, cy, w, h, score, image_id, replaces], got shape {meta_batch.shape}.")
    return meta_batch[:, 0:2], meta_batch[:, 2:4]


@dataclass(frozen=True)
class TopDownTrainTransform:
    """Random crop of a person box -> (input (3, H, W), heatmaps (J, H/s, W/s), target weights (J,)), float32.

    As Simple Baselines: the padded box's size is scaled by
    ``clip(N(0,1) * scale_factor + 1, 1 - scale_factor, 1 + scale_factor)``; with
    probability ``rotation_prob`` it is rotated by
    ``clip(N(0,1) * rotation_factor, -2 rotation_factor, 2 rotation_factor)``
    degrees; with probability ``flip_prob`` the image is mirrored about the box
    centre and left/right joints swap. With probability ``half_body_prob`` (when
    more than 8 joints are labeled) the box is replaced by that of the labeled
    upper- or lower-body joints, padded by 1.5 (as later Simple Baselines code).
    ``input_size`` is (height, width); ``subpixel_targets`` centres each
    Gaussian on the joint itself rather than its nearest heatmap pixel
    (see :func:`~cvcore_pose.targets.heatmap_targets`).
    """

    input_size: tuple[int, int] = (256, 192)
    heatmap_stride: int = 4
    sigma: float = 2.0
    subpixel_targets: bool = True
    scale_factor: float = 0.35
    rotation_factor: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    half_body_prob: float = 0.0
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    padding: float = 1.25
    _normalize: Normalize = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        height, width = as_size(self.input_size)
        object.__setattr__(self, "input_size", (height, width))
        if self.heatmap_stride < 1 or height % self.heatmap_stride or width % self.heatmap_stride:
            raise ValueError(
                f"input_size {self.input_size} (height, width) must be divisible by "
                f"heatmap_stride {self.heatmap_stride}."
            )
        if self.sigma <= 0 or not 0 <= self.scale_factor < 1 or self.rotation_factor < 0 or self.padding <= 0:
            raise ValueError(
                f"Need sigma > 0, 0 <= scale_factor < 1, rotation_factor >= 0 and padding > 0; got sigma={self.sigma}, "
                f"scale_factor={self.scale_factor}, rotation_factor={self.rotation_factor}, padding={self.padding}."
            )
        for name in ("rotation_prob", "flip_prob", "half_body_prob"):
            _check_probability(name, getattr(self, name))
        object.__setattr__(self, "_normalize", _normalizer(self.mean, self.std))

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the network input."""
        return self.input_size[1], self.input_size[0]

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(width, height) of the heatmaps."""
        return self.input_size[1] // self.heatmap_stride, self.input_size[0] // self.heatmap_stride

    def __call__(
        self, image: np.ndarray, record: dict, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = rng if rng is not None else np.random.default_rng()
        joints = np.asarray(record["joints"], dtype=np.float32)
        if joints.shape != (NUM_JOINTS, 3):
            raise ValueError(f"record['joints'] must be ({NUM_JOINTS}, 3) (x, y, v), got {joints.shape}.")
        points, labeled = joints[:, :2], joints[:, 2] > 0
        center, size = self._person_box(record["box"], points, labeled, rng)
        scale = np.clip(rng.standard_normal() * self.scale_factor + 1, 1 - self.scale_factor, 1 + self.scale_factor)
        matrix = affine_matrix(center, size * scale, self._rotation(rng), self.output_size)
        if rng.random() < self.flip_prob:
            matrix = _mirrored(matrix, float(center[0]))
            order = flip_permutation()
            points, labeled = points[order], labeled[order]
        heatmap_joints = apply_affine(points, matrix) / self.heatmap_stride
        heatmaps, weight = heatmap_targets(heatmap_joints, labeled, self.heatmap_size, self.sigma, self.subpixel_targets)
        return self._normalize(crop(image, matrix, self.output_size)), heatmaps, weight

    def _rotation(self, rng: np.random.Generator) -> float:
        if rng.random() >= self.rotation_prob:
            return 0.0
        limit = 2 * self.rotation_factor
        return float(np.clip(rng.standard_normal() * self.rotation_factor, -limit, limit))

    def _person_box(
        self, box: Sequence[float], points: np.ndarray, labeled: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """The padded box's centre and size: the annotated box or, sometimes, a half-body box."""
        aspect_ratio = self.input_size[1] / self.input_size[0]
        if self.half_body_prob > 0 and labeled.sum() >= HALF_BODY_MIN_JOINTS and rng.random() < self.half_body_prob:
            half = _half_body_box(points, labeled, rng)
            if half is not None:
                return box_to_center_size(half, aspect_ratio, HALF_BODY_PADDING)
        return box_to_center_size(box, aspect_ratio, self.padding)


def _half_body_box(points: np.ndarray, labeled: np.ndarray, rng: np.random.Generator) -> tuple[float, ...] | None:
    """The box (x, y, w, h) of the labeled upper- or lower-body joints, or None when they all share one point.

    A coin picks the part; the other one is used when the pick has fewer than 3 labeled joints.
    """
    upper = np.zeros(len(labeled), dtype=bool)
    upper[UPPER_BODY] = True
    first, second = (labeled & upper, labeled & ~upper) if rng.random() < 0.5 else (labeled & ~upper, labeled & upper)
    chosen = points[first if first.sum() > 2 else second]
    low, high = chosen.min(axis=0), chosen.max(axis=0)
    return (*low, *(high - low)) if (high > low).any() else None


@dataclass(frozen=True)
class TopDownEvalTransform:
    """Centred crop of a person box -> (input float32 (3, H, W), meta float64 [cx, cy, w, h, score, image_id, replaces]).

    ``input_size`` is (height, width); ``w, h`` is the padded crop size in
    pixels (see :func:`meta_center_size`); ``replaces`` is the id of the
    unreadable image this sample stands in for (the record's ``"replaces"``), else -1.
    """

    input_size: tuple[int, int] = (256, 192)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    padding: float = 1.25
    _normalize: Normalize = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_size", as_size(self.input_size))
        if self.padding <= 0:
            raise ValueError(f"padding must be positive, got {self.padding}.")
        object.__setattr__(self, "_normalize", _normalizer(self.mean, self.std))

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the network input."""
        return self.input_size[1], self.input_size[0]

    def __call__(
        self, image: np.ndarray, record: dict, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        center, size = box_to_center_size(record["box"], self.input_size[1] / self.input_size[0], self.padding)
        matrix = affine_matrix(center, size, 0.0, self.output_size)
        meta = np.array([*center, *size, record["score"], record["image_id"], record.get("replaces", -1)], dtype=np.float64)
        return self._normalize(crop(image, matrix, self.output_size)), meta
