"""MobileNet v1 and VGG16: GluonCV's parameter names, shapes and counts; feature maps; norm layers; the VGG head."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import nn
from mxnet.gluon.contrib.nn import SyncBatchNorm

import cvcore
from cvcore.pipeline import Pipeline
from cvcore.plugins import get
from cvcore.weights import rename
from cvcore.zoo import get_recipe

GLUONCV = Path(__file__).parent / "data" / "gluoncv"
MOBILENETS = ("mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25")
VGGS = ("vgg16", "vgg16_bn")
CLASSIFIERS = (*MOBILENETS, *VGGS)


@lru_cache(maxsize=None)
def gluoncv_table(name: str) -> dict[str, list[int]]:
    """Every key of GluonCV's ``save_parameters`` file for ``name`` -> its shape."""
    return json.loads((GLUONCV / "params" / f"{name}.json").read_text())


def gluoncv_counts(name: str) -> dict:
    return json.loads((GLUONCV / "models.json").read_text())[name]


def as_gluoncv(name: str, net: mx.gluon.Block) -> dict[str, list[int]]:
    """Our parameters' shapes under GluonCV's names (the zoo entry's name map, inverted)."""
    name_map = get_recipe(name).name_map
    ours = {key: list(param.shape) for key, param in net._collect_params_with_prefix().items()}
    return rename(ours, {mine: theirs for theirs, mine in name_map.items()})


def counts(net: mx.gluon.Block) -> tuple[int, int]:
    """(all parameters incl. BatchNorm running statistics, trainable ones)."""
    params = net.collect_params().values()
    total = sum(int(np.prod(p.shape)) for p in params)
    trainable = sum(int(np.prod(p.shape)) for p in params if p.grad_req != "null")
    return total, trainable


def norm_layers(block: mx.gluon.Block) -> list:
    found = [block] if isinstance(block, nn.BatchNorm) else []
    for child in block._children.values():
        found += norm_layers(child)
    return found


# --- the zoo entries against GluonCV's facts ----------------------------------------------
def test_zoo_lists_the_classification_models():
    assert set(CLASSIFIERS) <= set(cvcore.list_models(task="classification"))
    assert set(cvcore.list_models(pattern="mobilenet*")) >= set(MOBILENETS)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_parameters_are_gluoncvs_names_shapes_and_counts(name):
    net = cvcore.get_model(name)
    assert as_gluoncv(name, net) == gluoncv_table(name)
    published = gluoncv_counts(name)
    assert counts(net) == (published["param_count_total"], published["param_count_trainable"])
    if name in MOBILENETS:  # the classifier head pools, so any input size does
        assert net(mx.nd.zeros((1, 3, 32, 32))).shape == (1, 1000)
    mx.nd.waitall()  # VGG's 138M parameters initialize asynchronously: count the time here


def test_a_file_with_gluoncvs_names_loads_into_the_pipeline(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {key: mx.nd.array(rng.standard_normal(shape)) for key, shape in gluoncv_table("mobilenet0.25").items()}
    mx.nd.save(str(tmp_path / "gluoncv.params"), arrays)
    net = Pipeline.from_model("mobilenet0.25", pretrained=str(tmp_path / "gluoncv.params")).net
    np.testing.assert_array_equal(net.head.fc.weight.data().asnumpy(), arrays["output.weight"].asnumpy())
    np.testing.assert_array_equal(net.backbone.features[79].running_var.data().asnumpy(), arrays["features.79.running_var"].asnumpy())


# --- backbones as feature extractors --------------------------------------------------------
ALL_STAGES = ("c1", "c2", "c3", "c4", "c5")


def built(name: str, **options):
    backbone = get("backbone", name).build(**options)
    backbone.initialize()
    return backbone


@pytest.mark.parametrize(
    "name, channels",
    [("mobilenet0.25", (16, 32, 64, 128, 256)), ("mobilenet1.0", (64, 128, 256, 512, 1024)), ("vgg16", (64, 128, 256, 512, 512))],
)
def test_all_stages_have_the_declared_channels_and_strides(name, channels):
    backbone = built(name, out_features=list(ALL_STAGES))
    assert backbone.feature_names == ALL_STAGES
    assert backbone.out_channels == channels and backbone.strides == (2, 4, 8, 16, 32)
    features = backbone(mx.nd.random.uniform(shape=(2, 3, 64, 64)))
    assert [f.shape for f in features] == [(2, c, 64 // s, 64 // s) for c, s in zip(channels, backbone.strides)]


def test_default_is_the_last_stage_and_unknown_stages_are_named():
    assert built("mobilenet0.25").out_features == ("c5",)
    assert get("backbone", "vgg16_atrous").build().out_features == ("fc7",)
    with pytest.raises(ValueError, match="no feature c6; it has c1, c2, c3, c4, c5"):
        get("backbone", "vgg16").build(out_features=["c6"])


def test_vgg16_atrous_gives_the_normalized_conv4_3_and_fc7_of_ssd():
    backbone = built("vgg16_atrous", out_features=["fc7", "conv4_3"])
    assert backbone.out_features == ("conv4_3", "fc7")
    assert backbone.out_channels == (512, 1024) and backbone.strides == (8, 16)
    # ceil-mode pooling as in SSD: 44 -> 22 -> 11 -> 6 (conv4_3) -> 3 (fc7)
    conv4_3, fc7 = backbone(mx.nd.random.uniform(shape=(1, 3, 44, 44)))
    assert conv4_3.shape == (1, 512, 6, 6) and fc7.shape == (1, 1024, 3, 3)
    np.testing.assert_allclose(mx.nd.norm(conv4_3, axis=1).asnumpy(), 20.0, rtol=1e-4)  # unit L2 norm x scale 20


def test_vgg16_atrous_parameters_are_those_of_gluoncvs_ssd_base_network():
    table = gluoncv_table("ssd_300_vgg16_atrous_voc")
    base = {key[len("features."):]: shape for key, shape in table.items() if key.startswith("features.") and ".extras." not in key}
    backbone = get("backbone", "vgg16_atrous").build()
    assert {key: list(p.shape) for key, p in backbone._collect_params_with_prefix().items()} == base
    assert backbone.init_scale.grad_req == "null"


def test_layers_deeper_than_the_deepest_requested_stage_are_not_built():
    mobilenet = built("mobilenet1.0", out_features=["c1", "c2"])
    kept = {
        key: shape
        for key, shape in gluoncv_table("mobilenet1.0").items()
        if key.startswith("features.") and int(key.split(".")[1]) <= 20
    }
    assert {
        "features." + k: list(p.shape) for k, p in mobilenet.features._collect_params_with_prefix().items()
    } == kept  # c2 ends at features.20
    assert [f.shape[1] for f in mobilenet(mx.nd.zeros((1, 3, 32, 32)))] == [64, 128]
    atrous = built("vgg16_atrous", out_features=["conv4_3"])
    assert sorted({key.split(".")[1] for key in atrous._collect_params_with_prefix() if key.startswith("stages.")}) == ["0", "1", "2", "3"]
    assert atrous(mx.nd.zeros((1, 3, 32, 32)))[0].shape == (1, 512, 4, 4)


# --- norm layers ------------------------------------------------------------------------------
def test_mobilenet_takes_syncbatchnorm_with_the_same_parameter_names():
    sync = get("backbone", "mobilenet0.25").build(norm_layer="SyncBatchNorm", norm_kwargs={"num_devices": 2})
    layers = norm_layers(sync)
    assert len(layers) == 27 and all(isinstance(layer, SyncBatchNorm) and layer._kwargs["ndev"] == 2 for layer in layers)
    plain = get("backbone", "mobilenet0.25").build()
    assert not any(isinstance(layer, SyncBatchNorm) for layer in norm_layers(plain))
    assert set(sync._collect_params_with_prefix()) == set(plain._collect_params_with_prefix())


def test_vgg16_ignores_norm_layer_and_vgg16_bn_uses_it():
    assert norm_layers(get("backbone", "vgg16").build(norm_layer="SyncBatchNorm", norm_kwargs={"num_devices": 2})) == []
    layers = norm_layers(get("backbone", "vgg16_bn").build(norm_layer="SyncBatchNorm", norm_kwargs={"num_devices": 2}))
    assert len(layers) == 13 and all(isinstance(layer, SyncBatchNorm) for layer in layers)


# --- VGG's classifier head -------------------------------------------------------------------
def test_vgg_classifier_head_maps_c5_to_logits_through_fc6_and_fc7():
    head = get("head", "vgg_classifier").build(in_channels=(512,), in_strides=(32,), classes=10, hidden=64)
    head.initialize()
    assert head(mx.nd.random.uniform(shape=(2, 512, 7, 7))).shape == (2, 10)
    assert {k: p.shape for k, p in head._collect_params_with_prefix().items() if k.endswith("weight")} == {
        "fc6.weight": (64, 512 * 7 * 7),
        "fc7.weight": (64, 64),
        "fc.weight": (10, 64),
    }
    with pytest.raises(ValueError, match="feature_size=2"):
        head(mx.nd.zeros((1, 512, 2, 2)))


def test_vgg16_pipeline_runs_on_a_small_input_when_the_head_knows_its_feature_size():
    pipeline = Pipeline(
        backbone="vgg16", head={"name": "vgg_classifier", "feature_size": 2, "hidden": 32}, classes=3, input_shape=[2, 3, 64, 64]
    )
    assert pipeline.net(pipeline.example()).shape == (2, 3)


@pytest.mark.parametrize("name, trainable, convs", [("vgg19", 143_667_240, 16), ("vgg19_bn", 143_678_248, 16)])
def test_vgg19_has_the_published_size_and_gluoncvs_layout(name, trainable, convs):
    """VGG19's published parameter count (BN adds a scale and shift per channel); GluonCV's flat ``features`` keys."""
    net = Pipeline.from_model(name).net
    assert counts(net)[1] == trainable
    names = as_gluoncv(name, net)
    per_conv = 3 if name.endswith("_bn") else 2
    fc6 = convs * per_conv + 5
    conv_weights = sorted(int(key.split(".")[1]) for key, shape in names.items()
                          if key.startswith("features.") and key.endswith(".weight") and len(shape) == 4)
    assert len(conv_weights) == convs and conv_weights[-1] < fc6
    assert names[f"features.{fc6}.weight"] == [4096, 25088] and names[f"features.{fc6 + 2}.weight"] == [4096, 4096]
    assert names["output.weight"] == [1000, 4096]
