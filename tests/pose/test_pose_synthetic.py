"""cvcore_pose.synthetic: a COCO keypoints set of stick figures, self-consistent, deterministic, left/right learnable."""
from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cvcore.errors import ConfigError
from cvcore_pose.coco import COCOKeypoints, SkippedAnnotationsWarning
from cvcore_pose.evaluation import coco_keypoint_ap, keypoint_results
from cvcore_pose.keypoints import JOINTS, NUM_JOINTS, coco_category
from cvcore_pose.synthetic import MIN_BOX, MIN_JOINTS, forward_kinematics, render, sample_pose, synthesize

SMALL = {"train": 6, "val": 8, "size": [128, 96], "max_people": 4, "progress": False}  # size as the CLI's TOML gives it
J = {name: index for index, name in enumerate(JOINTS)}


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def quiet_coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("keypoints")
    summary = synthesize(root, **SMALL)
    assert summary["train"]["images"] == 6 and summary["val"]["images"] == 8
    assert summary["val"]["detections"] == len(json.loads((root / "annotations" / "detections_val.json").read_text()))
    return root


def test_writes_the_coco_layout_with_images_of_the_asked_size(dataset):
    written = files(dataset)
    assert set(written) == (
        {f"train/{i:012d}.jpg" for i in range(1, 7)} | {f"val/{i:012d}.jpg" for i in range(1, 9)}
        | {f"annotations/{name}.json" for name in ("person_keypoints_train", "person_keypoints_val", "detections_val")}
    )
    for split in ("train", "val"):
        coco = quiet_coco(dataset / "annotations" / f"person_keypoints_{split}.json")
        assert coco.loadCats(coco.getCatIds()) == [coco_category()]
        assert len(coco.getAnnIds()) > 0
        for image in coco.loadImgs(coco.getImgIds()):
            assert (image["width"], image["height"]) == (128, 96)
            assert cv2.imread(str(dataset / split / image["file_name"])).shape == (96, 128, 3)


@pytest.mark.parametrize("split", ["train", "val"])
def test_every_annotation_is_a_sample_the_loader_reads_back_exactly(dataset, split):
    """The generator writes only persons the COCO reader accepts, and their joints score AP 1 only where they are."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedAnnotationsWarning)  # nothing written is left out
        data = COCOKeypoints(dataset, split)
    written = quiet_coco(dataset / "annotations" / f"person_keypoints_{split}.json")
    assert len(data.records) == len(written.getAnnIds())
    joints = np.stack([record["joints"] for record in data.records])
    image_ids = [record["image_id"] for record in data.records]

    def ap(shift: float) -> float:
        results = keypoint_results(image_ids, joints[..., :2] + shift, np.ones(joints.shape[:2]), np.ones(len(joints)))
        return coco_keypoint_ap(data.coco, results)["AP"]

    assert ap(0.0) == pytest.approx(1.0)
    assert ap(3.0) < 0.9  # three pixels off on 96-pixel-high images: the score sees it


def test_annotations_area_visibility_and_boxes_are_consistent(dataset):
    for split in ("train", "val"):
        data = json.loads((dataset / "annotations" / f"person_keypoints_{split}.json").read_text())
        sizes = {image["id"]: (image["width"], image["height"]) for image in data["images"]}
        assert [a["id"] for a in data["annotations"]] == list(range(1, len(data["annotations"]) + 1))
        for annotation in data["annotations"]:
            width, height = sizes[annotation["image_id"]]
            x, y, w, h = annotation["bbox"]
            assert annotation["area"] == 0.5 * w * h
            assert annotation["category_id"] == 1 and annotation["iscrowd"] == 0
            assert min(w, h) >= MIN_BOX and x >= 0 and y >= 0 and x + w <= width and y + h <= height
            kps = np.array(annotation["keypoints"]).reshape(NUM_JOINTS, 3)
            v = kps[:, 2]
            assert set(v) <= {0, 1, 2} and annotation["num_keypoints"] == (v > 0).sum() >= MIN_JOINTS
            assert (v == 2).any()
            assert (kps[v == 0, :2] == 0).all()
            labelled = kps[v > 0, :2]
            assert (labelled >= 0).all() and (labelled[:, 0] <= width - 1).all() and (labelled[:, 1] <= height - 1).all()
            assert (labelled[:, 0] >= x).all() and (labelled[:, 0] <= x + w).all()
            assert (labelled[:, 1] >= y).all() and (labelled[:, 1] <= y + h).all()
            assert (labelled * 16 == np.rint(labelled * 16)).all()  # on the 1/16-pixel drawing grid


def test_some_joints_are_occluded_and_some_outside(tmp_path):
    people = [p for i in range(40) for p in render(160, 120, 4, np.random.default_rng([7, i]))[1]]
    v = np.concatenate([p["keypoints"][:, 2] for p in people])
    counts = np.bincount(v.astype(int), minlength=3)
    assert counts[2] > counts[1] > 0 and counts[0] > 0


def test_detections_simulate_a_decent_person_detector(dataset):
    gt = quiet_coco(dataset / "annotations" / "person_keypoints_val.json")
    detections = json.loads((dataset / "annotations" / "detections_val.json").read_text())
    assert detections and all(set(d) == {"image_id", "category_id", "bbox", "score"} for d in detections)
    for d in detections:
        x, y, w, h = d["bbox"]
        assert d["image_id"] in gt.imgs and d["category_id"] == 1 and 0 < d["score"] < 1
        assert w >= 1 and h >= 1 and x >= 0 and y >= 0 and x + w <= 128 + 1e-6 and y + h <= 96 + 1e-6
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(gt, gt.loadRes(detections), iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert evaluation.stats[1] > 0.7  # AP at IoU 0.5: boxes a few % off, a few missed


def test_same_seed_same_bytes_other_seed_differs_more_images_keep_the_first(tmp_path, dataset):
    small = {**SMALL, "train": 3, "val": 2, "detections": False}
    synthesize(tmp_path / "a", **small)
    synthesize(tmp_path / "b", **small)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    synthesize(tmp_path / "c", **{**small, "seed": 1})
    a, c = files(tmp_path / "a"), files(tmp_path / "c")
    assert a["annotations/person_keypoints_train.json"] != c["annotations/person_keypoints_train.json"]
    assert a["train/000000000001.jpg"] != c["train/000000000001.jpg"]
    assert a["train/000000000001.jpg"] != a["val/000000000001.jpg"]  # splits are seeded apart
    assert a["train/000000000003.jpg"] == files(dataset)["train/000000000003.jpg"]


def test_left_is_on_the_image_right_when_facing_the_camera():
    rng = np.random.default_rng(0)
    facing, away = [], []
    for _ in range(400):
        pose = sample_pose(rng)
        joints = forward_kinematics(pose, 50.0).joints
        on_right = joints[J["left_shoulder"], 0] > joints[J["right_shoulder"], 0]
        (facing if pose.facing_camera else away).append(on_right)
    assert len(facing) > len(away) > 20
    assert np.mean(facing) > 0.95 and np.mean(away) < 0.05


def test_left_limbs_are_drawn_lighter_than_right_limbs():
    lighter = []
    for i in range(60):
        image, people = render(200, 150, 3, np.random.default_rng([3, i]))
        grey = image.astype(float) @ [0.299, 0.587, 0.114]
        for person in people:
            kps = person["keypoints"]
            for joint in ("elbow", "wrist"):
                left, right = kps[J[f"left_{joint}"]], kps[J[f"right_{joint}"]]
                if left[2] == right[2] == 2:
                    lighter.append(grey[int(round(left[1])), int(round(left[0]))] > grey[int(round(right[1])), int(round(right[0]))])
    assert len(lighter) > 50 and np.mean(lighter) > 0.8


def test_refuses_a_non_empty_directory_unless_overwrite_and_bad_options(tmp_path):
    small = {**SMALL, "train": 1, "val": 1}
    synthesize(tmp_path, **small)
    with pytest.raises(ConfigError, match="overwrite=true"):
        synthesize(tmp_path, **small)
    synthesize(tmp_path, **{**small, "val": 0, "overwrite": True})
    assert not list((tmp_path / "val").iterdir())
    for bad in ({"train": 0}, {"size": 16}, {"max_people": 0}):
        with pytest.raises(ConfigError):
            synthesize(tmp_path / "new", **{**small, **bad})
