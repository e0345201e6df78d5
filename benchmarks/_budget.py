"""Training in a wall-clock budget: a timed probe plans the epochs that fit, a clock records the learning curve."""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from cvcore.pipeline import Pipeline
from cvcore.train.engine import Callback


class Clock(Callback):
    """Seconds since it was made at the end of every step, and at the end of every epoch with its record."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[float] = []
        self.epochs: list[tuple[float, dict[str, Any]]] = []

    def on_step_end(self, state: Any, record: Mapping[str, Any]) -> None:
        self.steps.append(time.perf_counter() - self.started)

    def on_epoch_end(self, state: Any, record: Mapping[str, Any]) -> None:
        self.epochs.append((time.perf_counter() - self.started, dict(record)))

    def curve(self, metrics: Sequence[str]) -> list[dict[str, Any]]:
        """(epoch, minutes, each validation metric) after every validated epoch."""
        return [{"epoch": record["epoch"], "minutes": seconds / 60, **{m: record.get(f"val_{m}", float("nan")) for m in metrics}}
                for seconds, record in self.epochs if any(f"val_{m}" in record for m in metrics)]


def plan_epochs(fresh: Callable[[], Pipeline], train: Any, val: Any, budget_s: float, fit: Mapping[str, Any],
                probe_images: int) -> dict[str, Any]:
    """The epochs of ``train`` that fit ``budget_s``, timed by one epoch of a throwaway ``fresh()`` model on ``probe_images``
    training images and a validation on ``val``, with the same ``fit`` options (``val_every`` included).

    A step costs the median of the probe's later half of steps: its first steps
    run while the graph and the allocator warm up, and overstated a step by a
    quarter (the budget ended with 4 of 20 minutes unused).
    """
    clock = Clock()
    fresh().fit(train.take(probe_images), val, epochs=1, callbacks=[clock], **{**fit, "val_every": 1})
    durations = np.diff([0.0, *clock.steps])
    step_s = float(np.median(durations[len(durations) // 2:] if len(durations) > 1 else durations))
    start_s = clock.steps[0] - step_s  # building the graph and the trainer
    val_s = clock.epochs[0][0] - clock.steps[-1]
    val_every = int(fit.get("val_every", 1))
    epoch_s = step_s * math.ceil(len(train) / fit["batch_size"]) + val_s / val_every
    epochs = max(1, int((budget_s - start_s - val_s) / epoch_s))  # the last epoch is always validated
    return {"epochs": epochs, "step_s": step_s, "start_s": start_s, "val_s": val_s, "val_every": val_every}
