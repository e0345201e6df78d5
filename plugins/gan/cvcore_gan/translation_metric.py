"""How far translated images are from the truth: mean absolute error in 0..255 pixel values, and PSNR."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .pixels import from_network


class TranslationError:
    """``{"mae": mean |output - target| per pixel and channel (0..255), "psnr": dB}`` over every image seen.

    ``update(targets, outputs)`` takes network arrays in [-1, 1], rounded to
    8 bits as saved images are; the target of image ``i`` is its true counterpart.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.errors: list[float] = []
        self.squared: list[float] = []

    def update(self, targets: Sequence[Any], outputs: Any) -> None:
        truth = from_network(targets[0]).astype(np.float64)
        made = from_network(outputs).astype(np.float64)
        if truth.shape != made.shape:
            raise ValueError(f"translated images of shape {made.shape} against targets of shape {truth.shape}")
        for ours, theirs in zip(made, truth):
            self.errors.append(float(np.abs(ours - theirs).mean()))
            self.squared.append(float(np.square(ours - theirs).mean()))

    def get(self) -> dict[str, float]:
        if not self.errors:
            return {"mae": float("nan"), "psnr": float("nan")}
        mse = float(np.mean(self.squared))
        return {"mae": float(np.mean(self.errors)), "psnr": math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)}
