"""Image transforms on NumPy arrays through OpenCV: one vectorised pass or one cv2 call per op.

Every transform is a small picklable callable ``transform(image, rng=None)``
mapping an RGB ``uint8`` HxWx3 image to another (colour changes saturate at 0
and 255 inside OpenCV, so clipping costs nothing), except :class:`Normalize`,
which ends a chain with the network's float32 3xHxW input. Random transforms
draw only from ``rng``; without one they use a fresh
``numpy.random.default_rng()`` (never a shared generator, which forked loader
workers would all copy).

Resizing is bilinear (``cv2.INTER_LINEAR``), the interpolation GluonCV used
when it trained and evaluated the weights cvcore loads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import cv2
import numpy as np

IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
# AlexNet's PCA of ImageNet RGB pixels (0-255 scale): eigenvalues and eigenvectors as columns.
IMAGENET_EIGVAL = (55.46, 4.794, 1.148)
IMAGENET_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)
# ITU-R 601 luma weights, the grey that saturation and contrast blend towards.
LUMA = np.array([0.299, 0.587, 0.114])
_TO_GREY = np.outer(np.ones(3), LUMA)  # rgb -> (grey, grey, grey)

Size = int | tuple[int, int]


class Transform(Protocol):
    """What every step of a :class:`Compose` is."""

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray: ...


def as_size(size: Size | Sequence[int]) -> tuple[int, int]:
    """``224`` or ``(height, width)`` -> ``(height, width)``, checked positive."""
    height, width = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    if height <= 0 or width <= 0:
        raise ValueError(f"An image size must be positive, got {size!r}.")
    return height, width


def _generator(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def _check_range(name: str, low: float, high: float, minimum: float = 0.0) -> None:
    if not minimum <= low <= high:
        raise ValueError(f"{name} must be a range (low, high) with {minimum} <= low <= high, got ({low}, {high}).")


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize to ``height`` x ``width`` (no copy when the size already matches)."""
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


# -- geometry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RandomResizedCrop:
    """Crop a random box of ``scale`` x the image's area and aspect ratio (w/h) in ``ratio``; resize it to ``size``.

    As in ImageNet training: ten box proposals are drawn at once and the first
    that fits is used; when none fits, the largest centred box whose aspect
    ratio lies in ``ratio`` is taken.
    """

    size: tuple[int, int]
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    attempts: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", as_size(self.size))
        _check_range("RandomResizedCrop scale", *self.scale)
        _check_range("RandomResizedCrop ratio", *self.ratio, minimum=1e-6)
        if self.scale[1] > 1 or self.scale[1] <= 0:
            raise ValueError(f"RandomResizedCrop scale must lie in (0, 1], got {self.scale}.")

    def box(self, height: int, width: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        """``(top, left, box_height, box_width)`` of a random crop of a ``height`` x ``width`` image."""
        areas = height * width * rng.uniform(*self.scale, size=self.attempts)
        aspects = np.exp(rng.uniform(*np.log(self.ratio), size=self.attempts))
        widths = np.rint(np.sqrt(areas * aspects)).astype(np.int64)
        heights = np.rint(np.sqrt(areas / aspects)).astype(np.int64)
        fits = np.flatnonzero((widths > 0) & (heights > 0) & (widths <= width) & (heights <= height))
        if fits.size:
            box_h, box_w = int(heights[fits[0]]), int(widths[fits[0]])
        else:
            aspect = min(max(width / height, self.ratio[0]), self.ratio[1])
            box_w, box_h = min(width, round(height * aspect)), min(height, round(width / aspect))
            return (height - box_h) // 2, (width - box_w) // 2, box_h, box_w
        top = int(rng.integers(0, height - box_h + 1))
        left = int(rng.integers(0, width - box_w + 1))
        return top, left, box_h, box_w

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        top, left, box_h, box_w = self.box(*image.shape[:2], _generator(rng))
        return resize(image[top : top + box_h, left : left + box_w], *self.size)


@dataclass(frozen=True)
class HorizontalFlip:
    """Mirror left-right with probability ``p``."""

    p: float = 0.5

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return cv2.flip(image, 1) if _generator(rng).random() < self.p else image


@dataclass(frozen=True)
class ResizeCenterCrop:
    """Evaluation crop: resize so the image covers ``size / crop_fraction``, then take the centre ``size``.

    For a square ``size`` this is "resize the shorter side to
    ceil(size / crop_fraction), centre-crop size" (256 -> 224 at 0.875),
    GluonCV's ImageNet evaluation.
    """

    size: tuple[int, int]
    crop_fraction: float = 0.875

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", as_size(self.size))
        if not 0 < self.crop_fraction <= 1:
            raise ValueError(f"crop_fraction must lie in (0, 1], got {self.crop_fraction}.")

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        out_h, out_w = self.size
        height, width = image.shape[:2]
        scale = max(math.ceil(out_h / self.crop_fraction) / height, math.ceil(out_w / self.crop_fraction) / width)
        new_h, new_w = max(out_h, round(height * scale)), max(out_w, round(width * scale))
        resized = resize(image, new_h, new_w)
        top, left = (new_h - out_h) // 2, (new_w - out_w) // 2
        return resized[top : top + out_h, left : left + out_w]


# -- colour --------------------------------------------------------------------------------
def jitter_matrix(mean_rgb: np.ndarray, factors: Sequence[float], order: Sequence[int]) -> np.ndarray:
    """The 3x4 affine colour map ``[A | t]`` of brightness, contrast and saturation changes.

    ``factors`` are (brightness, contrast, saturation), applied in ``order``
    (indices into ``factors``) to an image whose mean colour is ``mean_rgb``:
    brightness scales the pixels, contrast blends them with the image's mean
    grey, saturation blends each with its own grey (1 leaves the image alone).
    """
    matrix, offset = np.eye(3), np.zeros(3)
    for op in order:
        factor = factors[op]
        if op == 0:
            matrix, offset = factor * matrix, factor * offset
        elif op == 1:
            matrix, offset = _contrast(matrix, offset, factor, mean_rgb)
        else:
            matrix, offset = _then(_saturation(factor), matrix, offset)
    return np.hstack([matrix, offset[:, None]])


def _contrast(matrix: np.ndarray, offset: np.ndarray, factor: float, mean_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map ``(matrix, offset)`` followed by a blend with the mean grey of its output, for an input mean ``mean_rgb``."""
    mean_grey = LUMA @ (matrix @ mean_rgb + offset)
    return factor * matrix, factor * offset + (1 - factor) * mean_grey


def _saturation(factor: float) -> np.ndarray:
    """The 3x3 map blending each colour with its own grey (1 leaves it alone)."""
    return factor * np.eye(3) + (1 - factor) * _TO_GREY


def _then(change: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map ``(matrix, offset)`` followed by the linear ``change``."""
    return change @ matrix, change @ offset


@dataclass(frozen=True)
class ColorJitter:
    """Random brightness, contrast and saturation, in random order, as one colour matrix (:func:`jitter_matrix`).

    Each factor is uniform in ``[max(0, 1 - s), 1 + s]`` for strength ``s``.
    The three changes are linear, so they compose exactly into one matrix that
    one ``cv2.transform`` applies, rounding and saturating to uint8 once at the
    end.
    """

    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "saturation"):
            if getattr(self, name) < 0:
                raise ValueError(f"ColorJitter {name} must be >= 0, got {getattr(self, name)}.")

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = _generator(rng)
        strengths = np.array([self.brightness, self.contrast, self.saturation])
        factors = rng.uniform(np.maximum(0.0, 1 - strengths), 1 + strengths)
        matrix = jitter_matrix(np.array(cv2.mean(image)[:3]), factors, rng.permutation(3))
        return cv2.transform(image, matrix.astype(np.float32))


@dataclass(frozen=True)
class Lighting:
    """AlexNet-style PCA lighting noise: add ``eigvec @ (alpha * eigval)``, ``alpha ~ N(0, alpha_std)``, to every pixel."""

    alpha_std: float = 0.1
    eigval: tuple[float, ...] = IMAGENET_EIGVAL
    eigvec: tuple[tuple[float, ...], ...] = IMAGENET_EIGVEC

    def shift(self, rng: np.random.Generator) -> np.ndarray:
        """The RGB offset added to every pixel of one image."""
        alpha = rng.normal(0.0, self.alpha_std, size=3)
        return np.asarray(self.eigvec) @ (alpha * np.asarray(self.eigval))

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return cv2.add(image, (*self.shift(_generator(rng)), 0.0))  # saturating, rounded


_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def hue_matrix(degrees: float) -> np.ndarray:
    """The 3x3 RGB map turning every colour's hue by ``degrees`` (a rotation of the YIQ chroma plane; grey stays grey)."""
    turn = np.deg2rad(degrees)
    rotation = np.array([[1, 0, 0], [0, np.cos(turn), -np.sin(turn)], [0, np.sin(turn), np.cos(turn)]])
    return np.linalg.inv(_TO_YIQ) @ rotation @ _TO_YIQ


@dataclass(frozen=True)
class PhotometricDistort:
    """SSD's colour distortion, composed into one affine colour map that one ``cv2.transform`` applies.

    Each change happens with probability 1/2: a brightness offset uniform in
    +-``brightness_delta`` grey levels; then contrast (about the image's mean
    grey), saturation and hue, with contrast first or last at random. Contrast
    and saturation factors are uniform in [``low``, ``high``], the hue turn in
    +-``hue_delta`` degrees (:func:`hue_matrix`).
    """

    brightness_delta: float = 32.0
    low: float = 0.5
    high: float = 1.5
    hue_delta: float = 18.0

    def __post_init__(self) -> None:
        _check_range("PhotometricDistort low/high", self.low, self.high)
        if self.brightness_delta < 0 or self.hue_delta < 0:
            raise ValueError(f"PhotometricDistort deltas must be >= 0, got brightness_delta={self.brightness_delta}, "
                             f"hue_delta={self.hue_delta}.")

    def matrix(self, mean_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The 3x4 map ``[A | t]`` of one draw, for an image whose mean colour is ``mean_rgb``."""
        matrix, offset = np.eye(3), np.zeros(3)
        if rng.random() < 0.5:
            offset = offset + rng.uniform(-self.brightness_delta, self.brightness_delta)
        contrast_first = rng.random() < 0.5
        for step in ("contrast", "saturation", "hue") if contrast_first else ("saturation", "hue", "contrast"):
            if rng.random() >= 0.5:
                continue
            if step == "contrast":
                matrix, offset = _contrast(matrix, offset, rng.uniform(self.low, self.high), mean_rgb)
            elif step == "saturation":
                matrix, offset = _then(_saturation(rng.uniform(self.low, self.high)), matrix, offset)
            else:
                matrix, offset = _then(hue_matrix(rng.uniform(-self.hue_delta, self.hue_delta)), matrix, offset)
        return np.hstack([matrix, offset[:, None]])

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        matrix = self.matrix(np.array(cv2.mean(image)[:3]), _generator(rng))
        return cv2.transform(image, matrix.astype(np.float32))


@dataclass(frozen=True)
class Normalize:
    """``(image - mean) / std`` per channel, HxWx3 -> float32 3xHxW (the network's layout)."""

    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        out = np.empty((3, *image.shape[:2]), dtype=np.float32)
        for channel, plane in enumerate(cv2.split(image)):  # contiguous planes: 3 fast passes, not a strided one
            np.subtract(plane, self.mean[channel], out=out[channel], dtype=np.float32)
            out[channel] *= 1 / self.std[channel]
        return out


# -- chains ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order, all drawing from one generator (a fresh one when ``rng`` is None)."""

    transforms: tuple[Transform, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", tuple(self.transforms))

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = _generator(rng)
        for transform in self.transforms:
            image = transform(image, rng)
        return image


def classification_train_transform(
    size: Size,
    *,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    flip: float = 0.5,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
    lighting: float = 0.1,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> Compose:
    """ImageNet-style training: random resized crop, flip, colour jitter, PCA lighting, normalize.

    A strength of 0 (``flip``, the jitter factors, ``lighting``) leaves that step out.
    """
    steps: list[Transform] = [RandomResizedCrop(as_size(size), tuple(scale), tuple(ratio))]
    if flip > 0:
        steps.append(HorizontalFlip(flip))
    if brightness or contrast or saturation:
        steps.append(ColorJitter(brightness, contrast, saturation))
    if lighting > 0:
        steps.append(Lighting(lighting))
    steps.append(Normalize(tuple(mean), tuple(std)))
    return Compose(tuple(steps))


def classification_eval_transform(
    size: Size,
    *,
    crop_fraction: float = 0.875,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> Compose:
    """ImageNet-style evaluation: resize to ``size / crop_fraction``, centre crop ``size``, normalize."""
    return Compose((ResizeCenterCrop(as_size(size), crop_fraction), Normalize(tuple(mean), tuple(std))))
