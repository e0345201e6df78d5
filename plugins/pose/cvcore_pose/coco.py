"""COCO person keypoints as top-down samples: one ``(image, record)`` per person box.

Layout (COCO 2017's): ``root/annotations/person_keypoints_<split>.json`` and
images in ``root/<split>/``. Records hold ``joints`` (17, 3) float32 ``x, y, v``,
``box`` ``(x, y, w, h)``, ``image_id``, ``score``, ``ann_id`` and ``file`` (the
image's path); :mod:`cvcore_pose.transforms` turns them into network inputs.
"""
from __future__ import annotations

import os
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from mxnet.gluon.data import Dataset

from cvcore.data.coco import (  # COCOFormatError and SkippedAnnotationsWarning are this module's too
    COCOFormatError,
    SkippedAnnotationsWarning,
    check_box,
    check_image_size,
    clip_box,
    first_ids,
    is_number,
    load_json,
    quiet_coco,
    resolve_split,
    validate_ground_truth,
)
from cvcore.data.folder import skip_bad_image
from cvcore.data.image import ImageReadError, read_image
from cvcore.errors import ConfigError

from .keypoints import NUM_JOINTS

BAD_IMAGE_POLICIES = ("error", "raise", "skip")  # "raise" is the classification datasets' word for "error"
ANNOTATION_NAME = "person_keypoints_{split}.json"
SKIP_REASONS = {
    "category": "other categories than person",
    "crowd": "crowd annotations (iscrowd=1)",
    "keypoint_length": f"keypoint arrays that are not {3 * NUM_JOINTS} numbers long",
    "visibility": "keypoint visibility flags other than 0, 1 and 2",
    "area": "boxes of zero or negative area (ground-truth boxes clipped to the image)",
    "keypoints": "too few labeled keypoints",
    "score": "detections below min_box_score",
}


def _person_category_ids(data: dict) -> set[int]:
    """Ids of categories named "person"; {1} when the file names none."""
    ids = {c.get("id") for c in data.get("categories", []) if isinstance(c, dict) and c.get("name") == "person"}
    return ids or {1}


def _ground_truth_annotation(ann: dict, joints: np.ndarray, box: list[float]) -> dict:
    """``ann`` as evaluation reads it: its checked box and its keypoints, ``num_keypoints`` counted from them."""
    return {**ann, "bbox": box, "keypoints": [float(v) for v in joints.reshape(-1)], "num_keypoints": int((joints[:, 2] > 0).sum()),
            "area": float(ann["area"]) if is_number(ann.get("area")) else float(box[2] * box[3]), "category_id": 1}


class COCOKeypoints(Dataset):
    """Top-down samples ``(image RGB uint8 HxWx3, record dict)`` from a COCO person keypoints dataset.

    Without ``boxes``: one sample per non-crowd person annotation with a box of
    positive area (clipped to the image), visibility flags 0, 1 or 2 and at
    least ``min_keypoints`` labeled (``v > 0``) keypoints; left-out annotations
    (other categories included) are counted in :attr:`skipped_annotations` and
    reported by one :class:`SkippedAnnotationsWarning` per reason. With
    ``boxes`` (a COCO detection-results JSON list): one sample per person
    detection scoring at least ``min_box_score``, with all-zero joints,
    ``ann_id`` -1 and the detection's score.

    :attr:`coco`, the ground truth evaluation scores against, holds exactly the
    persons that make samples (and well-formed crowd regions, which COCO
    ignores), never an annotation the dataset left out. Repeated image or
    annotation ids are a :class:`COCOFormatError`, and so is an image whose
    file is not as large as the ``width`` and ``height`` declared for it.

    ``split`` "train" or "val" falls back to "train2017" / "val2017" when
    ``root`` has no plain one. ``on_bad_image``: "error" raises
    :class:`ImageReadError` naming the file; "skip" warns
    (:class:`BadImageWarning`) and returns the next readable sample instead,
    recording the file in :attr:`skipped_images` (per process); the stand-in's
    record then has ``"replaces"``, the unreadable image's id, so evaluation
    leaves both out rather than count one image twice.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        annotation_file: str | os.PathLike | None = None,
        image_dir: str | os.PathLike | None = None,
        boxes: str | os.PathLike | None = None,
        min_box_score: float = 0.0,
        min_keypoints: int = 1,
        on_bad_image: str = "error",
    ):
        if on_bad_image not in BAD_IMAGE_POLICIES:
            raise ConfigError(
                f"on_bad_image must be one of {', '.join(map(repr, BAD_IMAGE_POLICIES))}, got {on_bad_image!r}."
            )
        self.root = Path(root)
        self.split = resolve_split(self.root, split, annotation_file, image_dir, ANNOTATION_NAME)
        default_annotations = self.root / "annotations" / ANNOTATION_NAME.format(split=self.split)
        self.annotation_file = Path(annotation_file or default_annotations)
        self.image_dir = Path(image_dir or self.root / self.split)
        self.on_bad_image = on_bad_image
        data = load_json(self.annotation_file, "COCO keypoints annotation")
        self.images = validate_ground_truth(data, self.annotation_file)
        self.person_ids = _person_category_ids(data)
        self.boxes_file = Path(boxes) if boxes is not None else None
        self.skipped_annotations: dict[str, list[int]] = defaultdict(list)
        person_records, ground_truth = self._ground_truth_records(data["annotations"], min_keypoints)
        self.coco = quiet_coco({"images": data["images"], "annotations": ground_truth,
                                 "categories": [{"id": 1, "name": "person", "supercategory": "person"}]})
        if self.boxes_file is None:
            self.records = person_records
        else:
            self._warn_skipped(self.annotation_file, "left out of the ground truth")
            self.skipped_annotations = defaultdict(list)
            self.records = self._detection_records(self.boxes_file, min_box_score)
        source = self.boxes_file or self.annotation_file
        self._warn_skipped(source)
        if not self.records:
            raise ConfigError(
                f"{source} gives no person samples ({self._skip_summary() or 'it has no person boxes'}); "
                f"check the file, category ids, min_keypoints={min_keypoints} and min_box_score={min_box_score}."
            )
        self.image_ids = sorted({record["image_id"] for record in self.records})
        self.skipped_images: dict[str, str] = {}

    # -- records ------------------------------------------------------------------
    def _record(self, image_id: int, box: list[float], joints: np.ndarray, score: float, ann_id: int) -> dict:
        return {
            "joints": joints,
            "box": tuple(box),
            "image_id": image_id,
            "score": score,
            "ann_id": ann_id,
            "file": str(self.image_dir / self.images[image_id]["file_name"]),
        }

    def _ground_truth_records(self, annotations: Iterable[dict], min_keypoints: int) -> tuple[list[dict], list[dict]]:
        """The samples of the person annotations, and the ground truth evaluation scores against.

        The ground truth is the annotations that made samples, plus well-formed crowd regions
        (COCOeval ignores those): nothing the dataset left out can count as a missed person.
        """
        records, ground_truth = [], []
        for ann in annotations:
            if ann["category_id"] not in self.person_ids:
                self.skipped_annotations["category"].append(ann["id"])
                continue
            where = f"{self.annotation_file}: annotation id {ann['id']}"
            reason, box, joints = self._check_annotation(ann, where, min_keypoints)
            if reason == "crowd" and box is not None:
                ground_truth.append(_ground_truth_annotation(ann, joints, box))
            if reason:
                self.skipped_annotations[reason].append(ann["id"])
            else:
                records.append(self._record(ann["image_id"], box, joints, 1.0, ann["id"]))
                ground_truth.append(_ground_truth_annotation(ann, joints, box))
        return records, ground_truth

    def _check_annotation(self, ann: dict, where: str, min_keypoints: int) -> tuple[str | None, Any, Any]:
        """(skip reason or None, clipped box, joints (17, 3)) of one person annotation.

        A crowd annotation is a skip reason that still comes with its box and joints when they are well-formed.
        """
        keypoints = ann.get("keypoints")
        if not isinstance(keypoints, list) or not all(is_number(v) for v in keypoints):
            raise COCOFormatError(f"{where}: 'keypoints' must be a list of numbers, got {keypoints!r:.200}.")
        if len(keypoints) != 3 * NUM_JOINTS:
            return "crowd" if ann.get("iscrowd", 0) else "keypoint_length", None, None
        joints = np.array(keypoints, dtype=np.float32).reshape(NUM_JOINTS, 3)
        if not np.isin(joints[:, 2], (0, 1, 2)).all():
            return "crowd" if ann.get("iscrowd", 0) else "visibility", None, None
        box = clip_box(check_box(ann.get("bbox"), where), self.images[ann["image_id"]])
        if ann.get("iscrowd", 0):
            return "crowd", box, joints
        if box is None:
            return "area", None, None
        if (joints[:, 2] > 0).sum() < max(min_keypoints, 1):
            return "keypoints", None, None
        return None, box, joints

    def _detection_records(self, path: Path, min_box_score: float) -> list[dict]:
        detections = load_json(path, "detection results")
        if not isinstance(detections, list):
            raise COCOFormatError(
                f"The detection results file {path} must hold a JSON list of "
                f"{{image_id, category_id, bbox, score}} objects, got a {type(detections).__name__}."
            )
        records = []
        for index, det in enumerate(detections):
            where = f"{path}: entry {index}"
            if not isinstance(det, dict) or not {"image_id", "category_id", "bbox", "score"} <= det.keys():
                raise COCOFormatError(
                    f"{where} needs the keys image_id, category_id, bbox and score, got {det!r:.200}."
                )
            if not isinstance(det["image_id"], int) or det["image_id"] not in self.images:
                raise COCOFormatError(
                    f"{where} has image_id {det['image_id']!r}, which is not in {self.annotation_file}."
                )
            if not is_number(det["score"]):
                raise COCOFormatError(f"{where}: 'score' must be a number, got {det['score']!r}.")
            box = check_box(det["bbox"], where)
            if det["category_id"] not in self.person_ids:
                continue
            if det["score"] < min_box_score:
                self.skipped_annotations["score"].append(index)
            elif box[2] <= 0 or box[3] <= 0:
                self.skipped_annotations["area"].append(index)
            else:
                joints = np.zeros((NUM_JOINTS, 3), dtype=np.float32)
                records.append(self._record(det["image_id"], box, joints, float(det["score"]), -1))
        return records

    def _skip_summary(self) -> str:
        return ", ".join(f"{len(ids)} with {SKIP_REASONS[reason]}" for reason, ids in self.skipped_annotations.items())

    def _warn_skipped(self, source: Path, what: str = "skipped") -> None:
        """One warning per skip reason (in :data:`SKIP_REASONS` order) with the count and the first ids."""
        detections = source == self.boxes_file
        kind, label = ("detection", "entries") if detections else ("annotation", "annotation ids")
        for reason, description in SKIP_REASONS.items():
            ids = self.skipped_annotations.get(reason)
            if not ids or reason == "score":  # filtering by score is what was asked for, not a data problem
                continue
            shown = first_ids(ids)
            noun = f"{kind}(s) of" if reason == "category" else f"person {kind}(s) with"
            warnings.warn(
                f"{source}: {what} {len(ids)} {noun} {description} ({label} {shown}).",
                SkippedAnnotationsWarning,
                stacklevel=3,
            )

    # -- samples ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict]:
        index = range(len(self.records))[index]  # IndexError past the end, as iteration needs
        for offset in range(len(self.records)):
            record = self.records[(index + offset) % len(self.records)]
            if record["file"] in self.skipped_images:
                continue
            try:
                image = read_image(record["file"])
            except ImageReadError as error:
                if self.on_bad_image != "skip":
                    raise ImageReadError(
                        f"{error} (image_id {record['image_id']} of {self.annotation_file}; "
                        f"COCOKeypoints(..., on_bad_image=\"skip\") skips unreadable images.)"
                    ) from None
                skip_bad_image(self.skipped_images, record["file"], error)
                continue
            self._check_size(image, record)
            if offset:
                return image, {**record, "replaces": self.records[index]["image_id"]}
            return image, dict(record)
        raise ImageReadError(
            f"None of the images of the {len(self.records)} samples under {self.image_dir} could be read."
        )

    def _check_size(self, image: np.ndarray, record: dict) -> None:
        check_image_size(image, self.images[record["image_id"]], self.annotation_file, record["file"])

    def __repr__(self) -> str:
        return f"COCOKeypoints({str(self.annotation_file)!r}, {len(self)} samples, {len(self.image_ids)} images)"
