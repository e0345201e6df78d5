"""The SSD zoo: GluonCV's parameter names and shapes, its files loading, default boxes, and the head's contract."""
from __future__ import annotations

import json
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest

from cvcore import testing
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore.weights import rename
from cvcore.zoo import get_recipe, list_models
from cvcore_ssd.anchors import default_boxes

TABLES = Path(__file__).parent.parent / "data" / "gluoncv" / "params"
MODELS = ["ssd_300_vgg16_atrous_voc", "ssd_512_vgg16_atrous_voc", "ssd_512_resnet50_v1_voc", "ssd_512_mobilenet1.0_voc"]


def structural_shapes(pipeline: Pipeline) -> dict[str, tuple]:
    return {key: tuple(param.shape) for key, param in pipeline.net._collect_params_with_prefix().items()}


@pytest.mark.parametrize("name", MODELS)
def test_zoo_models_have_gluoncvs_parameter_names_and_shapes(name):
    table = json.loads((TABLES / f"{name}.json").read_text())
    pipeline = Pipeline.from_model(name)
    theirs = {key: tuple(shape) for key, shape in rename(table, get_recipe(name).name_map).items()}
    assert structural_shapes(pipeline) == theirs
    assert name in list_models(task="detection")


@pytest.mark.parametrize("name", ["ssd_300_vgg16_atrous_voc", "ssd_512_mobilenet1.0_voc"])
def test_a_file_with_gluoncvs_names_loads_and_gives_the_same_detections(name, tmp_path):
    size = 300 if "300" in name else 512
    source = Pipeline.from_model(name)
    params = {key: param.data() for key, param in source.net._collect_params_with_prefix().items()}
    ours_of = rename({key: key for key in json.loads((TABLES / f"{name}.json").read_text())}, get_recipe(name).name_map)
    path = tmp_path / f"{name}.params"
    mx.nd.save(str(path), {theirs: params[ours] for ours, theirs in ours_of.items()})
    x = mx.nd.random.uniform(-1, 1, shape=(1, 3, size, size))
    expected = testing.outputs_of(source.net, x)
    loaded = Pipeline.from_model(name, pretrained=str(path))
    testing.assert_same_outputs(expected, testing.outputs_of(loaded.net, x), f"{name} from a GluonCV-named file")


def test_default_boxes_are_two_squares_then_one_box_per_further_ratio_on_every_cell():
    boxes = default_boxes(30, 60, (1, 2, 0.5), step=8, rows=2, cols=3).reshape(2, 3, 4, 4)
    np.testing.assert_allclose(boxes[1, 2, :, :2], [[20, 12]] * 4)  # row 1, column 2: centre (2.5 * 8, 1.5 * 8)
    np.testing.assert_allclose(boxes[0, 0, :, 2:], [[30, 30], [np.sqrt(1800)] * 2, [30 * np.sqrt(2), 30 / np.sqrt(2)],
                                                    [30 / np.sqrt(2), 30 * np.sqrt(2)]], rtol=1e-6)


def test_the_head_returns_the_detection_contract_best_first_and_per_class_suppressed():
    pipeline = Pipeline.from_model("ssd_300_vgg16_atrous_voc", head={"score_threshold": 0.04, "post_nms": 50})
    labels, scores, boxes = (o.asnumpy() for o in pipeline.net(mx.nd.random.uniform(-1, 1, shape=(2, 3, 300, 300))))
    assert labels.shape == scores.shape == (2, 50) and boxes.shape == (2, 50, 4)
    for row_labels, row_scores, row_boxes in zip(labels, scores, boxes):
        found = row_labels >= 0
        assert found.any() and set(row_labels[found].astype(int)) <= set(range(20))
        assert (np.diff(row_scores[found]) <= 0).all() and (row_scores[found] > 0.04).all()
        assert (row_boxes[found][:, 2:] > row_boxes[found][:, :2]).all()


@pytest.mark.parametrize("head, message", [({"sizes": [30, 60]}, "needs 7 sizes, 6 ratios lists and 6 steps"),
                                           ({"score_threshold": 1.5}, "score_threshold")])
def test_a_head_that_does_not_fit_the_maps_is_named(head, message):
    with pytest.raises(ConfigError, match=message):
        Pipeline.from_model("ssd_300_vgg16_atrous_voc", head=head)


def test_extra_layers_that_shrink_maps_need_the_input_size():
    with pytest.raises(ConfigError, match="set image_size"):
        Pipeline("detection", backbone="vgg16_atrous", neck={"name": "ssd_extras", "layers": "vgg300"}, head="ssd", classes=20,
                 input_shape=[1, 3, 300, 300])
    with pytest.raises(ConfigError, match="transition, channels, kernel, stride, padding"):
        Pipeline("detection", backbone="vgg16_atrous", neck={"name": "ssd_extras", "layers": [[256, 512, 3]]}, head="ssd",
                 input_shape=[1, 3, 300, 300])


def test_reset_class_keeps_reused_classes_scores_on_every_default_box(tmp_path):
    pipeline = Pipeline.from_model("ssd_300_vgg16_atrous_voc", head={"nms_threshold": 0, "score_threshold": 0})  # every box, no NMS
    x = mx.nd.random.uniform(-1, 1, shape=(1, 3, 300, 300))
    labels, scores, boxes = (y.asnumpy()[0] for y in pipeline.net(x))
    per_class = len(labels) // 20  # the rows of each class's candidates, class-major
    cat, dog = (slice(index * per_class, (index + 1) * per_class) for index in (7, 11))  # VOC's classes 7 and 11
    pipeline.reset_class(["dog", "cat"], reuse_weights=["cat", "dog"])
    new_labels, new_scores, new_boxes = (y.asnumpy()[0] for y in pipeline.net(x))
    assert len(new_labels) == 2 * per_class and pipeline.options["class_names"] == ["dog", "cat"]
    np.testing.assert_allclose(new_scores[:per_class], scores[dog], rtol=1e-5, atol=1e-7)  # the 18 dropped classes count as background
    np.testing.assert_allclose(new_scores[per_class:], scores[cat], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(new_boxes[per_class:], boxes[cat])
    pipeline.save(tmp_path / "pets")
    again = Pipeline.load(tmp_path / "pets")
    testing.assert_same_outputs(testing.outputs_of(pipeline.net, x), testing.outputs_of(again.net, x), "a reset SSD saved and loaded")
    pipeline.reset_class(["dog", "cat", "unicorn"], reuse_weights=["dog", "cat"])  # a new class starts afresh and takes its share
    assert len(pipeline.net(x)[0][0]) == 3 * per_class
