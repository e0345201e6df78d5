"""RPN anchors: one size per pyramid level, three aspect ratios, laid out over a feature map."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mxnet import gluon


def base_anchors(stride: int, size: float, ratios: Sequence[float]) -> np.ndarray:
    """The ``len(ratios)`` anchors (x1, y1, x2, y2) of the cell at the origin, as Detectron and GluonCV lay them out.

    A ``stride`` x ``stride`` window (pixels 0 .. stride-1) keeps its area and
    takes each ``ratio`` (height / width), its sides rounded to whole pixels,
    then grows to ``size``; every anchor is centred on the window's centre.
    """
    area = float(stride * stride)
    widths = np.round(np.sqrt(area / np.asarray(ratios, dtype=np.float64)))
    heights = np.round(widths * np.asarray(ratios, dtype=np.float64))
    widths, heights = widths * size / stride, heights * size / stride
    centre = (stride - 1) / 2.0
    return np.stack([centre - (widths - 1) / 2, centre - (heights - 1) / 2,
                     centre + (widths - 1) / 2, centre + (heights - 1) / 2], axis=1)


def anchor_grid(stride: int, size: float, ratios: Sequence[float], alloc: int) -> np.ndarray:
    """Anchors of an ``alloc`` x ``alloc`` feature map as ``(1, 1, alloc, alloc, 4 * len(ratios))``, row-major cells."""
    shifts = np.arange(alloc, dtype=np.float64) * stride
    x, y = np.meshgrid(shifts, shifts)
    offsets = np.stack([x, y, x, y], axis=-1).reshape(-1, 1, 4)
    anchors = base_anchors(stride, size, ratios)[None] + offsets
    return anchors.reshape(1, 1, alloc, alloc, -1).astype(np.float32)


class AnchorGenerator(gluon.HybridBlock):
    """The anchors of one pyramid level for a feature map: ``(1, H * W * len(ratios), 4)`` in input pixels.

    They are computed once for an ``alloc`` x ``alloc`` map and kept as the
    constant parameter ``anchors`` (as GluonCV's files carry them); a smaller
    map takes its top-left corner.
    """

    def __init__(self, stride: int, size: float, ratios: Sequence[float], alloc: int) -> None:
        super().__init__()
        self.stride, self.size, self.ratios, self.alloc = stride, size, tuple(ratios), alloc
        self.anchors = self.params.get_constant("anchors", anchor_grid(stride, size, ratios, alloc))

    @property
    def per_cell(self) -> int:
        return len(self.ratios)

    def hybrid_forward(self, F, feature, anchors):
        return F.slice_like(anchors, feature, axes=(2, 3)).reshape((1, -1, 4))
