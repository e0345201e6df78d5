"""COCO keypoint evaluation: results in COCO's format and OKS average precision via pycocotools."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from cvcore.files import write_json

log = logging.getLogger(__name__)

STAT_NAMES: tuple[str, ...] = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
"""The ten numbers of ``COCOeval.stats`` for ``iouType="keypoints"``, in order."""


class KeypointAP(dict):
    """``{name: value}`` for :data:`STAT_NAMES`, with pycocotools' printed table as :attr:`summary`."""

    summary: str = ""


def keypoint_results(
    image_ids: Sequence[Any], coords: np.ndarray, maxvals: np.ndarray, scores: Sequence[float]
) -> list[dict]:
    """One COCO result per person: ``{"image_id", "category_id": 1, "keypoints": [x, y, v] * J, "score"}``.

    ``coords`` ``(N, J, 2)`` are image coordinates, ``maxvals`` ``(N, J)`` the
    peak values (written as each keypoint's third number) and ``scores`` ``(N,)``
    the person scores (e.g. :func:`cvcore_pose.decode.instance_scores`).
    """
    coords = np.asarray(coords, dtype=np.float64)
    maxvals = np.asarray(maxvals, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    image_ids = list(image_ids)
    n = len(image_ids)
    if coords.shape[:1] != (n,) or coords.ndim != 3 or coords.shape[2] != 2 or maxvals.shape != coords.shape[:2] or len(scores) != n:
        raise ValueError(
            f"keypoint_results needs image_ids (N,), coords (N, J, 2), maxvals (N, J) and scores (N,), "
            f"got {n}, {coords.shape}, {maxvals.shape} and {scores.shape}."
        )
    keypoints = np.concatenate([coords, maxvals[..., None]], axis=2).reshape(n, -1)
    return [
        {
            "image_id": _plain_id(image_id),
            "category_id": 1,
            "keypoints": [float(v) for v in keypoints[i]],
            "score": float(scores[i]),
        }
        for i, image_id in enumerate(image_ids)
    ]


def coco_keypoint_ap(
    coco_gt: Any,
    results: list[dict],
    *,
    results_file: str | os.PathLike | None = None,
    image_ids: Iterable[Any] | None = None,
) -> KeypointAP:
    """COCO's object-keypoint-similarity AP/AR of ``results`` against ``coco_gt`` (a ``pycocotools.coco.COCO``).

    Returns ``AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl`` as floats in
    [0, 1]; COCOeval gives -1 where no ground truth falls in that area range.
    ``image_ids`` restricts the evaluation to those images (default: every
    image of ``coco_gt``). ``results_file``, when given, receives the results
    as JSON (written next to it and renamed into place). Empty ``results``
    give all zeros and a warning (pycocotools cannot load them). pycocotools'
    printing is captured: the table is the result's ``summary`` and is logged
    at INFO level on this module's logger.
    """
    from pycocotools.cocoeval import COCOeval

    results = list(results)
    if results_file is not None:
        write_json(Path(results_file), results)
    if not results:
        warnings.warn("No keypoint results to evaluate: every COCO keypoint AP/AR is reported as 0.", RuntimeWarning, stacklevel=2)
        return KeypointAP({name: 0.0 for name in STAT_NAMES})
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        # loadRes adds area/bbox/id to the dicts it gets: give it copies
        coco_dt = coco_gt.loadRes([dict(result) for result in results])
        evaluator = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        if image_ids is not None:
            evaluator.params.imgIds = sorted({_plain_id(i) for i in image_ids})
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    scores = KeypointAP({name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats)})
    scores.summary = chatter.getvalue()
    log.info("COCO keypoint evaluation:\n%s", scores.summary)
    return scores


def _plain_id(image_id: Any) -> Any:
    """numpy integers (and integral floats) as int, for JSON and for pycocotools' dict lookups."""
    if isinstance(image_id, (np.integer, int)) and not isinstance(image_id, bool):
        return int(image_id)
    if isinstance(image_id, (float, np.floating)) and float(image_id).is_integer():
        return int(image_id)
    return image_id

