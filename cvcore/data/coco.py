"""COCO-format annotation files: loading and checking them, with errors that name the file and the entry.

Shared by the COCO readers (:mod:`cvcore.data.coco_detection`, the pose
plugin's keypoints): a malformed file is a :class:`COCOFormatError` naming the
file and what is wrong; annotations that make no sample are left out and
reported by a :class:`SkippedAnnotationsWarning` naming the file and their ids.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pycocotools.coco import COCO

from ..errors import ConfigError

FALLBACK_SPLITS = {"train": "train2017", "val": "val2017"}


class COCOFormatError(ConfigError):
    """A COCO annotation or detection-results file is malformed."""


class SkippedAnnotationsWarning(UserWarning):
    """Annotations or detections that make no sample were left out."""


def load_json(path: Path, what: str) -> Any:
    """The JSON in ``path``; a missing file or bad JSON is a :class:`COCOFormatError` calling it "the ``what`` file"."""
    if not path.is_file():
        raise COCOFormatError(f"The {what} file {path} does not exist.")
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise COCOFormatError(f"The {what} file {path} is not valid JSON: {error}.") from None


def is_number(value: Any) -> bool:
    """A finite int or float (JSON's NaN and Infinity, and booleans, are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_box(box: Any) -> list[float] | None:
    """``[x, y, w, h]`` as floats, or None unless ``box`` is 4 finite numbers."""
    if isinstance(box, (list, tuple)) and len(box) == 4 and all(is_number(v) for v in box):
        return [float(v) for v in box]
    return None


def check_box(box: Any, where: str) -> list[float]:
    """:func:`parse_box`, raising a :class:`COCOFormatError` that starts with ``where`` when it is malformed."""
    parsed = parse_box(box)
    if parsed is None:
        raise COCOFormatError(f"{where}: 'bbox' must be 4 numbers [x, y, w, h], got {box!r}.")
    return parsed


def clip_box(box: Sequence[float], image: dict) -> list[float] | None:
    """``[x, y, w, h]`` cut to the ``image`` record's width and height, or None when nothing of positive area is left."""
    x, y, w, h = box
    x1, y1 = max(x, 0.0), max(y, 0.0)
    x2, y2 = min(x + w, float(image["width"])), min(y + h, float(image["height"]))
    return [x1, y1, x2 - x1, y2 - y1] if x2 > x1 and y2 > y1 else None


def validate_ground_truth(data: Any, path: Path) -> dict[int, dict]:
    """Check the ``images`` and ``annotations`` of a COCO annotation file (ids, types, references); return its images by id."""
    if not isinstance(data, dict):
        raise COCOFormatError(
            f"{path} must hold a JSON object with 'images' and 'annotations', got {type(data).__name__}."
        )
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            problem = "has no" if key not in data else f"has a {type(data[key]).__name__} as its"
            raise COCOFormatError(f"{path} {problem} {key!r} list; is it a COCO annotation file?")
    if not isinstance(data.get("categories", []), list):
        raise COCOFormatError(f"{path}: 'categories' must be a list, got {type(data['categories']).__name__}.")
    images: dict[int, dict] = {}
    first_index: dict[int, int] = {}
    for index, image in enumerate(data["images"]):
        if not (isinstance(image, dict) and isinstance(image.get("id"), int) and isinstance(image.get("file_name"), str)
                and is_number(image.get("width")) and is_number(image.get("height"))):
            raise COCOFormatError(
                f"{path}: images[{index}] needs an integer 'id', a string 'file_name' and numeric 'width' and "
                f"'height', got {image!r:.200}."
            )
        if image["id"] in images:
            raise COCOFormatError(f"{path}: images[{index}] repeats the id {image['id']} of images[{first_index[image['id']]}]; "
                                  "image ids must be unique (annotations find their image by it).")
        images[image["id"]], first_index[image["id"]] = image, index
    annotation_ids: dict[int, int] = {}
    for index, ann in enumerate(data["annotations"]):
        if not (isinstance(ann, dict) and all(isinstance(ann.get(k), int) for k in ("id", "image_id", "category_id"))):
            raise COCOFormatError(
                f"{path}: annotations[{index}] needs integer 'id', 'image_id' and 'category_id', got {ann!r:.200}."
            )
        if ann["image_id"] not in images:
            raise COCOFormatError(
                f"{path}: annotation id {ann['id']} refers to image_id {ann['image_id']}, which is not in 'images'."
            )
        if ann["id"] in annotation_ids:
            raise COCOFormatError(f"{path}: annotations[{index}] repeats the id {ann['id']} of annotations[{annotation_ids[ann['id']]}]; "
                                  "annotation ids must be unique (evaluation matches by them).")
        annotation_ids[ann["id"]] = index
    return images


def resolve_split(root: Path, split: str, annotation_file: Any, image_dir: Any, annotation_name: str) -> str:
    """``split``, or its "2017" name when only that one exists under ``root`` (for the paths not given).

    ``annotation_name`` is the file name in ``root/annotations`` with ``{split}`` in it, e.g. ``"instances_{split}.json"``.
    """

    def present(name: str) -> bool:
        return (annotation_file is not None or (root / "annotations" / annotation_name.format(split=name)).is_file()) and (
            image_dir is not None or (root / name).is_dir()
        )

    fallback = FALLBACK_SPLITS.get(split)
    return fallback if fallback and not present(split) and present(fallback) else split


def quiet_coco(data: dict) -> COCO:
    """A pycocotools COCO index over already-loaded ``data`` (its progress prints swallowed)."""
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def first_ids(ids: Sequence[Any], limit: int = 5) -> str:
    """``"3, 8, 9"``, or the first ``limit`` and ``", ..."`` for longer lists (for warnings)."""
    return ", ".join(map(str, ids[:limit])) + (", ..." if len(ids) > limit else "")


def check_image_size(image: np.ndarray, declared: dict, annotation_file: Path, file: Any) -> None:
    """Raise a :class:`COCOFormatError` when the decoded ``image`` is not as large as its ``images`` record says."""
    if (image.shape[1], image.shape[0]) != (int(declared["width"]), int(declared["height"])):
        raise COCOFormatError(
            f"{annotation_file}: image_id {declared['id']} declares {int(declared['width'])}x{int(declared['height'])} "
            f"pixels but {file} is {image.shape[1]}x{image.shape[0]}; the boxes would be cut at the wrong size."
        )
