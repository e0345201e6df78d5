"""Image decoding through OpenCV, with errors that name the file."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import CvcoreError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class ImageReadError(CvcoreError):
    """An image file is missing, unreadable or not an image."""


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` to an RGB ``uint8`` array of shape (H, W, 3)."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"Image file {path} does not exist.")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageReadError(f"{path} could not be decoded as an image (corrupt, truncated or not an image; {data.size} bytes).")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Encode an RGB ``uint8`` array to ``path`` (format from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(path.suffix or ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ImageReadError(f"Could not encode an image of shape {image.shape} as {path.suffix!r} for {path}.")
    encoded.tofile(str(path))
