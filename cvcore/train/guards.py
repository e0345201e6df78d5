"""Numerical guards: gradient clipping by global norm, and stopping when training diverges."""
from __future__ import annotations

import math
from typing import Callable, Sequence

import mxnet as mx

from ..errors import CvcoreError

ADVICE = (
    "Try a lower lr, a longer warmup (warmup_epochs), clip_gradient_norm = 1.0 (or lower), "
    "and check the data for NaN/Inf values"
)


REFERENCE_STEPS = 10
"""Steps whose losses set the scale a later loss is compared with."""


class TrainingDiverged(CvcoreError):
    """The loss or the gradient norm became NaN or infinite; the step was not applied."""


class DivergenceGuard:
    """Raises :class:`TrainingDiverged` naming where training stands (``where()``) and what to try.

    Besides NaN and infinity, a batch loss above ``max_loss_ratio`` times the
    largest loss of the run's first :data:`REFERENCE_STEPS` steps counts as
    divergence: weights blown up by one bad update are still finite, and the
    loss they give (1e25 where training began at 1.1) is the first sign.
    """

    def __init__(self, where: Callable[[], str], max_loss_ratio: float | None = None) -> None:
        self.where, self.max_loss_ratio = where, max_loss_ratio
        self.reference, self.seen = 0.0, 0

    def check(self, what: str, value: float) -> None:
        if not math.isfinite(value):
            raise TrainingDiverged(f"Training diverged: the {what} became {value} at {self.where()}. {ADVICE}.")

    def check_loss(self, loss: float) -> None:
        """Check one batch's mean loss: finite, and not exploded against the first steps' losses."""
        self.check("loss", loss)
        if self.max_loss_ratio and self.reference > 0 and loss > self.max_loss_ratio * self.reference:
            raise TrainingDiverged(
                f"Training diverged: the loss exploded to {loss:.4g} at {self.where()}, more than {self.max_loss_ratio:g} times "
                f"the {self.reference:.4g} of the run's first steps (max_loss_ratio). {ADVICE}."
            )
        if self.seen < REFERENCE_STEPS:
            self.reference, self.seen = max(self.reference, loss), self.seen + 1


def global_norm(arrays: Sequence[mx.nd.NDArray]) -> float:
    """The L2 norm of all ``arrays`` together (one device synchronisation)."""
    squares = mx.nd.multi_sum_sq(*arrays, num_arrays=len(arrays))
    return math.sqrt(float(squares.sum().asscalar()))


def clip_global_norm(grads_per_context: Sequence[Sequence[mx.nd.NDArray]], max_norm: float, batch_size: int) -> float:
    """Cap the global norm of the mean gradient at ``max_norm``; returns the norm before clipping.

    ``grads_per_context`` holds, for each device, gradients summed over a batch
    of ``batch_size`` samples and already all-reduced (every device holds the
    same values, so the norm is read from the first). A non-finite norm leaves
    the gradients as they are, for the caller to report.
    """
    norm = global_norm(grads_per_context[0]) / batch_size
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for grads in grads_per_context:
            for grad in grads:
                grad *= scale
    return norm
