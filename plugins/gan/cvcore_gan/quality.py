"""Super-resolution quality as SR papers report it: PSNR and SSIM on the luma (Y) channel, a border cropped.

Y is ITU-R BT.601 luma in the studio range 16..235 (MATLAB's ``rgb2ycbcr``);
the border cropped is customarily the upscale factor. SSIM is Wang et al.
(2004): an 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, averaged
over the "valid" part of the filtered maps, as the authors' MATLAB code does.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from .pixels import from_network

_LUMA = np.array([65.481, 128.553, 24.966]) / 255.0
_WINDOW, _SIGMA, _K1, _K2 = 11, 1.5, 0.01, 0.03


def to_y(images: np.ndarray) -> np.ndarray:
    """RGB images in 0..255 (... x H x W x 3) -> ``float64`` luma ``16 + (65.481 R + 128.553 G + 24.966 B) / 255`` (... x H x W).

    A grey image (H x W, or ... x H x W x 1) is taken as luma already: it comes
    back as ``float64``, unchanged but for the dropped channel axis.
    """
    images = np.asarray(images, np.float64)
    if images.ndim == 2:
        return images
    if images.shape[-1] == 1:
        return images[..., 0]
    if images.shape[-1] != 3:
        raise ValueError(f"to_y takes H x W grey or ... x H x W x 1 or x 3 images, got shape {images.shape}")
    return 16.0 + images @ _LUMA


def psnr(a: np.ndarray, b: np.ndarray, *, border: int, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio (dB) of two same-shape H x W (x C) images inside ``border`` pixels; ``inf`` when equal."""
    a, b = _cropped(a, b, border)
    mse = float(np.mean(np.square(a - b)))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, *, border: int, data_range: float = 255.0) -> float:
    """Mean SSIM of two same-shape H x W (x C: the mean over channels too) images inside ``border`` pixels.

    The local means, variances and covariance are Gaussian-weighted; the map is
    kept only where the whole window lies inside the cropped image.
    """
    a, b = _cropped(a, b, border)
    if min(a.shape[:2]) < _WINDOW:
        raise ValueError(f"SSIM needs at least {_WINDOW} x {_WINDOW} pixels after the border crop, got {a.shape[1]} x {a.shape[0]}")
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    margin = _WINDOW // 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (_WINDOW, _WINDOW), _SIGMA)[margin:-margin, margin:-margin]

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    covariance = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * covariance + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def _cropped(a: np.ndarray, b: np.ndarray, border: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images of different shapes: {a.shape} and {b.shape}")
    height, width = a.shape[:2]
    if border < 0 or 2 * border >= min(height, width):
        raise ValueError(f"a border of {border} pixels leaves nothing of a {width} x {height} image")
    window = (slice(border, height - border), slice(border, width - border))
    return a[window], b[window]


class SuperResolutionQuality:
    """``{"psnr": mean dB, "ssim": mean}`` over every image seen, each scored on its own (sizes may differ between updates).

    ``update(targets, outputs)`` takes NCHW RGB network arrays in [-1, 1]
    (NumPy or NDArray; ``targets`` may be the engine's tuple holding them),
    rounded to 8 bits as saved images are. Scores are on Y (``y_channel``) or
    on RGB, inside ``border`` pixels.
    """

    def __init__(self, *, border: int = 4, y_channel: bool = True) -> None:
        self.border, self.y_channel = int(border), bool(y_channel)
        self.reset()

    def reset(self) -> None:
        self.psnrs: list[float] = []
        self.ssims: list[float] = []

    def update(self, targets: Any, outputs: Any) -> None:
        if isinstance(targets, (tuple, list)):
            targets = targets[0]
        if tuple(targets.shape) != tuple(outputs.shape):
            raise ValueError(f"outputs of shape {tuple(outputs.shape)} against targets of shape {tuple(targets.shape)}")
        truth, made = (from_network(x).reshape(-1, *x.shape[-2:], 3) for x in (targets, outputs))  # N x H x W x 3
        if self.y_channel:
            truth, made = to_y(truth), to_y(made)
        for theirs, ours in zip(truth, made):
            self.psnrs.append(psnr(theirs, ours, border=self.border))
            self.ssims.append(ssim(theirs, ours, border=self.border))

    def get(self) -> dict[str, float]:
        if not self.psnrs:
            return {"psnr": float("nan"), "ssim": float("nan")}
        return {"psnr": float(np.mean(self.psnrs)), "ssim": float(np.mean(self.ssims))}
