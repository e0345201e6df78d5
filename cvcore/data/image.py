"""Image decoding and encoding through OpenCV, with errors that name the file and the fix.

Importing this module sets OpenCV to one thread per process: cvcore decodes
and augments one sample per call and gets its parallelism from DataLoader
worker processes (which inherit the setting when they fork), so OpenCV's own
thread pool would only oversubscribe the cores MXNet is computing on.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import CvcoreError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

cv2.setNumThreads(1)


class ImageReadError(CvcoreError):
    """An image file is missing, unreadable or not an image."""


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` to an RGB ``uint8`` array of shape (H, W, 3).

    Grey images are expanded to three channels, alpha is dropped, 16-bit
    images are scaled to 8 bits and EXIF orientation is applied.
    """
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(f"Image file {path} does not exist; check the path (relative to {Path.cwd()}).") from None
    except OSError as error:
        raise ImageReadError(
            f"Image file {path} could not be read ({error.strerror or error}); check that it is a readable file."
        ) from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageReadError(
            f"{path} could not be decoded as an image (corrupt, truncated or not an image; {data.size} bytes). "
            f"Re-encode or delete it."
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: str | os.PathLike, image: np.ndarray, *, quality: int = 95) -> None:
    """Encode an RGB ``uint8`` HxWx3 (or single-channel HxW) array to ``path``.

    The format follows the suffix; ``quality`` applies to JPEG and WebP.
    """
    path = Path(path)
    rgb = image.ndim == 3 and image.shape[2] == 3
    if image.dtype != np.uint8 or not (rgb or image.ndim == 2):
        raise ImageReadError(f"write_image({path}) needs a uint8 HxWx3 (RGB) or HxW array, got {image.dtype} {image.shape}.")
    suffix = path.suffix.lower() or ".png"
    quality_flag = {".jpg": cv2.IMWRITE_JPEG_QUALITY, ".jpeg": cv2.IMWRITE_JPEG_QUALITY, ".webp": cv2.IMWRITE_WEBP_QUALITY}
    params = [quality_flag[suffix], quality] if suffix in quality_flag else []
    try:
        ok, encoded = cv2.imencode(suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if rgb else image, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageReadError(
            f"Could not encode an image of shape {image.shape} as {suffix!r} for {path}; "
            f"use one of {', '.join(IMAGE_SUFFIXES)}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded.tofile(str(path))
