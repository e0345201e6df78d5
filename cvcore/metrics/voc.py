"""Pascal VOC mean average precision: VOC2007's 11-point and VOC2010-12's area under the precision envelope.

Scored as VOC's devkit scores: per class, detections in order of score; one
matches the unmatched ground-truth box of its class with which it overlaps
most, when that IoU exceeds ``iou_threshold``; a second match to the same box
is a false positive; a match to a ``difficult`` box (an ``iscrowd`` annotation
of the bound ground truth) counts neither way, and difficult boxes are not
among the positives. A class without positives has no AP (NaN) and is left out
of the mean. Boxes are continuous pixel coordinates (a VOC box ``xmin=1,
xmax=10`` is ``[0, 10)``, see :mod:`cvcore.data.voc_detection`), so IoU needs
no devkit "+1".
"""
from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import numpy as np

from ..data.detection_transforms import box_iou
from ..errors import ConfigError
from .detection import DetectionResults


class VOCDetectionAP(DetectionResults):
    """Per-class AP and their mean (``"mAP"``, and ``"AP_<class name>"``) of detections against a bound ground truth.

    ``eleven_point``: VOC2007's mean of the best precision at recall 0, 0.1,
    ..., 1 (``voc07_map``); otherwise the area under the precision envelope
    (VOC2010 and later, ``voc12_map``).
    """

    def __init__(self, eleven_point: bool = True, iou_threshold: float = 0.5):
        if not isinstance(iou_threshold, (int, float)) or not 0 < iou_threshold < 1:
            raise ConfigError(f"iou_threshold is an overlap between 0 and 1 (VOC's is 0.5), got {iou_threshold!r}.")
        self.eleven_point = bool(eleven_point)
        self.iou_threshold = float(iou_threshold)
        super().__init__()

    def get(self) -> dict[str, float]:
        """``"mAP"`` over the classes with positives, and each class's ``"AP_<name>"``; writes the results file."""
        self.require_ground_truth()
        self.write_results()
        names = [self.coco.cats[category_id]["name"] for category_id in self.category_ids]
        if not self.image_ids:
            return {"mAP": float("nan"), **{f"AP_{name}": float("nan") for name in names}}
        truth = self._ground_truth()
        found: dict[int, list[dict]] = defaultdict(list)
        for result in self.results:
            found[result["category_id"]].append(result)
        per_class = {name: self._class_ap(truth.get(category_id, {}), found.get(category_id, []))
                     for name, category_id in zip(names, self.category_ids)}
        scored = [ap for ap in per_class.values() if not np.isnan(ap)]
        if not scored:
            warnings.warn(f"None of the {len(self.image_ids)} evaluated images holds an object that is not difficult: "
                          "VOC mAP is undefined (NaN).", RuntimeWarning, stacklevel=2)
        return {"mAP": float(np.mean(scored)) if scored else float("nan"), **{f"AP_{name}": ap for name, ap in per_class.items()}}

    def _ground_truth(self) -> dict[int, dict[int, tuple[np.ndarray, np.ndarray]]]:
        """Category id -> image id -> (boxes x1 y1 x2 y2, difficult flags), over the evaluated images."""
        boxes: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        for annotation in self.coco.loadAnns(self.coco.getAnnIds(imgIds=sorted(self.image_ids))):
            x, y, w, h = annotation["bbox"]
            boxes[annotation["category_id"]][annotation["image_id"]].append((x, y, x + w, y + h, bool(annotation.get("iscrowd", 0))))
        return {category_id: {image_id: (np.array(rows, np.float64)[:, :4], np.array(rows)[:, 4].astype(bool))
                              for image_id, rows in images.items()}
                for category_id, images in boxes.items()}

    def _class_ap(self, truth: dict[int, tuple[np.ndarray, np.ndarray]], detections: list[dict]) -> float:
        positives = sum(int((~difficult).sum()) for _, difficult in truth.values())
        if positives == 0:
            return float("nan")
        matched = {image_id: np.zeros(len(difficult), bool) for image_id, (_, difficult) in truth.items()}
        hits: list[bool] = []
        for detection in sorted(detections, key=lambda d: -d["score"]):  # sorted() is stable: ties keep their order
            image_id = detection["image_id"]
            if image_id not in truth:
                hits.append(False)
                continue
            boxes, difficult = truth[image_id]
            x, y, w, h = detection["bbox"]
            overlaps = box_iou(np.array([x, y, x + w, y + h]), boxes)
            best = int(np.argmax(overlaps))
            if overlaps[best] <= self.iou_threshold:
                hits.append(False)
            elif difficult[best]:
                continue  # neither a hit nor a miss
            elif matched[image_id][best]:
                hits.append(False)  # a duplicate
            else:
                matched[image_id][best] = True
                hits.append(True)
        true_positives = np.cumsum(hits, dtype=np.float64)
        recall = true_positives / positives
        precision = true_positives / np.arange(1, len(hits) + 1)
        return average_precision(recall, precision, self.eleven_point)


def average_precision(recall: np.ndarray, precision: np.ndarray, eleven_point: bool) -> float:
    """AP of a ranked list's cumulative ``recall`` and ``precision``: VOC2007's 11 points, or the area under the envelope."""
    recall, precision = np.asarray(recall, np.float64), np.asarray(precision, np.float64)
    if eleven_point:
        return float(np.mean([precision[recall >= t].max() if (recall >= t).any() else 0.0 for t in np.linspace(0, 1, 11)]))
    recall = np.concatenate([[0.0], recall, [1.0]])
    envelope = np.maximum.accumulate(np.concatenate([[0.0], precision, [0.0]])[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * envelope[steps + 1]))


def factory(eleven_point: bool) -> Any:
    """The registered metric (``voc07_map`` or ``voc12_map``): :class:`VOCDetectionAP` with its method fixed."""

    def metric(iou_threshold: float = 0.5) -> VOCDetectionAP:
        return VOCDetectionAP(eleven_point=eleven_point, iou_threshold=iou_threshold)

    metric.__doc__ = VOCDetectionAP.__doc__
    return metric
