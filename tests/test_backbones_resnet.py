"""ResNet v1, v1b..v1s and (SE-)ResNeXt: GluonCV's parameter names, shapes and counts; features; norm layers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon
from mxnet.gluon import nn
from mxnet.gluon.contrib.nn import SyncBatchNorm

import cvcore
from cvcore.nn.assembled import AssembledNet
from cvcore.nn.families import resnet_v1, resnet_v1b, resnext
from cvcore.nn.heads import ClassifierHead
from cvcore.weights import rename
from cvcore.zoo import get_recipe

GLUONCV = Path(__file__).parent / "data" / "gluoncv"
NAMES = [component.name for family in (resnet_v1, resnet_v1b, resnext) for component in family.classification_models()]
ONE_PER_FAMILY = ("resnet18_v1", "resnet50_v1d", "se_resnext50_32x4d")
STAGES = ("c2", "c3", "c4", "c5")


@lru_cache(maxsize=None)
def gluoncv_models() -> dict:
    return json.loads((GLUONCV / "models.json").read_text())


def backbone(name: str, **options) -> gluon.HybridBlock:
    """The registered backbone ``name``, not initialized (every shape is known without a forward pass)."""
    return cvcore.get("backbone", name).build(**options)


def classifier(name: str) -> AssembledNet:
    """Zoo model ``name`` as a pipeline assembles it (backbone + 1000-class head), not initialized."""
    recipe = get_recipe(name)
    spec = {"name": recipe.backbone} if isinstance(recipe.backbone, str) else dict(recipe.backbone)
    features = backbone(spec.pop("name"), **spec)
    return AssembledNet(features, ClassifierHead(features.out_channels, features.strides, classes=1000))


def norm_layers(block: gluon.Block) -> list[gluon.Block]:
    found = [block] if isinstance(block, nn.BatchNorm) else []
    for child in block._children.values():
        found += norm_layers(child)
    return found


def test_every_resnet_is_a_classification_model_and_a_backbone():
    listed = cvcore.list_models(task="classification")
    assert [name for name in NAMES if name not in listed] == []
    assert {name for name in NAMES if cvcore.get("backbone", name)} == set(NAMES)
    assert len(NAMES) == 28  # GluonCV's: v1 x5, v1b x5, v1c/v1d/v1e/v1s x3, ResNeXt x3, SE-ResNeXt x3


@pytest.mark.parametrize("name", NAMES)
def test_parameter_names_and_shapes_are_gluoncvs(name):
    table = json.loads((GLUONCV / "params" / f"{name}.json").read_text())
    ours = {key: list(param.shape) for key, param in classifier(name)._collect_params_with_prefix().items()}
    assert rename(table, get_recipe(name).name_map) == ours


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_are_gluoncvs(name):
    params = classifier(name).collect_params().values()
    total = sum(int(np.prod(p.shape)) for p in params)
    trainable = sum(int(np.prod(p.shape)) for p in params if p.grad_req != "null")
    expected = gluoncv_models()[name]
    assert (total, trainable) == (expected["param_count_total"], expected["param_count_trainable"])


@pytest.mark.parametrize("name", ("resnet18_v1", "resnet18_v1b"))
def test_get_model_builds_an_imagenet_classifier(name):
    net = cvcore.get_model(name)
    logits = net(mx.nd.random.uniform(shape=(1, 3, 64, 64))).asnumpy()
    assert logits.shape == (1, 1000) and np.isfinite(logits).all()


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_four_stages_have_the_declared_channels_and_strides(name):
    net = backbone(name, out_features=STAGES)
    assert net.out_features == STAGES and net.strides == (4, 8, 16, 32)
    assert net.out_channels == ((64, 128, 256, 512) if name == "resnet18_v1" else (256, 512, 1024, 2048))
    net.initialize()
    maps = [m.asnumpy() for m in net(mx.nd.random.uniform(shape=(1, 3, 64, 64)))]
    assert [m.shape for m in maps] == [(1, c, 64 // s, 64 // s) for c, s in zip(net.out_channels, net.strides)]


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_hybridized_backbone_gives_the_same_features(name):
    net = backbone(name, out_features=("c1", "c2", "c3"))
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, 3, 32, 32))
    eager = [m.asnumpy() for m in net(x)]
    net.hybridize()
    for traced, expected in zip(net(x), eager):
        np.testing.assert_allclose(traced.asnumpy(), expected, rtol=1e-4, atol=1e-5)


def test_only_stages_up_to_the_deepest_requested_feature_are_built():
    net = backbone("resnet50_v1e", out_features=("c3", "c1"))
    assert net.out_features == ("c1", "c3") and net.out_channels == (128, 512) and net.strides == (2, 8)
    assert {key.split(".")[0] for key in net._collect_params_with_prefix()} == {"conv1", "bn1", "layer1", "layer2"}
    net.initialize()
    assert [m.asnumpy().shape for m in net(mx.nd.random.uniform(shape=(2, 3, 32, 32)))] == [(2, 128, 16, 16), (2, 512, 4, 4)]
    v1 = backbone("resnet18_v1", out_features=("c1",))
    assert {key.split(".")[1] for key in v1._collect_params_with_prefix()} == {"0", "1"}


def test_default_feature_is_c5_and_unknown_features_are_named():
    net = backbone("resnext50_32x4d")
    assert (net.feature_names, net.out_features, net.out_channels, net.strides) == (("c1",) + STAGES, ("c5",), (2048,), (32,))
    with pytest.raises(ValueError, match="has no feature c6"):
        backbone("resnet18_v1b", out_features=("c6",))


@pytest.mark.parametrize(("name", "last_norm"), [("resnet18_v1", "body.4"), ("resnet50_v1b", "bn3"), ("resnext50_32x4d", "body.7")])
def test_last_gamma_starts_every_residual_branch_at_zero(name, last_norm):
    net = backbone(name, last_gamma=True, out_features=("c2",))
    net.initialize()
    gammas = {key: p.data().asnumpy() for key, p in net._collect_params_with_prefix().items() if key.endswith("gamma")}
    zeroed = sorted(key for key, value in gammas.items() if (value == 0).all())
    assert zeroed and zeroed == sorted(key for key in gammas if key.endswith(f".{last_norm}.gamma"))


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_sync_batch_norm_replaces_every_norm_layer(name):
    net = backbone(name, out_features=STAGES, norm_layer="SyncBatchNorm", norm_kwargs={"num_devices": 2})
    layers = norm_layers(net)
    assert layers and all(type(layer) is SyncBatchNorm and layer._kwargs["ndev"] == 2 for layer in layers)
    keys = [layer._kwargs["key"] for layer in layers]
    assert len(set(keys)) == len(keys)  # layers synchronise by key: each needs its own


SYNC_TRAINING = """
import json
from cvcore.pipeline import Pipeline
import mxnet as mx, numpy as np
from mxnet import gluon

ctx = [mx.cpu(0), mx.cpu(1)]
backbone = {"name": "resnet18_v1b", "norm_layer": "SyncBatchNorm", "norm_kwargs": {"num_devices": 2}}
pipeline = Pipeline("classification", backbone=backbone, classes=3, input_shape=[4, 3, 32, 32], ctx=ctx)
stats = pipeline.net.backbone.bn1.running_mean
before = [stats.data(c).asnumpy().copy() for c in ctx]
rng = np.random.default_rng(0)
data = gluon.data.ArrayDataset(rng.uniform(-1, 1, (8, 3, 32, 32)).astype("float32"), rng.integers(0, 3, 8).astype("float32"))
history = pipeline.fit(gluon.data.DataLoader(data, batch_size=4), epochs=1, lr=0.01, progress=False)
after = [stats.data(c).asnumpy() for c in ctx]
print(json.dumps({
    "loss": history["loss"],
    "changed": [bool(not np.allclose(a, b)) for a, b in zip(after, before)],
    "devices_agree": bool(np.allclose(after[0], after[1], rtol=1e-5)),
}))
"""


def test_sync_batch_norm_trains_across_two_cpu_devices():
    # MXNet shares its CPU scratch space between all cpu(i) contexts, round robin over
    # MXNET_CPU_TEMP_COPY buffers (default 4): a SyncBatchNorm waiting for its twin on the
    # other device can then hold the buffer that twin needs, and both wait forever. Enough
    # buffers avoid that; the variable is read when mxnet starts, hence the subprocess.
    env = {**os.environ, "MXNET_CPU_TEMP_COPY": "160"}
    ran = subprocess.run([sys.executable, "-c", SYNC_TRAINING], capture_output=True, text=True, env=env, timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert np.isfinite(result["loss"])
    assert result["changed"] == [True, True] and result["devices_agree"]  # running statistics moved, in sync


def test_sync_batch_norm_on_cpus_without_enough_scratch_buffers_is_refused_not_hung(monkeypatch):
    import mxnet as mx

    import cvcore
    from cvcore.pipeline import Pipeline

    monkeypatch.delenv("MXNET_CPU_TEMP_COPY", raising=False)
    backbone = {"name": "resnet18_v1b", "norm_layer": "SyncBatchNorm", "norm_kwargs": {"num_devices": 2}}
    pipeline = Pipeline("classification", backbone=backbone, classes=3, input_shape=[4, 3, 32, 32], ctx=[mx.cpu(0), mx.cpu(1)])
    with pytest.raises(cvcore.ConfigError, match="MXNET_CPU_TEMP_COPY=160 or more"):
        pipeline.fit([], epochs=1)
