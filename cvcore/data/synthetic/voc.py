"""The synthetic shapes of :mod:`cvcore.data.synthetic.shapes` written as a Pascal VOC folder.

``root/JPEGImages/<id>.jpg``, ``root/Annotations/<id>.xml`` and
``root/ImageSets/Main/{train,val,trainval}.txt``, read back by
:class:`~cvcore.data.voc_detection.VOCDetection` with ``classes = CLASSES``.
A shape with under half of itself in view, or under 12 pixels across, is
``difficult``; one touching the image's edge is ``truncated``. VOC has no
crowd regions, so none are drawn.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...progress import progress_bar
from ..image import write_image
from . import prepare_output
from .shapes import CATEGORIES, SPLITS, scene

CLASSES: tuple[str, ...] = tuple(category["name"] for category in CATEGORIES)
"""The class names in label order: the ``classes`` a reader of this folder passes."""
DIFFICULT_VISIBLE = 0.5
DIFFICULT_SIZE = 12
FOLDERS = ("JPEGImages", "Annotations", "ImageSets")


def synthesize(root: str | os.PathLike, *, train: int = 200, val: int = 50, size: tuple[int, int] = (256, 256), max_objects: int = 6,
               empty_fraction: float = 0.08, seed: int = 0, overwrite: bool = False, progress: bool = True) -> Path:
    """Write a VOC folder of ``train`` and ``val`` images (``size`` is width, height); return ``root``.

    ``empty_fraction`` of the images hold no shape. ``root`` must be empty or
    missing unless ``overwrite``. Each image comes from its own generator seeded
    by ``(seed, split, index)``, so a seed gives the same folder everywhere.
    """
    root = Path(root)
    width, height = (int(s) for s in size)
    if min(width, height) < 64 or train < 1 or val < 0 or max_objects < 1 or not 0 <= empty_fraction <= 1:
        raise ConfigError(f"need size >= 64 x 64, train >= 1, val >= 0, max_objects >= 1 and 0 <= empty_fraction <= 1; got "
                          f"size={tuple(size)}, train={train}, val={val}, max_objects={max_objects}, empty_fraction={empty_fraction}.")
    prepare_output(root, "voc", FOLDERS, overwrite)
    for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    listed: dict[str, list[str]] = {}
    for split_index, (split, count) in enumerate(zip(SPLITS, (train, val))):
        listed[split] = []
        for index in progress_bar(range(count), total=count, desc=f"voc {split}", disable=not progress):
            rng = np.random.default_rng([seed, split_index, index])
            pixels, instances = scene(rng, height, width, max_objects, empty_fraction, crowd_fraction=0.0)
            voc_id = f"{split}_{index:06d}"
            write_image(root / "JPEGImages" / f"{voc_id}.jpg", pixels, quality=int(rng.integers(85, 96)))
            objects = [(category, mask, fraction) for category, mask, _, _, fraction in instances if mask.any()]
            _write_xml(root / "Annotations" / f"{voc_id}.xml", voc_id, width, height, objects)
            listed[split].append(voc_id)
    listed["trainval"] = listed["train"] + listed["val"]
    for split, ids in listed.items():
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{voc_id}\n" for voc_id in ids))
    return root


def _write_xml(path: Path, voc_id: str, width: int, height: int, objects: list[tuple[int, np.ndarray, float]]) -> None:
    annotation = ElementTree.Element("annotation")
    _add(annotation, "folder", "cvcore-synthetic-voc")
    _add(annotation, "filename", f"{voc_id}.jpg")
    size = _add(annotation, "size")
    for name, value in (("width", width), ("height", height), ("depth", 3)):
        _add(size, name, value)
    _add(annotation, "segmented", 0)
    for category, mask, fraction in objects:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        xmin, ymin, xmax, ymax = cols[0] + 1, rows[0] + 1, cols[-1] + 1, rows[-1] + 1  # 1-based, inclusive
        obj = _add(annotation, "object")
        _add(obj, "name", CLASSES[category])
        _add(obj, "pose", "Unspecified")
        _add(obj, "truncated", int(xmin == 1 or ymin == 1 or xmax == width or ymax == height))
        _add(obj, "difficult", int(fraction < DIFFICULT_VISIBLE or min(xmax - xmin, ymax - ymin) + 1 < DIFFICULT_SIZE))
        box = _add(obj, "bndbox")
        for name, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
            _add(box, name, int(value))
    ElementTree.indent(annotation)
    ElementTree.ElementTree(annotation).write(path, encoding="utf-8")


def _add(parent: ElementTree.Element, tag: str, text: object = None) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element
