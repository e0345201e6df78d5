"""Pictures in and out of the GAN tasks' predict: grey, RGB or RGBA, read from a path or given as an array."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cvcore.data.image import as_rgb_image, read_image, write_image

from .pixels import upscale


@dataclass
class Picture:
    """An image as the generator sees it (``rgb``) and what to give back around it: grey, or an alpha channel."""

    rgb: np.ndarray
    grey: bool = False
    alpha: np.ndarray | None = None


@dataclass
class Result:
    pixels: np.ndarray
    """``uint8``: H x W for a grey input, H x W x 3, or H x W x 4 with the upscaled alpha."""

    def save(self, path: Path) -> None:
        if self.pixels.ndim == 3 and self.pixels.shape[2] == 4:  # write_image takes RGB or grey; OpenCV writes BGRA
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), cv2.cvtColor(self.pixels, cv2.COLOR_RGBA2BGRA))
        else:
            write_image(path, self.pixels)


def read_picture(image: Any, channel_order: str = "rgb", name: str = "the image") -> Picture:
    """A path (read with its alpha and greyness kept) or an array (H x W, or H x W x 1/3/4) as a :class:`Picture`."""
    if not isinstance(image, np.ndarray):
        decoded = cv2.imdecode(np.fromfile(str(image), dtype=np.uint8), cv2.IMREAD_UNCHANGED) if Path(str(image)).is_file() else None
        if decoded is None:
            read_image(image)  # raises the error that says what is wrong with the file
        if decoded.dtype == np.uint16:
            decoded = (decoded >> 8).astype(np.uint8)
        channel_order = "bgr"  # OpenCV's
        image = decoded
    array = np.asarray(image)
    grey = array.ndim == 2 or array.shape[2] == 1
    alpha = None
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = as_rgb_image(array[:, :, 3], name=f"{name}'s alpha")[:, :, 0]
    return Picture(as_rgb_image(array, channel_order, name), grey, alpha)


def finish(picture: Picture, rgb: np.ndarray) -> Result:
    """The network's RGB result given back in the picture's own form: grey again, or with its alpha resized to fit."""
    if picture.grey:
        return Result(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if picture.alpha is not None:
        factor = rgb.shape[0] // picture.alpha.shape[0]
        alpha = upscale(picture.alpha, factor) if factor > 1 else picture.alpha
        return Result(np.dstack([rgb, alpha]))
    return Result(rgb)
