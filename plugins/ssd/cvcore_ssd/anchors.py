"""SSD's default boxes: per feature map, a few sizes and aspect ratios centred on every cell (Liu et al., 2016)."""
from __future__ import annotations

from typing import Sequence

import mxnet as mx
import numpy as np
from mxnet.gluon import HybridBlock


def default_boxes(size: float, next_size: float, ratios: Sequence[float], step: float, rows: int, cols: int,
                  offsets: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """float32 (1, 1, rows, cols, 4 * A) boxes ``cx, cy, w, h`` in input pixels for a map whose cells are ``step`` apart.

    Per cell, in order: a square of ``size``, a square of ``sqrt(size * next_size)``,
    then one box of area ``size**2`` for each ratio after the first (``w / h = ratio``):
    ``A = len(ratios) + 1`` boxes, as GluonCV lays them out.
    """
    shapes = [(size, size), (np.sqrt(size * next_size),) * 2] + [(size * np.sqrt(r), size / np.sqrt(r)) for r in ratios[1:]]
    cy, cx = np.meshgrid((np.arange(rows) + offsets[0]) * step, (np.arange(cols) + offsets[1]) * step, indexing="ij")
    boxes = [np.stack([cx, cy, np.full_like(cx, w), np.full_like(cy, h)], axis=-1) for w, h in shapes]
    return np.concatenate(boxes, axis=-1).reshape(1, 1, rows, cols, -1).astype(np.float32)


class AnchorGenerator(HybridBlock):
    """The default boxes of one feature map, cut from a precomputed ``alloc`` x ``alloc`` grid to the map's size.

    The grid is a constant parameter (``anchors``), as GluonCV stores it, so an
    exported graph needs no anchor code and takes any input size up to ``alloc``
    cells a side. Output: (1, rows * cols * A, 4) ``cx, cy, w, h``.
    """

    def __init__(self, size: float, next_size: float, ratios: Sequence[float], step: float, alloc: int) -> None:
        super().__init__()
        self.per_cell = len(ratios) + 1
        with self.name_scope():
            self.anchors = self.params.get_constant("anchors", mx.nd.array(default_boxes(size, next_size, ratios, step, alloc, alloc)))

    def hybrid_forward(self, F, feature, anchors):
        return F.slice_like(anchors, feature * 0, axes=(2, 3)).reshape((1, -1, 4))
