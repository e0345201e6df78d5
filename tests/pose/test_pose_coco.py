"""cvcore_pose.coco.COCOKeypoints: person samples from COCO files, skipped instances, detections, bad files."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvcore.data.folder import BadImageWarning
from cvcore.data.image import ImageReadError
from cvcore.errors import ConfigError
from cvcore_pose.coco import COCOFormatError, COCOKeypoints, SkippedAnnotationsWarning
from cvcore_pose.keypoints import coco_category
from cvcore_pose.transforms import TopDownTrainTransform

COLORS = {1: (200, 30, 10), 2: (10, 30, 200)}  # RGB per image id


def keypoints(labeled: int, length: int = 51) -> list[float]:
    """COCO's flat [x, y, v] * 17 with the first ``labeled`` joints at (10 + i, 20 + i), v=2."""
    flat = [0.0] * length
    for joint in range(labeled):
        flat[3 * joint: 3 * joint + 3] = [10.0 + joint, 20.0 + joint, 2]
    return flat


def annotation(ann_id: int, image_id: int = 1, bbox=(4, 6, 30, 40), labeled: int = 5, **extra) -> dict:
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": list(bbox), "iscrowd": 0,
            "keypoints": keypoints(labeled), "num_keypoints": labeled, "area": 1200.0, **extra}


def ground_truth(annotations: list[dict]) -> dict:
    return {
        "images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": 64, "height": 48} for i in COLORS],
        "annotations": annotations,
        "categories": [coco_category(), {"id": 2, "name": "dog", "supercategory": "animal"}],
    }


def write_dataset(root: Path, split: str, annotations: list[dict]) -> Path:
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / split).mkdir(exist_ok=True)
    for image_id, rgb in COLORS.items():
        cv2.imwrite(str(root / split / f"{image_id:012d}.jpg"), np.full((48, 64, 3), rgb[::-1], dtype=np.uint8))
    path = root / "annotations" / f"person_keypoints_{split}.json"
    path.write_text(json.dumps(ground_truth(annotations)))
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """Two usable people: one per image, the second's box sticking out of the image."""
    write_dataset(tmp_path, "val", [annotation(1), annotation(6, image_id=2, bbox=(-5, 10, 80, 50))])
    return tmp_path


def test_samples_and_records(good):
    dataset = COCOKeypoints(good, "val")
    assert len(dataset) == 2 and dataset.image_ids == [1, 2]
    assert dataset.annotation_file == good / "annotations" / "person_keypoints_val.json"
    assert dataset.coco.getAnnIds(imgIds=[2]) == [6]
    image, record = dataset[1]
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - COLORS[2]).max() < 8  # RGB, not BGR
    assert record["box"] == (0.0, 10.0, 64.0, 38.0)  # clipped to the 64x48 image
    assert record["joints"].shape == (17, 3) and record["joints"].dtype == np.float32
    assert record["joints"][4].tolist() == [14, 24, 2] and record["joints"][5, 2] == 0
    assert (record["image_id"], record["score"], record["ann_id"]) == (2, 1.0, 6)
    assert record["file"] == str(good / "val" / "000000000002.jpg")
    data, heatmaps, weight = TopDownTrainTransform((64, 48))(image, record, np.random.default_rng(0))
    assert data.shape == (3, 64, 48) and heatmaps.shape == (17, 16, 12)


def test_unusable_instances_are_skipped_with_one_counted_warning_per_reason(tmp_path):
    annotations = [
        annotation(1),
        annotation(2, iscrowd=1), annotation(12, iscrowd=1),
        annotation(3, labeled=0), annotation(4, bbox=(5, 5, 0, 10)), annotation(14, bbox=(70, 5, 10, 10)),
        {**annotation(5), "keypoints": keypoints(5, length=48)},
        {**annotation(7), "category_id": 2},  # not a person
        {**annotation(8), "keypoints": [3.0 if i % 3 == 2 else 10.0 for i in range(51)]},  # visibility 3
    ]
    path = write_dataset(tmp_path, "val", annotations)
    with pytest.warns(SkippedAnnotationsWarning) as caught:
        dataset = COCOKeypoints(tmp_path, "val")
    assert [r["ann_id"] for r in dataset.records] == [1]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 6 and all(m.startswith(f"{path}: skipped ") for m in messages)
    assert "1 annotation(s) of other categories than person (annotation ids 7)." in messages[0]
    assert "2 person annotation(s) with crowd annotations (iscrowd=1) (annotation ids 2, 12)." in messages[1]
    assert "1 person annotation(s) with keypoint arrays that are not 51 numbers long (annotation ids 5)." in messages[2]
    assert "1 person annotation(s) with keypoint visibility flags other than 0, 1 and 2 (annotation ids 8)." in messages[3]
    assert "2 person annotation(s) with boxes of zero or negative area" in messages[4]
    assert "(annotation ids 4, 14)." in messages[4]
    assert "1 person annotation(s) with too few labeled keypoints (annotation ids 3)." in messages[5]
    assert dataset.skipped_annotations == {"category": [7], "crowd": [2, 12], "area": [4, 14], "keypoint_length": [5],
                                           "visibility": [8], "keypoints": [3]}
    assert sorted(dataset.coco.getAnnIds()) == [1, 2, 12]  # the ground truth: the sample, and the crowd regions COCO ignores


def test_min_keypoints(tmp_path):
    write_dataset(tmp_path, "val", [annotation(1, labeled=2), annotation(2, labeled=3)])
    with pytest.warns(SkippedAnnotationsWarning, match=r"too few labeled keypoints \(annotation ids 1\)"):
        dataset = COCOKeypoints(tmp_path, "val", min_keypoints=3)
    assert [r["ann_id"] for r in dataset.records] == [2]


def write_detections(tmp_path: Path, detections) -> Path:
    path = tmp_path / "detections.json"
    path.write_text(json.dumps(detections))
    return path


def test_detection_boxes(good, tmp_path):
    boxes = write_detections(tmp_path, [
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 20, 30], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 20, 30], "score": 0.1},
        {"image_id": 1, "category_id": 2, "bbox": [1, 2, 20, 30], "score": 0.99},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 0, 30], "score": 0.95},
    ])
    zero_area = re.escape(f"{boxes}: skipped 1 person detection(s) with boxes of zero")
    with pytest.warns(SkippedAnnotationsWarning, match=zero_area) as caught:
        dataset = COCOKeypoints(good, "val", boxes=boxes, min_box_score=0.5)
    assert len(caught) == 1 and "(entries 3)" in str(caught[0].message)  # low scores are filtered, not warned about
    assert len(dataset) == 1 and dataset.image_ids == [2]
    _, record = dataset[0]
    assert record["box"] == (1.0, 2.0, 20.0, 30.0)
    assert (record["score"], record["ann_id"], record["image_id"]) == (0.9, -1, 2)
    assert not record["joints"].any() and record["joints"].shape == (17, 3)
    assert len(dataset.coco.getAnnIds()) == 2  # the ground truth, for COCOeval


@pytest.mark.parametrize(
    "detections, message",
    [
        ({"image_id": 1}, "must hold a JSON list"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}, {"image_id": 1, "bbox": [0, 0, 5, 5]}],
         "entry 1 needs the keys image_id, category_id, bbox and score"),
        ([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 1}],
         "entry 0 has image_id 99, which is not in"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5], "score": 1}], r"entry 0: 'bbox' must be 4 numbers"),
    ],
)
def test_malformed_detections_name_the_file_and_entry(good, tmp_path, detections, message):
    boxes = write_detections(tmp_path, detections)
    with pytest.raises(COCOFormatError, match=re.escape(str(boxes)) + ".*" + message):
        COCOKeypoints(good, "val", boxes=boxes)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        (json.dumps({"images": []}), "has no 'annotations' list"),
        (json.dumps({"images": {}, "annotations": []}), "has a dict as its 'images' list"),
        (json.dumps([1, 2]), "must hold a JSON object"),
        (json.dumps({**ground_truth([]), "annotations": [{"id": "a", "image_id": 1, "category_id": 1}]}),
         r"annotations\[0\] needs integer 'id'"),
        (json.dumps(ground_truth([annotation(8, image_id=5)])), "annotation id 8 refers to image_id 5"),
        (json.dumps(ground_truth([annotation(9, bbox=(1, 2, "3", 4))])), r"annotation id 9: 'bbox' must be 4 numbers"),
        (json.dumps(ground_truth([{**annotation(10), "keypoints": None}])),
         "annotation id 10: 'keypoints' must be a list"),
    ],
)
def test_malformed_annotation_files_name_the_file(good, content, message):
    path = good / "annotations" / "person_keypoints_val.json"
    path.write_text(content)
    with pytest.raises(COCOFormatError, match=re.escape(str(path)) + ".*" + message) as error:
        COCOKeypoints(good, "val")
    assert isinstance(error.value, ConfigError)


def test_missing_annotation_file_and_no_samples(good):
    with pytest.raises(COCOFormatError, match=r"person_keypoints_test\.json does not exist"):
        COCOKeypoints(good, "test")
    write_dataset(good, "val", [annotation(2, iscrowd=1)])
    with pytest.raises(ConfigError, match=r"gives no person samples \(1 with crowd annotations"), pytest.warns(
        SkippedAnnotationsWarning
    ):
        COCOKeypoints(good, "val")


def test_missing_image_raises_or_is_skipped(good):
    (good / "val" / "000000000001.jpg").unlink()
    with pytest.raises(ImageReadError, match=r"000000000001\.jpg does not exist.*image_id 1.*on_bad_image=\"skip\""):
        COCOKeypoints(good, "val")[0]
    dataset = COCOKeypoints(good, "val", on_bad_image="skip")
    with pytest.warns(BadImageWarning, match=r"000000000001\.jpg \(1 skipped so far"):
        image, record = dataset[0]
    assert record["image_id"] == 2 and image.shape == (48, 64, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file
        assert dataset[0][1]["image_id"] == 2
    assert list(dataset.skipped_images) == [str(good / "val" / "000000000001.jpg")]


def test_plain_split_names_fall_back_to_2017(tmp_path):
    write_dataset(tmp_path, "train2017", [annotation(1)])
    dataset = COCOKeypoints(tmp_path, "train")
    assert dataset.split == "train2017" and dataset.image_dir == tmp_path / "train2017"
    assert dataset.annotation_file.name == "person_keypoints_train2017.json"
    assert dataset[0][0].shape == (48, 64, 3)
    with pytest.raises(IndexError):
        dataset[1]


def test_explicit_paths(tmp_path):
    path = write_dataset(tmp_path / "elsewhere", "images", [annotation(1)])
    dataset = COCOKeypoints(tmp_path, "anything", annotation_file=path, image_dir=tmp_path / "elsewhere" / "images")
    assert dataset[0][1]["file"] == str(tmp_path / "elsewhere" / "images" / "000000000001.jpg")
