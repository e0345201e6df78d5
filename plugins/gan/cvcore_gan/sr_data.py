"""Super-resolution data: a folder of high-resolution images per split; low-resolution inputs made by bicubic downscaling."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from mxnet.gluon.data import Dataset

from cvcore.data.image import IMAGE_SUFFIXES, read_image
from cvcore.errors import ConfigError

from .pixels import downscale, to_network


def image_files(folder: Path, what: str) -> list[Path]:
    """The images in ``folder``, sorted; a missing or empty folder is a :class:`ConfigError` saying what was expected."""
    if not folder.is_dir():
        raise ConfigError(f"{what}: {folder} is not a folder. {_SYNTH_HINT}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ConfigError(f"{what}: {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}). {_SYNTH_HINT}")
    return files


_SYNTH_HINT = "A synthetic set in the expected layout: cvcore data synth sr DIR (or unpaired DIR)."


class HRImageFolder(Dataset):
    """``root/<split>/*.png|jpg|...``: samples ``(image,)``, each an RGB ``uint8`` HxWx3 high-resolution image."""

    def __init__(self, root: str | os.PathLike, split: str = "train") -> None:
        self.root, self.split = Path(root), split
        self.files = image_files(self.root / split, f"super-resolution split {split!r}")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[np.ndarray]:
        return (read_image(self.files[index]),)


class SRSampleTransform:
    """An HR image -> ``(lr, hr)`` network arrays; the LR image is the HR one downscaled bicubically, once, in OpenCV.

    Training takes a random ``crop`` x ``crop`` HR patch (a multiple of
    ``scale``) with a random horizontal flip; evaluation keeps the whole
    image, cut to a multiple of ``scale`` at the bottom and right.
    """

    def __init__(self, scale: int, crop: int, train: bool) -> None:
        if crop % scale:
            raise ConfigError(f"crop = {crop} must be a multiple of scale = {scale} (the LR patch is crop / scale pixels).")
        self.scale, self.crop, self.train = scale, crop, train

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        if self.train:
            if height < self.crop or width < self.crop:
                raise ConfigError(f"An HR image of {width}x{height} is smaller than the training crop {self.crop}: "
                                  "lower crop or remove the image.")
            top, left = int(rng.integers(0, height - self.crop + 1)), int(rng.integers(0, width - self.crop + 1))
            hr = image[top:top + self.crop, left:left + self.crop]
            if rng.random() < 0.5:
                hr = hr[:, ::-1]
        else:
            hr = image[:height - height % self.scale, :width - width % self.scale]
            if hr.size == 0:
                raise ConfigError(f"An HR image of {width}x{height} is smaller than the scale {self.scale}.")
        hr = np.ascontiguousarray(hr)
        return to_network(downscale(hr, self.scale)), to_network(hr)

