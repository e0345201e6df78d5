"""One update of each GAN on a fixed batch lowers what it optimizes, for the generators and the discriminators.

Plain gradient descent with a small rate: Adam's first step moves every weight by the full rate in the sign of its
gradient, which need not lower a loss (it raised a fresh PatchGAN's from 3.8 to 221).
"""
from __future__ import annotations

import mxnet as mx
from mxnet import autograd

from cvcore import Pipeline
from cvcore.train.config import TrainConfig
from cvcore.train.guards import DivergenceGuard
from cvcore.train.optim import make_trainers


def step_of(pipeline: Pipeline, lr: float):
    config = TrainConfig(optimizer="sgd", lr=lr, momentum=0.0, wd=0.0, epochs=2)
    trainers = make_trainers(pipeline.task.parameter_groups(pipeline), config, "device")
    return pipeline.task.training_step(pipeline, trainers, config, DivergenceGuard(lambda: "here"))


def batch(*shapes):
    mx.random.seed(4)
    return tuple(mx.nd.random.uniform(-1, 1, shape) for shape in shapes)


def bce_discriminator_loss(discriminator, real, fake) -> float:
    bce = mx.gluon.loss.SigmoidBinaryCrossEntropyLoss()
    with autograd.train_mode():  # batch statistics, as in the step
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        loss = bce(real_logits, mx.nd.ones_like(real_logits)) + bce(fake_logits, mx.nd.zeros_like(fake_logits))
    return float(loss.mean().asscalar())


def test_srgan_content_step_lowers_the_content_loss():
    mx.random.seed(0)
    pipeline = Pipeline("super_resolution", generator={"blocks": 2, "channels": 16}, discriminator={"channels": 8},
                        content_loss="mse", pretrain_epochs=1)
    step, lr_hr = step_of(pipeline, 0.1), batch((4, 3, 16, 16), (4, 3, 64, 64))
    first, samples = step.forward_backward(lr_hr, global_step=0, epoch=0)
    step.update(samples)
    second, _ = step.forward_backward(lr_hr, global_step=1, epoch=0)
    assert second < first and "loss_d" not in step.values


def test_srgan_adversarial_step_lowers_the_discriminator_loss():
    mx.random.seed(0)
    pipeline = Pipeline("super_resolution", generator={"blocks": 2, "channels": 16}, discriminator={"channels": 8},
                        content_loss="mse", pretrain_epochs=0)
    step, (lr, hr) = step_of(pipeline, 1e-4), batch((4, 3, 16, 16), (4, 3, 64, 64))
    with autograd.train_mode():  # batch statistics, as in the step
        fake = pipeline.net.generator(lr)
    before = bce_discriminator_loss(pipeline.net.discriminator, hr, fake)
    _, samples = step.forward_backward((lr, hr), global_step=0, epoch=0)
    step.update(samples)
    assert bce_discriminator_loss(pipeline.net.discriminator, hr, fake) < before
    assert {"loss_d", "loss_adversarial", "loss_content"} <= step.values.keys()


def least_squares_discriminator_loss(discriminator, real, fake) -> float:
    with autograd.train_mode():
        return float((mx.nd.square(discriminator(real) - 1).mean() + mx.nd.square(discriminator(fake)).mean()).asscalar())


def test_cyclegan_step_lowers_the_cycle_and_discriminator_losses():
    mx.random.seed(0)
    pipeline = Pipeline("image_translation", generator={"blocks": 1, "channels": 8}, crop=32, pool_size=0)
    step, (a, b) = step_of(pipeline, 1e-4), batch((2, 3, 32, 32), (2, 3, 32, 32))
    _, samples = step.forward_backward((a, b), global_step=0, epoch=0)
    cycle = step.values["loss_cycle"]
    (fake_a, fake_b), = step.fakes
    net = pipeline.net
    pairs = [(net.discriminator_a, a, fake_a), (net.discriminator_b, b, fake_b)]
    before = [least_squares_discriminator_loss(*pair) for pair in pairs]
    step.update(samples)
    after = [least_squares_discriminator_loss(*pair) for pair in pairs]
    assert after[0] < before[0] and after[1] < before[1]
    step.forward_backward((a, b), global_step=1, epoch=0)
    assert step.values["loss_cycle"] < cycle
