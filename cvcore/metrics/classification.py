"""Top-k accuracy."""
from __future__ import annotations

from typing import Sequence

import numpy as np


class TopKAccuracy:
    """Fraction of samples whose true class is among the k highest scores, for each k."""

    def __init__(self, top_k: Sequence[int] = (1, 5)):
        if not top_k or any(int(k) < 1 for k in top_k):
            raise ValueError(f"top_k must be positive integers, got {top_k!r}")
        self.top_k = tuple(sorted({int(k) for k in top_k}))
        self.reset()

    def reset(self) -> None:
        self.correct = dict.fromkeys(self.top_k, 0)
        self.count = 0

    def update(self, targets, outputs) -> None:
        """``targets``: ``(labels,)`` or labels; ``outputs``: logits of shape (N, classes)."""
        labels = targets[0] if isinstance(targets, (tuple, list)) else targets
        labels = _numpy(labels).astype(np.int64).reshape(-1)
        scores = _numpy(outputs[0] if isinstance(outputs, (tuple, list)) else outputs)
        if scores.shape[0] != labels.shape[0]:
            raise ValueError(f"{scores.shape[0]} predictions for {labels.shape[0]} labels")
        ranking = np.argsort(-scores, axis=1)
        for k in self.top_k:
            self.correct[k] += int((ranking[:, :k] == labels[:, None]).any(axis=1).sum())
        self.count += labels.shape[0]

    def get(self) -> dict[str, float]:
        return {f"top{k}": self.correct[k] / self.count if self.count else float("nan") for k in self.top_k}


def _numpy(array) -> np.ndarray:
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)
