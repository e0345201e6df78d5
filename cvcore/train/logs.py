"""JSON-lines training logs and throughput measurement.

Each line of the log is one JSON object with an ``event``: ``start`` or
``resume`` (the run's settings), ``train`` (every ``log_every`` steps: epoch,
step, loss, lr, samples_per_sec, grad_norm when clipping), ``epoch`` (the
epoch's loss, lr, samples_per_sec, seconds and ``val_<metric>`` values) and
``interrupted`` / ``diverged``. ``jq`` or ``pandas.read_json(lines=True)`` read it.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class JsonLinesLog:
    """Appends one JSON object per line to ``path``; with ``path=None`` it writes nothing."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: str, **fields: Any) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": round(time.time(), 3), **fields})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class Throughput:
    """Samples per second since the last :meth:`reset` (wall time, data loading included)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.samples, self.started = 0, time.perf_counter()

    def add(self, samples: int) -> None:
        self.samples += samples

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        return self.samples / max(self.seconds, 1e-9)


def epoch_summary(record: dict[str, Any], epochs: int, minutes_so_far: float) -> str:
    """One line for a finished epoch: loss, validation metrics, learning rate, speed and minutes."""
    values = [f"loss {record['loss']:.4f}"]
    values += [f"{key} {value:.4f}" for key, value in record.items() if key.startswith("val_") and isinstance(value, float)]
    values += [f"lr {record['lr']:.3g}", f"{record['samples_per_sec']:.1f} samples/s",
               f"{record['seconds'] / 60:.1f} min ({minutes_so_far:.1f} in all)"]
    return f"epoch {record['epoch']}/{epochs}: " + ", ".join(values)
