"""The heatmap loss against numpy, weighted joints, hybridization and gradients."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd

from cvcore_pose.loss import HeatmapDistillation, HeatmapMSE


def reference(pred, target, weight):
    """0.5 * mean over joints and pixels of (w_j * (pred - target))^2, per sample."""
    diff = (pred - target) * weight.reshape(weight.shape[0], weight.shape[1], 1, 1)
    return 0.5 * (diff ** 2).reshape(len(pred), -1).mean(axis=1)


def arrays(seed=0, shape=(3, 17, 8, 6)):
    rng = np.random.default_rng(seed)
    pred = rng.standard_normal(shape).astype(np.float32)
    target = rng.uniform(0, 1, shape).astype(np.float32)
    weight = (rng.uniform(size=shape[:2]) > 0.3).astype(np.float32)
    return pred, target, weight


@pytest.mark.parametrize("hybridize", [False, True])
def test_matches_numpy(hybridize):
    pred, target, weight = arrays()
    loss = HeatmapMSE()
    if hybridize:
        loss.hybridize()
    for _ in range(2):  # the second call runs the cached graph
        out = loss(mx.nd.array(pred), mx.nd.array(target), mx.nd.array(weight)).asnumpy()
        assert out.shape == (3,)
        np.testing.assert_allclose(out, reference(pred, target, weight), rtol=1e-5)


def test_weights_of_other_shapes_and_a_scale():
    pred, target, weight = arrays(1)
    expected = reference(pred, target, weight)
    loss = HeatmapMSE()
    for shaped in (weight[..., None], weight[..., None, None]):
        np.testing.assert_allclose(loss(mx.nd.array(pred), mx.nd.array(target), mx.nd.array(shaped)).asnumpy(), expected, rtol=1e-5)
    scaled = HeatmapMSE(weight=2.0)(mx.nd.array(pred), mx.nd.array(target), mx.nd.array(weight)).asnumpy()
    np.testing.assert_allclose(scaled, 2 * expected, rtol=1e-5)


def test_unweighted_joints_neither_count_nor_get_gradients():
    pred, target, _ = arrays(2, (2, 4, 5, 5))
    weight = np.array([[1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float32)
    x = mx.nd.array(pred)
    x.attach_grad()
    with autograd.record():
        out = HeatmapMSE()(x, mx.nd.array(target), mx.nd.array(weight))
    out.backward()
    assert out.asnumpy()[1] == 0
    grad = x.grad.asnumpy()
    assert (grad[0, [1, 3]] == 0).all() and (grad[1] == 0).all() and (grad[0, [0, 2]] != 0).any()
    # d/dpred of 0.5 * mean((pred - target)^2) is (pred - target) / count
    np.testing.assert_allclose(grad[0, 0], (pred[0, 0] - target[0, 0]) / (4 * 5 * 5), rtol=1e-5)


def test_a_perfect_prediction_costs_nothing():
    _, target, weight = arrays(3)
    assert (HeatmapMSE()(mx.nd.array(target), mx.nd.array(target), mx.nd.array(weight)).asnumpy() == 0).all()


@pytest.mark.parametrize("hard_weight", [0.0, 0.3, 1.0])
def test_distillation_mixes_the_labels_and_the_teachers_heatmaps_for_every_joint(hard_weight):
    pred, target, weight = arrays(3)
    teacher = np.random.default_rng(4).uniform(0, 1, pred.shape).astype(np.float32)
    loss = HeatmapDistillation(HeatmapMSE(), hard_weight)
    out = loss(*(mx.nd.array(a) for a in (pred, teacher, target, weight))).asnumpy()
    expected = hard_weight * reference(pred, target, weight) + (1 - hard_weight) * reference(pred, teacher, np.ones_like(weight))
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_a_pose_pipeline_trains_with_a_teacher(tmp_path):
    """With a teacher the pose task distils heatmaps (a classifier's softmax over heatmap rows would not even broadcast)."""
    from cvcore.pipeline import Pipeline
    from cvcore_pose.synthetic import synthesize

    synthesize(tmp_path / "data", train=4, val=2, size=(96, 96), progress=False)

    def pipeline():
        mx.random.seed(0)
        return Pipeline(task="pose", backbone="resnet18_v1b", input_shape=[1, 3, 64, 64],
                        data={"dataset": "coco_keypoints", "root": str(tmp_path / "data")})

    options = dict(epochs=1, batch_size=4, lr=1e-3, optimizer="adam", progress=False)
    teacher = pipeline()
    plain = pipeline().fit(**options)
    hard = pipeline().fit(teacher=teacher, hard_weight=1.0, **options)
    soft = pipeline().fit(teacher=teacher, hard_weight=0.0, **options)
    assert hard["loss"] == plain["loss"]
    assert np.isfinite(soft["loss"]) and soft["loss"] != plain["loss"]
