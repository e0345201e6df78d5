"""Unpaired translation data: ``root/trainA``, ``root/trainB`` (and ``testA``/``testB``), CycleGAN's layout."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from mxnet.gluon.data import Dataset

from cvcore.data.image import read_image
from cvcore.errors import ConfigError

from .pixels import to_network
from .sr_data import image_files


class UnpairedFolders(Dataset):
    """Samples ``(image_a, image_b)``: ``A[i]`` with ``B[i mod len(B)]``, over ``max(len(A), len(B))`` samples.

    ``split`` ``"train"`` reads ``trainA``/``trainB``; ``"val"`` reads
    ``valA``/``valB``, or ``testA``/``testB`` when there is no val split (as
    in CycleGAN's published sets). The domains are unpaired for training;
    evaluation against the truth assumes ``testA[i]`` and ``testB[i]`` show the
    same scene (the synthetic set's are).
    """

    def __init__(self, root: str | os.PathLike, split: str = "train") -> None:
        self.root = Path(root)
        if split == "val" and not (self.root / "valA").is_dir() and (self.root / "testA").is_dir():
            split = "test"
        self.split = split
        self.a = image_files(self.root / f"{split}A", f"translation split {split!r}, domain A")
        self.b = image_files(self.root / f"{split}B", f"translation split {split!r}, domain B")

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return read_image(self.a[index % len(self.a)]), read_image(self.b[index % len(self.b)])


class TranslationTransform:
    """``(image_a, image_b)`` -> network arrays: training resizes both to ``load`` pixels, takes a random ``crop`` of each
    and flips each at random (independently: the domains are unpaired); evaluation resizes both to ``crop``."""

    def __init__(self, crop: int, load: int, train: bool) -> None:
        if crop % 4 or load < crop:
            raise ConfigError(f"crop = {crop} must be a multiple of 4 and load_size = {load} at least as large.")
        self.crop, self.load, self.train = crop, load, train

    def __call__(self, image_a: np.ndarray, image_b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self._one(image_a, rng), self._one(image_b, rng)

    def _one(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not self.train:
            return to_network(cv2.resize(image, (self.crop, self.crop), interpolation=cv2.INTER_AREA))
        image = cv2.resize(image, (self.load, self.load), interpolation=cv2.INTER_CUBIC)
        top, left = (int(v) for v in rng.integers(0, self.load - self.crop + 1, size=2))
        patch = image[top:top + self.crop, left:left + self.crop]
        return to_network(np.ascontiguousarray(patch[:, ::-1] if rng.random() < 0.5 else patch))
