"""One training update. :class:`Step` is what the engine runs on every batch; :class:`SupervisedStep`, the default,
is forward on every device, loss, backward, all-reduce, guard, clip, update."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import mxnet as mx
from mxnet import autograd, gluon

from .config import TrainConfig
from .data import split_to_contexts
from .guards import DivergenceGuard, clip_global_norm
from .optim import updates_on_servers
from .seeding import MIXUP, generator, seed_devices
from .tricks import mixed_labels, mixup, soft_label_loss

if TYPE_CHECKING:
    from ..pipeline import Pipeline


class Step:
    """The update of one batch, in two calls: :meth:`forward_backward`, then (the loss checked) :meth:`update`.

    A task with its own update (a GAN's alternating discriminator and generator
    steps) subclasses it and returns it from :meth:`cvcore.Task.training_step`.
    Every random draw must depend only on the run's seed and the global step
    (:mod:`cvcore.train.seeding`), and any state beyond the parameters and the
    optimizers' must be given by :meth:`state_arrays`: then resume is exact.
    """

    values: dict[str, float] = {}
    """Per-batch values the engine logs beside the loss (e.g. ``loss_d``), set by :meth:`forward_backward`."""

    def forward_backward(self, batch: Any, *, global_step: int, epoch: int, mix: bool) -> tuple[float, int]:
        """Compute the gradients of ``batch``; return the batch's summed loss and its number of samples."""
        raise NotImplementedError

    def update(self, batch_size: int) -> float | None:
        """Apply the gradients; return the gradient norm when the step clipped it (else None)."""
        raise NotImplementedError

    def state_arrays(self) -> dict[str, Any]:
        """Arrays of the step's own state (a pool of past outputs) that a checkpoint keeps; none by default."""
        return {}

    def load_state_arrays(self, arrays: Mapping[str, Any]) -> None:
        """Restore :meth:`state_arrays` from a checkpoint."""


class SupervisedStep(Step):
    """The update of a network trained with one loss on the task's ``(inputs, targets)`` batches.

    While mixup is on, the loss is its soft-label variant; with a teacher it is wrapped
    in the task's distillation loss (:meth:`~cvcore.task.Task.distillation_loss`) and
    gets the teacher's outputs on the same (mixed) inputs. Every random draw depends only on the seed and
    the global step.
    """

    def __init__(self, pipeline: "Pipeline", trainer: gluon.Trainer, config: TrainConfig, guard: DivergenceGuard,
                 *, teacher: "Pipeline | None" = None, num_workers: int = 1) -> None:
        self.pipeline, self.trainer, self.guard, self.teacher = pipeline, trainer, guard, teacher
        self.seed, self.mixup_alpha, self.max_norm = config.seed, config.mixup_alpha, config.clip_gradient_norm
        self.num_workers = num_workers

        def training_loss(loss: Any) -> Any:
            if teacher is None:
                return loss
            return pipeline.task.distillation_loss(pipeline, loss, temperature=config.temperature, hard_weight=config.hard_weight)

        self.loss = training_loss(pipeline.loss)
        self.mixup_loss = training_loss(soft_label_loss(pipeline.loss)) if config.mixup else None
        self.trained = [p for p in pipeline.net.collect_params().values() if p.grad_req != "null"]

    def forward_backward(self, batch: Any, *, global_step: int, epoch: int = 0, mix: bool = False) -> tuple[float, int]:
        """Gradients of the loss summed over ``batch``; returns that loss sum and the batch size."""
        task, net, contexts = self.pipeline.task, self.pipeline.net, self.pipeline.ctx
        inputs, targets = task.split_batch(batch)
        lam = None
        if mix:
            lam = float(generator(self.seed, MIXUP, global_step).beta(self.mixup_alpha, self.mixup_alpha))
            inputs, targets = mixup(inputs, targets, lam, self.pipeline.task_name)
        seed_devices(self.seed, global_step)
        parts = split_to_contexts(inputs, targets, contexts)
        teacher_outputs = [self._teacher(x) for x, _ in parts] if self.teacher is not None else None
        loss_fn = self.loss if lam is None else self.mixup_loss
        with autograd.record():
            losses = []
            for index, (x, t) in enumerate(parts):
                out = net(x, *task.network_targets(t))
                if lam is not None:
                    t = (mixed_labels(*t, lam, classes=out.shape[-1]),)
                extra = (teacher_outputs[index],) if teacher_outputs is not None else ()
                losses.append(loss_fn(out, *extra, *t))
        autograd.backward(losses)
        return sum(float(loss.sum().asscalar()) for loss in losses), inputs.shape[0]

    def update(self, batch_size: int) -> float | None:
        """All-reduce, clip (checking the norm) and apply; returns the mean gradient's norm when clipping."""
        if updates_on_servers(self.trainer):  # each worker's gradients are applied on their own, as they arrive
            self.trainer.step(1)  # scaled by the servers' fixed 1 / batch_size (see cvcore.train.optim.make_trainer)
            return None
        self.trainer.allreduce_grads()
        samples = batch_size * self.num_workers  # dist kvstores sum the gradients of every worker
        norm = None
        if self.max_norm is not None:
            grads = [[p.grad(ctx) for p in self.trained] for ctx in self.pipeline.ctx]
            norm = clip_global_norm(grads, self.max_norm, samples)
            self.guard.check("gradient norm", norm)
        self.trainer.update(samples)
        return norm

    def _teacher(self, x: mx.nd.NDArray) -> mx.nd.NDArray:
        teacher_ctx = x.context if x.context in self.teacher.ctx else self.teacher.ctx[0]
        return self.teacher.net(x.as_in_context(teacher_ctx)).as_in_context(x.context)
