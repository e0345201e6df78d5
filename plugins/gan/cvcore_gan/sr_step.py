"""SRGAN's update: content-only pre-training epochs, then alternating discriminator and generator steps."""
from __future__ import annotations

from typing import Any, Mapping

import mxnet as mx
from mxnet import autograd, gluon

from cvcore.train.data import split_to_contexts
from cvcore.train.seeding import seed_devices
from cvcore.train.step import Step


class SRGANStep(Step):
    """One batch of ``(lr, hr)``.

    During the first ``pretrain_epochs`` the generator learns the content loss
    alone (SRResNet). Afterwards the discriminator first takes a step on the
    real HR images and the generator's (detached) outputs, then the generator
    one on ``content + adversarial_weight * BCE(D(G(lr)), real)``. The loss the
    engine reports is the generator's; ``loss_content``, ``loss_adversarial``
    and ``loss_d`` are logged beside it.
    """

    def __init__(self, pipeline: Any, trainers: Mapping[str, gluon.Trainer], *, seed: int, guard: Any, content: gluon.Block,
                 pretrain_epochs: int, adversarial_weight: float) -> None:
        self.pipeline, self.trainers, self.seed, self.guard = pipeline, trainers, seed, guard
        self.generator, self.discriminator = pipeline.net.generator, pipeline.net.discriminator
        self.content, self.pretrain_epochs, self.adversarial_weight = content, pretrain_epochs, adversarial_weight
        self.bce = gluon.loss.SigmoidBinaryCrossEntropyLoss()
        self.values: dict[str, float] = {}

    def forward_backward(self, batch: Any, *, global_step: int, epoch: int, mix: bool = False) -> tuple[float, int]:
        lr, hr = batch
        seed_devices(self.seed, global_step)
        parts = split_to_contexts(lr, (hr,), self.pipeline.ctx)
        adversarial = epoch >= self.pretrain_epochs
        with autograd.record():
            outputs = [self.generator(x) for x, _ in parts]
        self.values = {"loss_d": self._discriminator_step(outputs, parts, lr.shape[0])} if adversarial else {}
        with autograd.record():  # continues the generator's recorded graph
            content, fooled = [], []
            for output, (_, (target,)) in zip(outputs, parts):
                content.append(self.content(output, target))
                if adversarial:
                    logits = self.discriminator(output)
                    fooled.append(self.bce(logits, mx.nd.ones_like(logits)))
            losses = [c + self.adversarial_weight * f for c, f in zip(content, fooled)] if adversarial else content
        autograd.backward(losses)
        self.values["loss_content"] = _total(content) / lr.shape[0]
        if adversarial:
            self.values["loss_adversarial"] = _total(fooled) / lr.shape[0]
        return _total(losses), lr.shape[0]

    def _discriminator_step(self, outputs: list, parts: list, batch_size: int) -> float:
        """One update of the discriminator on the real images and the generator's ``outputs`` (detached)."""
        with autograd.record():
            losses = []
            for output, (_, (real,)) in zip(outputs, parts):
                real_logits, fake_logits = self.discriminator(real), self.discriminator(output.detach())
                losses.append(self.bce(real_logits, mx.nd.ones_like(real_logits)) + self.bce(fake_logits, mx.nd.zeros_like(fake_logits)))
        autograd.backward(losses)
        loss = _total(losses) / batch_size
        self.guard.check("discriminator loss", loss)
        trainer = self.trainers["discriminator"]
        trainer.allreduce_grads()
        trainer.update(batch_size)
        return loss

    def update(self, batch_size: int) -> None:
        trainer = self.trainers["generator"]
        trainer.allreduce_grads()
        trainer.update(batch_size)


def _total(losses: list) -> float:
    return sum(float(loss.sum().asscalar()) for loss in losses)
