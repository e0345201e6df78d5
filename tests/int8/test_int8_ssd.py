"""SSD through the deploy paths: OpenVINO runs it like MXNet, and both INT8 backends quantize its convolutions
while its decoding and per-class NMS stay FP32."""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import pytest

from cvcore import zoo
from cvcore.pipeline import Pipeline
from cvcore_int8_vnni.layers import graph_nodes, output_layers
from cvcore_int8_vnni.mxnet_backend import quantized_layers

pytest.importorskip("cvcore_ssd")

CLASSES = 3


def small_ssd(score_threshold: float) -> Pipeline:
    return Pipeline("detection", backbone="resnet18_v1", classes=CLASSES, input_shape=[1, 3, 96, 96], loss="multibox",
                    neck={"name": "ssd_extras", "layers": [[32, 64, 3, 2, 1]], "batch_norm": True},
                    head={"name": "ssd", "sizes": [20, 45, 70, 96], "ratios": [[1, 2, 0.5]] * 3, "steps": [16, 32, 64],
                          "score_threshold": score_threshold})


@pytest.fixture(scope="module")
def ssd() -> Pipeline:
    """Random weights score every class about 1/4, with exact ties among the boxes: the ONNX check must take them in any order."""
    return small_ssd(0.2)


@pytest.fixture(scope="module")
def ssd_int8() -> Pipeline:
    """INT8 moves a random head's scores: every box passes 0.05."""
    return small_ssd(0.05)


@pytest.fixture(scope="module")
def images() -> mx.nd.NDArray:
    return mx.nd.array(np.random.default_rng(0).uniform(-2, 2, (4, 3, 96, 96)))


def assert_scores_near(deployed: Pipeline, fp32: Pipeline, images: mx.nd.NDArray) -> None:
    """The best 20 scores of each image, in rank order, within 0.03 of FP32's on average (a broken tail gives none)."""
    ours, theirs = (pipeline.net(images)[1].asnumpy()[:, :20] for pipeline in (deployed, fp32))
    assert np.abs(ours - theirs).mean() < 0.03


def assert_detection_contract(outputs, images: mx.nd.NDArray) -> None:
    labels, scores, boxes = (y.asnumpy() for y in outputs)
    assert labels.shape == scores.shape == boxes.shape[:2] and labels.shape[0] == images.shape[0] and boxes.shape[2] == 4
    found = labels >= 0
    assert found.any() and set(np.unique(labels[found])) <= set(range(CLASSES))
    assert (labels[~found] == -1).all()
    for image_scores, image_found in zip(scores, found):  # best first, the found ones before the empty slots
        assert (np.diff(image_scores[image_found]) <= 1e-6).all() and not image_found[image_found.sum():].any()


def test_openvino_runs_an_ssd_like_mxnet(ssd, images, tmp_path):
    pytest.importorskip("openvino")
    # the onnx transform runs the exported file on OpenVINO and raises on any output that differs
    ssd.copy().deploy("onnx", example=images, path=tmp_path / "ssd.onnx")
    deployed = ssd.copy().deploy("openvino", example=images)
    assert_detection_contract(deployed.net(images), images)


def test_mxnet_int8_quantizes_the_convolutions_and_keeps_the_post_processing_in_fp32(ssd_int8, images):
    deployed = ssd_int8.copy().deploy("int8", example=images, calib_data=images)
    graph = graph_nodes(deployed.net)
    quantized = set(quantized_layers(deployed.net))
    assert len(quantized) >= 15  # the backbone and extra layers
    predictors = output_layers(graph)  # a class and a box predictor on each of the 3 maps
    assert len(predictors) == 6 and not set(predictors) & quantized
    assert any(node["op"] == "_contrib_box_nms" for node in graph[0])
    assert_detection_contract(deployed.net(images), images)
    assert_scores_near(deployed, ssd_int8, images)


def test_openvino_int8_quantizes_the_convolutions_and_keeps_the_post_processing_in_fp32(ssd_int8, images):
    pytest.importorskip("nncf")
    deployed = ssd_int8.copy().deploy("int8", backend="openvino", example=images, calib_data=images)
    kinds = {op.get_type_name() for op in deployed.net.model.get_ops()}
    assert "FakeQuantize" in kinds and any("NonMaxSuppression" in kind or "NMS" in kind for kind in kinds)
    assert_detection_contract(deployed.net(images), images)
    assert_scores_near(deployed, ssd_int8, images)


def test_the_ssd_int8_entries_name_their_fp32_models():
    for base in ("ssd_300_vgg16_atrous_voc", "ssd_512_vgg16_atrous_voc", "ssd_512_resnet50_v1_voc", "ssd_512_mobilenet1.0_voc"):
        recipe = zoo.get_recipe(f"{base}_int8")
        assert recipe.base == base and recipe.task == "detection" and recipe.deploy[0]["transform"] == "int8"
    assert set(zoo.list_models(pattern="ssd_*_int8")) <= set(zoo.list_models(task="detection"))


def test_an_ssd_int8_entry_builds_from_fp32_weights_and_reloads(tmp_path, monkeypatch):
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path / "home"))
    small = {"input_shape": [1, 3, 256, 256]}
    fp32 = Pipeline.from_model("ssd_512_mobilenet1.0_voc", **small)
    fp32.net.save_parameters(str(tmp_path / "fp32.params"))
    calib = mx.nd.array(np.random.default_rng(1).uniform(-2, 2, (4, 3, 256, 256)))
    built = Pipeline.from_model("ssd_512_mobilenet1.0_voc_int8", pretrained=str(tmp_path / "fp32.params"), calib_data=calib, **small)
    assert quantized_layers(built.net) and built.model_name == "ssd_512_mobilenet1.0_voc_int8"
    built.save(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "deployed-symbol.json").read_text())["nodes"]
    loaded = Pipeline.load(tmp_path / "run")
    for ours, theirs in zip(loaded.net(calib), built.net(calib)):
        np.testing.assert_allclose(ours.asnumpy(), theirs.asnumpy(), rtol=1e-5, atol=1e-4)
