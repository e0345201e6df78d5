"""Evaluation scores against exactly what the dataset loaded; COCO files that lie are named."""
from __future__ import annotations

import json

import numpy as np
import pytest
from test_pose_coco import annotation, ground_truth, keypoints, write_dataset

from cvcore.pipeline import Pipeline
from cvcore_pose.coco import COCOFormatError, COCOKeypoints, SkippedAnnotationsWarning
from cvcore_pose.evaluation import coco_keypoint_ap, keypoint_results


def ground_truth_as_predictions(dataset: COCOKeypoints) -> list[dict]:
    joints = np.stack([r["joints"] for r in dataset.records])
    return keypoint_results([r["image_id"] for r in dataset.records], joints[..., :2], np.ones(joints.shape[:2]),
                            np.ones(len(joints)))


def test_the_ground_truth_fed_back_scores_one_despite_rejected_annotations(tmp_path):
    write_dataset(tmp_path, "val", [
        annotation(1), annotation(2, image_id=2, bbox=(8, 4, 30, 36)),
        {**annotation(3), "keypoints": keypoints(5, length=48)},  # wrong length, on an image with a valid person
        annotation(4, image_id=2, bbox=(5, 5, 0, 10)),  # zero area
        {**annotation(5, image_id=2), "category_id": 2},  # a dog
    ])
    with pytest.warns(SkippedAnnotationsWarning):
        dataset = COCOKeypoints(tmp_path, "val")
    assert coco_keypoint_ap(dataset.coco, ground_truth_as_predictions(dataset))["AP"] == pytest.approx(1.0)


def test_a_wrong_num_keypoints_in_the_file_does_not_change_the_score(tmp_path):
    write_dataset(tmp_path, "val", [annotation(1, num_keypoints=0), annotation(2, image_id=2, num_keypoints=17)])
    dataset = COCOKeypoints(tmp_path, "val")
    assert [a["num_keypoints"] for a in dataset.coco.loadAnns(dataset.coco.getAnnIds())] == [5, 5]
    assert coco_keypoint_ap(dataset.coco, ground_truth_as_predictions(dataset))["AP"] == pytest.approx(1.0)


def test_repeated_ids_are_named(tmp_path):
    path = write_dataset(tmp_path, "val", [annotation(1), annotation(1, image_id=2)])
    with pytest.raises(COCOFormatError, match=r"annotations\[1\] repeats the id 1 of annotations\[0\]"):
        COCOKeypoints(tmp_path, "val")
    data = ground_truth([annotation(1)])
    data["images"].append({**data["images"][0], "file_name": "other.jpg"})
    path.write_text(json.dumps(data))
    with pytest.raises(COCOFormatError, match=rf"{path}: images\[2\] repeats the id 1 of images\[0\]"):
        COCOKeypoints(tmp_path, "val")


def test_a_declared_size_that_is_not_the_files_is_named(tmp_path):
    path = write_dataset(tmp_path, "val", [annotation(1)])
    data = json.loads(path.read_text())
    data["images"][0]["width"] = 640
    path.write_text(json.dumps(data))
    dataset = COCOKeypoints(tmp_path, "val")
    with pytest.raises(COCOFormatError, match=r"image_id 1 declares 640x48 pixels but .*000000000001.jpg is 64x48"):
        dataset[0]


def test_an_unreadable_image_is_left_out_of_predictions_and_ground_truth(tmp_path):
    write_dataset(tmp_path, "val", [annotation(1), annotation(2, image_id=2, bbox=(8, 4, 30, 36))])
    (tmp_path / "val" / "000000000001.jpg").write_bytes(b"not a jpeg")
    pipeline = Pipeline.from_model("simple_pose_resnet18_v1b", input_shape=[1, 3, 64, 64],
                                   data={"root": str(tmp_path), "on_bad_image": "skip"})
    dataset = pipeline.task.dataset(pipeline, "val")
    with pytest.warns(Warning):
        scores = pipeline.evaluate(dataset, results_file=str(tmp_path / "results.json"))
    assert scores["skipped_images"] == 1.0
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["image_id"] for r in results] == [2]  # the stand-in's prediction is not counted twice
