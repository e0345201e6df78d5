"""Checks for plugin authors' test suites: does a part keep cvcore's contracts when it is really run?

Each check raises ``AssertionError`` with what broke, so it reads as a failed
test under pytest (or any runner).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import mxnet as mx
import numpy as np

from .pipeline import Pipeline


def outputs_of(net: Any, x: mx.nd.NDArray) -> list[np.ndarray]:
    """The network's outputs on ``x`` as NumPy arrays (one or several)."""
    result = net(x)
    return [o.asnumpy() for o in (result if isinstance(result, (list, tuple)) else [result])]


def assert_same_outputs(expected: Sequence[np.ndarray], got: Sequence[np.ndarray], what: str, *, rtol: float = 1e-5,
                        atol: float = 1e-5) -> None:
    """Every output of ``got`` equals the one of ``expected`` (shape, and values within tolerance)."""
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, expected {len(expected)}"
    for index, (mine, theirs) in enumerate(zip(expected, got)):
        assert mine.shape == theirs.shape, f"{what}: output {index} has shape {theirs.shape}, expected {mine.shape}"
        worst = float(np.abs(mine - theirs).max()) if mine.size else 0.0
        assert np.allclose(mine, theirs, rtol=rtol, atol=atol), f"{what}: output {index} differs by up to {worst:.3g}"


def check_save_load_round_trip(pipeline: Pipeline, directory: str | os.PathLike, example: mx.nd.NDArray | None = None, *,
                               rtol: float = 1e-5, atol: float = 1e-5) -> Pipeline:
    """Save, load, save again and load again; both loads must give ``pipeline``'s outputs and the same files.

    Returns the pipeline of the second load, for further checks on it.
    """
    directory = Path(directory)
    example = example if example is not None else pipeline.example(2)
    expected = outputs_of(pipeline.net, example)
    current = pipeline
    files: list[dict[str, int]] = []
    for round_ in ("first", "second"):
        target = current.save(directory / round_)
        files.append({p.name: p.stat().st_size for p in target.iterdir() if p.is_file()})
        current = Pipeline.load(target, ctx=pipeline.ctx)
        assert current.deployed == pipeline.deployed, f"{round_} load: deployed steps {current.deployed}, saved {pipeline.deployed}"
        assert_same_outputs(expected, outputs_of(current.net, example), f"{round_} load of {target}", rtol=rtol, atol=atol)
    assert set(files[0]) == set(files[1]), f"saving the loaded pipeline wrote {sorted(files[1])}, the first save {sorted(files[0])}"
    shrunk = {name: (files[0][name], files[1][name]) for name in files[0] if files[1][name] < 0.9 * files[0][name]}
    assert not shrunk, f"files shrank when the loaded pipeline was saved again (bytes first, second): {shrunk}"
    return current
