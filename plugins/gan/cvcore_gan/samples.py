"""Sample grids written to the run folder as training goes: input, output and target of a few fixed images."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import mxnet as mx
import numpy as np

from cvcore.data.image import write_image
from cvcore.train import Callback

from .pixels import from_network

SAMPLES = 4


class SampleGrid(Callback):
    """After every epoch, ``folder/epoch-NNN.png``: one row per sample, columns input (resized to the output), output, target.

    ``transform`` turns a dataset sample into ``(input, target)`` network arrays;
    the first :data:`SAMPLES` samples of ``data`` are drawn every time, so the rows show one image's progress.
    """

    def __init__(self, pipeline: Any, data: Any, folder: Path, transform: Callable[..., tuple]) -> None:
        self.pipeline, self.folder = pipeline, folder
        rng = np.random.default_rng(0)
        self.pairs = [transform(*data[index], rng=rng) for index in range(min(SAMPLES, len(data)))]

    def on_epoch_end(self, state: Any, record: Any) -> None:
        rows = []
        for source, target in self.pairs:
            output = from_network(self.pipeline.net(mx.nd.array(source[None], ctx=self.pipeline.ctx[0]))[0])
            height, width = output.shape[:2]
            shown = from_network(source)
            shown = np.repeat(np.repeat(shown, height // shown.shape[0], axis=0), width // shown.shape[1], axis=1)
            rows.append(np.concatenate([shown, output, from_network(target)], axis=1))
        width = max(row.shape[1] for row in rows)
        rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0))) for row in rows]  # images may differ in size
        write_image(self.folder / f"epoch-{state.epochs_done:03d}.png", np.concatenate(rows, axis=0))
