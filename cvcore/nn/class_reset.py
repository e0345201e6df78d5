"""What a head needs to change its classes in place (``Pipeline.reset_class``): resized layers and absorbed classes.

A head that drops classes keeps their classifier rows as *absorbed* rows after
its classes: their probability joins the background's
(:func:`merge_absorbed`), so a reused class scores exactly as before.
"""
from __future__ import annotations

from typing import Mapping

import mxnet as mx
from mxnet.gluon import HybridBlock


def resized_layer(old: HybridBlock, new: HybridBlock, rows: Mapping[int, int]) -> HybridBlock:
    """``new`` initialized where ``old`` lives, its output rows ``rows`` (new -> old) copied from ``old`` (weight and bias)."""
    contexts = old.weight.list_ctx()
    new.initialize(ctx=contexts)
    if rows:
        targets, sources = list(rows), list(rows.values())
        for name in ("weight", "bias"):
            values = getattr(new, name).data(contexts[0]).asnumpy()
            values[targets] = getattr(old, name).data(contexts[0]).asnumpy()[sources]
            getattr(new, name).set_data(mx.nd.array(values))
    return new


def merge_absorbed(F, logits, classes: int):
    """Logits ``[background, class 1 .. classes, absorbed ...]`` on the last axis -> ``[background, class 1 .. classes]``.

    The new background logit is the log-sum-exp of the background and the
    absorbed ones, so softmax gives every class the probability it had.
    """
    background = F.concat(F.slice_axis(logits, axis=-1, begin=0, end=1), F.slice_axis(logits, axis=-1, begin=classes + 1, end=None), dim=-1)
    peak = F.max(background, axis=-1, keepdims=True)
    merged = F.log(F.sum(F.exp(F.broadcast_sub(background, peak)), axis=-1, keepdims=True)) + peak
    return F.concat(merged, F.slice_axis(logits, axis=-1, begin=1, end=classes + 1), dim=-1)


def class_rows(classes: int, old_classes: int, absorbed: int, reuse: Mapping[int, int]) -> tuple[dict[int, int], int]:
    """The rows of a ``[background, classes, absorbed]`` classifier after a class reset, and how many are absorbed.

    New class ``i`` takes old class ``reuse[i]``'s row; the old classes not
    reused, and the rows absorbed before, are absorbed after the new classes.
    Returns ``({new row: old row}, absorbed count)``.
    """
    dropped = [old for old in range(old_classes) if old not in set(reuse.values())]
    background = [old + 1 for old in dropped] + [old_classes + 1 + row for row in range(absorbed)]
    rows = {0: 0, **{new + 1: old + 1 for new, old in reuse.items()}, **{classes + 1 + index: row for index, row in enumerate(background)}}
    return rows, len(background)
