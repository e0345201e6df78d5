"""SSD training: default boxes matched to objects, the offsets they learn, hard-negative mining, and a fit on VOC data."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon

from cvcore.data.synthetic.voc import CLASSES, synthesize
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore_ssd.coder import corners, decode, encode
from cvcore_ssd.head import TrainingOutputs
from cvcore_ssd.loss import MultiBoxLoss
from cvcore_ssd.targets import coverage, match

# four default boxes cx, cy, w, h: two squares far apart, a wide and a tall one
ANCHORS = mx.nd.array([[[10, 10, 20, 20], [50, 50, 20, 20], [30, 10, 40, 10], [80, 80, 10, 40]]])


def test_each_object_claims_its_best_box_and_overlaps_over_half_are_matched():
    boxes = mx.nd.array([[[0, 0, 20, 20], [75, 58, 85, 102], [-1, -1, -1, -1]]])  # exactly box 0; box 3 overlaps 0.4; padding
    labels = mx.nd.array([[2, 4, -1]])
    classes, offsets = match(ANCHORS, boxes, labels)
    assert classes.asnumpy().tolist() == [[3, 0, 0, 5]]  # box 2 overlaps object 0 by 0.2: background
    np.testing.assert_allclose(offsets.asnumpy()[0, 0], 0, atol=1e-6)  # a perfect box needs no offset
    assert (offsets.asnumpy()[0, 1:3] == 0).all()
    np.testing.assert_allclose(decode(mx.nd, offsets, ANCHORS).asnumpy()[0, 3], [75, 58, 85, 102], atol=1e-3)


def test_a_box_over_the_threshold_joins_the_object_it_overlaps_most():
    boxes = mx.nd.array([[[0, 0, 20, 20], [42, 42, 60, 60]]])
    labels = mx.nd.array([[0, 1]])
    classes, _ = match(ANCHORS, boxes, labels, threshold=0.5)
    assert classes.asnumpy()[0, :2].tolist() == [1, 2]
    classes, _ = match(ANCHORS, boxes, labels, threshold=0.9)
    assert classes.asnumpy()[0, :2].tolist() == [1, 2]  # still each object's best box


def test_padding_columns_change_no_target():
    """The task pads to 100 objects; match skips columns that are padding in every image, and only those."""
    objects = [[0, 0, 20, 20], [75, 58, 85, 102]]
    boxes = mx.nd.full((3, 100, 4), -1)
    labels = mx.nd.full((3, 100), -1)
    boxes[0, 0], labels[0, 0] = objects[0], 2
    boxes[0, 2], labels[0, 2] = objects[1], 4  # after a padding row: kept
    boxes[2, 0], labels[2, 0] = objects[1], 4  # image 1 has no object
    classes, offsets = match(ANCHORS, boxes, labels)
    alone = [match(ANCHORS, mx.nd.array([objects]), mx.nd.array([[2, 4]])), match(ANCHORS, mx.nd.array([objects[1:]]), mx.nd.array([[4]]))]
    for image, (want_classes, want_offsets) in zip((0, 2), alone):
        assert classes.asnumpy()[image].tolist() == want_classes.asnumpy()[0].tolist()
        np.testing.assert_allclose(offsets.asnumpy()[image], want_offsets.asnumpy()[0], atol=1e-6)
    assert (classes.asnumpy()[1] == 0).all() and (offsets.asnumpy()[1] == 0).all()


def test_coverage_counts_the_objects_a_default_box_overlaps_by_the_threshold():
    boxes = [[0, 0, 20, 20], [40, 40, 60, 48]]  # exactly box 0; inside box 1, which it overlaps by 160 / 400 = 0.4
    assert coverage(ANCHORS, boxes) == pytest.approx({"covered": 0.5, "per_object": 0.5, "median_best_iou": 0.7})
    assert coverage(ANCHORS, boxes, threshold=0.4) == pytest.approx({"covered": 1.0, "per_object": 1.0, "median_best_iou": 0.7})
    with pytest.raises(ValueError, match=r"at least one object box .* got shape \(0, 4\)"):
        coverage(ANCHORS, np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):  # 12 numbers that would reshape into 3 boxes
        coverage(ANCHORS, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="threshold is an IoU"):
        coverage(ANCHORS, boxes, threshold=50)


def _default_boxes(out_features, steps):
    """The default boxes of a MobileNet 0.25 SSD at 256 pixels whose maps start at the given stage and stride."""
    ssd = Pipeline("detection", backbone={"name": "mobilenet0.25", "out_features": out_features}, classes=2, loss="multibox",
                   input_shape=[1, 3, 256, 256], neck={"name": "ssd_extras", "batch_norm": True, "layers": [[32, 32, 3, 2, 1]] * 4},
                   head={"name": "ssd", "sizes": [25.6, 51.2, 94.7, 138.2, 181.8, 225.3, 246], "ratios": [[1, 2, 0.5]] * 6,
                         "steps": steps})
    return ssd.net.head.default_boxes(*ssd.net.head_inputs(mx.nd.zeros((1, 3, 256, 256))))


def test_default_boxes_two_cells_wide_miss_objects_that_boxes_three_cells_wide_cover():
    """The layout benchmarks/ssd.py moved from: at 256 pixels the zoo model's first map has stride 16 for 26-pixel boxes."""
    objects = [[x, y, x + 32, y + 32] for x in range(64, 97, 4) for y in range(64, 97, 4)]  # 32-pixel squares, every 4 pixels
    coarse = _default_boxes(["c4", "c5"], [16, 32, 64, 128, 256, 256])
    fine = _default_boxes(["c3", "c4"], [8, 16, 32, 64, 128, 256])
    assert (coarse.shape[1], fine.shape[1]) == (4 * (16**2 + 8**2 + 4**2 + 2**2 + 1 + 1), 4 * (32**2 + 16**2 + 8**2 + 4**2 + 2**2 + 1))
    covered_coarse, covered_fine = coverage(coarse, objects), coverage(fine, objects)
    assert covered_coarse["covered"] < 0.95 and covered_fine["covered"] == 1.0
    assert covered_fine["per_object"] > 3 * covered_coarse["per_object"]


def test_encode_inverts_decode():
    objects = mx.nd.array([[[3, 4, 17, 25], [40, 45, 70, 52], [22, 7, 37, 15], [70, 60, 95, 99]]])
    np.testing.assert_allclose(decode(mx.nd, encode(objects, ANCHORS), ANCHORS).asnumpy(), objects.asnumpy(), atol=1e-4)
    np.testing.assert_allclose(corners(ANCHORS).asnumpy()[0, 0], [0, 0, 20, 20])


def test_hard_negative_mining_counts_three_negatives_per_match_the_hardest_first():
    logits = mx.nd.zeros((1, 10, 3))
    logits[0, :, 0] = mx.nd.arange(10)  # box i has background logit i: low i = hard negative
    targets = mx.nd.array([[1] + [0] * 9])
    outputs = TrainingOutputs(logits, mx.nd.zeros((1, 10, 4)), targets, mx.nd.zeros((1, 10, 4)))
    loss = MultiBoxLoss()(outputs).asnumpy()
    probabilities = np.exp(logits.asnumpy()[0]) / np.exp(logits.asnumpy()[0]).sum(axis=1, keepdims=True)
    expected = -np.log(probabilities[0, 1]) - np.log(probabilities[1:4, 0]).sum()  # the match, then boxes 1-3
    np.testing.assert_allclose(loss, [expected], rtol=1e-5)
    assert MultiBoxLoss(negative_ratio=0)(outputs).asnumpy()[0] == pytest.approx(-np.log(probabilities[0, 1]), rel=1e-5)
    with pytest.raises(ConfigError, match="negative_ratio"):
        MultiBoxLoss(negative_ratio=-1)
    with pytest.raises(TypeError, match="training outputs"):
        MultiBoxLoss()((logits,))


@pytest.fixture(scope="module")
def small_ssd(tmp_path_factory) -> Pipeline:
    root = synthesize(tmp_path_factory.mktemp("voc"), train=16, val=4, size=(96, 96), progress=False)
    return Pipeline("detection", backbone="resnet18_v1", classes=5, input_shape=[1, 3, 96, 96], loss="multibox", metric="voc07_map",
                    neck={"name": "ssd_extras", "layers": [[32, 64, 3, 2, 1]], "batch_norm": True},
                    head={"name": "ssd", "sizes": [20, 45, 70, 96], "ratios": [[1, 2, 0.5]] * 3, "steps": [16, 32, 64]},
                    data={"dataset": "voc_detection", "root": str(root), "classes": list(CLASSES)},
                    augment={"photometric": True, "expand": 2, "crop": True})


def test_the_loss_gradient_fits_one_batch(small_ssd):
    transform = small_ssd.task.sample_transform(small_ssd, train=False)
    train = small_ssd.task.dataset(small_ssd, "train")
    x, boxes, labels, meta = (mx.nd.array(np.stack(column)) for column in zip(*(transform(*train[i]) for i in range(4))))
    trainer = gluon.Trainer(small_ssd.net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    losses = []
    for _ in range(25):
        with autograd.record():
            outputs = small_ssd.net(x, boxes, labels, meta)
            loss = small_ssd.loss(outputs)
        loss.backward()
        trainer.step(4)
        losses.append(float(loss.mean().asscalar()))
    assert float((outputs.class_targets > 0).sum().asscalar()) >= 4  # every image's objects matched
    assert losses[-1] < 0.2 * losses[0]


def test_fit_trains_with_ssds_augmentation_and_reports_voc_map(small_ssd, tmp_path):
    # hybridized: MXNet fails the backward pass of a cached graph that returns its own inputs (the neck passes two maps on)
    result = small_ssd.fit(epochs=2, batch_size=8, lr=0.01, progress=False, hybridize=True, out_dir=str(tmp_path / "run"))
    assert result["epoch"] == 2 and np.isfinite(result["loss"])
    assert 0 <= result["val_mAP"] <= 1 and {f"val_AP_{name}" for name in CLASSES} <= set(result)
