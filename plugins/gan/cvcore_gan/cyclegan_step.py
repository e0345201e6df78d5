"""CycleGAN's update: both generators on adversarial, cycle and identity losses, then both discriminators on a history pool."""
from __future__ import annotations

from typing import Any, Mapping

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from cvcore.train.data import split_to_contexts
from cvcore.train.seeding import TASK, generator, seed_devices
from cvcore.train.step import Step


class HistoryPool:
    """The last ``size`` generated images a discriminator also learns from (Shrivastava et al., 2017).

    While not full, every new image is kept and shown; afterwards each new
    image is, with probability one half, swapped for a random stored one
    (which is shown instead). Draws come from the generator it is given.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[mx.nd.NDArray] = []

    def query(self, images: mx.nd.NDArray, rng: np.random.Generator) -> mx.nd.NDArray:
        if self.size == 0:
            return images
        shown = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.copy())
                shown.append(image)
            elif rng.random() < 0.5:
                slot = int(rng.integers(len(self.images)))
                shown.append(self.images[slot])
                self.images[slot] = image.copy()
            else:
                shown.append(image)
        return mx.nd.stack(*shown)

    def state(self) -> mx.nd.NDArray | None:
        return mx.nd.stack(*self.images) if self.images else None

    def restore(self, stacked: mx.nd.NDArray | None) -> None:
        self.images = [] if stacked is None else [image.copy() for image in stacked]


class CycleGANStep(Step):
    """One batch of unpaired ``(a, b)`` images; the reported loss is the generators'.

    Generators: least-squares adversarial loss against each domain's
    discriminator, ``cycle_weight`` x L1 of A->B->A and B->A->B, and
    ``identity_weight`` x ``cycle_weight`` x L1 of each generator on its own
    target domain. Then each discriminator takes a least-squares step (halved)
    on real images and on :class:`HistoryPool` draws of the generated ones.

    Each generator runs at most once per recorded graph, and the generators'
    gradients add up over three graphs: MXNet 1.9's oneDNN transposed
    convolution crashes (a segfault) in the backward pass of a graph that
    runs it twice, as one graph of A->B->A and B->A->B would.
    """

    def __init__(self, pipeline: Any, trainers: Mapping[str, gluon.Trainer], *, seed: int, guard: Any, cycle_weight: float,
                 identity_weight: float, pool_size: int) -> None:
        self.pipeline, self.trainers, self.seed, self.guard = pipeline, trainers, seed, guard
        net = pipeline.net
        self.g_ab, self.g_ba, self.d_a, self.d_b = net.generator_ab, net.generator_ba, net.discriminator_a, net.discriminator_b
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.pools = {"a": HistoryPool(pool_size), "b": HistoryPool(pool_size)}
        for network in (self.g_ab, self.g_ba):  # summed over the graphs of forward_backward
            network.collect_params().setattr("grad_req", "add")
        self.values: dict[str, float] = {}

    def forward_backward(self, batch: Any, *, global_step: int, epoch: int, mix: bool = False) -> tuple[float, int]:
        """The generators' gradients, from three graphs in which each generator runs once."""
        a, b = batch
        self.global_step = global_step
        seed_devices(self.seed, global_step)
        self.parts = split_to_contexts(a, (b,), self.pipeline.ctx)
        self.fakes = []
        for network in (self.g_ab, self.g_ba):
            network.collect_params().zero_grad()
        totals = dict.fromkeys(("loss_adversarial", "loss_cycle", "loss_identity"), 0.0)
        for real_a, (real_b,) in self.parts:
            fakes = []
            for source, there, back, judge in ((real_a, self.g_ab, self.g_ba, self.d_b), (real_b, self.g_ba, self.g_ab, self.d_a)):
                with autograd.record():  # source -> there -> back: each generator once
                    fake = there(source)
                    adversarial, cycle = _least_squares(judge(fake), 1.0), _l1(back(fake), source)
                    loss = adversarial + self.cycle_weight * cycle
                loss.backward()
                totals["loss_adversarial"] += _total(adversarial)
                totals["loss_cycle"] += _total(cycle)
                fakes.append(fake.detach())
            if self.identity_weight > 0:
                with autograd.record():
                    identity = _l1(self.g_ab(real_b), real_b) + _l1(self.g_ba(real_a), real_a)
                    weighted = self.identity_weight * self.cycle_weight * identity
                weighted.backward()
                totals["loss_identity"] += _total(identity)
            self.fakes.append((fakes[1], fakes[0]))  # (fake A, fake B)
        self.values = {name: total / a.shape[0] for name, total in totals.items()}
        weights = {"loss_adversarial": 1.0, "loss_cycle": self.cycle_weight,
                   "loss_identity": self.identity_weight * self.cycle_weight}
        return sum(weights[name] * total for name, total in totals.items()), a.shape[0]

    def update(self, batch_size: int) -> None:
        generators = self.trainers["generators"]
        generators.allreduce_grads()
        generators.update(batch_size)
        rng = generator(self.seed, TASK, self.global_step)
        with autograd.record():
            losses = []
            for (real_a, (real_b,)), (fake_a, fake_b) in zip(self.parts, self.fakes):
                shown_a = self.pools["a"].query(fake_a, rng).as_in_context(real_a.context)
                shown_b = self.pools["b"].query(fake_b, rng).as_in_context(real_b.context)
                loss_a = _least_squares(self.d_a(real_a), 1.0) + _least_squares(self.d_a(shown_a), 0.0)
                loss_b = _least_squares(self.d_b(real_b), 1.0) + _least_squares(self.d_b(shown_b), 0.0)
                losses.append(0.5 * (loss_a + loss_b))
        autograd.backward(losses)
        self.values["loss_d"] = sum(_total(loss) for loss in losses) / batch_size
        self.guard.check("discriminator loss", self.values["loss_d"])
        discriminators = self.trainers["discriminators"]
        discriminators.allreduce_grads()
        discriminators.update(batch_size)
        self.parts, self.fakes = [], []

    def state_arrays(self) -> dict[str, mx.nd.NDArray]:
        stacked = {f"pool_{domain}": pool.state() for domain, pool in self.pools.items()}
        return {name: array for name, array in stacked.items() if array is not None}

    def load_state_arrays(self, arrays: Mapping[str, mx.nd.NDArray]) -> None:
        for domain, pool in self.pools.items():
            pool.restore(arrays.get(f"pool_{domain}"))


def _least_squares(scores: Any, target: float) -> Any:
    """Per-sample mean of ``(scores - target)^2`` (LSGAN)."""
    return mx.nd.mean(mx.nd.square(scores - target), axis=tuple(range(1, scores.ndim)))


def _l1(output: Any, target: Any) -> Any:
    return mx.nd.mean(mx.nd.abs(output - target), axis=tuple(range(1, output.ndim)))


def _total(loss: Any) -> float:
    return float(loss.sum().asscalar())
