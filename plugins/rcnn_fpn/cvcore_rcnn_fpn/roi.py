"""Region features from a pyramid: each region pooled (ROIAlign) on the level its size belongs to."""
from __future__ import annotations

from typing import Sequence

CANONICAL_SIZE = 224.0
"""A region of this side (an ImageNet image) is pooled from P4 (Lin et al., eq. 1)."""


def pyramid_roi_align(F, features: Sequence, rois, size: int, strides: Sequence[int], *, first_level: int = 2):
    """``rois`` (R, 5) ``[image index, x1, y1, x2, y2]`` -> (R, C, size, size).

    Level ``floor(4 + log2(sqrt(w * h) / 224))`` clipped to the given levels
    (``w = x2 - x1 + 1``); a region is pooled on its level only (the others see
    it with image index -1, which ROIAlign skips, leaving its output rows
    unwritten, so they are zeroed) and the levels are summed.
    """
    last_level = first_level + len(features) - 1
    _, x1, y1, x2, y2 = F.split(rois, axis=-1, num_outputs=5)
    side = F.sqrt((x2 - x1 + 1.0) * (y2 - y1 + 1.0))
    level = F.clip(F.floor(4 + F.log2(side / CANONICAL_SIZE + 1e-6)), first_level, last_level)
    pooled = []
    for index, (feature, stride) in enumerate(zip(features, strides)):
        mine = F.broadcast_equal(level, F.ones_like(level) * (first_level + index))
        masked = F.where(F.broadcast_axis(mine, axis=1, size=5), rois, -F.ones_like(rois))
        aligned = F.contrib.ROIAlign(feature, masked, (size, size), 1.0 / stride, sample_ratio=2)
        pooled.append(F.where(mine.reshape((-1,)), aligned, F.zeros_like(aligned)))
    return F.ElementWiseSum(*pooled)
