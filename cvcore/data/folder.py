"""Image-folder classification datasets: ``root/<split>/<class>/<image>``."""
from __future__ import annotations

import os
from pathlib import Path

from mxnet.gluon.data import Dataset

from ..errors import ConfigError
from .image import IMAGE_SUFFIXES, read_image


class ImageFolderDataset(Dataset):
    """Samples ``(image RGB uint8 HxWx3, class index)``; classes are the sorted sub-folder names."""

    def __init__(self, root: str | os.PathLike, split: str | None = "train"):
        self.root = Path(root)
        folder = self.root / split if split else self.root
        if not folder.is_dir():
            raise ConfigError(f"Image folder {folder} does not exist (expected {self.root}/<split>/<class>/<image>).")
        self.classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
        if not self.classes:
            raise ConfigError(f"{folder} has no class sub-folders (expected {folder}/<class>/<image>).")
        self.items = [
            (path, label)
            for label, name in enumerate(self.classes)
            for path in sorted((folder / name).iterdir())
            if path.suffix.lower() in IMAGE_SUFFIXES
        ]
        if not self.items:
            raise ConfigError(f"No images ({', '.join(IMAGE_SUFFIXES)}) under {folder}.")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        path, label = self.items[index]
        return read_image(path), label
