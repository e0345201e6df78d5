"""Image decoding and encoding through OpenCV, with errors that name the file and the fix.

Importing this module sets OpenCV to one thread per process: cvcore decodes
and augments one sample per call and gets its parallelism from DataLoader
worker processes (which inherit the setting when they fork), so OpenCV's own
thread pool would only oversubscribe the cores MXNet is computing on.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


CHANNEL_ORDERS = ("rgb", "bgr")


def as_rgb_image(array: np.ndarray, channel_order: str = "rgb", name: str = "the image") -> np.ndarray:
    """An image array as :func:`read_image` would give the same picture from a file: RGB ``uint8`` (H, W, 3).

    Takes height x width x channels arrays (``channel_order`` ``"rgb"``, or
    ``"bgr"`` as OpenCV's ``imread`` gives them) with 1, 3 or 4 channels (alpha
    is dropped) or grey (H, W); ``uint8``, ``uint16`` (scaled to 8 bits as
    OpenCV reads a 16-bit file) or floats in [0, 1]. Anything else (channels
    first, empty, NaN, floats on another scale) is an :class:`ImageReadError`
    saying what was wrong and how to pass it.
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ImageReadError(f"channel_order={channel_order!r} is not one of {', '.join(map(repr, CHANNEL_ORDERS))}.")
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
        raise ImageReadError(f"{name} has shape {array.shape}, channels first; cvcore takes height x width x channels: "
                             "pass array.transpose(1, 2, 0).")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageReadError(f"{name} has shape {array.shape}; an image is (H, W) grey or (H, W, C) with 1, 3 or 4 channels.")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ImageReadError(f"{name} has shape {array.shape}: it holds no pixels.")
    array = _to_uint8(array, name)
    if array.ndim == 2 or array.shape[2] == 1:
        return np.repeat(array.reshape(array.shape[0], array.shape[1], 1), 3, axis=2)
    colour = array[:, :, :3]
    return np.ascontiguousarray(colour[:, :, ::-1] if channel_order == "bgr" else colour)


def _to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)  # as OpenCV reads a 16-bit file into 8 bits
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageReadError(f"{name} holds NaN or infinite values.")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ImageReadError(f"{name} is a float array from {low:g} to {high:g}; float images must lie in [0, 1] "
                                 "(for 0..255 values pass array.astype(numpy.uint8)).")
        return np.round(array * 255.0).astype(np.uint8)
    raise ImageReadError(f"{name} has dtype {array.dtype}; pass uint8, uint16 or floats in [0, 1].")


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


def image_pixels(image: Any, channel_order: str = "rgb", index: int = 0) -> np.ndarray:
    """RGB ``uint8`` pixels of a predict input: a path read by :func:`read_image`, an array by :func:`as_rgb_image`."""
    if isinstance(image, np.ndarray):
        return as_rgb_image(image, channel_order, f"image {index}")
    return read_image(image)
