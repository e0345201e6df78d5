"""int8 with the MXNet oneDNN backend: accuracy kept, layers excluded, calibration modes, save/load, errors."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore_int8_vnni.mxnet_backend import quantized_layers

GLUONCV_TABLES = Path(__file__).resolve().parents[1] / "data" / "gluoncv" / "params"


@pytest.mark.parametrize("calib_mode", ["naive", "entropy"])
def test_int8_keeps_the_trained_classifiers_predictions(classifier, trained_classifier, val_set, top1, calib_mode):
    fp32 = top1(trained_classifier, val_set)
    labels = np.array([label for _, label in val_set])
    assert (fp32 == labels).mean() > 0.5  # a model worth quantizing
    calib = trained_classifier.task.dataset(trained_classifier, "train")
    classifier.deploy("int8", calib_data=calib, calib_mode=calib_mode, num_calib_examples=64)
    assert len(quantized_layers(classifier.net)) >= 20  # the convolutions run in INT8
    int8 = top1(classifier, val_set)
    assert (int8 == fp32).mean() >= 0.95
    accuracy = classifier.evaluate(val_set)
    assert abs(accuracy["top1"] - (fp32 == labels).mean()) <= 0.05


def test_excluded_layers_stay_fp32(classifier):
    x = classifier.example(8)
    default = classifier.copy().deploy("int8", calib_data=x, example=x)
    first_conv = classifier.copy().deploy("int8", calib_data=x, example=x, exclude=["*conv0_fwd"])
    everything = classifier.copy().deploy("int8", calib_data=x, example=x, exclude_output=False)
    counted = [len(quantized_layers(p.net)) for p in (first_conv, default, everything)]
    assert counted[0] < counted[1] < counted[2], counted


def test_calib_mode_none_needs_no_data_and_calibrated_modes_do(classifier):
    x = classifier.example(4)
    dynamic = classifier.copy().deploy("int8", example=x, calib_mode="none")
    assert dynamic.net(x).shape == (4, 4)
    with pytest.raises(ConfigError, match="needs calib_data"):
        classifier.copy().deploy("int8", example=x)


def test_saved_int8_pipeline_reloads_and_runs_without_calibration_data(classifier, tmp_path):
    x = classifier.example(8)
    classifier.deploy("int8", calib_data=mx.nd.random.uniform(-1, 1, (32, 3, 32, 32)), example=x, quantized_dtype="int8")
    expected = classifier.net(x).asnumpy()
    classifier.save(tmp_path / "int8")
    reloaded = Pipeline.load(tmp_path / "int8")
    np.testing.assert_allclose(reloaded.net(x).asnumpy(), expected, rtol=1e-5, atol=1e-5)
    assert reloaded.deployed[0]["transform"] == "int8" and reloaded.deployed[0]["quantized_dtype"] == "int8"
    assert len(quantized_layers(reloaded.net)) == len(quantized_layers(classifier.net))


def test_bad_options_are_named(classifier):
    x = classifier.example(4)
    with pytest.raises(ConfigError, match="'calib_mod' \\(did you mean 'calib_mode'\\?\\)"):
        classifier.deploy("int8", calib_data=x, calib_mod="entropy")
    with pytest.raises(ConfigError, match="calib_mode='kl' is not one of"):
        classifier.deploy("int8", calib_data=x, calib_mode="kl")
    with pytest.raises(ConfigError, match="exclude pattern '\\*nothing\\*' matches no layer"):
        classifier.deploy("int8", calib_data=x, exclude="*nothing*")
    with pytest.raises(ConfigError, match="backend='tensorrt'"):
        classifier.deploy("int8", calib_data=x, backend="tensorrt")
    with pytest.raises(ConfigError, match="shapes"):
        classifier.deploy("int8", calib_data=mx.nd.zeros((4, 3, 16, 16)))


def test_int8_after_the_hybridize_transform_quantizes_the_fused_graph(classifier, trained_classifier, val_set, top1):
    classifier.deploy("hybridize")
    x = classifier.example(8)
    with pytest.raises(ConfigError, match="conv0_fwd"):  # names are now oneDNN's fused ones
        classifier.copy().deploy("int8", calib_data=x, exclude="*conv0_fwd")
    classifier.deploy("int8", calib_data=trained_classifier.task.dataset(trained_classifier, "train"), exclude="sg_mkldnn_conv_bn_act_0")
    assert quantized_layers(classifier.net)
    assert (top1(classifier, val_set) == top1(trained_classifier, val_set)).mean() >= 0.95


def test_the_third_party_backbone_quantizes(tinynet):
    mx.random.seed(0)  # random weights and inputs: without a seed, 1 order in many fell just under the bound
    pipeline = Pipeline(task="classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    x = mx.nd.random.uniform(0, 1, (16, 3, 32, 32))
    expected = pipeline.net(x).asnumpy()
    pipeline.deploy("int8", calib_data=x, example=x)
    assert quantized_layers(pipeline.net)
    got = pipeline.net(x).asnumpy()
    assert np.corrcoef(expected.ravel(), got.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("name", ["mobilenet1.0", "resnet50_v1"])
def test_int8_graphs_hold_the_parameters_of_gluoncvs_int8_models(name):
    """The shapes of every parameter GluonCV's ``<name>_int8`` saves (tests/data/gluoncv/params), as a multiset."""
    table = json.loads((GLUONCV_TABLES / f"{name}_int8.json").read_text())
    pipeline = Pipeline.from_model(name, input_shape=[1, 3, 32, 32])
    pipeline.deploy("int8", calib_data=mx.nd.random.uniform(-1, 1, (8, 3, 32, 32)))
    shapes = sorted(list(p.data().shape) for p in pipeline.net.collect_params().values())
    assert shapes == sorted(table.values())


def test_a_detector_is_quantized_with_its_post_processing_in_fp32():
    pytest.importorskip("cvcore_rcnn_fpn")
    detector = Pipeline("detection", backbone="resnet18_v1b", neck="fpn", loss="rcnn", input_shape=[1, 3, 128, 128], classes=3,
                        head={"name": "rcnn_fpn", "rpn_channels": 32, "rpn_post_nms": [64, 50]})
    x = detector.example(1)
    with pytest.raises(mx.MXNetError, match="int8"):  # asked for explicitly, unsigned activations are not replaced
        detector.copy().deploy("int8", example=x, calib_data=x, backend="mxnet", quantized_dtype="uint8")
    # quantized_dtype "auto" quantizes it: with the decoding and NMS kept FP32 it no longer falls back to signed activations
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*signed int8 activations")
        detector.deploy("int8", example=x, calib_data=x, backend="mxnet")
    assert len(quantized_layers(detector.net)) >= 20
    labels, scores, boxes = (y.asnumpy() for y in detector.net(x))
    assert labels.shape == scores.shape == boxes.shape[:2] and np.isfinite(boxes).all()


def test_an_int8_network_is_not_quantized_again(classifier):
    x = classifier.example(2)
    classifier.deploy("int8", calib_data=x, example=x)
    with pytest.raises(ConfigError, match="INT8 already"):  # MXNet would crash on it
        classifier.copy().deploy("int8", calib_data=x, example=x)
