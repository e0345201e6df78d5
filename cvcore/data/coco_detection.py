"""COCO instances as detection samples ``(image, target)``: boxes, contiguous labels, crowd flags and masks.

Layout (COCO 2017's): ``root/annotations/instances_<split>.json`` and images in
``root/<split>/`` ("train" and "val" fall back to "train2017" and "val2017").
"""
from __future__ import annotations

import os
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from mxnet.gluon.data import Dataset
from pycocotools import mask as mask_utils

from ..errors import ConfigError
from .coco import (
    COCOFormatError,
    SkippedAnnotationsWarning,
    check_image_size,
    clip_box,
    first_ids,
    is_number,
    load_json,
    parse_box,
    quiet_coco,
    resolve_split,
    validate_ground_truth,
)
from .image import ImageReadError, read_image

__all__ = ["COCODetection", "COCOFormatError", "SkippedAnnotationsWarning", "decode_segmentation"]

ANNOTATION_NAME = "instances_{split}.json"
SKIP_REASONS = {
    "category": "a category_id not in 'categories'",
    "bbox": "a 'bbox' that is not 4 finite numbers [x, y, w, h]",
    "small": "a box under min_box_size pixels wide or high once clipped to the image",
    "segmentation": "a 'segmentation' that is neither polygons of 3 or more points nor an RLE of the image's size",
}


def _categories(data: dict, path: Path) -> list[dict]:
    """The checked ``categories`` of an instances file, sorted by id (the label order)."""
    categories = data.get("categories")
    if not isinstance(categories, list) or not categories:
        raise COCOFormatError(f"{path} has no 'categories' (or an empty list); an instances file lists its categories "
                              "as [{\"id\": 1, \"name\": \"person\"}, ...].")
    seen: set[int] = set()
    for index, category in enumerate(categories):
        if not (isinstance(category, dict) and isinstance(category.get("id"), int) and isinstance(category.get("name"), str)):
            raise COCOFormatError(f"{path}: categories[{index}] needs an integer 'id' and a string 'name', got {category!r:.200}.")
        if category["id"] in seen:
            raise COCOFormatError(f"{path}: categories[{index}] repeats the category id {category['id']}.")
        seen.add(category["id"])
    return sorted(categories, key=lambda category: category["id"])


def _valid_segmentation(segmentation: Any, image: dict) -> bool:
    if isinstance(segmentation, list):
        return bool(segmentation) and all(isinstance(polygon, list) and len(polygon) >= 6 and len(polygon) % 2 == 0
                                          and all(is_number(v) for v in polygon) for polygon in segmentation)
    if isinstance(segmentation, dict):
        counts = segmentation.get("counts")
        return segmentation.get("size") == [int(image["height"]), int(image["width"])] and (
            isinstance(counts, str) or (isinstance(counts, list) and all(isinstance(c, int) for c in counts)))
    return False


def decode_segmentation(segmentation: list | dict, height: int, width: int) -> np.ndarray:
    """A COCO segmentation (polygons, compressed or uncompressed RLE) as a uint8 (height, width) 0/1 mask.

    Polygon points outside the image are cut to it by the rasterisation.
    """
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation["counts"], list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle)


class COCODetection(Dataset):
    """Samples ``(image RGB uint8 HxWx3, target)`` from a COCO instances file, one per image.

    ``target``: ``boxes`` float32 (N, 4) x1, y1, x2, y2 in pixels (clipped to
    the image), ``labels`` int32 (N,) in 0..C-1 (categories sorted by id),
    ``crowd`` bool (N,) (iscrowd=1: regions to ignore, not objects), ``image_id``,
    ``size`` (height, width) and, with ``masks``, ``masks`` uint8 (N, H, W).

    Annotations with an unknown category, a malformed box, a box under
    ``min_box_size`` pixels wide or high after clipping or (with ``masks``) a
    malformed segmentation are left out, reported by one
    :class:`SkippedAnnotationsWarning` and listed in :attr:`skipped` (reason ->
    annotation ids). Images with no annotation left are dropped when
    ``skip_empty`` (default: for "train*" splits only) and listed in
    :attr:`empty_images`. :attr:`coco`, the ground truth for COCOeval, holds
    exactly the images and annotations the dataset serves.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        annotation_file: str | os.PathLike | None = None,
        image_dir: str | os.PathLike | None = None,
        masks: bool = False,
        skip_empty: bool | None = None,
        min_box_size: float = 1.0,
    ):
        if not (is_number(min_box_size) and min_box_size >= 0):
            raise ConfigError(f"min_box_size must be a number >= 0 (pixels), got {min_box_size!r}.")
        self.root = Path(root)
        self.split = resolve_split(self.root, split, annotation_file, image_dir, ANNOTATION_NAME)
        self.annotation_file = Path(annotation_file or self.root / "annotations" / ANNOTATION_NAME.format(split=self.split))
        self.image_dir = Path(image_dir or self.root / self.split)
        self.masks = masks
        self.skip_empty = self.split.startswith("train") if skip_empty is None else bool(skip_empty)
        data = load_json(self.annotation_file, "COCO instances annotation")
        images = validate_ground_truth(data, self.annotation_file)
        categories = _categories(data, self.annotation_file)
        self.classes: list[str] = [category["name"] for category in categories]
        self.category_ids: list[int] = [category["id"] for category in categories]
        self._labels = {category_id: label for label, category_id in enumerate(self.category_ids)}
        self.skipped: dict[str, list[int]] = defaultdict(list)
        self._unknown_categories: set[int] = set()
        kept = self._kept_annotations(data["annotations"], images, float(min_box_size))
        self.empty_images = [image_id for image_id in sorted(images) if image_id not in kept]
        self.image_ids: list[int] = sorted(i for i in images if i in kept or not self.skip_empty)
        self._images = {image_id: images[image_id] for image_id in self.image_ids}
        self._targets = {image_id: self._arrays(kept.get(image_id, [])) for image_id in self.image_ids}
        self.coco = quiet_coco({"images": list(self._images.values()), "categories": categories,
                                "annotations": [ann for image_id in self.image_ids for ann, _ in kept.get(image_id, [])]})
        self._warn_skipped()
        if not self.image_ids:
            raise ConfigError(f"{self.annotation_file} gives no images: {self.summary()}")

    def _kept_annotations(self, annotations: list[dict], images: dict[int, dict], min_box_size: float) -> dict[int, list]:
        """Image id -> [(annotation as the ground truth holds it, box x1 y1 x2 y2)] of the usable annotations."""
        kept: dict[int, list] = defaultdict(list)
        for ann in annotations:
            image = images[ann["image_id"]]
            box = parse_box(ann.get("bbox"))
            clipped = clip_box(box, image) if box else None
            if ann["category_id"] not in self._labels:
                reason = "category"
                self._unknown_categories.add(ann["category_id"])
            elif box is None:
                reason = "bbox"
            elif clipped is None or min(clipped[2], clipped[3]) < min_box_size:
                reason = "small"
            elif self.masks and not _valid_segmentation(ann.get("segmentation"), image):
                reason = "segmentation"
            else:
                x, y, w, h = clipped
                area = float(ann["area"]) if is_number(ann.get("area")) else w * h
                kept[ann["image_id"]].append(({**ann, "bbox": clipped, "area": area, "iscrowd": int(bool(ann.get("iscrowd", 0)))},
                                              (x, y, x + w, y + h)))
                continue
            self.skipped[reason].append(ann["id"])
        return kept

    def _arrays(self, annotations: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        boxes = np.array([box for _, box in annotations], dtype=np.float32).reshape(-1, 4)
        labels = np.array([self._labels[ann["category_id"]] for ann, _ in annotations], dtype=np.int32)
        crowd = np.array([ann["iscrowd"] == 1 for ann, _ in annotations], dtype=bool)
        segmentations = [ann["segmentation"] for ann, _ in annotations] if self.masks else []
        return boxes, labels, crowd, segmentations

    def label_of(self, category_id: int) -> int:
        """The contiguous label of a COCO ``category_id`` (``category_ids[label_of(i)] == i``)."""
        if category_id not in self._labels:
            raise KeyError(f"Category id {category_id!r} is not in the categories of {self.annotation_file} "
                           f"(ids {first_ids(self.category_ids, 10)}).")
        return self._labels[category_id]

    def _reasons(self) -> list[str]:
        parts = []
        for reason, description in SKIP_REASONS.items():
            ids = self.skipped.get(reason)
            if ids:
                extra = f"; category ids {first_ids(sorted(self._unknown_categories))}" if reason == "category" else ""
                parts.append(f"{len(ids)} with {description} (annotation ids {first_ids(ids)}{extra})")
        return parts

    def _warn_skipped(self) -> None:
        """One warning for the whole file: each reason with its count and first annotation ids."""
        parts = self._reasons()
        if not parts:
            return
        total = sum(len(ids) for ids in self.skipped.values())
        dropped = ""
        if self.skip_empty and self.empty_images:
            dropped = f" {len(self.empty_images)} image(s) without annotations dropped (skip_empty)."
        warnings.warn(f"{self.annotation_file}: skipped {total} annotation(s): {'; '.join(parts)}.{dropped}",
                      SkippedAnnotationsWarning, stacklevel=3)

    def summary(self) -> str:
        """One line for people: images, annotations, classes, and what was left out."""
        annotations = sum(len(arrays[1]) for arrays in self._targets.values())
        empty = "dropped" if self.skip_empty else "kept"
        text = (f"{len(self.image_ids)} images, {annotations} annotations, {len(self.classes)} classes; "
                f"{len(self.empty_images)} images without annotations {empty}")
        return "; ".join([text, *(f"skipped {part}" for part in self._reasons())]) + "."

    # -- samples ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        image_id = self.image_ids[index]
        info = self._images[image_id]
        path = self.image_dir / info["file_name"]
        try:
            image = read_image(path)
        except ImageReadError as error:
            raise ImageReadError(f"{error} (image_id {image_id} of {self.annotation_file})") from None
        check_image_size(image, info, self.annotation_file, path)
        height, width = image.shape[:2]
        boxes, labels, crowd, segmentations = self._targets[image_id]
        target: dict[str, Any] = {"boxes": boxes.copy(), "labels": labels.copy(), "crowd": crowd.copy(),
                                  "image_id": image_id, "size": (height, width)}
        if self.masks:
            masks = np.zeros((len(segmentations), height, width), dtype=np.uint8)
            for i, segmentation in enumerate(segmentations):
                masks[i] = decode_segmentation(segmentation, height, width)
            target["masks"] = masks
        return image, target

    def __repr__(self) -> str:
        return (f"COCODetection({str(self.annotation_file)!r}, {len(self)} images, {len(self.classes)} classes"
                f"{', masks' if self.masks else ''})")

