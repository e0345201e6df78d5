"""Comparing networks by what they compute."""
from __future__ import annotations

from typing import Any, Sequence

import mxnet as mx
import numpy as np


def outputs_of(net: Any, *inputs: mx.nd.NDArray) -> list[np.ndarray]:
    """The network's outputs on ``inputs`` as NumPy arrays (one or several)."""
    result = net(*inputs)
    return [o.asnumpy() for o in (result if isinstance(result, (list, tuple)) else [result])]


def assert_same_outputs(expected: Sequence[np.ndarray], got: Sequence[np.ndarray], what: str, *, rtol: float = 1e-5,
                        atol: float = 1e-5) -> None:
    """Every output of ``got`` equals the one of ``expected`` (shape, and values within tolerance)."""
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, expected {len(expected)}"
    for index, (mine, theirs) in enumerate(zip(expected, got)):
        assert mine.shape == theirs.shape, f"{what}: output {index} has shape {theirs.shape}, expected {mine.shape}"
        worst = float(np.abs(mine - theirs).max()) if mine.size else 0.0
        assert np.allclose(mine, theirs, rtol=rtol, atol=atol), f"{what}: output {index} differs by up to {worst:.3g}"


def assert_close_outputs(expected: Sequence[np.ndarray], got: Sequence[np.ndarray], what: str, *, tolerance: float) -> None:
    """Like :func:`assert_same_outputs`, with errors measured against each output's largest value (for lossy transforms).

    Outputs that are all about zero would make any transform pass, so they are refused.
    """
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, expected {len(expected)}"
    for index, (mine, theirs) in enumerate(zip(expected, got)):
        assert mine.shape == theirs.shape, f"{what}: output {index} has shape {theirs.shape}, expected {mine.shape}"
        assert np.isfinite(theirs).all(), f"{what}: output {index} has non-finite values"
        scale = float(np.abs(mine).max()) if mine.size else 0.0
        assert scale > 1e-3, (f"{what}: the original output {index} is about zero (largest {scale:.3g}), so no difference "
                              "would show; check on a network whose outputs are not vanishing")
        worst = float(np.abs(mine - theirs).max()) / scale
        assert worst <= tolerance, f"{what}: output {index} differs by {worst:.3g} of its largest value (tolerance {tolerance:g})"


def assert_finite(arrays: Sequence[np.ndarray], what: str) -> None:
    for index, array in enumerate(arrays):
        assert np.isfinite(array).all(), f"{what}: output {index} has non-finite values"
