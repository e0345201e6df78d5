"""The simple-pose head and zoo: output shapes on any backbone, the original's initialisation,
GluonCV's parameter names, shapes and counts, and GluonCV-named files loading through the zoo."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import HybridBlock, nn
from mxnet.gluon.contrib.nn import SyncBatchNorm

from cvcore.pipeline import Pipeline
from cvcore.weights import rename
from cvcore.zoo import get_recipe
from cvcore_pose import zoo
from cvcore_pose.head import SimplePoseHead

GLUONCV = Path(__file__).parent.parent / "data" / "gluoncv"
NAMES = list(zoo.MODELS)


@lru_cache(maxsize=None)
def gluoncv_models() -> dict:
    return json.loads((GLUONCV / "models.json").read_text())


def gluoncv_table(name: str) -> dict:
    return json.loads((GLUONCV / "params" / f"{name}.json").read_text())


def unloaded(name: str) -> Pipeline:
    """Zoo model ``name`` assembled as ``Pipeline.from_model`` does, parameters not yet allocated."""
    return Pipeline(**get_recipe(name).config(), initialize=False)


class HundredChannels(HybridBlock):
    """A made-up third-party backbone: 100 channels at stride 16."""

    def __init__(self):
        super().__init__()
        self.out_channels, self.strides = (100,), (16,)
        with self.name_scope():
            self.body = nn.HybridSequential()
            for channels in (24, 48, 64, 100):
                self.body.add(nn.Conv2D(channels, 3, strides=2, padding=1), nn.Activation("relu"))

    def hybrid_forward(self, F, x):
        return (self.body(x),)


# -- the zoo ------------------------------------------------------------------------------
def test_the_zoo_has_gluoncvs_seven_simple_pose_models():
    components = zoo.pose_models()
    assert [c.name for c in components] == NAMES == [
        "simple_pose_resnet18_v1b", "simple_pose_resnet50_v1b", "simple_pose_resnet50_v1d",
        "simple_pose_resnet101_v1b", "simple_pose_resnet101_v1d", "simple_pose_resnet152_v1b", "simple_pose_resnet152_v1d",
    ]
    for component in components:
        recipe = component.build()
        assert component.meta == {"task": "pose"}
        assert recipe.task == "pose" and recipe.backbone == component.name[len("simple_pose_"):]
        assert recipe.head["name"] == "simple_pose" and recipe.loss == "heatmap_mse" and recipe.metric == "coco_keypoints"
        assert recipe.options == {"input_shape": [1, 3, 256, 192], "num_joints": 17}
    [head] = zoo.heads()
    assert head.name == "simple_pose" and head.factory is SimplePoseHead and head.meta["in_features"] == 1


@pytest.mark.parametrize("name, sha1", [  # read off GluonCV's model store, not off cvcore's table
    ("simple_pose_resnet18_v1b", "f63d42ac8f83b239d4e08b636b888b8e50cd066d"),
    ("simple_pose_resnet50_v1b", "e2c7b1adea31264bc9220511308b4efa89c6fc50"),
    ("simple_pose_resnet101_v1b", "b7ec0de1a34eb718efd4a84339cc1547ead88cbe"),
])
def test_the_weights_are_gluoncvs_published_files(name, sha1):
    weights = get_recipe(name).weights
    assert weights.sha1 == sha1 and weights.file_name == f"{name}-{sha1[:8]}.params"
    assert weights.url == f"https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/{name}-{sha1[:8]}.zip"


@pytest.mark.parametrize("name", NAMES)
def test_parameter_names_and_shapes_are_gluoncvs(name):
    ours = {key: list(param.shape) for key, param in unloaded(name).net._collect_params_with_prefix().items()}
    assert rename(gluoncv_table(name), get_recipe(name).name_map) == ours


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_are_gluoncvs(name):
    params = unloaded(name).net.collect_params().values()
    total = sum(int(np.prod(p.shape)) for p in params)
    trainable = sum(int(np.prod(p.shape)) for p in params if p.grad_req != "null")
    expected = gluoncv_models()[name]
    assert (total, trainable, len(params)) == (
        expected["param_count_total"], expected["param_count_trainable"], expected["n_save_parameters_keys"]
    )


def write_gluoncv_file(name: str, path: Path) -> dict[str, np.ndarray]:
    """A parameter file with GluonCV's key names and shapes for ``name``, of random values."""
    rng = np.random.default_rng(0)
    arrays = {key: rng.standard_normal(shape).astype(np.float32) for key, shape in gluoncv_table(name).items()}
    for key in arrays:
        if key.endswith("running_var"):
            arrays[key] = np.abs(arrays[key]) + 0.5
    mx.nd.save(str(path), {key: mx.nd.array(value) for key, value in arrays.items()})
    return arrays


@pytest.mark.parametrize("name", ["simple_pose_resnet18_v1b", "simple_pose_resnet50_v1d"])
def test_a_gluoncv_named_file_loads_through_the_zoo(name, tmp_path):
    path = tmp_path / f"{name}.params"
    arrays = write_gluoncv_file(name, path)
    pipeline = Pipeline.from_model(name, pretrained=str(path))
    loaded = {key: p.data().asnumpy() for key, p in pipeline.net._collect_params_with_prefix().items()}
    expected = rename(arrays, zoo.NAME_MAP)
    assert sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)
    heatmaps = pipeline.net(mx.nd.random.uniform(-1, 1, shape=(1, 3, 256, 192))).asnumpy()
    assert heatmaps.shape == (1, 17, 64, 48) and np.isfinite(heatmaps).all()


# -- the head ------------------------------------------------------------------------------
@pytest.mark.parametrize("backbone", ["resnet18_v1b", "resnext50_32x4d", "mobilenet1.0"])
def test_heatmaps_are_a_quarter_of_the_input_on_stride_32_backbones(backbone):
    pipeline = Pipeline("pose", backbone=backbone, input_shape=[2, 3, 256, 192])
    assert pipeline.net.head.stride == 4
    heatmaps = pipeline.net(pipeline.example()).asnumpy()
    assert heatmaps.shape == (2, 17, 64, 48) and np.isfinite(heatmaps).all()


def test_any_backbone_with_any_channel_count_and_any_number_of_joints():
    pipeline = Pipeline("pose", backbone=HundredChannels(), num_joints=5, input_shape=[2, 3, 64, 48])
    head = pipeline.net.head
    assert head.deconv_layers[0].weight.shape == (100, 256, 4, 4) and head.final_layer.weight.shape == (5, 256, 1, 1)
    assert head.stride == 2
    assert pipeline.net(pipeline.example()).shape == (2, 5, 32, 24)


def test_initialisation_is_the_originals_not_the_pipelines_default():
    pipeline = Pipeline.from_model("simple_pose_resnet18_v1b")
    params = {key: p.data().asnumpy() for key, p in pipeline.net._collect_params_with_prefix().items()}
    for key in ("head.deconv_layers.0.weight", "head.deconv_layers.3.weight", "head.deconv_layers.6.weight", "head.final_layer.weight"):
        assert abs(params[key].mean()) < 1e-4 and params[key].std() == pytest.approx(0.001, rel=0.05), key
    assert (params["head.final_layer.bias"] == 0).all()
    for index in (1, 4, 7):
        bn = f"head.deconv_layers.{index}"
        assert (params[f"{bn}.gamma"] == 1).all() and (params[f"{bn}.beta"] == 0).all()
        assert (params[f"{bn}.running_mean"] == 0).all() and (params[f"{bn}.running_var"] == 1).all()
    assert params["backbone.conv1.weight"].std() > 0.01  # the backbone still gets the pipeline's Xavier


def test_deconv_kernels_final_kernel_and_depth_options():
    x = mx.nd.random.uniform(shape=(1, 8, 5, 4))
    for kernel in (2, 3, 4):
        head = SimplePoseHead((8,), (32,), num_joints=3, deconv_layers=2, deconv_channels=16, deconv_kernel=kernel, final_kernel=3)
        head.initialize()
        assert head(x).shape == (1, 3, 20, 16) and head.stride == 8
    plain = SimplePoseHead((8,), (16,), num_joints=3, deconv_layers=0)
    plain.initialize()
    assert plain(x).shape == (1, 3, 5, 4) and plain.stride == 16 and plain.final_layer.weight.shape == (3, 8, 1, 1)
    assert SimplePoseHead((8,)).stride is None
    with pytest.raises(ValueError, match="deconv_kernel"):
        SimplePoseHead((8,), deconv_kernel=5)
    with pytest.raises(ValueError, match="final_kernel"):
        SimplePoseHead((8,), final_kernel=2)


def test_the_hybridized_head_gives_the_same_heatmaps():
    head = SimplePoseHead((32,), (32,), num_joints=4, deconv_channels=16)
    head.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, 32, 4, 3))
    eager = head(x).asnumpy()
    head.hybridize()
    np.testing.assert_allclose(head(x).asnumpy(), eager, rtol=1e-5, atol=1e-7)


def test_sync_batch_norm_in_the_head():
    head = SimplePoseHead((32,), (32,), norm_layer="SyncBatchNorm", norm_kwargs={"num_devices": 2})
    norms = [layer for layer in head.deconv_layers if isinstance(layer, nn.BatchNorm)]
    assert len(norms) == 3 and all(type(layer) is SyncBatchNorm for layer in norms)
    assert sorted(head._collect_params_with_prefix()) == sorted(SimplePoseHead((32,), (32,))._collect_params_with_prefix())
