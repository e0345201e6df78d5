"""`cvcore deploy` with the int8 plugin: calibration from a dataset root, per-transform options, the accuracy report."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli, write_classification_config

import cvcore.plugins
from cvcore.cli import step_options
from cvcore.data.image import write_image
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore_int8_vnni.mxnet_backend import quantized_layers


def test_options_go_to_the_transforms_that_take_them_or_to_the_one_named():
    options = {"fuse": False, "int8.calib_mode": "entropy", "onnx.path": "m.onnx", "num_calib_examples": 8}
    assert step_options(["hybridize", "int8", "onnx"], options, "out") == [
        ("hybridize", {"fuse": False}),
        ("int8", {"calib_mode": "entropy", "num_calib_examples": 8}),
        ("onnx", {"path": "m.onnx"}),
    ]
    assert step_options(["onnx"], {}, "out") == [("onnx", {"path": "out/model.onnx"})]


def test_an_option_no_transform_takes_is_named(capsys, trained_classifier, tmp_path):
    with pytest.raises(ConfigError, match=r"'calib_mod' \(did you mean 'calib_mode'\?\)"):
        step_options(["hybridize", "int8"], {"calib_mod": "entropy"}, "out")
    with pytest.raises(ConfigError, match="no 'int8' step among the transforms hybridize"):
        step_options(["hybridize"], {"int8.calib_mode": "entropy"}, "out")
    trained_classifier.save(tmp_path / "fp32")
    code, _, err = run_cli(capsys, "deploy", tmp_path / "fp32", "--transform", "hybridize", "--set", "fus=false", "--out", tmp_path / "x")
    assert code == 1 and "'fus' (did you mean 'fuse'?)" in err and not (tmp_path / "x").exists()


def test_deploy_int8_with_calibration_root_and_report(capfd, trained_classifier, stripes_root, tmp_path):
    trained_classifier.save(tmp_path / "fp32")
    code, out, err = run_cli(capfd, "deploy", tmp_path / "fp32", "--transform", "int8", "--calib", stripes_root,
                             "--set", "int8.num_calib_examples=32", "--out", tmp_path / "int8", "--report",
                             "--json", tmp_path / "report.json")
    assert code == 0, err
    assert "deployed int8" in out and "top1" in out and "delta" in out
    assert "Subgraph backend" not in err  # MXNet's C++ log line, off by default (MXNET_SUBGRAPH_VERBOSE=0)
    report = json.loads((tmp_path / "report.json").read_text())
    assert abs(report["deployed"]["top1"] - report["before"]["top1"]) <= 0.05
    reloaded = Pipeline.load(tmp_path / "int8")
    x = reloaded.example(2)
    reloaded.net(x)
    assert quantized_layers(reloaded.net) and reloaded.deployed[0]["num_calib_examples"] == 32


def test_deploy_onnx_writes_next_to_the_pipeline(capsys, trained_classifier, tmp_path):
    trained_classifier.save(tmp_path / "fp32")
    code, out, err = run_cli(capsys, "deploy", tmp_path / "fp32", "--transform", "onnx", "--out", tmp_path / "exported")
    assert code == 0, err
    assert (tmp_path / "exported" / "model.onnx").is_file()


def test_a_deployed_zoo_entry_brings_its_steps_and_refuses_others(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path / "home"))
    code, _, err = run_cli(capsys, "deploy", "mobilenet1.0_int8", "--transform", "onnx", "--out", tmp_path / "x")
    assert code == 1 and "drop --transform" in err
    code, _, err = run_cli(capsys, "deploy", "resnet18_v1", "--out", tmp_path / "x")
    assert code == 1 and "--transform" in err


def test_deploy_builds_an_int8_zoo_entry_from_fp32_params(capsys, tmp_path):
    """As with ImageNet: 1000 class folders to calibrate a 1000-class model (one small image each here)."""
    rng = np.random.default_rng(0)
    for index in range(1000):
        write_image(tmp_path / "imagenet" / "train" / f"n{index:08d}" / "0.png", rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
    fp32 = Pipeline.from_model("mobilenet1.0")
    fp32.net.save_parameters(str(tmp_path / "mobilenet.params"))
    code, out, err = run_cli(capsys, "deploy", "mobilenet1.0_int8", "--pretrained", tmp_path / "mobilenet.params",
                             "--calib", tmp_path / "imagenet", "--set", "int8.num_calib_examples=16", "--out", tmp_path / "built")
    assert code == 0, err
    built = Pipeline.load(tmp_path / "built")
    assert built.model_name == "mobilenet1.0_int8" and built.deployed[0]["num_calib_examples"] == 16
    x = built.example(2)
    assert built.net(x).shape == (2, 1000) and quantized_layers(built.net)


def test_deploy_with_the_int8_plugin_disabled_names_it(capsys, tmp_path, tinynet, color_folders):
    config = write_classification_config(tmp_path / "c.toml", color_folders, size=32)
    cvcore.plugins.reset_host(disabled={"tinynet", "int8-vnni"})
    cvcore.plugins.register_plugin(tinynet, name="tinynet")
    code, _, err = run_cli(capsys, "deploy", str(config), "--transform", "int8", "--out", str(tmp_path / "x"))
    assert code == 1 and "int8-vnni" in err and "disabled" in err
