"""The R-CNN FPN zoo: GluonCV's parameter names and shapes, its files loading, classes reset, batches, the head's contract."""
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

TABLES = Path(__file__).parent.parent / "data" / "gluoncv" / "params"
MODELS = ["faster_rcnn_fpn_resnet50_v1b_coco", "faster_rcnn_fpn_syncbn_resnet50_v1b_coco", "faster_rcnn_fpn_resnet101_v1d_coco",
          "mask_rcnn_fpn_resnet50_v1b_coco", "mask_rcnn_fpn_resnet101_v1d_coco"]
SMALL_HEAD = {"name": "rcnn_fpn", "rpn_channels": 32, "rpn_post_nms": [64, 50], "roi_samples": 32}
SMALL = [1, 3, 128, 128]


def structural_shapes(pipeline: Pipeline) -> dict[str, tuple]:
    return {key: tuple(param.shape) for key, param in pipeline.net._collect_params_with_prefix().items()}


@pytest.mark.parametrize("name", [*MODELS, "faster_rcnn_fpn_bn_resnet50_v1b_coco"])
def test_zoo_models_have_gluoncvs_parameter_names_and_shapes(name):
    table_name = "faster_rcnn_fpn_syncbn_resnet50_v1b_coco" if name == "faster_rcnn_fpn_bn_resnet50_v1b_coco" else name
    table = json.loads((TABLES / f"{table_name}.json").read_text())
    pipeline = Pipeline.from_model(name)
    theirs = {key: tuple(shape) for key, shape in rename(table, get_recipe(name).name_map).items()}
    assert structural_shapes(pipeline) == theirs
    assert name in list_models(task="detection")


def gluoncv_file(pipeline: Pipeline, name: str, path: Path) -> Path:
    """The pipeline's parameters saved under GluonCV's names (the inverse of the recipe's name map)."""
    params = {key: param.data() for key, param in pipeline.net._collect_params_with_prefix().items()}
    theirs = {}
    table = json.loads((TABLES / f"{name}.json").read_text())
    ours_of = rename({key: key for key in table}, get_recipe(name).name_map)
    for our_key, gluoncv_key in ours_of.items():
        theirs[gluoncv_key] = params[our_key]
    mx.nd.save(str(path), theirs)
    return path


@pytest.mark.parametrize("name", ["faster_rcnn_fpn_syncbn_resnet50_v1b_coco", "mask_rcnn_fpn_resnet50_v1b_coco"])
def test_a_file_with_gluoncvs_names_loads_and_gives_the_same_detections(name, tmp_path):
    source = Pipeline.from_model(name, input_shape=SMALL)
    x = mx.nd.random.uniform(-1, 1, shape=tuple(SMALL))
    expected = testing.outputs_of(source.net, x)
    loaded = Pipeline.from_model(name, pretrained=str(gluoncv_file(source, name, tmp_path / f"{name}.params")), input_shape=SMALL)
    testing.assert_same_outputs(expected, testing.outputs_of(loaded.net, x), f"{name} from a GluonCV-named file")
    assert len(expected) == (4 if name.startswith("mask") else 3)


def small_detector(**head: object) -> Pipeline:
    return Pipeline("detection", backbone="resnet18_v1b", neck="fpn", head={**SMALL_HEAD, **head}, loss="rcnn",
                    input_shape=SMALL, classes=3, class_names=["disc", "square", "star"])


@pytest.mark.parametrize("masks", [False, True])
def test_each_image_of_a_batch_gets_the_detections_it_gets_alone(masks):
    mx.random.seed(0)  # fixed weights and input: see the masks' tolerance
    pipeline = small_detector(masks=masks, roi_size=14 if masks else 7)
    pipeline.net.hybridize(static_alloc=True)
    batch = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, size=(3, 3, 128, 128)))  # fixed: see the masks' tolerance
    together = testing.outputs_of(pipeline.net, batch)
    for index in range(3):
        alone = testing.outputs_of(pipeline.net, batch[index:index + 1])
        mine = [a[index:index + 1] for a in together]
        testing.assert_same_outputs(mine[:3], alone[:3], f"image {index} of the batch", rtol=1e-4, atol=1e-5)
        if masks:  # corners equal to 1e-4 move ROIAlign's samples (or, at a level boundary, the level); convolutions amplify it
            np.testing.assert_allclose(mine[3], alone[3], atol=5e-2)


def test_rcnn_head_keeps_the_head_contract():
    testing.check_head("rcnn_fpn", in_channels=(16,) * 5, in_strides=(4, 8, 16, 32, 64), input_size=128, classes=3,
                       rpn_channels=16, rpn_post_nms=[64, 20], max_detections=10)


def test_fpn_neck_runs_under_another_backbone():
    pipeline = Pipeline("detection", backbone="mobilenet1.0", neck="fpn", head=SMALL_HEAD, loss="rcnn", input_shape=SMALL, classes=2)
    labels, scores, boxes = testing.outputs_of(pipeline.net, mx.nd.random.uniform(shape=(1, 3, 128, 128)))
    assert labels.shape == scores.shape == (1, 100) and boxes.shape == (1, 100, 4)
    assert pipeline.net.neck.strides == (4, 8, 16, 32, 64)


def test_wrong_inputs_get_clear_errors():
    with pytest.raises(ConfigError, match="five equally wide pyramid levels"):
        Pipeline("detection", backbone="resnet18_v1b", head=SMALL_HEAD, loss="rcnn", input_shape=SMALL, classes=2)
    with pytest.raises(ConfigError, match="rpn_post_nms"):
        small_detector(rpn_post_nms=[64])
    masks = small_detector(masks=True, roi_size=14)
    features = [mx.nd.zeros((1, 256, 32 // 2 ** i, 32 // 2 ** i)) for i in range(5)]
    with pytest.raises(ConfigError, match="masks = true"):
        masks.net.head(*features, mx.nd.zeros((1, 2, 4)), mx.nd.zeros((1, 2)), mx.nd.zeros((1, 5)))
    with pytest.raises(TypeError, match="ground truth"):
        masks.loss(mx.nd.zeros((1, 2)))


def test_reset_class_makes_a_person_detector_without_training(tmp_path):
    head = {"rpn_post_nms": [2000, 40], "max_detections": 4000, "nms_candidates": -1}
    pipeline = Pipeline.from_model("faster_rcnn_fpn_resnet50_v1b_coco", input_shape=SMALL, head=head)
    x = mx.nd.random.uniform(-1, 1, shape=tuple(SMALL))
    before = testing.outputs_of(pipeline.net, x)
    pipeline.reset_class(["person"], reuse_weights=["person"])
    after = testing.outputs_of(pipeline.net, x)
    people = before[0][0] == 0
    assert people.sum() > 10 and (after[0][0] >= 0).sum() == people.sum() and set(after[0][0][after[0][0] >= 0]) == {0}
    kept = after[0][0] == 0
    order_before, order_after = (np.lexsort(np.round(boxes, 2).T) for boxes in (before[2][0][people], after[2][0][kept]))
    # The same boxes. Not bit-equal on every CPU: a box predictor with 4 output rows instead of 320 can take
    # another GEMM kernel, which sums in another order (seen: 4.6e-5 px on a 128 px image).
    np.testing.assert_allclose(before[2][0][people][order_before], after[2][0][kept][order_after], rtol=0, atol=1e-3)
    np.testing.assert_allclose(before[1][0][people][order_before], after[1][0][kept][order_after], rtol=1e-5)
    assert pipeline.options["class_names"] == ["person"] and pipeline.net.head.absorbed == 79
    testing.check_save_load_round_trip(pipeline, tmp_path / "person", x)


def test_reset_class_adds_new_classes_and_names_what_is_wrong():
    pipeline = small_detector(masks=True, roi_size=14)
    old = pipeline.net.head.class_predictor.weight.data().asnumpy()
    old_masks = pipeline.net.head.mask.mask.weight.data().asnumpy()
    pipeline.reset_class(["square", "kite", "disc"], reuse_weights={"square": "square", "disc": 0})
    new = pipeline.net.head.class_predictor.weight.data().asnumpy()
    np.testing.assert_array_equal(new[[0, 1, 3]], old[[0, 2, 1]])  # background, square, disc kept exactly
    np.testing.assert_array_equal(new[4], old[3])  # star: now background
    assert pipeline.net.head.box_predictor.weight.shape[0] == 12
    new_masks = pipeline.net.head.mask.mask.weight.data().asnumpy()
    assert new_masks.shape[0] == 3
    np.testing.assert_array_equal(new_masks[[0, 2]], old_masks[[1, 0]])  # square and disc: their mask channels
    labels = testing.outputs_of(pipeline.net, mx.nd.random.uniform(shape=(1, 3, 128, 128)))[0]
    assert labels.max() <= 2
    with pytest.raises(ConfigError, match="'boat' is not among the old class names"):
        pipeline.reset_class(["kite"], reuse_weights={"kite": "boat"})
    with pytest.raises(ConfigError, match="outside the old classes"):
        pipeline.reset_class(["kite"], reuse_weights={0: 7})
    with pytest.raises(ConfigError, match="non-empty list"):
        pipeline.reset_class("kite")
