"""SSD's box coding: default boxes ``cx, cy, w, h`` and the scaled offsets the network predicts from them."""
from __future__ import annotations

import mxnet as mx

STDS = (0.1, 0.1, 0.2, 0.2)
"""The box regression's scale: offsets are divided by these before the network learns them (x, y, log w, log h)."""


def corners(anchors: mx.nd.NDArray) -> mx.nd.NDArray:
    """Boxes ``cx, cy, w, h`` -> ``x1, y1, x2, y2`` (any leading shape)."""
    cx, cy, w, h = mx.nd.split(anchors, axis=-1, num_outputs=4)
    return mx.nd.concat(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, dim=-1)


def decode(F, offsets, anchors):
    """Box offsets (N, B, 4) from default boxes ``cx, cy, w, h`` (1, B, 4) -> corners ``x1, y1, x2, y2`` (N, B, 4)."""
    dx, dy, dw, dh = F.split(offsets, axis=-1, num_outputs=4)
    ax, ay, aw, ah = F.split(anchors, axis=-1, num_outputs=4)
    cx = F.broadcast_add(F.broadcast_mul(dx * STDS[0], aw), ax)
    cy = F.broadcast_add(F.broadcast_mul(dy * STDS[1], ah), ay)
    half_w = F.broadcast_mul(F.exp(dw * STDS[2]), aw) / 2
    half_h = F.broadcast_mul(F.exp(dh * STDS[3]), ah) / 2
    return F.concat(cx - half_w, cy - half_h, cx + half_w, cy + half_h, dim=-1)


def encode(objects: mx.nd.NDArray, anchors: mx.nd.NDArray) -> mx.nd.NDArray:
    """Offsets (N, B, 4) that :func:`~cvcore_ssd.head.decode` turns ``anchors`` (1, B, 4) into boxes ``objects`` (N, B, 4) with."""
    x1, y1, x2, y2 = mx.nd.split(objects, axis=-1, num_outputs=4)
    ax, ay, aw, ah = mx.nd.split(anchors, axis=-1, num_outputs=4)
    width, height = mx.nd.maximum(x2 - x1, 1e-6), mx.nd.maximum(y2 - y1, 1e-6)
    return mx.nd.concat(mx.nd.broadcast_div(mx.nd.broadcast_sub((x1 + x2) / 2, ax), aw) / STDS[0],
                        mx.nd.broadcast_div(mx.nd.broadcast_sub((y1 + y2) / 2, ay), ah) / STDS[1],
                        mx.nd.log(mx.nd.broadcast_div(width, aw)) / STDS[2],
                        mx.nd.log(mx.nd.broadcast_div(height, ah)) / STDS[3], dim=-1)
