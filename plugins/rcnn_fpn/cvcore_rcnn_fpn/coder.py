"""Box deltas -> boxes, in the graph (the inverse of :func:`.targets.encode_boxes`)."""
from __future__ import annotations

from typing import Sequence


def decode_boxes(F, deltas, references, stds: Sequence[float], clip: float):
    """``deltas`` (N, R, 4) applied to corner boxes ``references`` (N or 1, R, 4) -> corner boxes (N, R, 4).

    Centre shifts are in units of the reference's size times ``stds[:2]``;
    log-scale size changes times ``stds[2:]``, capped at ``clip``. Unlike
    MXNet's ``box_decode``, which reads its anchors as one shared set, each
    image may have its own references.
    """
    dx, dy, dw, dh = F.split(deltas, axis=-1, num_outputs=4)
    x1, y1, x2, y2 = F.split(references, axis=-1, num_outputs=4)
    width, height = x2 - x1, y2 - y1
    centre_x = F.broadcast_add(F.broadcast_mul(dx * stds[0], width), x1 + width * 0.5)
    centre_y = F.broadcast_add(F.broadcast_mul(dy * stds[1], height), y1 + height * 0.5)
    half_width = F.broadcast_mul(F.exp(F.minimum(dw * stds[2], clip)), width) * 0.5
    half_height = F.broadcast_mul(F.exp(F.minimum(dh * stds[3], clip)), height) * 0.5
    return F.concat(centre_x - half_width, centre_y - half_height, centre_x + half_width, centre_y + half_height, dim=-1)
