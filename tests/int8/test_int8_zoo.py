"""INT8 zoo entries: FP32 recipe + calibration; built from a user's FP32 weights, or read from the weight store."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore import zoo
from cvcore.errors import ConfigError, UnknownComponentError
from cvcore.pipeline import Pipeline
from cvcore.weights import WeightsError
from cvcore_int8_vnni.mxnet_backend import quantized_layers

SMALL = {"input_shape": [1, 3, 32, 32]}


def test_int8_entries_are_listed_with_their_base_and_task():
    names = set(zoo.list_models(pattern="*_int8"))
    assert {"resnet50_v1_int8", "mobilenet1.0_int8", "simple_pose_resnet18_v1b_int8", "simple_pose_resnet152_v1d_int8"} <= names
    assert "mobilenet1.0_int8" in zoo.list_models(task="classification")
    recipe = zoo.get_recipe("simple_pose_resnet50_v1b_int8")
    assert recipe.base == "simple_pose_resnet50_v1b" and recipe.task == "pose"
    assert recipe.deploy[0]["transform"] == "int8" and recipe.deploy[0]["calib_mode"] == "naive"
    assert [spec.file_name for spec in recipe.graph] == [
        "simple_pose_resnet50_v1b_int8-symbol.json",
        "simple_pose_resnet50_v1b_int8-0000.params",
    ]
    assert recipe.weights == zoo.get_recipe("simple_pose_resnet50_v1b").weights  # the FP32 weights it is made from


def test_without_its_graph_the_entry_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="cvcore deploy mobilenet1.0_int8 --pretrained FILE --calib DIR"):
        Pipeline.from_model("mobilenet1.0_int8", pretrained=True)
    with pytest.raises(ConfigError, match="calib_data=dataset"):
        Pipeline.from_model("mobilenet1.0_int8")


def test_built_from_fp32_weights_stored_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path / "home"))
    fp32 = Pipeline.from_model("mobilenet1.0", **SMALL)
    fp32.net.save_parameters(str(tmp_path / "mobilenet1.0.params"))
    calib = mx.nd.random.uniform(-1, 1, (16, 3, 32, 32))
    built = Pipeline.from_model("mobilenet1.0_int8", pretrained=str(tmp_path / "mobilenet1.0.params"), calib_data=calib, **SMALL)
    assert built.model_name == "mobilenet1.0_int8" and built.deployed[0]["calib_mode"] == "naive"
    x = calib[:4]
    assert quantized_layers(built.net)
    sums = lambda net: sorted(round(float(p.data().sum().asscalar()), 3) for p in net.collect_params().values())  # noqa: E731
    assert sums(built.net) == sums(fp32.net)  # the graph carries the user's FP32 weights
    # what `save` writes is the graph the weight store holds for this entry
    built.save(tmp_path / "saved")
    store = tmp_path / "home" / "models"
    store.mkdir(parents=True)
    for suffix in ("-symbol.json", "-0000.params"):
        (tmp_path / "saved" / f"deployed{suffix}").rename(store / f"mobilenet1.0_int8{suffix}")
    loaded = Pipeline.from_model("mobilenet1.0_int8", pretrained=True, **SMALL)
    np.testing.assert_allclose(loaded.net(x).asnumpy(), built.net(x).asnumpy(), rtol=1e-5, atol=1e-5)
    assert loaded.model_name == "mobilenet1.0_int8" and loaded.deployed == built.deployed


@pytest.mark.usefixtures("cvcore_plugin_state")
def test_a_pose_entry_without_the_pose_plugin_names_it():
    import cvcore.plugins

    cvcore.plugins.reset_host(disabled={"pose"})
    with pytest.raises(UnknownComponentError, match="simple_pose_resnet18_v1b"):
        zoo.get_recipe("simple_pose_resnet18_v1b_int8")
