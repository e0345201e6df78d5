"""The bag of tricks and the numerical guards, each checked against a hand computation."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon.loss import Loss

import cvcore
from cvcore.losses import DistillationLoss, SoftmaxCrossEntropy
from cvcore.pipeline import Pipeline
from cvcore.train import TrainingDiverged
from cvcore.train.guards import clip_global_norm, global_norm
from cvcore.train.tricks import decay_free_parameters, mixed_labels, mixup, no_bias_decay


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def small_pipeline(root=None, **parts) -> Pipeline:
    mx.random.seed(0)
    data = {"data": {"dataset": "image_folder", "root": str(root)}} if root else {}
    return Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 16, 16], **parts, **data)


def test_no_bias_decay_exempts_biases_and_batchnorm_scale_and_shift(tinynet):
    net = small_pipeline().net
    exempt = {p.name for p in decay_free_parameters(net)}
    assert exempt and all(name.endswith(("bias", "gamma", "beta")) for name in exempt)
    with no_bias_decay(net):
        multipliers = {p.name: p.wd_mult for p in net.collect_params().values()}
    assert {name for name, m in multipliers.items() if m == 0.0} == exempt
    assert any(name.endswith("weight") and m == 1.0 for name, m in multipliers.items())
    assert all(p.wd_mult == 1.0 for p in net.collect_params().values())  # restored afterwards


def test_label_smoothing_matches_a_hand_computation():
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], dtype=np.float32)
    labels = np.array([2, 0])
    eps, classes = 0.1, 3
    targets = np.full((2, classes), eps / classes) + (1 - eps) * np.eye(classes)[labels]
    expected = -(targets * log_softmax(logits)).sum(axis=1)
    loss = SoftmaxCrossEntropy(label_smoothing=eps)(mx.nd.array(logits), mx.nd.array(labels))
    np.testing.assert_allclose(loss.asnumpy(), expected, rtol=1e-5)  # float32


def test_mixup_makes_distributions_and_the_soft_loss_is_the_mix_of_the_hard_ones():
    rng = np.random.default_rng(0)
    inputs, labels = mx.nd.array(rng.normal(size=(4, 3, 2, 2))), mx.nd.array([0, 2, 1, 2])
    lam = 0.3
    mixed, (first, partner) = mixup(inputs, (labels,), lam, "classification")
    np.testing.assert_allclose(mixed.asnumpy(), lam * inputs.asnumpy() + (1 - lam) * inputs.asnumpy()[::-1], rtol=1e-6)
    soft = mixed_labels(first, partner, lam, classes=3)
    np.testing.assert_allclose(soft.asnumpy().sum(axis=1), 1.0, rtol=1e-6)
    logits = mx.nd.array(rng.normal(size=(4, 3)))
    hard = SoftmaxCrossEntropy(label_smoothing=0.1)
    expected = lam * hard(logits, first) + (1 - lam) * hard(logits, partner)
    np.testing.assert_allclose(hard.with_soft_labels()(logits, soft).asnumpy(), expected.asnumpy(), rtol=1e-5)


def test_mixup_refuses_targets_that_are_not_class_indices():
    with pytest.raises(cvcore.ConfigError, match="mixup mixes class-index targets.*'pose'"):
        mixup(mx.nd.ones((2, 3)), (mx.nd.ones((2, 17, 8, 8)),), 0.5, "pose")


def test_distillation_loss_matches_numpy():
    rng = np.random.default_rng(1)
    student, teacher = rng.normal(size=(5, 4)) * 3, rng.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    t, hard_weight = 4.0, 0.3
    ce = -log_softmax(student)[np.arange(5), labels]
    p_teacher = np.exp(log_softmax(teacher / t))
    kl = (p_teacher * (log_softmax(teacher / t) - log_softmax(student / t))).sum(axis=1)
    expected = hard_weight * ce + (1 - hard_weight) * t * t * kl
    loss = DistillationLoss(SoftmaxCrossEntropy(), temperature=t, hard_weight=hard_weight)
    got = loss(mx.nd.array(student), mx.nd.array(teacher), mx.nd.array(labels))
    np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-4)  # float32, scaled by T²


def test_clipping_caps_the_global_norm_of_the_mean_gradient_on_every_device():
    grads = [[mx.nd.array([3.0, 0.0], ctx=ctx) * 8, mx.nd.array([[4.0]], ctx=ctx) * 8] for ctx in (mx.cpu(0), mx.cpu(1))]
    before = clip_global_norm(grads, max_norm=1.0, batch_size=8)  # summed over 8 samples: mean norm 5
    assert before == pytest.approx(5.0)
    for device in grads:
        assert global_norm(device) / 8 == pytest.approx(1.0)
        np.testing.assert_allclose(device[0].asnumpy(), [0.6 * 8, 0.0], rtol=1e-6)
    assert clip_global_norm(grads, max_norm=10.0, batch_size=8) == pytest.approx(1.0)  # under the cap: untouched
    np.testing.assert_allclose(grads[1][1].asnumpy(), [[0.8 * 8]], rtol=1e-6)


class NaNLoss(Loss):
    def __init__(self):
        super().__init__(None, 0)

    def hybrid_forward(self, F, pred, label):
        return F.sum(pred, axis=1) * float("nan")


class InfiniteGradient(Loss):
    """Finite loss (zero) whose gradient is not: d sqrt(u) / du at u = 0."""

    def __init__(self):
        super().__init__(None, 0)

    def hybrid_forward(self, F, pred, label):
        return F.sum(F.sqrt(F.abs(pred) * 0), axis=1)


def test_a_nan_loss_stops_training_naming_the_step(tinynet, color_folders):
    pipeline = small_pipeline(color_folders, loss=NaNLoss())
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at epoch 1, batch 1/4 \(global step 1, lr 0.1\).*lower lr"):
        pipeline.fit(epochs=1, batch_size=8, lr=0.1, progress=False)


def test_an_exploding_lr_is_caught_within_a_few_steps(tinynet, color_folders):
    pipeline = small_pipeline(color_folders)
    with pytest.raises(TrainingDiverged, match=r"became (nan|inf).*global step \d+, lr 1e\+30"):
        pipeline.fit(epochs=2, batch_size=8, lr=1e30, progress=False)


def test_a_non_finite_gradient_is_caught_when_clipping_measures_it(tinynet, color_folders, tmp_path):
    pipeline = small_pipeline(color_folders, loss=InfiniteGradient())
    with pytest.raises(TrainingDiverged, match=r"the gradient norm became nan at epoch 1, batch 1/4"):
        pipeline.fit(epochs=1, batch_size=8, clip_gradient_norm=1.0, progress=False, out_dir=str(tmp_path))
    assert '"event": "diverged"' in (tmp_path / "train.jsonl").read_text()


def test_distillation_with_hard_weight_one_is_plain_training(tinynet, color_folders, tmp_path):
    options = dict(epochs=1, batch_size=8, lr=0.05, progress=False)
    teacher = small_pipeline()
    teacher.save(tmp_path / "teacher")
    plain, distilled = small_pipeline(color_folders), small_pipeline(color_folders)
    plain.fit(**options)
    history = distilled.fit(teacher=str(tmp_path / "teacher"), hard_weight=1.0, temperature=4.0, **options)
    assert np.isfinite(history["loss"])
    for name, param in plain.net._collect_params_with_prefix().items():
        assert np.array_equal(param.data().asnumpy(), distilled.net._collect_params_with_prefix()[name].data().asnumpy())
    soft = small_pipeline(color_folders).fit(teacher=teacher, hard_weight=0.0, **options)
    assert soft["loss"] != history["loss"]
