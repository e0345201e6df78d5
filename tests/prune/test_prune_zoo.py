"""The seven pruned ResNets: GluonCV's parameter names, shapes and counts, from widths tables shipped as data."""
from __future__ import annotations

import json
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

import cvcore
from cvcore import testing
from cvcore.nn.widths import ResNetWidths
from cvcore.weights import rename
from cvcore.zoo import get_recipe
from cvcore_prune.zoo import PRUNED, widths

GLUONCV = Path(__file__).resolve().parents[1] / "data" / "gluoncv"


def table(name: str) -> dict:
    return json.loads((GLUONCV / "params" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", PRUNED)
def test_parameter_names_and_shapes_are_gluoncvs(name):
    net = cvcore.get_model(name)
    ours = {key: list(param.shape) for key, param in net._collect_params_with_prefix().items()}
    assert rename(table(name), get_recipe(name).name_map) == ours


@pytest.mark.parametrize("name", PRUNED)
def test_parameter_counts_are_gluoncvs(name):
    params = cvcore.get_model(name).collect_params().values()
    total = sum(int(np.prod(p.shape)) for p in params)
    trainable = sum(int(np.prod(p.shape)) for p in params if p.grad_req != "null")
    expected = json.loads((GLUONCV / "models.json").read_text())[name]
    assert (total, trainable) == (expected["param_count_total"], expected["param_count_trainable"])


@pytest.mark.parametrize("name", PRUNED)
def test_the_widths_files_are_the_published_weights_output_channels(name):
    """Each convolution's width in our file is the first dimension of GluonCV's weight of that layer."""
    shapes, plan = table(name), ResNetWidths.from_config(widths(name))
    stem_keys = ["conv1.0.weight", "conv1.3.weight", "conv1.6.weight"] if len(plan.stem) == 3 else ["conv1.weight"]
    assert [shapes[key][0] for key in stem_keys] == list(plan.stem)
    for s, stage in enumerate(plan.stages, 1):
        for u, unit in enumerate(stage):
            assert [shapes[f"layer{s}.{u}.conv{c}.weight"][0] for c in range(1, len(unit) + 1)] == list(unit)


def test_a_pruned_zoo_entry_names_gluoncvs_file():
    spec = get_recipe("resnet50_v1d_0.37").weights
    assert spec.file_name.startswith("resnet50_v1d_5.9x-9982ae49") and spec.sha1.startswith("9982ae49")


def test_a_pruned_classifier_runs_saves_loads_and_keeps_its_widths(tmp_path):
    pipeline = cvcore.Pipeline.from_model("resnet18_v1b_0.89", classes=4, input_shape=[2, 3, 64, 64])
    assert pipeline.net.backbone.widths.stem == (8,)
    loaded = testing.check_save_load_round_trip(pipeline, tmp_path)
    assert loaded.config()["backbone"]["widths"] == widths("resnet18_v1b_0.89")


def test_the_pruned_backbone_keeps_the_backbone_contract():
    testing.check_backbone("resnet18_v1b", widths=widths("resnet18_v1b_0.89"))


def test_a_pruned_backbone_serves_a_pose_pipeline():
    pose = cvcore.Pipeline("pose", backbone={"name": "resnet50_v1d", "widths": widths("resnet50_v1d_0.11")}, input_shape=[1, 3, 64, 64])
    assert pose.net.backbone.out_channels == (784,)
    assert pose.net(mx.nd.zeros((1, 3, 64, 64))).shape == (1, 17, 16, 16)
