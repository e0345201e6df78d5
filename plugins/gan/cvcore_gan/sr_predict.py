"""Super-resolve a whole picture of any size: grey, RGB or RGBA in, the same out, in overlapping tiles when large."""
from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as np

from cvcore.errors import ConfigError

from .pictures import Result, finish, read_picture
from .pixels import from_network, to_network

TILE_MARGIN = 16
"""LR pixels of context each tile reads beyond the part of it that is kept (the seams then match a whole-image pass)."""


def super_resolve(net: Any, image: Any, *, scale: int, tile: int, ctx: mx.Context, channel_order: str = "rgb",
                  name: str = "the image") -> Result:
    """``net`` (LR [-1, 1] -> ``scale`` x larger) applied to ``image``, in ``tile`` x ``tile`` LR tiles when larger."""
    if tile <= 2 * TILE_MARGIN:
        raise ConfigError(f"tile = {tile} must exceed twice the tile margin ({2 * TILE_MARGIN} LR pixels).")
    picture = read_picture(image, channel_order, name)
    return finish(picture, _tiled(net, picture.rgb, scale, tile, ctx))


def _tiled(net: Any, rgb: np.ndarray, scale: int, tile: int, ctx: mx.Context) -> np.ndarray:
    height, width = rgb.shape[:2]
    if height <= tile and width <= tile:
        return from_network(net(mx.nd.array(to_network(rgb)[None], ctx=ctx))[0])
    out = np.zeros((height * scale, width * scale, 3), np.uint8)
    core = tile - 2 * TILE_MARGIN
    for top in range(0, height, core):
        for left in range(0, width, core):
            y0, x0 = max(top - TILE_MARGIN, 0), max(left - TILE_MARGIN, 0)
            y1, x1 = min(top + core + TILE_MARGIN, height), min(left + core + TILE_MARGIN, width)
            window = mx.nd.array(to_network(np.ascontiguousarray(rgb[y0:y1, x0:x1]))[None], ctx=ctx)
            result = from_network(net(window)[0])
            bottom, right = min(top + core, height), min(left + core, width)
            out[top * scale:bottom * scale, left * scale:right * scale] = result[
                (top - y0) * scale:(bottom - y0) * scale, (left - x0) * scale:(right - x0) * scale]
    return out
