"""The pose task through the command line: synth, train, eval, predict --out."""
from __future__ import annotations

import json
import os
import stat

import pytest
import tomli_w
from conftest import run_cli

from cvcore.data.image import read_image
from cvcore.pipeline import RandomWeightsWarning
from cvcore.zoo import list_models


def test_synth_train_eval_predict(capsys, tmp_path):
    data = tmp_path / "keypoints"
    code, out, _ = run_cli(capsys, "data", "synth", "keypoints", str(data), "--set", "train=4", "--set", "val=2",
                           "--set", "size=[128, 96]", "--set", "progress=false")
    assert code == 0 and (data / "annotations" / "person_keypoints_val.json").is_file()

    config = tmp_path / "pose.toml"
    config.write_text(tomli_w.dumps({
        "task": "pose",
        "backbone": {"name": "resnet18_v1b"},
        "input_shape": [1, 3, 64, 64],
        "data": {"dataset": "coco_keypoints", "root": str(data)},
        "augment": {"rotation_factor": 30},
        "train": {"epochs": 1, "batch_size": 4, "optimizer": "adam", "lr": 1e-3, "progress": False},
    }))
    code, out, _ = run_cli(capsys, "train", str(config), "--out", str(tmp_path / "run"))
    assert code == 0
    saved = tmp_path / "run"
    assert (saved / "pipeline.toml").is_file()

    metrics = tmp_path / "metrics.json"
    code, out, _ = run_cli(capsys, "eval", str(saved), "--json", str(metrics))
    assert code == 0 and "AP" in out
    assert set(json.loads(metrics.read_text())) >= {"AP", "AP50", "AR"}

    image = data / "val" / "000000000001.jpg"
    drawn = tmp_path / "drawn.jpg"
    code, out, _ = run_cli(capsys, "predict", "--model", str(saved), str(image), "--out", str(drawn),
                           "--set", "boxes=[[10, 10, 40, 70]]")
    assert code == 0 and "1 person" in out and str(drawn) in out
    assert read_image(drawn).shape == read_image(image).shape


def test_predict_without_boxes_says_what_to_install(capsys, tmp_path):
    data = tmp_path / "keypoints"
    run_cli(capsys, "data", "synth", "keypoints", str(data), "--set", "train=1", "--set", "val=1", "--set", "progress=false")
    code, out, err = run_cli(capsys, "predict", "--model", "simple_pose_resnet18_v1b", str(data / "val" / "000000000001.jpg"))
    if list_models(task="detection"):  # a detector plugin is installed, but no detector's weights are here: none is downloaded
        assert code != 0 and "No detection model has its weights on this machine" in err and "faster_rcnn_fpn_resnet50_v1b_coco" in err
    else:
        assert code != 0 and "cvcore[rcnn]" in err


def test_eval_of_a_zoo_model_without_weights_warns(capsys, tmp_path):
    data = tmp_path / "keypoints"
    run_cli(capsys, "data", "synth", "keypoints", str(data), "--set", "train=1", "--set", "val=1", "--set", "progress=false")
    with pytest.warns(RandomWeightsWarning, match="Zoo model 'simple_pose_resnet18_v1b' evaluates with random weights"):
        code, out, err = run_cli(capsys, "eval", "simple_pose_resnet18_v1b", "--data", str(data))
    assert code == 0 and "AP" in out


def test_predict_a_folder_writes_raw_json_and_reports_the_threshold_in_force(capsys, tmp_path):
    data = tmp_path / "keypoints"
    run_cli(capsys, "data", "synth", "keypoints", str(data), "--set", "train=1", "--set", "val=3", "--set", "progress=false")
    images = sorted((data / "val").glob("*.jpg"))
    old_umask = os.umask(0o022)
    try:
        code, out, err = run_cli(capsys, "predict", "simple_pose_resnet18_v1b", str(data / "val"), "--out", str(tmp_path / "drawn"),
                                 "--json", str(tmp_path / "poses.json"), "--set", "boxes=[[10, 10, 40, 70]]", "--set", "threshold=0.05")
    finally:
        os.umask(old_umask)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(p) for p in images]  # every image, sorted
    assert all("1 person, joints above 0.05: " in line for line in lines)
    records = json.loads((tmp_path / "poses.json").read_text())
    assert [r["input"] for r in records] == [str(p) for p in images]
    person = records[0]["people"][0]
    assert person["box"] == [10.0, 10.0, 40.0, 70.0] and len(person["keypoints"]) == 17
    assert all(len(joint) == 3 for joint in person["keypoints"]) and records[0]["threshold"] == 0.05
    counted = int(lines[0].split("joints above 0.05: ")[1].split(";")[0])
    assert counted == sum(joint[2] > 0.05 for joint in person["keypoints"])
    for drawing in (tmp_path / "drawn").iterdir():
        assert stat.S_IMODE(drawing.stat().st_mode) == 0o644, drawing  # the user's umask, not 0600


def test_predict_names_an_empty_folder(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "predict", "simple_pose_resnet18_v1b", str(tmp_path / "empty"))
    assert code == 1 and f"The folder {tmp_path / 'empty'} holds no images" in err


def test_cvcore_demo_runs_the_pose_demo_by_default(capsys, monkeypatch):
    from cvcore_pose.task import PoseTask

    calls = []
    monkeypatch.setattr(PoseTask, "demo", lambda self, **options: calls.append(options) or 0)
    code, _, _ = run_cli(capsys, "demo", "--set", "epochs=1")
    assert code == 0 and calls == [{"epochs": 1}]
