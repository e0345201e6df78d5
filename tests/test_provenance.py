"""A saved pipeline records the plugin, distribution and version of each part; a missing one is named with the fix."""
from __future__ import annotations

import shutil
import tomllib

import numpy as np
import pytest

import cvcore.plugins
from cvcore import Pipeline, UnknownComponentError
from cvcore.errors import CvcoreError

FAKENET = """
import cvcore
from mxnet.gluon import nn


class FakeNet(nn.HybridBlock):
    feature_names = out_features = ("c1",)
    out_channels, strides = (8,), (2,)

    def __init__(self, *, out_features=None, norm_layer="BatchNorm", norm_kwargs=None):
        super().__init__()
        with self.name_scope():
            self.conv = nn.Conv2D(8, 3, strides=2, padding=1, in_channels=3)

    def hybrid_forward(self, F, x):
        return (F.relu(self.conv(x)),)


@cvcore.hookimpl
def cvcore_backbones():
    return [cvcore.Component("fakenet", FakeNet)]
"""


@pytest.fixture
def fakenet(cvcore_plugin_state, fake_plugin_distribution):
    """The backbone 'fakenet' from the installed distribution cvcore-fakenet 1.2.3 (plugin 'fakenet')."""
    site = fake_plugin_distribution("cvcore-fakenet", "1.2.3", {"fakenet": "fakenet_plugin"}, {"fakenet_plugin": FAKENET})
    cvcore.plugins.reset_host()
    return site


def saved(tmp_path, *deploy: str) -> tuple[Pipeline, object]:
    pipeline = Pipeline("classification", backbone="fakenet", classes=3, input_shape=[2, 3, 16, 16])
    for transform in deploy:
        pipeline.deploy(transform)
    pipeline.save(tmp_path / "run")
    return pipeline, pipeline.example()


def test_pipeline_toml_records_who_provided_each_part(fakenet, tmp_path):
    saved(tmp_path, "hybridize")
    record = tomllib.loads((tmp_path / "run" / "pipeline.toml").read_text())["provenance"]
    assert record["backbone"] == {"name": "fakenet", "plugin": "fakenet", "distribution": "cvcore-fakenet", "version": "1.2.3"}
    assert record["head"]["plugin"] == record["task"]["plugin"] == "cvcore"
    assert record["transform"]["hybridize"]["distribution"] == "cvcore"


def test_a_disabled_plugin_is_named_with_the_variable_to_change(fakenet, tmp_path, monkeypatch):
    saved(tmp_path)
    cvcore.plugins.reset_host(disabled={"cvcore-fakenet"})
    with pytest.raises(UnknownComponentError) as caught:
        Pipeline.load(tmp_path / "run")
    assert str(caught.value) == (
        f"The pipeline saved in {tmp_path / 'run'}: its backbone 'fakenet' came from plugin 'fakenet' "
        "(distribution cvcore-fakenet 1.2.3), which is disabled by CVCORE_PLUGINS_DISABLE: take 'fakenet' out of that variable.")


def test_an_uninstalled_third_party_plugin_is_named_with_the_install_command(fakenet, tmp_path):
    saved(tmp_path)
    shutil.rmtree(next(fakenet.glob("cvcore_fakenet-*.dist-info")))
    cvcore.plugins.reset_host()
    with pytest.raises(UnknownComponentError, match=r"which is not installed: pip install 'cvcore-fakenet==1\.2\.3'\.$"):
        Pipeline.load(tmp_path / "run")


def test_a_deployed_graph_loads_and_predicts_without_its_backbones_plugin(fakenet, tmp_path):
    pipeline, x = saved(tmp_path, "export")
    expected = pipeline.net(x).asnumpy()
    cvcore.plugins.reset_host(disabled={"fakenet"})
    loaded = Pipeline.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.net(x).asnumpy(), expected, rtol=1e-5, atol=1e-6)
    image = np.full((20, 24, 3), 200, np.uint8)
    assert len(loaded.predict([image], top_k=1)[0]) == 1
    with pytest.raises(CvcoreError, match=r"runs its deployed graph only: .*backbone 'fakenet' came from plugin 'fakenet'"):
        loaded.trainable()
    loaded.save(tmp_path / "again")  # keeps the trainable parameters it could not use
    cvcore.plugins.reset_host()
    again = Pipeline.load(tmp_path / "again")
    np.testing.assert_allclose(again.trainable().net(x).asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_a_run_saved_before_provenance_falls_back_to_the_registrys_hints(fakenet, tmp_path):
    saved(tmp_path)
    config = tmp_path / "run" / "pipeline.toml"
    config.write_text(config.read_text().split("[provenance")[0])
    cvcore.plugins.reset_host(disabled={"fakenet"})
    with pytest.raises(UnknownComponentError, match="No backbone named 'fakenet'"):
        Pipeline.load(tmp_path / "run")
