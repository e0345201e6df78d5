"""COCO box and mask AP of detections through pycocotools, on a tiny ground truth written here."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from cvcore.errors import ConfigError, CvcoreError
from cvcore.metrics.detection import STAT_NAMES, COCODetectionAP

CATEGORY_IDS = [3, 7, 12]  # labels 0, 1, 2: COCO's ids have gaps
SIZES = {1: (100, 120), 2: (60, 80), 3: (64, 64)}  # image id -> (height, width); image 3 has no objects
SQUARE = [10, 10, 30, 10, 30, 30, 10, 30]  # image 2's one object, box [10, 10, 20, 20]
THRESHOLDS = np.linspace(0.5, 0.95, 10)  # COCO's IoU thresholds


def rectangle_mask(height: int, width: int, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


CROWD = rectangle_mask(*SIZES[1], 70, 60, 110, 95)  # a crowd of category 3 in image 1


def polygon_annotation(image_id: int, category_id: int, polygon: list[float]) -> dict:
    height, width = SIZES[image_id]
    rle = mask_utils.merge(mask_utils.frPyObjects([polygon], height, width))
    xs, ys = polygon[0::2], polygon[1::2]
    return {"image_id": image_id, "category_id": category_id, "segmentation": [polygon], "iscrowd": 0,
            "area": float(mask_utils.area(rle)), "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]}


def crowd_annotation(image_id: int, category_id: int, mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"image_id": image_id, "category_id": category_id, "iscrowd": 1, "area": float(mask_utils.area(rle)),
            "segmentation": {"size": list(mask.shape), "counts": rle["counts"].decode("ascii")},
            "bbox": [float(v) for v in mask_utils.toBbox(rle)]}


@pytest.fixture
def coco(tmp_path) -> COCO:
    annotations = [
        polygon_annotation(1, 3, [10, 10, 50, 10, 50, 40, 10, 40]),
        polygon_annotation(1, 7, [60, 10, 100, 10, 80, 50]),
        crowd_annotation(1, 3, CROWD),
        polygon_annotation(2, 12, SQUARE),
    ]
    for index, annotation in enumerate(annotations):
        annotation["id"] = index + 1
    data = {"images": [{"id": i, "file_name": f"{i}.jpg", "height": h, "width": w} for i, (h, w) in SIZES.items()],
            "annotations": annotations,
            "categories": [{"id": c, "name": name} for c, name in zip(CATEGORY_IDS, ["cat", "dog", "bird"])]}
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(data))
    return COCO(str(path))


def answers(coco: COCO, image_id: int) -> dict:
    """Image ``image_id``'s single (not crowd) objects as perfect detections: xyxy boxes, labels, full-image masks."""
    anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])) if not a["iscrowd"]]
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], dtype=np.float32).reshape(-1, 4)
    return {"boxes": boxes, "scores": np.linspace(0.9, 0.8, len(anns), dtype=np.float32),
            "labels": np.array([CATEGORY_IDS.index(a["category_id"]) for a in anns], dtype=np.int64),
            "masks": np.array([coco.annToMask(a) for a in anns], dtype=np.uint8).reshape(-1, *SIZES[image_id])}


def box_iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    overlap = width * height
    return overlap / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap)


def test_perfect_detections_score_one_for_boxes_and_masks(coco, tmp_path, capsys):
    capsys.readouterr()
    metric = COCODetectionAP(iou_type=["bbox", "segm"]).bind(coco, CATEGORY_IDS, tmp_path / "out" / "detections.json")
    for image_id in SIZES:
        metric.update_image(image_id, **answers(coco, image_id))
    scores = metric.get()
    assert list(scores) == list(STAT_NAMES) + [f"segm_{name}" for name in STAT_NAMES]
    assert list(STAT_NAMES) == ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"]
    for key in ("AP", "AP50", "AP75", "APs", "AR10", "AR100", "segm_AP", "segm_AP50", "segm_AP75", "segm_AR100"):
        assert scores[key] == pytest.approx(1.0), key
    assert scores["APl"] == -1.0  # no large object: COCOeval's "not applicable"
    assert capsys.readouterr().out == "" and "Average Precision" in metric.summary  # pycocotools' tables kept, not printed
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["detections.json"]  # written whole, no temporary left


def test_the_results_file_is_cocos_results_format_with_the_original_category_ids(coco, tmp_path):
    path = tmp_path / "detections.json"
    metric = COCODetectionAP(iou_type="segm").bind(coco, CATEGORY_IDS, path)
    for image_id in (1, 2):
        metric.update_image(np.int64(image_id), **answers(coco, image_id))
    metric.get()
    results = json.loads(path.read_text())
    assert len(results) == 3 and all(sorted(r) == ["bbox", "category_id", "image_id", "score", "segmentation"] for r in results)
    assert sorted(r["category_id"] for r in results) == [3, 7, 12]
    square = next(r for r in results if r["image_id"] == 2)
    assert square["bbox"] == [10.0, 10.0, 20.0, 20.0] and square["score"] == pytest.approx(0.9)
    assert square["segmentation"]["size"] == [60, 80] and isinstance(square["segmentation"]["counts"], str)
    assert mask_utils.decode({**square["segmentation"], "counts": square["segmentation"]["counts"].encode()}).sum() == 400
    loaded = coco.loadRes(str(path))
    assert len(loaded.getAnnIds()) == 3 and loaded.loadAnns(loaded.getAnnIds(imgIds=[2]))[0]["category_id"] == 12


def test_a_box_at_iou_two_thirds_counts_at_ap50_but_not_ap75(coco):
    truth, shifted = [10, 10, 30, 30], [14, 10, 34, 30]
    iou = box_iou(truth, shifted)  # 320 / 480
    metric = COCODetectionAP().bind(coco, CATEGORY_IDS)
    metric.update_image(2, [shifted], [0.9], [2])  # only image 2 is evaluated: image 1's objects are not misses
    scores = metric.get()
    assert scores["AP50"] == pytest.approx(1.0) and scores["AP75"] == 0.0
    assert scores["AP"] == pytest.approx(np.mean(iou >= THRESHOLDS))  # hits at 0.5, 0.55, 0.6, 0.65 of ten thresholds


def test_only_the_updated_images_are_evaluated(coco):
    metric = COCODetectionAP().bind(coco, CATEGORY_IDS)
    metric.update_image(2, **answers(coco, 2))
    assert metric.get()["AP"] == pytest.approx(1.0)
    metric.update_image(1, np.zeros((0, 4)), [], [])  # image 1 now counts, and its two objects were missed
    assert metric.get()["AR100"] == pytest.approx(1 / 3)


def test_a_wrong_category_mapping_scores_zero(coco):
    metric = COCODetectionAP().bind(coco, [7, 12, 3])
    for image_id in SIZES:
        metric.update_image(image_id, **answers(coco, image_id))
    assert metric.get()["AP"] == 0.0


def test_no_detections_at_all_score_zero(coco, tmp_path):
    metric = COCODetectionAP(iou_type=("bbox", "segm")).bind(coco, CATEGORY_IDS, tmp_path / "detections.json")
    for image_id in SIZES:
        metric.update_image(image_id, np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, np.int64), np.zeros((0, *SIZES[image_id])))
    with pytest.warns(RuntimeWarning, match="No detections"):
        scores = metric.get()
    assert scores["AP"] == scores["AP50"] == scores["AR100"] == scores["segm_AP"] == 0.0
    assert json.loads((tmp_path / "detections.json").read_text()) == []


def test_a_detection_on_the_crowd_is_ignored_but_one_on_empty_ground_is_a_false_positive(coco):
    def ap_with_extra(box: list[float]) -> float:
        metric = COCODetectionAP().bind(coco, CATEGORY_IDS)
        found = answers(coco, 1)
        metric.update_image(1, np.vstack([[box], found["boxes"]]), np.r_[0.95, found["scores"]], np.r_[0, found["labels"]])
        return metric.get()["AP"]

    assert ap_with_extra([75, 65, 105, 90]) == pytest.approx(1.0)  # inside the crowd of category 3
    assert ap_with_extra([5, 60, 35, 90]) < 0.9  # the same kind of box where there is nothing


def test_masks_may_come_as_rle(coco):
    found = answers(coco, 1)
    compressed = mask_utils.encode(np.asfortranarray(found["masks"][0]))  # counts as bytes
    column_major = found["masks"][1].flatten(order="F")
    edges = np.flatnonzero(np.diff(np.r_[0, column_major, 1 - column_major[-1]]))
    uncompressed = {"size": list(SIZES[1]), "counts": np.diff(np.r_[0, edges]).tolist()}  # runs of 0s, 1s, 0s, ...
    metric = COCODetectionAP(iou_type="segm").bind(coco, CATEGORY_IDS)
    metric.update_image(1, found["boxes"], found["scores"], found["labels"], [compressed, uncompressed])
    assert metric.get()["segm_AP"] == pytest.approx(1.0)
    assert all(isinstance(r["segmentation"]["counts"], str) for r in metric.results)


def test_update_takes_a_batch_of_images_and_reset_forgets_them(coco, capsys):
    metric = COCODetectionAP("bbox", verbose=True).bind(coco, CATEGORY_IDS)
    targets = [{"image_id": 1}, 2]
    outputs = [answers(coco, 1), tuple(answers(coco, 2).values())[:3]]
    metric.update(targets, outputs)
    assert metric.get()["AP"] == pytest.approx(1.0)
    assert "Average Precision" in capsys.readouterr().out
    metric.reset()
    assert np.isnan(metric.get()["AP"])  # no image updated: nothing to report


def test_the_metric_honours_the_metric_contract(coco):
    from cvcore.testing import check_metric

    scores = check_metric("coco_detection", [1, 2], [answers(coco, 1), answers(coco, 2)],
                          prepare=lambda metric: metric.bind(coco, CATEGORY_IDS))
    assert scores["AP"] == pytest.approx(1.0)


def test_mistakes_are_named(coco):
    with pytest.raises(ConfigError, match="iou_type"):
        COCODetectionAP(iou_type="keypoints")
    with pytest.raises(CvcoreError, match="bind"):
        COCODetectionAP().update_image(1, [[0, 0, 1, 1]], [1.0], [0])
    with pytest.raises(CvcoreError, match=r"\[5\]"):
        COCODetectionAP().bind(coco, [3, 5])
    metric = COCODetectionAP(iou_type="segm").bind(coco, CATEGORY_IDS)
    with pytest.raises(CvcoreError, match="Image id 99"):
        metric.update_image(99, [[0, 0, 1, 1]], [1.0], [0], np.zeros((1, 1, 1)))
    with pytest.raises(ValueError, match="labels must be class indices 0..2"):
        metric.update_image(2, [[0, 0, 1, 1]], [1.0], [3], np.zeros((1, 60, 80)))
    with pytest.raises(CvcoreError, match="no masks"):
        metric.update_image(2, [[0, 0, 1, 1]], [1.0], [0])
    with pytest.raises(ValueError, match=r"\(1, 60, 80\)"):
        metric.update_image(2, [[0, 0, 1, 1]], [1.0], [0], np.zeros((1, 80, 60)))


def test_by_default_masks_are_evaluated_when_the_detector_gives_them(coco):
    with_masks = COCODetectionAP().bind(coco, CATEGORY_IDS)
    with_masks.update([1, 2], [answers(coco, 1), answers(coco, 2)])
    assert with_masks.get()["segm_AP"] == pytest.approx(1.0)
    boxes_only = COCODetectionAP().bind(coco, CATEGORY_IDS)
    boxes_only.update([1, 2], [tuple(answers(coco, i).values())[:3] for i in (1, 2)])
    assert "segm_AP" not in boxes_only.get()
