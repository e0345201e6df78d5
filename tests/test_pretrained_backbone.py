"""``backbone = {name = ..., pretrained = ...}``: a fresh pipeline starts from a classifier's backbone weights."""
from __future__ import annotations

import json
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from cvcore import weights
from cvcore.pipeline import Pipeline
from cvcore.zoo import get_recipe

TABLE = Path(__file__).parent / "data" / "gluoncv" / "params" / "resnet18_v1b.json"


def gluoncv_classifier_file(path: Path) -> dict[str, np.ndarray]:
    """A file as GluonCV's resnet18_v1b ``save_parameters`` writes it, with random values."""
    rng = np.random.default_rng(0)
    arrays = {name: rng.normal(size=shape).astype(np.float32) for name, shape in json.loads(TABLE.read_text()).items()}
    mx.nd.save(str(path), {name: mx.nd.array(value) for name, value in arrays.items()})
    return arrays


def backbone_values(pipeline: Pipeline) -> dict[str, np.ndarray]:
    return {name: p.data().asnumpy() for name, p in pipeline.net.backbone._collect_params_with_prefix().items()}


FRESH = {"classes": 5, "input_shape": [1, 3, 64, 64]}  # a new head: only the backbone can come from the classifier


def test_a_gluoncv_classifier_file_initializes_the_backbone_under_a_new_head(tmp_path):
    arrays = gluoncv_classifier_file(tmp_path / "resnet18_v1b.params")
    pipeline = Pipeline(backbone={"name": "resnet18_v1b", "pretrained": str(tmp_path / "resnet18_v1b.params")}, **FRESH)
    loaded = backbone_values(pipeline)
    assert loaded.keys() == {name for name in arrays if not name.startswith("fc.")}
    for name, value in loaded.items():
        np.testing.assert_array_equal(value, arrays[name])
    assert pipeline.net(pipeline.example(1)).shape == (1, 5)


def test_a_pipeline_file_initializes_a_backbone_by_its_own_names(tmp_path):
    source = Pipeline(backbone="resnet18_v1b", classes=3, input_shape=[1, 3, 32, 32])
    source.save(tmp_path / "classifier")
    pipeline = Pipeline(backbone={"name": "resnet18_v1b", "pretrained": str(tmp_path / "classifier" / "model.params")}, **FRESH)
    expected = backbone_values(source)
    for name, value in backbone_values(pipeline).items():
        np.testing.assert_array_equal(value, expected[name])


def test_pretrained_true_takes_the_zoo_file_from_the_weight_store(tmp_path, monkeypatch):
    gluoncv_classifier_file(tmp_path / "store.params")
    fetched = []
    monkeypatch.setattr(weights, "fetch", lambda spec, name: fetched.append((spec, name)) or tmp_path / "store.params")
    Pipeline(backbone={"name": "resnet18_v1b", "pretrained": True}, **FRESH)
    assert fetched == [(get_recipe("resnet18_v1b").weights, "resnet18_v1b")]


def test_a_saved_pipeline_reloads_without_fetching_the_backbone_again(tmp_path, monkeypatch):
    gluoncv_classifier_file(tmp_path / "store.params")
    monkeypatch.setattr(weights, "fetch", lambda spec, name: tmp_path / "store.params")
    pipeline = Pipeline(backbone={"name": "resnet18_v1b", "pretrained": True}, **FRESH)
    pipeline.save(tmp_path / "fine-tuned")

    def offline(spec, name):
        raise weights.WeightsError("offline")

    monkeypatch.setattr(weights, "fetch", offline)
    again = Pipeline.load(tmp_path / "fine-tuned")
    x = pipeline.example(1)
    np.testing.assert_allclose(again.net(x).asnumpy(), pipeline.net(x).asnumpy(), rtol=1e-5, atol=1e-6)


def test_a_backbone_without_zoo_weights_or_a_file_that_does_not_fit_is_refused(tmp_path, tinynet):
    with pytest.raises(weights.WeightsError, match="no pretrained weights in the zoo"):
        Pipeline(backbone={"name": "tinynet", "pretrained": True}, classes=3)
    gluoncv_classifier_file(tmp_path / "resnet18.params")
    with pytest.raises(weights.WeightsError, match="does not fit"):
        Pipeline(backbone={"name": "resnet34_v1b", "pretrained": str(tmp_path / "resnet18.params")}, classes=3)
