"""COCO box and mask average precision: each image's detections in its own pixels in, COCOeval's numbers out.

Keys: the box numbers are :data:`STAT_NAMES` as they are (``"AP"``, ``"AP50"``,
...), the mask numbers the same names prefixed ``"segm_"`` (``"segm_AP"``, ...),
whichever iou types are asked: a box AP keeps its name when masks are added.
"""
from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, CvcoreError
from ..files import write_json

log = logging.getLogger(__name__)

IOU_TYPES: tuple[str, ...] = ("bbox", "segm")
"""What :class:`COCODetectionAP` can evaluate: boxes and instance masks."""

STAT_NAMES: tuple[str, ...] = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100")
"""The first nine numbers of ``COCOeval.stats`` for boxes and masks, in order (AP over IoU 0.5:0.95, at 0.5, at 0.75,
for small, medium and large objects; AR given 1, 10 and 100 detections per image)."""

KEY_PREFIX: dict[str, str] = {"bbox": "", "segm": "segm_"}
"""What each iou type's numbers are prefixed with in :meth:`COCODetectionAP.get`."""


class DetectionResults:
    """Each image's detections gathered as COCO results dicts against a bound pycocotools ``COCO`` ground truth.

    The base of the detection metrics: :meth:`bind` names the ground truth and
    how contiguous labels map to its category ids; :meth:`update_image` adds one
    image's detections (an image updated with none still counts: its objects
    are misses); a subclass's ``get()`` scores :attr:`results` on
    :attr:`image_ids` and writes them to the results file with
    :meth:`write_results`.
    """

    def __init__(self) -> None:
        self.coco: Any = None
        self.category_ids: tuple[int, ...] = ()
        self.results_file: Path | None = None
        self.reset()

    @property
    def masks(self) -> bool:
        """Whether :meth:`update_image` needs masks (the metric scores them)."""
        return False

    def bind(self, coco_gt: Any, category_ids: Sequence[int], results_file: str | os.PathLike | None = None) -> "DetectionResults":
        """Evaluate against ``coco_gt``; label ``i`` is COCO category ``category_ids[i]``; write the results to ``results_file``.

        Binding keeps the detections gathered so far; :meth:`reset` drops them.
        """
        category_ids = tuple(int(c) for c in category_ids)
        unknown = sorted(set(category_ids) - set(coco_gt.getCatIds()))
        if unknown:
            raise CvcoreError(f"category_ids {unknown} are not categories of the ground truth (it has {sorted(coco_gt.getCatIds())}); "
                              "pass the dataset's category_ids (label -> COCO category id).")
        self.coco, self.category_ids = coco_gt, category_ids
        self.results_file = Path(results_file) if results_file is not None else None
        return self

    def reset(self) -> None:
        self.results: list[dict] = []
        self.image_ids: set[int] = set()

    def update_image(self, image_id: int, boxes: Any, scores: Any, labels: Any, masks: Any = None) -> None:
        """One image's detections: ``boxes`` (K, 4) ``x1, y1, x2, y2`` in the image's pixels, ``scores`` (K,), ``labels`` (K,).

        ``masks`` (needed when the metric scores masks, else ignored) are
        full-image (K, H, W) bool or 0/1 arrays, or K COCO RLE dicts.
        """
        self.require_ground_truth()
        image_id = _plain_id(image_id)
        if image_id not in self.coco.imgs:
            raise CvcoreError(f"Image id {image_id!r} is not an image of the bound ground truth; "
                              "update_image takes the ids of the COCO file's 'images'.")
        boxes = _numpy(boxes).astype(np.float64).reshape(-1, 4)
        scores = _numpy(scores).astype(np.float64).reshape(-1)
        labels = _numpy(labels).reshape(-1)
        if not len(boxes) == len(scores) == len(labels):
            raise ValueError(f"Image {image_id}: {len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels; "
                             "each detection needs one of each.")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.category_ids) or not np.all(labels == np.round(labels))):
            raise ValueError(f"Image {image_id}: labels must be class indices 0..{len(self.category_ids) - 1} "
                             f"(the bound category_ids), got {sorted(set(labels.tolist()))[:10]}.")
        segmentations = self._segmentations(image_id, masks, len(boxes)) if self.masks else None
        self.image_ids.add(image_id)
        for index, ((x1, y1, x2, y2), score, label) in enumerate(zip(boxes, scores, labels.astype(np.int64))):
            result = {"image_id": image_id, "category_id": self.category_ids[label],
                      "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)], "score": float(score)}
            if segmentations is not None:
                result["segmentation"] = segmentations[index]
            self.results.append(result)

    def update(self, targets: Sequence[Any], outputs: Sequence[Any]) -> None:
        """Several images at once: ``targets`` their ids (or the dataset's target dicts), ``outputs`` their detections.

        Each image's detections are ``(boxes, scores, labels[, masks])`` in its
        own pixels, or a mapping or object with those names (``masks`` optional),
        as :meth:`update_image` takes them.
        """
        if len(targets) != len(outputs):
            raise ValueError(f"{len(outputs)} images' detections for {len(targets)} images.")
        for target, found in zip(targets, outputs):
            image_id = target["image_id"] if isinstance(target, Mapping) else target
            if isinstance(found, Mapping):
                found = (found["boxes"], found["scores"], found["labels"], found.get("masks"))
            elif all(hasattr(found, name) for name in ("boxes", "scores", "labels")):
                found = (found.boxes, found.scores, found.labels, getattr(found, "masks", None))
            self.update_image(image_id, *found)

    def require_ground_truth(self) -> None:
        if self.coco is None:
            raise CvcoreError(f"{type(self).__name__} needs its ground truth first: call bind(coco_gt, category_ids) "
                              "(the detection task binds the dataset's COCO object and category_ids before evaluating).")

    def write_results(self) -> None:
        """The gathered detections as a COCO results JSON, when a results file was bound."""
        if self.results_file is not None:
            write_json(self.results_file, self.results)

    def _segmentations(self, image_id: int, masks: Any, count: int) -> list[dict]:
        """``masks`` as compressed RLE dicts with ``counts`` a str (JSON's), checked against the image's size."""
        from pycocotools import mask as mask_utils

        if masks is None and count == 0:
            return []
        if masks is None:
            raise CvcoreError(f"Image {image_id}: iou_type includes 'segm' but no masks were given; "
                              "evaluate a detector without masks with iou_type='bbox'.")
        image = self.coco.imgs[image_id]
        size = [int(image["height"]), int(image["width"])]
        if isinstance(masks, (list, tuple)) and all(isinstance(m, Mapping) for m in masks):
            rles = [_compressed(m, image_id, size) for m in masks]
        else:
            masks = _numpy(masks)
            if masks.shape != (count, *size):
                raise ValueError(f"Image {image_id}: masks must be (K, H, W) = ({count}, {size[0]}, {size[1]}), "
                                 f"the image's full size, got {masks.shape}.")
            binary = np.asfortranarray(masks.transpose(1, 2, 0).astype(bool).astype(np.uint8))
            rles = mask_utils.encode(binary) if count else []
        if len(rles) != count:
            raise ValueError(f"Image {image_id}: {len(rles)} masks for {count} detections.")
        return [{"size": [int(s) for s in rle["size"]], "counts": _text(rle["counts"])} for rle in rles]


class COCODetectionAP(DetectionResults):
    """COCO mAP of detections (and instance masks) against a pycocotools ``COCO`` ground truth.

    :meth:`get` runs COCOeval on the images that were updated (with or without
    detections) and returns :data:`STAT_NAMES` for boxes and ``"segm_"`` +
    :data:`STAT_NAMES` for masks, as floats in [0, 1] and -1 where no ground
    truth falls in that area range. ``iou_type`` is ``"bbox"``, ``"segm"`` or
    both; by default boxes, and masks too when the first image updated comes
    with masks. ``verbose`` prints pycocotools' tables; otherwise they are kept
    in :attr:`summary` and logged at INFO level.
    """

    def __init__(self, iou_type: str | Sequence[str] | None = None, verbose: bool = False):
        self.asked = _iou_types(iou_type) if iou_type is not None else None
        """The iou types asked for; None: boxes, and masks too once a detector gives them."""
        self.verbose = bool(verbose)
        self.summary = ""
        super().__init__()

    @property
    def masks(self) -> bool:
        return "segm" in self.iou_types

    def reset(self) -> None:
        super().reset()
        self.iou_types = self.asked or ("bbox",)

    def update_image(self, image_id: int, boxes: Any, scores: Any, labels: Any, masks: Any = None) -> None:
        if self.asked is None and masks is not None and not self.image_ids:
            self.iou_types = IOU_TYPES  # a detector with masks: evaluate them too
        super().update_image(image_id, boxes, scores, labels, masks)

    def get(self) -> dict[str, float]:
        """COCOeval's numbers for each iou type over the updated images (NaN when none was); writes the results file."""
        self.require_ground_truth()
        self.write_results()
        if not self.image_ids:
            return {KEY_PREFIX[t] + name: float("nan") for t in self.iou_types for name in STAT_NAMES}
        if not self.results:
            warnings.warn(f"No detections in the {len(self.image_ids)} evaluated images: every COCO AP/AR is 0 "
                          "(-1 where no ground truth falls in that area range).", RuntimeWarning, stacklevel=2)
        scores: dict[str, float] = {}
        summaries = []
        for iou_type in self.iou_types:
            stats, summary = coco_stats(self.coco, self.results, iou_type, sorted(self.image_ids))
            scores.update({KEY_PREFIX[iou_type] + name: value for name, value in zip(STAT_NAMES, stats)})
            summaries.append(f"iou_type={iou_type}\n{summary}")
        self.summary = "\n".join(summaries)
        if self.verbose:
            print(self.summary)
        log.info("COCO detection evaluation:\n%s", self.summary)
        return scores


def coco_stats(coco_gt: Any, results: list[dict], iou_type: str, image_ids: Sequence[int]) -> tuple[list[float], str]:
    """COCOeval's :data:`STAT_NAMES` numbers of ``results`` (COCO results dicts) on ``image_ids``, and its printed table.

    Boxes are scored with each result's ``bbox`` and masks with its
    ``segmentation`` (the other is left out, so that a detection's area is that
    of what is scored). No results give zeros where there is ground truth.
    """
    from pycocotools.cocoeval import COCOeval

    key = "bbox" if iou_type == "bbox" else "segmentation"
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        if results:
            # loadRes adds area, id and iscrowd to the dicts it gets: give it copies
            coco_dt = coco_gt.loadRes([{k: v for k, v in r.items() if k in ("image_id", "category_id", "score", key)} for r in results])
        else:
            coco_dt = _empty_results(coco_gt)
        evaluator = COCOeval(coco_gt, coco_dt, iouType=iou_type)
        evaluator.params.imgIds = list(image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(v) for v in evaluator.stats[: len(STAT_NAMES)]], chatter.getvalue()


def _empty_results(coco_gt: Any) -> Any:
    """A results COCO without detections (``loadRes`` refuses an empty list)."""
    from pycocotools.coco import COCO

    empty = COCO()
    empty.dataset = {"images": list(coco_gt.dataset.get("images", [])),
                     "categories": copy.deepcopy(coco_gt.dataset.get("categories", [])), "annotations": []}
    empty.createIndex()
    return empty


def _iou_types(iou_type: str | Sequence[str]) -> tuple[str, ...]:
    asked = [iou_type] if isinstance(iou_type, str) else list(iou_type)
    unknown = [t for t in asked if t not in IOU_TYPES]
    if not asked or unknown:
        raise ConfigError(f"iou_type must be 'bbox', 'segm' or both (a list), got {iou_type!r}.")
    return tuple(dict.fromkeys(asked))


def _compressed(rle: Mapping[str, Any], image_id: int, size: list[int]) -> dict:
    """An RLE dict (compressed, or uncompressed with a list of counts) as a compressed one of ``size``."""
    from pycocotools import mask as mask_utils

    if [int(s) for s in rle.get("size", ())] != size:
        raise ValueError(f"Image {image_id}: an RLE mask of size {rle.get('size')!r}, not the image's [height, width] {size}.")
    if isinstance(rle["counts"], list):
        return mask_utils.frPyObjects(dict(rle), *size)
    return {"size": size, "counts": rle["counts"]}


def _text(counts: bytes | str) -> str:
    return counts.decode("ascii") if isinstance(counts, bytes) else counts


def _plain_id(image_id: Any) -> int:
    """An image id (numpy integer, integral float) as the int that pycocotools' dicts are keyed by."""
    if isinstance(image_id, (float, np.floating)) and not float(image_id).is_integer():
        raise ValueError(f"An image id must be an integer, got {image_id!r}.")
    return int(image_id)


def _numpy(array: Any) -> np.ndarray:
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)
