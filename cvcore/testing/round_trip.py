"""A pipeline survives saving and loading, twice."""
from __future__ import annotations

import os
from pathlib import Path

import mxnet as mx

from ..pipeline import Pipeline
from .outputs import assert_same_outputs, outputs_of


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
