"""The weight store: local files, sha1 checks, offline messages, mismatch reports."""
from __future__ import annotations

import os
import stat
import zipfile

import mxnet as mx
import numpy as np
import pytest

import cvcore
from cvcore import weights
from cvcore.pipeline import Pipeline
from cvcore.zoo import ModelRecipe, WeightsSpec, model_component

SMALL = {"input_shape": [1, 3, 32, 32]}


def zoo_plugin(spec: WeightsSpec | None):
    class Zoo:
        @cvcore.hookimpl
        def cvcore_models(self):
            recipe = ModelRecipe("classification", backbone="tinynet", options={"classes": 3, **SMALL}, weights=spec)
            return [model_component("tinynet_colors", recipe, "TinyNet on three colours.")]

    return Zoo()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CVCORE_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "models"


def trained_params(tmp_path, **options):
    pipeline = Pipeline(backbone="tinynet", classes=3, **SMALL, **options)
    path = tmp_path / "tinynet_colors-0000.params"
    pipeline.save(tmp_path / "src")
    (tmp_path / "src" / "model.params").replace(path)
    return pipeline, path


def test_pretrained_true_loads_a_verified_file_from_the_store(tinynet, tmp_path, store):
    source, path = trained_params(tmp_path)
    store.mkdir(parents=True)
    path.replace(store / path.name)
    cvcore.register_plugin(zoo_plugin(WeightsSpec(path.name, sha1=weights.sha1_of(store / path.name))), "zoo")
    net = cvcore.get_model("tinynet_colors", pretrained=True)
    x = mx.nd.random.uniform(shape=(1, 3, 32, 32))
    np.testing.assert_allclose(net(x).asnumpy(), source.net(x).asnumpy(), rtol=1e-6)


def test_get_model_root_is_the_weight_folder(tinynet, tmp_path, store):
    source, path = trained_params(tmp_path)
    folder = tmp_path / "my-models"
    folder.mkdir()
    path.replace(folder / path.name)
    cvcore.register_plugin(zoo_plugin(WeightsSpec(path.name, sha1=weights.sha1_of(folder / path.name))), "zoo")
    net = cvcore.get_model("tinynet_colors", pretrained=True, root=folder)  # GluonCV's habit
    x = mx.nd.random.uniform(shape=(1, 3, 32, 32))
    np.testing.assert_allclose(net(x).asnumpy(), source.net(x).asnumpy(), rtol=1e-6)
    assert not store.exists()  # $CVCORE_HOME was not used


def test_a_missing_file_is_fetched_from_the_zoo_url_and_unpacked(tinynet, tmp_path, store):
    source, path = trained_params(tmp_path)
    sha1 = weights.sha1_of(path)
    with zipfile.ZipFile(tmp_path / "published.zip", "w") as archive:  # GluonCV publishes zipped .params files
        archive.write(path, path.name)
    spec = WeightsSpec(path.name, sha1=sha1, url=(tmp_path / "published.zip").as_uri())
    cvcore.register_plugin(zoo_plugin(spec), "zoo")
    old_umask = os.umask(0o022)
    try:
        net = cvcore.get_model("tinynet_colors", pretrained=True)
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in store.iterdir()) == [path.name]  # no archive or partial file left behind
    assert stat.S_IMODE((store / path.name).stat().st_mode) == 0o644
    x = mx.nd.random.uniform(shape=(1, 3, 32, 32))
    np.testing.assert_allclose(net(x).asnumpy(), source.net(x).asnumpy(), rtol=1e-6)


def test_wrong_sha1_in_the_store_is_refused(tinynet, tmp_path, store):
    _, path = trained_params(tmp_path)
    store.mkdir(parents=True)
    path.replace(store / path.name)
    cvcore.register_plugin(zoo_plugin(WeightsSpec(path.name, sha1="0" * 40)), "zoo")
    with pytest.raises(weights.WeightsError, match="does not match the zoo's"):
        cvcore.get_model("tinynet_colors", pretrained=True)


def test_offline_error_says_which_file_to_put_where(tinynet, store):
    spec = WeightsSpec("tinynet_colors-abcd1234.params", sha1="abcd1234", url="http://127.0.0.1:9/nothing.params")
    cvcore.register_plugin(zoo_plugin(spec), "zoo")
    with pytest.raises(weights.WeightsError) as error:
        cvcore.get_model("tinynet_colors", pretrained=True)
    message = str(error.value)
    assert "tinynet_colors-abcd1234.params" in message and str(store) in message and "CVCORE_HOME" in message


def test_pretrained_path_loads_a_local_file(tinynet, tmp_path):
    source, path = trained_params(tmp_path)
    cvcore.register_plugin(zoo_plugin(None), "zoo")
    pipeline = Pipeline.from_model("tinynet_colors", pretrained=str(path))
    x = mx.nd.random.uniform(shape=(1, 3, 32, 32))
    np.testing.assert_allclose(pipeline.net(x).asnumpy(), source.net(x).asnumpy(), rtol=1e-6)
    assert pipeline.config()["model"] == "tinynet_colors"


def test_mismatched_file_lists_missing_unexpected_and_wrong_shapes(tinynet, tmp_path):
    _, path = trained_params(tmp_path)
    pipeline = Pipeline(backbone={"name": "tinynet", "width": 2}, classes=5, **SMALL)
    params = weights.read_params(path)
    params["extra.weight"] = mx.nd.zeros((1,))
    del params["head.fc.bias"]
    mx.nd.save(str(path), params)
    with pytest.raises(weights.WeightsError) as error:
        weights.load_into(pipeline.net, path)
    message = str(error.value)
    assert "missing from the file (1): head.fc.bias" in message
    assert "in the file but not in the network (1): extra.weight" in message
    assert "head.fc.weight: file (3, 64) vs network (5, 128)" in message


def test_name_map_renames_foreign_prefixes():
    renamed = weights.rename({"fc.weight": 1, "conv1.weight": 2}, {"fc.": "head.fc.", "": "backbone."})
    assert renamed == {"head.fc.weight": 1, "backbone.conv1.weight": 2}


@pytest.mark.parametrize("content, reason", [
    (b"", "it is empty"),
    (b"\x12\x01\x00\x00\x00\x00\x00\x00\x05\x00", "header but cannot be read to its end"),
    (b"<!DOCTYPE html><html>Access denied</html>", "HTML or XML page"),
    (b"\x80\x04\x95garbage", "Python pickle"),
    (b"\x89HDF\r\n\x1a\n....", "HDF5 file"),
    (b"\x00\x01\x02\x03 garbage", "first bytes are 00 01 02 03"),
])
def test_a_file_that_is_not_parameters_says_what_it_is(tmp_path, content, reason):
    (tmp_path / "garbage.params").write_bytes(content)
    with pytest.raises(weights.WeightsError, match=f"garbage.params is not an MXNet parameter file: .*{reason}"):
        weights.read_params(tmp_path / "garbage.params")


def test_a_zipped_gluoncv_file_says_to_unzip_it(tmp_path):
    mx.nd.save(str(tmp_path / "resnet18_v1-a0666292.params"), {"a": mx.nd.ones(2)})
    with zipfile.ZipFile(tmp_path / "resnet18_v1.params", "w") as archive:
        archive.write(tmp_path / "resnet18_v1-a0666292.params", "resnet18_v1-a0666292.params")
    with pytest.raises(weights.WeightsError, match=r"zip archive \(resnet18_v1-a0666292.params\).*unzip it"):
        weights.read_params(tmp_path / "resnet18_v1.params")
