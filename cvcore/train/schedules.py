"""Learning-rate schedules stepped every iteration: step, poly, cosine and linear, each after a linear warmup.

A schedule is a pure function of the global step (the number of updates
applied so far): it holds no other state, so a run resumed at step ``s``
continues with exactly the rate an uninterrupted run would use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .config import TrainConfig


@dataclass(frozen=True)
class LRSchedule:
    """``schedule(step)`` is the learning rate of update number ``step`` (0-based).

    Warmup rises linearly from ``warmup_lr`` (at step 0) towards ``base_lr``
    over ``warmup_steps``. After it, ``"step"`` multiplies ``base_lr`` by
    ``factor`` at each of ``decay_steps``; ``"poly"`` and ``"cosine"`` fall from
    ``base_lr`` to ``final_lr`` over the remaining steps up to ``total_steps``;
    ``"linear"`` (CycleGAN's) holds ``base_lr`` until the first of ``decay_steps``
    (default: half-way) and then falls in a straight line to ``final_lr``.
    """

    base_lr: float
    total_steps: int
    mode: str = "step"
    warmup_steps: int = 0
    warmup_lr: float = 0.0
    decay_steps: tuple[int, ...] = ()
    factor: float = 0.1
    power: float = 0.9
    final_lr: float = 0.0

    @classmethod
    def from_config(cls, config: TrainConfig, steps_per_epoch: int | None) -> "LRSchedule":
        """The schedule the ``[train]`` options describe, with epochs turned into steps."""
        if steps_per_epoch is None:
            needs = [name for name, used in (("warmup_epochs", config.warmup_epochs), ("lr_steps", config.lr_steps),
                                              (f"lr_mode = {config.lr_mode!r}", config.lr_mode != "step")) if used]
            if needs:
                raise ConfigError(
                    f"{', '.join(needs)} need the number of batches per epoch, but the training data has no len(): "
                    "pass a gluon Dataset (or a sized loader)."
                )
            steps_per_epoch = 1
        if config.warmup_epochs > config.epochs:
            raise ConfigError(f"warmup_epochs = {config.warmup_epochs} is longer than training (epochs = {config.epochs}).")
        return cls(
            base_lr=config.lr,
            total_steps=config.epochs * steps_per_epoch,
            mode=config.lr_mode,
            warmup_steps=round(config.warmup_epochs * steps_per_epoch),
            warmup_lr=config.warmup_lr,
            decay_steps=tuple(sorted(round(epoch * steps_per_epoch) for epoch in config.lr_steps)),
            factor=config.lr_factor,
            power=config.power,
            final_lr=config.final_lr,
        )

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.warmup_lr + (self.base_lr - self.warmup_lr) * step / self.warmup_steps
        if self.mode == "step":
            return self.base_lr * self.factor ** sum(step >= boundary for boundary in self.decay_steps)
        if self.mode == "linear":
            start = self.decay_steps[0] if self.decay_steps else (self.warmup_steps + self.total_steps) // 2
            progress = min(1.0, max(0, step - start) / max(1, self.total_steps - start))
            return self.base_lr + (self.final_lr - self.base_lr) * progress
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        if self.mode == "poly":
            shape = (1.0 - progress) ** self.power
        else:
            shape = (1.0 + math.cos(math.pi * progress)) / 2.0
        return self.final_lr + (self.base_lr - self.final_lr) * shape
