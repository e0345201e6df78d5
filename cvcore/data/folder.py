"""Image-folder classification datasets: ``root/<split>/<class>/<image>``."""
from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np
from mxnet.gluon.data import Dataset

from ..errors import ConfigError
from .image import IMAGE_SUFFIXES, ImageReadError, read_image

BAD_IMAGE_POLICIES = ("raise", "skip")


def skip_bad_image(skipped: dict, path: Any, error: Exception) -> None:
    """Record an unreadable image in ``skipped`` (path -> message) and warn once for it."""
    skipped[path] = str(error)
    warnings.warn(
        f"Skipped unreadable image {path} ({len(skipped)} skipped so far in this process); "
        f"the next readable sample stands in for it. {error}",
        BadImageWarning,
        stacklevel=4,
    )


class BadImageWarning(UserWarning):
    """An unreadable image was skipped (``on_bad_image="skip"``)."""


def _image_files(folder: Path) -> list[Path]:
    """The files in ``folder`` with an image suffix, sorted (``scandir`` avoids a stat per file)."""
    with os.scandir(folder) as entries:
        return sorted(
            Path(e.path) for e in entries if e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES
        )


class ImageFolderDataset(Dataset):
    """Samples ``(image RGB uint8 HxWx3, class index)``; classes are the sorted sub-folder names.

    ``root/<split>/<class>/<image>`` (``split=None``: ``root/<class>/<image>``);
    folders whose name starts with a dot (``.ipynb_checkpoints``) are not
    classes, and files without an image suffix are ignored.

    ``on_bad_image`` decides what an image that cannot be decoded does when it
    is read: ``"raise"`` (the default) raises :class:`ImageReadError` naming the
    file; ``"skip"`` warns once per file (:class:`BadImageWarning`, with a
    running count) and returns the next readable sample in folder order
    instead. Replacing rather than dropping keeps ``len`` and every batch
    intact, needs no coordination between DataLoader worker processes, and
    (since samples are sorted by class) almost always keeps the class. The
    skipped files of this process are in :attr:`skipped`; each worker process
    keeps and reports its own.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str | None = "train",
        *,
        on_bad_image: Literal["raise", "skip"] = "raise",
    ):
        if on_bad_image not in BAD_IMAGE_POLICIES:
            raise ConfigError(
                f"on_bad_image must be one of {', '.join(map(repr, BAD_IMAGE_POLICIES))}, got {on_bad_image!r}."
            )
        self.root = Path(root)
        self.split = split
        self.on_bad_image = on_bad_image
        self.folder = self.root / split if split else self.root
        self.classes = self._find_classes()
        self.items: list[tuple[Path, int]] = [
            (path, label) for label, name in enumerate(self.classes) for path in _image_files(self.folder / name)
        ]
        if not self.items:
            raise ConfigError(
                f"No images ({', '.join(IMAGE_SUFFIXES)}) in the class folders of {self.folder} "
                f"({', '.join(self.classes[:5])}{', ...' if len(self.classes) > 5 else ''})."
            )
        self.skipped: dict[Path, str] = {}

    def _find_classes(self) -> list[str]:
        if not self.root.is_dir():
            raise ConfigError(
                f"Image folder root {self.root} does not exist. Point it at root/<split>/<class>/<image>, "
                f"or write a synthetic one with: cvcore data synth classification {self.root}"
            )
        if not self.folder.is_dir():
            present = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise ConfigError(
                f"{self.root} has no {self.split!r} split folder (it has: {', '.join(present) or 'no folders'}). "
                f"Expected {self.root}/<split>/<class>/<image>; "
                f"use split=None when the class folders are directly in {self.root}."
            )
        classes = sorted(p.name for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            raise ConfigError(f"{self.folder} has no class sub-folders (expected {self.folder}/<class>/<image>).")
        return classes

    # -- samples ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        path, label = self.items[index]
        if path not in self.skipped:
            try:
                return read_image(path), label
            except ImageReadError as error:
                if self.on_bad_image == "raise":
                    raise ImageReadError(
                        f"{error} To skip unreadable images instead, set on_bad_image = \"skip\" in the [data] "
                        f"table (ImageFolderDataset(..., on_bad_image=\"skip\"))."
                    ) from None
                self._skip(path, error)
        return self._replacement(index)

    def _skip(self, path: Path, error: ImageReadError) -> None:
        skip_bad_image(self.skipped, path, error)

    def _replacement(self, index: int) -> tuple[np.ndarray, int]:
        """The first readable sample after ``index`` (wrapping around)."""
        for offset in range(1, len(self.items)):
            path, label = self.items[(index + offset) % len(self.items)]
            if path in self.skipped:
                continue
            try:
                return read_image(path), label
            except ImageReadError as error:
                self._skip(path, error)
        raise ImageReadError(f"None of the {len(self.items)} images under {self.folder} could be decoded.")

    # -- summary ------------------------------------------------------------------
    @property
    def class_counts(self) -> dict[str, int]:
        """Number of image files per class, in class order."""
        counts = Counter(label for _, label in self.items)
        return {name: counts[label] for label, name in enumerate(self.classes)}

    def summary(self) -> str:
        """A few lines for people: the folder, the sample count and the images per class."""
        counts = self.class_counts
        width = max(len(name) for name in counts)
        lines = [f"{self.folder}: {len(self)} images in {len(self.classes)} classes"]
        lines += [f"  {name:<{width}}  {count:>6}" for name, count in counts.items()]
        empty = [name for name, count in counts.items() if not count]
        if empty:
            lines.append(f"  warning: {len(empty)} class folders have no images ({', '.join(empty[:5])})")
        if self.skipped:
            lines.append(f"  skipped as unreadable: {len(self.skipped)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"ImageFolderDataset({str(self.root)!r}, split={self.split!r}, "
            f"{len(self)} images, {len(self.classes)} classes)"
        )
