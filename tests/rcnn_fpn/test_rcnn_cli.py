"""R-CNN FPN through the command line: train Mask R-CNN on synthetic shapes, eval (bbox and segm mAP), predict, pose on its boxes."""
from __future__ import annotations

import json

import pytest
import tomli_w
from conftest import run_cli

from cvcore.cli import main
from cvcore.data.image import read_image
from cvcore.data.synthetic.shapes import synthesize
from cvcore.pipeline import Pipeline

SMALL_HEAD = {"name": "rcnn_fpn", "rpn_channels": 32, "rpn_pre_nms": [500, 300], "rpn_post_nms": [64, 50], "roi_samples": 32,
              "masks": True, "roi_size": 14}


@pytest.fixture(scope="module")
def mask_run(tmp_path_factory):
    """A Mask R-CNN trained one epoch on a few synthetic shapes by ``cvcore train``, and its data."""
    root = tmp_path_factory.mktemp("rcnn-cli")
    data = synthesize(root / "shapes", train=6, val=3, size=(128, 128), progress=False)
    config = root / "mask.toml"
    config.write_text(tomli_w.dumps({
        "task": "detection", "backbone": {"name": "resnet18_v1b"}, "neck": {"name": "fpn"}, "head": SMALL_HEAD, "loss": {"name": "rcnn"},
        "input_shape": [1, 3, 128, 128], "classes": 5, "masks": True, "max_objects": 10,
        "data": {"dataset": "coco_detection", "root": str(data)},
        "train": {"epochs": 1, "batch_size": 2, "lr": 0.005, "progress": False},
    }))
    assert main(["train", str(config), "--out", str(root / "run")]) == 0
    return root / "run", data


def test_train_then_eval_reports_bbox_and_segm_map(capsys, mask_run, tmp_path):
    saved, _ = mask_run
    metrics = tmp_path / "metrics.json"
    code, out, _ = run_cli(capsys, "eval", str(saved), "--json", str(metrics))
    assert code == 0 and "segm_AP" in out
    values = json.loads(metrics.read_text())
    assert {"AP", "AP50", "segm_AP", "segm_AP50"} <= set(values) and all(0 <= values[key] <= 1 for key in ("AP", "segm_AP"))


def test_predict_draws_boxes_and_masks(capsys, mask_run, tmp_path):
    saved, data = mask_run
    image = sorted((data / "val").glob("*.jpg"))[0]
    drawn = tmp_path / "drawn.jpg"
    code, out, _ = run_cli(capsys, "predict", "--model", str(saved), str(image), "--out", str(drawn), "--set", "threshold=0.0")
    assert code == 0 and "object" in out
    assert read_image(drawn).shape == read_image(image).shape


def test_pose_runs_on_a_detectors_boxes(capsys, mask_run, tmp_path):
    """A person detector cut from the shapes detector (its most confident shape renamed ``person``) feeds pose."""
    saved, data = mask_run
    image = sorted((data / "val").glob("*.jpg"))[0]
    detector = Pipeline.load(saved)
    found = detector.predict(str(image), threshold=0.0)[0]
    best = max(found, key=lambda detection: detection["score"])  # list of {"box", "score", "label"}
    detector.reset_class(["person"], reuse_weights={"person": best["label"]})
    people = detector.save(tmp_path / "person_detector")
    drawn, answers = tmp_path / "pose.jpg", tmp_path / "pose.json"
    code, out, err = run_cli(capsys, "predict", "--model", "simple_pose_resnet18_v1b", "--set", f"detector={people}",
                             "--set", "min_box_score=0", str(image), "--out", str(drawn), "--json", str(answers))
    assert code == 0, err
    poses = json.loads(answers.read_text())[0]["people"]
    # the person detector scores the reused class exactly as before, and pose ran on its boxes (with one class it may keep
    # boxes that the 100 slots shared by all classes left out, so they are compared with its own predictions)
    persons = Pipeline.load(people).predict(str(image), threshold=0.0)[0]
    assert max(d["score"] for d in persons) == pytest.approx(best["score"], abs=1e-5)
    assert poses and {round(p["box_score"], 4) for p in poses} <= {round(d["score"], 4) for d in persons}
    assert all(len(p["keypoints"]) == 17 for p in poses) and ("person" in out or "people" in out)
    assert read_image(drawn).shape == read_image(image).shape
