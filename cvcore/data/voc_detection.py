"""Pascal VOC annotations as detection samples ``(image, target)``, with the COCO ground truth that evaluation reads.

Layout (one year's folder, such as ``VOCdevkit/VOC2007``): ``root/ImageSets/Main/<split>.txt``
lists the image ids, ``root/Annotations/<id>.xml`` describes each image and
``root/JPEGImages/<id>.jpg`` holds it (whatever the XML's ``<filename>`` says, as in VOC's devkit). VOC boxes are 1-based and inclusive
(``xmin=1, xmax=10`` covers the first ten pixels), so a box here is
``[xmin - 1, ymin - 1, xmax, ymax]`` in continuous pixel coordinates.
Objects marked ``difficult`` are the dataset's ``crowd`` regions: left out of
training targets, and neither hits nor misses in evaluation, as in VOC's devkit.
"""
from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from mxnet.gluon.data import Dataset

from ..errors import ConfigError
from .class_names import resolve as resolve_class_names
from .coco import SkippedAnnotationsWarning, first_ids, quiet_coco
from .image import ImageReadError, read_image

__all__ = ["VOCDetection", "VOCFormatError", "VOCObject", "VOCRecord", "read_annotation"]

SKIP_REASONS = {
    "class": "a name not among the classes",
    "small": "a box under min_box_size pixels wide or high once clipped to the image",
}


class VOCFormatError(ConfigError):
    """A VOC annotation file or image list is missing or malformed."""


@dataclass(frozen=True)
class VOCObject:
    """One ``<object>``: its class name, box ``x1, y1, x2, y2`` (continuous pixels, unclipped) and flags."""

    name: str
    box: tuple[float, float, float, float]
    difficult: bool
    truncated: bool


@dataclass(frozen=True)
class VOCRecord:
    """One annotation file: the image's file name and size, and its objects in file order."""

    filename: str
    width: int
    height: int
    objects: tuple[VOCObject, ...]


def read_annotation(path: str | os.PathLike) -> VOCRecord:
    """Parse a VOC ``<annotation>`` XML file; a missing, truncated or malformed one is a :class:`VOCFormatError` naming it."""
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except FileNotFoundError:
        raise VOCFormatError(f"The VOC annotation file {path} does not exist.") from None
    except ElementTree.ParseError as error:
        raise VOCFormatError(f"{path} is not well-formed XML ({error}); is the file truncated?") from None
    if root.tag != "annotation":
        raise VOCFormatError(f"{path}: the root element is <{root.tag}>, not VOC's <annotation>.")
    width, height = (_integer(root, f"size/{name}", path) for name in ("width", "height"))
    if width <= 0 or height <= 0:
        raise VOCFormatError(f"{path}: <size> gives {width}x{height} pixels; width and height must be positive.")
    objects = []
    for index, element in enumerate(root.findall("object")):
        where = f"{path}: object {index}"
        name = (element.findtext("name") or "").strip()
        if not name:
            raise VOCFormatError(f"{where} has no <name>.")
        box = tuple(_number(element, f"bndbox/{corner}", where) for corner in ("xmin", "ymin", "xmax", "ymax"))
        x1, y1, x2, y2 = box[0] - 1, box[1] - 1, box[2], box[3]
        if x2 <= x1 or y2 <= y1:
            raise VOCFormatError(f"{where} ({name}): <bndbox> xmin={box[0]:g} ymin={box[1]:g} xmax={box[2]:g} ymax={box[3]:g} "
                                 "has no area (VOC boxes are 1-based and inclusive: xmax >= xmin).")
        objects.append(VOCObject(name, (x1, y1, x2, y2), _flag(element, "difficult", where), _flag(element, "truncated", where)))
    filename = (root.findtext("filename") or "").strip() or f"{path.stem}.jpg"
    return VOCRecord(filename, width, height, tuple(objects))


def _text(element: ElementTree.Element, tag: str, where: Any) -> str:
    text = element.findtext(tag)
    if text is None or not text.strip():
        raise VOCFormatError(f"{where} has no <{tag.replace('/', '><')}>.")
    return text.strip()


def _number(element: ElementTree.Element, tag: str, where: Any) -> float:
    text = _text(element, tag, where)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise VOCFormatError(f"{where}: <{tag.replace('/', '><')}> is {text!r}, not a number.")
    return value


def _integer(element: ElementTree.Element, tag: str, where: Any) -> int:
    value = _number(element, tag, where)
    if not value.is_integer():
        raise VOCFormatError(f"{where}: <{tag.replace('/', '><')}> is {value:g}, not a whole number of pixels.")
    return int(value)


def _flag(element: ElementTree.Element, tag: str, where: str) -> bool:
    """A 0/1 flag (absent: 0)."""
    text = (element.findtext(tag) or "0").strip()
    if text not in ("0", "1"):
        raise VOCFormatError(f"{where}: <{tag}> is {text!r}; VOC's flags are 0 or 1.")
    return text == "1"


class VOCDetection(Dataset):
    """Samples ``(image RGB uint8 HxWx3, target)`` of one split of a VOC folder, one per listed image.

    ``target`` is that of :class:`~cvcore.data.coco_detection.COCODetection`:
    ``boxes`` float32 (N, 4) x1, y1, x2, y2 clipped to the image, ``labels``
    int32 (N,) positions in ``classes``, ``crowd`` bool (N,) (VOC's difficult
    flag), ``image_id`` (the position in the split's list, from 1), ``size``;
    :attr:`names` gives each image id's VOC id. ``classes`` is a list of names
    or a shipped list (default ``"voc20"``, VOC's own). Objects of another class
    or under ``min_box_size`` pixels once clipped are left out, reported by one
    :class:`~cvcore.data.coco.SkippedAnnotationsWarning` and listed in
    :attr:`skipped` (reason -> ``"<voc id>#<object index>"``). Images with no
    object left are dropped when ``skip_empty`` (default: for "train*" splits
    only). :attr:`coco` is the ground truth for the detection metrics (category
    ids 1..C; difficult objects are ``iscrowd``), holding exactly what the
    dataset serves.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", *, classes: Sequence[str] | str = "voc20",
                 skip_empty: bool | None = None, min_box_size: float = 1.0):
        if isinstance(min_box_size, bool) or not isinstance(min_box_size, (int, float)) or not min_box_size >= 0:
            raise ConfigError(f"min_box_size must be a number >= 0 (pixels), got {min_box_size!r}.")
        self.root, self.split = Path(root), split
        self.classes: list[str] = resolve_class_names(classes) or []
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise ConfigError(f"classes must name each class once, got {classes!r}.")
        self.category_ids = list(range(1, len(self.classes) + 1))
        self.skip_empty = split.startswith("train") if skip_empty is None else bool(skip_empty)
        self.skipped: dict[str, list[str]] = defaultdict(list)
        self._unknown: set[str] = set()
        listed = self._image_list()
        records = {voc_id: read_annotation(self.root / "Annotations" / f"{voc_id}.xml") for voc_id in listed}
        kept = {voc_id: self._kept_objects(voc_id, record, float(min_box_size)) for voc_id, record in records.items()}
        self.empty_images = [voc_id for voc_id in listed if not kept[voc_id]]
        self.names: dict[int, str] = {index + 1: voc_id for index, voc_id in enumerate(listed)
                                      if kept[voc_id] or not self.skip_empty}
        self.image_ids: list[int] = list(self.names)
        self._records = {image_id: records[voc_id] for image_id, voc_id in self.names.items()}
        self._targets = {image_id: kept[voc_id] for image_id, voc_id in self.names.items()}
        self.coco = quiet_coco(self._ground_truth())
        self._warn_skipped()
        if not self.image_ids:
            raise ConfigError(f"{self._list_file} gives no images: {self.summary()}")

    @property
    def _list_file(self) -> Path:
        return self.root / "ImageSets" / "Main" / f"{self.split}.txt"

    def _image_list(self) -> list[str]:
        if not self._list_file.is_file():
            found = sorted(p.stem for p in (self.root / "ImageSets" / "Main").glob("*.txt") if "_" not in p.stem)
            raise VOCFormatError(f"The VOC image list {self._list_file} does not exist (splits there: {', '.join(found) or 'none'}); "
                                 "root is one year's folder holding Annotations/, JPEGImages/ and ImageSets/Main/.")
        listed = [line.split()[0] for line in self._list_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        repeated = sorted(voc_id for voc_id, count in Counter(listed).items() if count > 1)
        if repeated:
            raise VOCFormatError(f"{self._list_file} lists {first_ids(repeated)} more than once.")
        return listed

    def _kept_objects(self, voc_id: str, record: VOCRecord, min_box_size: float) -> list[tuple[np.ndarray, int, bool]]:
        """The usable objects as (box clipped to the image, label, difficult)."""
        kept = []
        for index, obj in enumerate(record.objects):
            box = np.clip(np.array(obj.box, np.float32), 0, [record.width, record.height, record.width, record.height])
            if obj.name not in self.classes:
                reason = "class"
                self._unknown.add(obj.name)
            elif min(box[2] - box[0], box[3] - box[1]) < max(min_box_size, 1e-6):
                reason = "small"
            else:
                kept.append((box, self.classes.index(obj.name), obj.difficult))
                continue
            self.skipped[reason].append(f"{voc_id}#{index}")
        return kept

    def _ground_truth(self) -> dict[str, Any]:
        images, annotations = [], []
        for image_id, record in self._records.items():
            images.append({"id": image_id, "file_name": f"{self.names[image_id]}.jpg", "width": record.width, "height": record.height})
            for box, label, difficult in self._targets[image_id]:
                x1, y1, x2, y2 = (float(v) for v in box)
                annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": label + 1,
                                    "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": int(difficult)})
        categories = [{"id": category_id, "name": name} for category_id, name in zip(self.category_ids, self.classes)]
        return {"images": images, "annotations": annotations, "categories": categories}

    def _reasons(self) -> list[str]:
        parts = []
        for reason, description in SKIP_REASONS.items():
            where = self.skipped.get(reason)
            if where:
                extra = f"; names {first_ids(sorted(self._unknown))}" if reason == "class" else ""
                parts.append(f"{len(where)} with {description} (objects {first_ids(where)}{extra})")
        return parts

    def _warn_skipped(self) -> None:
        parts = self._reasons()
        if parts:
            total = sum(len(where) for where in self.skipped.values())
            hint = "" if "class" not in self.skipped else " Pass classes = [...] (the data table's classes) to keep them."
            warnings.warn(f"{self.root / 'Annotations'} ({self.split}): skipped {total} object(s): {'; '.join(parts)}.{hint}",
                          SkippedAnnotationsWarning, stacklevel=3)

    def summary(self) -> str:
        """One line for people: images, objects (difficult among them), classes, and what was left out."""
        objects = sum(len(kept) for kept in self._targets.values())
        difficult = sum(difficult for kept in self._targets.values() for *_, difficult in kept)
        empty = "dropped" if self.skip_empty else "kept"
        text = (f"{len(self.image_ids)} images, {objects} objects ({difficult} difficult), {len(self.classes)} classes; "
                f"{len(self.empty_images)} images without objects {empty}")
        return "; ".join([text, *(f"skipped {part}" for part in self._reasons())]) + "."

    # -- samples ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        image_id = self.image_ids[index]
        record = self._records[image_id]
        path = self.root / "JPEGImages" / f"{self.names[image_id]}.jpg"
        try:
            image = read_image(path)
        except ImageReadError as error:
            raise ImageReadError(f"{error} (VOC id {self.names[image_id]} of {self._list_file})") from None
        if image.shape[:2] != (record.height, record.width):
            raise VOCFormatError(f"{self.root / 'Annotations' / (self.names[image_id] + '.xml')} gives {record.width}x{record.height} "
                                 f"pixels but {path} is {image.shape[1]}x{image.shape[0]}; the boxes would be cut at the wrong size.")
        kept = self._targets[image_id]
        target = {"boxes": np.array([box for box, _, _ in kept], np.float32).reshape(-1, 4),
                  "labels": np.array([label for _, label, _ in kept], np.int32),
                  "crowd": np.array([difficult for *_, difficult in kept], bool), "image_id": image_id, "size": image.shape[:2]}
        return image, target

    def __repr__(self) -> str:
        return f"VOCDetection({str(self.root)!r}, {self.split!r}, {len(self)} images, {len(self.classes)} classes)"
