"""The bag of tricks (He et al., 2019): no bias decay, mixup, knowledge distillation.

Label smoothing, the fourth, is the loss's own option (``[loss] label_smoothing``).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

import mxnet as mx
from mxnet import gluon

from ..errors import ConfigError

if TYPE_CHECKING:
    pass

DECAY_FREE_SUFFIXES = ("bias", "gamma", "beta")


def decay_free_parameters(net: gluon.Block) -> list[gluon.Parameter]:
    """Biases and BatchNorm's gamma and beta: the parameters no-bias-decay exempts from weight decay."""
    return [p for p in net.collect_params().values() if p.name.endswith(DECAY_FREE_SUFFIXES)]


@contextmanager
def no_bias_decay(net: gluon.Block, enabled: bool = True) -> Iterator[list[gluon.Parameter]]:
    """Within the block, :func:`decay_free_parameters` have ``wd_mult = 0``; their multipliers are restored after."""
    params = decay_free_parameters(net) if enabled else []
    saved = [p.wd_mult for p in params]
    for param in params:
        param.wd_mult = 0.0
    try:
        yield params
    finally:
        for param, wd_mult in zip(params, saved):
            param.wd_mult = wd_mult


def mixup(inputs: mx.nd.NDArray, targets: tuple, lam: float, task_name: str) -> tuple[mx.nd.NDArray, tuple]:
    """Mix the batch with itself reversed (``lam * x + (1 - lam) * x[::-1]``).

    Mixup applies to tasks whose batches carry one target of class indices;
    the targets become ``(labels, partner labels)`` for :func:`mixed_labels`.
    """
    if len(targets) != 1 or targets[0].size != inputs.shape[0]:
        shapes = ", ".join(str(t.shape) for t in targets)
        raise ConfigError(
            f"mixup mixes class-index targets, one per sample; task {task_name!r} gives targets of shape {shapes}. "
            "Set mixup = false for this task."
        )
    labels = targets[0].reshape((-1,))
    return lam * inputs + (1.0 - lam) * inputs.flip(axis=0), (labels, labels.flip(axis=0))


def mixed_labels(labels: mx.nd.NDArray, partner: mx.nd.NDArray, lam: float, classes: int) -> mx.nd.NDArray:
    """Class distributions ``lam * onehot(labels) + (1 - lam) * onehot(partner)``; each row sums to 1."""
    return lam * mx.nd.one_hot(labels, classes) + (1.0 - lam) * mx.nd.one_hot(partner, classes)


def soft_label_loss(loss: Any) -> Any:
    """The variant of ``loss`` that takes class distributions, for mixup."""
    if not hasattr(loss, "with_soft_labels"):
        raise ConfigError(
            f"mixup needs a loss that accepts class distributions (one with a with_soft_labels() method, "
            f"such as softmax_cross_entropy); {type(loss).__name__} has none."
        )
    return loss.with_soft_labels()
