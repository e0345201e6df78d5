"""COCO keypoint AP as a cvcore metric: heatmaps in, OKS AP out."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvcore.errors import CvcoreError

from .decode import decode_instances
from .evaluation import coco_keypoint_ap, keypoint_results


class CocoKeypointsAP:
    """Decodes each batch's heatmaps to image coordinates and scores them with COCOeval at :meth:`get`.

    ``update(targets, outputs)`` takes ``targets = (meta,)`` with rows
    ``[center_x, center_y, size_w, size_h, box_score, image_id, replaces]`` (what
    the evaluation transform emits) and ``outputs`` the (flip-averaged) heatmaps.
    :meth:`bind` names the ground truth before :meth:`get`.

    A row whose ``replaces`` is an image id stands in for an unreadable image
    (``on_bad_image="skip"``): its prediction is dropped and that image is left
    out of the ground truth, and :meth:`get` reports their count as
    ``skipped_images``.
    """

    def __init__(self, score_threshold: float = 0.2, refine: str = "dark"):
        self.score_threshold = float(score_threshold)
        self.refine = refine
        self.coco: Any = None
        self.results_file: Path | None = None
        self.reset()

    def bind(self, coco_gt: Any, results_file: str | Path | None = None, refine: str | None = None) -> "CocoKeypointsAP":
        """Evaluate against ``coco_gt`` (a pycocotools COCO); write the results JSON to ``results_file`` if given.

        ``refine`` (the pipeline's ``decode`` option) replaces the sub-pixel refinement when given.
        """
        self.coco, self.results_file = coco_gt, Path(results_file) if results_file else None
        self.refine = refine or self.refine
        return self

    def reset(self) -> None:
        self.results: list[dict] = []
        self.skipped_images: set[int] = set()

    def update(self, targets: Any, outputs: Any) -> None:
        meta = _numpy(targets[0] if isinstance(targets, (tuple, list)) else targets).astype(np.float64)
        heatmaps = _numpy(outputs[0] if isinstance(outputs, (tuple, list)) else outputs)
        if meta.shape[0] != heatmaps.shape[0]:
            raise ValueError(f"{heatmaps.shape[0]} heatmap sets for {meta.shape[0]} instances")
        if meta.shape[1] > 6:
            stand_ins = meta[:, 6] >= 0
            self.skipped_images.update(int(i) for i in meta[stand_ins, 6])
            meta, heatmaps = meta[~stand_ins], heatmaps[~stand_ins]
        if not len(meta):
            return
        points, maxvals, scores = decode_instances(heatmaps, meta, self.score_threshold, self.refine)
        self.results.extend(keypoint_results(meta[:, 5].astype(np.int64), points, maxvals, scores))

    def get(self) -> dict[str, float]:
        if self.coco is None:
            raise CvcoreError(
                "The coco_keypoints metric needs the ground truth: the pose task binds the dataset's COCO object before evaluating."
            )
        if not self.skipped_images:
            return coco_keypoint_ap(self.coco, self.results, results_file=self.results_file)
        kept = [i for i in self.coco.getImgIds() if i not in self.skipped_images]
        results = [r for r in self.results if r["image_id"] not in self.skipped_images]
        scores = coco_keypoint_ap(self.coco, results, results_file=self.results_file, image_ids=kept)
        scores["skipped_images"] = float(len(self.skipped_images))
        return scores


def _numpy(array: Any) -> np.ndarray:
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)
