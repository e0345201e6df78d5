"""Pascal VOC mAP: the devkit's matching rules and both AP definitions, on cases worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cvcore.data.coco import quiet_coco
from cvcore.errors import ConfigError, CvcoreError
from cvcore.metrics.voc import VOCDetectionAP, average_precision
from cvcore.plugins import get


def ground_truth(objects: list[tuple[int, int, list[float], bool]], categories=("cat", "dog")):
    """A COCO ground truth of images 1 and 2 from (image id, category id, box x1 y1 x2 y2, difficult)."""
    annotations = [{"id": i + 1, "image_id": image, "category_id": category, "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1), "iscrowd": int(difficult)}
                   for i, (image, category, (x1, y1, x2, y2), difficult) in enumerate(objects)]
    return quiet_coco({"images": [{"id": i, "file_name": f"{i}.jpg", "width": 100, "height": 100} for i in (1, 2)],
                       "annotations": annotations, "categories": [{"id": i + 1, "name": n} for i, n in enumerate(categories)]})


A, B, C, D = [0, 0, 10, 10], [50, 50, 70, 70], [20, 20, 40, 40], [60, 0, 90, 30]
CASE = ground_truth([(1, 1, A, False), (1, 1, B, False), (2, 1, C, False), (2, 1, D, True)])
"""Class "cat": A and B in image 1, C and the difficult D in image 2 (3 positives); no "dog" anywhere."""


def scored(eleven_point: bool) -> dict[str, float]:
    metric = VOCDetectionAP(eleven_point=eleven_point).bind(CASE, [1, 2])
    metric.update_image(1, [A, A], [0.9, 0.8], [0, 0])  # a hit, then a duplicate of it: a false positive
    metric.update_image(2, [D, C, [95, 95, 99, 99]], [0.7, 0.6, 0.5], [0, 0, 0])  # difficult: neither; a hit; a miss
    return metric.get()


def test_voc07_is_the_mean_of_eleven_interpolated_precisions():
    # ranked hits T F T F over 3 positives: recall 1/3 1/3 2/3 2/3, precision 1 1/2 2/3 1/2
    # recall >= 0, .1, .2, .3: precision 1; >= .4, .5, .6: 2/3; >= .7 .. 1: none, 0 -> (4 + 3 * 2/3) / 11
    result = scored(eleven_point=True)
    assert result["AP_cat"] == pytest.approx(6 / 11)
    assert np.isnan(result["AP_dog"])  # no positives: no AP, and not in the mean
    assert result["mAP"] == pytest.approx(6 / 11)


def test_voc12_is_the_area_under_the_precision_envelope():
    # the envelope is 1 up to recall 1/3 and 2/3 up to recall 2/3: 1/3 * 1 + 1/3 * 2/3
    assert scored(eleven_point=False)["AP_cat"] == pytest.approx(5 / 9)


def test_an_overlap_of_exactly_the_threshold_is_a_miss_as_in_the_devkit():
    truth = ground_truth([(1, 1, [0, 0, 10, 10], False)])
    half = [0, 0, 10, 5]  # IoU 0.5 exactly
    metric = VOCDetectionAP().bind(truth, [1, 2])
    metric.update_image(1, [half], [0.9], [0])
    assert metric.get()["mAP"] == 0


def test_a_lower_threshold_takes_the_half_overlap():
    truth = ground_truth([(1, 1, [0, 0, 10, 10], False)])
    metric = VOCDetectionAP(iou_threshold=0.45).bind(truth, [1, 2])
    metric.update_image(1, [[0, 0, 10, 5]], [0.9], [0])
    assert metric.get()["mAP"] == 1


def test_detections_in_an_image_without_that_class_are_false_positives():
    truth = ground_truth([(1, 1, A, False), (2, 2, C, False)])
    metric = VOCDetectionAP(eleven_point=False).bind(truth, [1, 2])
    metric.update_image(1, [A], [0.5], [0])
    metric.update_image(2, [C, C], [0.9, 0.4], [0, 1])  # a cat where only a dog is (ranked first), then the dog
    result = metric.get()
    assert result["AP_cat"] == pytest.approx(0.5)  # precision 1/2 at recall 1
    assert result["AP_dog"] == 1 and result["mAP"] == pytest.approx(0.75)


def test_average_precision_of_a_perfect_ranking_is_one_and_of_nothing_zero():
    assert average_precision([0.5, 1.0], [1.0, 1.0], eleven_point=True) == 1
    assert average_precision([0.5, 1.0], [1.0, 1.0], eleven_point=False) == 1
    assert average_precision([], [], eleven_point=True) == 0 == average_precision([], [], eleven_point=False)


def test_registered_names_fix_the_method_and_write_coco_results(tmp_path):
    voc07 = get("metric", "voc07_map").build()
    voc12 = get("metric", "voc12_map").build(iou_threshold=0.5)
    assert voc07.eleven_point and not voc12.eleven_point
    voc07.bind(CASE, [1, 2], tmp_path / "detections.json")
    voc07.update_image(1, [A], [0.9], [0])
    voc07.get()
    assert json.loads((tmp_path / "detections.json").read_text()) == [{"image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 10.0, 10.0],
                                                                         "score": 0.9}]
    with pytest.raises(ConfigError, match="eleven_point"):
        get("metric", "voc07_map").build(eleven_point=False)


def test_bad_options_and_order_are_named():
    with pytest.raises(ConfigError, match="iou_threshold"):
        VOCDetectionAP(iou_threshold=1.5)
    with pytest.raises(CvcoreError, match="bind"):
        VOCDetectionAP().get()
    with pytest.raises(ValueError, match="labels must be class indices 0..1"):
        VOCDetectionAP().bind(CASE, [1, 2]).update_image(1, [A], [0.9], [2])
