"""SSD through the command line on a VOC folder: train, eval (VOC07 mAP per class), predict, and pose on its boxes."""
from __future__ import annotations

import json

import pytest
import tomli_w
from conftest import run_cli

from cvcore.cli import main
from cvcore.data.image import read_image
from cvcore.data.synthetic.voc import CLASSES, synthesize
from cvcore.pipeline import Pipeline

SMALL_SSD = {
    "task": "detection", "backbone": {"name": "resnet18_v1"}, "loss": {"name": "multibox"}, "metric": {"name": "voc07_map"},
    "neck": {"name": "ssd_extras", "layers": [[32, 64, 3, 2, 1]], "batch_norm": True},
    "head": {"name": "ssd", "sizes": [20, 45, 70, 96], "ratios": [[1, 2, 0.5]] * 3, "steps": [16, 32, 64]},
    "input_shape": [1, 3, 96, 96], "classes": len(CLASSES), "class_names": list(CLASSES),
}


@pytest.fixture(scope="module")
def ssd_run(tmp_path_factory):
    """An SSD trained one epoch on a few synthetic VOC images by ``cvcore train``, and its data."""
    root = tmp_path_factory.mktemp("ssd-cli")
    data = synthesize(root / "voc", train=8, val=3, size=(96, 96), progress=False)
    config = root / "ssd.toml"
    config.write_text(tomli_w.dumps({
        **SMALL_SSD, "data": {"dataset": "voc_detection", "root": str(data), "classes": list(CLASSES)},
        "augment": {"photometric": True, "expand": 2, "crop": True},
        "train": {"epochs": 1, "batch_size": 4, "lr": 0.01, "progress": False},
    }))
    assert main(["train", str(config), "--out", str(root / "run")]) == 0
    return root / "run", data


def test_train_then_eval_reports_voc07_map_per_class(capsys, ssd_run, tmp_path):
    saved, _ = ssd_run
    metrics = tmp_path / "metrics.json"
    code, out, _ = run_cli(capsys, "eval", str(saved), "--json", str(metrics))
    assert code == 0 and "mAP" in out
    values = json.loads(metrics.read_text())
    assert {"mAP", *(f"AP_{name}" for name in CLASSES)} <= set(values) and 0 <= values["mAP"] <= 1


def test_predict_draws_the_boxes(capsys, ssd_run, tmp_path):
    saved, data = ssd_run
    image = sorted((data / "JPEGImages").glob("val_*.jpg"))[0]
    drawn, answers = tmp_path / "drawn.jpg", tmp_path / "answers.json"
    code, _, err = run_cli(capsys, "predict", "--model", str(saved), str(image), "--out", str(drawn), "--json", str(answers),
                           "--set", "threshold=0.0")
    assert code == 0, err
    found = json.loads(answers.read_text())[0]["detections"]
    assert found and all(detection["label"] in CLASSES and len(detection["box"]) == 4 for detection in found)
    assert read_image(drawn).shape == read_image(image).shape


def test_pose_runs_on_an_ssds_boxes(capsys, ssd_run, tmp_path):
    """A person detector cut from the SSD (its most confident shape renamed ``person``) feeds pose."""
    saved, data = ssd_run
    image = sorted((data / "JPEGImages").glob("val_*.jpg"))[0]
    detector = Pipeline.load(saved)
    found = detector.predict(str(image), threshold=0.0)[0]
    best = max(found, key=lambda detection: detection["score"])
    detector.reset_class(["person"], reuse_weights={"person": best["label"]})
    people = detector.save(tmp_path / "person_detector")
    answers = tmp_path / "pose.json"
    code, _, err = run_cli(capsys, "predict", "--model", "simple_pose_resnet18_v1b", "--set", f"detector={people}",
                           "--set", "min_box_score=0", str(image), "--json", str(answers))
    assert code == 0, err
    poses = json.loads(answers.read_text())[0]["people"]
    assert poses and all(len(p["keypoints"]) == 17 for p in poses)
    # the person detector scores the reused class's boxes exactly as before (it may keep more of them: its 100 slots
    # are no longer shared with the other classes), and pose ran on its boxes
    persons = Pipeline.load(people).predict(str(image), threshold=0.0)[0]
    assert max(d["score"] for d in persons) == pytest.approx(best["score"], abs=1e-5)
    assert {round(p["box_score"], 4) for p in poses} <= {round(d["score"], 4) for d in persons}
