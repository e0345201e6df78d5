"""The contract of deploy transforms, checked on a small pipeline."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..pipeline import Pipeline
from ..plugins import get
from .outputs import assert_close_outputs, outputs_of
from .round_trip import check_save_load_round_trip


def small_pipeline(backbone: str = "resnet18_v1b", input_size: int = 64) -> Pipeline:
    """A four-class classifier on a core backbone, for checks that need a whole pipeline.

    (Randomly initialised MobileNets make vanishing outputs: their depthwise layers shrink every activation.)
    """
    return Pipeline("classification", backbone=backbone, classes=4, input_shape=[2, 3, input_size, input_size])


def check_transform(name: str, pipeline: Pipeline | None = None, *, calib_data: Any = None, tolerance: float = 1e-4,
                    directory: str | os.PathLike | None = None, **options: Any) -> None:
    """Deploy transform ``name`` keeps the pipeline's inputs and outputs, composes and survives save/load.

    On ``pipeline`` (default :func:`small_pipeline`), alone, after
    ``hybridize`` and before ``export``: the deployed network gives the
    outputs of the original, shape for shape, within ``tolerance`` of each
    output's largest value (loosen it for lossy transforms such as INT8), and
    saving and loading it twice gives the same outputs. ``calib_data`` and
    ``options`` go to the transform.
    """
    get("transform", name)  # an unknown name fails here, with the closest names
    original = pipeline if pipeline is not None else small_pipeline()
    x = original.example()
    expected = outputs_of(original.net, x)
    chains = list(dict.fromkeys(((name,), ("hybridize", name), (name, "export"))))
    with tempfile.TemporaryDirectory(prefix="cvcore-check-") as tmp:
        root = Path(directory) if directory is not None else Path(tmp)
        for chain in chains:
            label = f"transform {name!r} in {' -> '.join(chain)}"
            deployed = original.copy()
            for step in chain:
                deployed.deploy(step, example=x, calib_data=calib_data, **(options if step == name else {}))
            assert deployed.deployed and [s["transform"] for s in deployed.deployed] == list(chain), (
                f"{label}: the pipeline records {deployed.deployed}")
            assert_close_outputs(expected, outputs_of(deployed.net, x), label, tolerance=tolerance)
            check_save_load_round_trip(deployed, root / "-".join(chain), x, rtol=max(tolerance, 1e-5), atol=max(tolerance, 1e-5))
