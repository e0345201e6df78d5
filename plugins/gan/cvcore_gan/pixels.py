"""Images to the GAN networks' inputs and back: RGB ``uint8`` HxWx3 <-> CHW ``float32`` in [-1, 1]."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def to_network(image: np.ndarray) -> np.ndarray:
    """RGB ``uint8`` (H, W, 3) -> ``float32`` (3, H, W) in [-1, 1]."""
    return (image.transpose(2, 0, 1).astype(np.float32) / 127.5) - 1.0


def from_network(array: Any) -> np.ndarray:
    """(3, H, W) or (N, 3, H, W) in [-1, 1] (NumPy or NDArray) -> RGB ``uint8`` (H, W, 3) or (N, H, W, 3), rounded as a saved image is."""
    values = array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)
    pixels = np.clip(np.rint((values + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.moveaxis(pixels, -3, -1)


def downscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic downscaling by ``scale`` (the image's sides must be multiples of it): the customary SR degradation."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width // scale, height // scale), interpolation=cv2.INTER_CUBIC)


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic upscaling by ``scale``: the baseline a super-resolution model must beat."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width * scale, height * scale), interpolation=cv2.INTER_CUBIC)
