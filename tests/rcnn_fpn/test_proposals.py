"""RPN proposals: all levels through one NMS (GluonCV), or each level's best on their own (``rpn_per_level``)."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore_rcnn_fpn.rpn import RPN

STRIDES = (4, 8, 16, 32, 64)
SIZE = 256  # the input's side: P2 is 64x64 ... P6 4x4


def proposals_by_level(per_level: bool, pre_nms: int, post_nms: int) -> tuple[np.ndarray, np.ndarray]:
    """Proposals from anchors left where they are (zero deltas), P6 far more confident than the rest:
    ``(level of each proposal, its score)``, a proposal's level found by the anchor it is."""
    rpn = RPN(8, STRIDES, (8, 16, 32, 64, 128), (0.5, 1, 2), channels=8, alloc=64, clip=4.14, nms_threshold=0.7,
              min_size=1, per_level=per_level)
    rpn.initialize()
    features = [mx.nd.zeros((1, 8, SIZE // s, SIZE // s)) for s in STRIDES]
    _, deltas, anchors = rpn.raw(features)
    rng = np.random.RandomState(0)
    logits = [mx.nd.array(rng.uniform(1, 3, size=d.shape[:2]) if level == 4 else rng.uniform(-3, 0, size=d.shape[:2]))
              for level, d in enumerate(deltas)]
    scores, boxes = rpn.proposals(mx.nd, logits, [mx.nd.zeros_like(d) for d in deltas], anchors, features[0],
                                  pre_nms=pre_nms, post_nms=post_nms)
    scores, boxes = scores.asnumpy()[0, :, 0], boxes.asnumpy()[0]
    valid = scores >= 0
    places = [np.clip(a.asnumpy().reshape(-1, 4), 0, SIZE) for a in anchors]
    levels = np.array([next(level for level, place in enumerate(places) if np.isclose(place, box, atol=1e-3).all(axis=1).any())
                       for box in boxes[valid]])
    return levels, scores[valid]


def test_one_nms_over_all_levels_lets_the_confident_level_take_every_place():
    levels, scores = proposals_by_level(per_level=False, pre_nms=20, post_nms=50)
    assert len(levels) > 0 and set(levels) == {4}
    assert (np.diff(scores) <= 0).all()


def test_per_level_proposals_keep_every_levels_best():
    levels, scores = proposals_by_level(per_level=True, pre_nms=20, post_nms=50)
    counts = np.bincount(levels, minlength=5)
    assert (counts > 0).all() and counts.max() <= 20, counts
    assert len(levels) == 50  # more than 50 survive the levels' NMS: the best 50 of them are kept
    assert (np.diff(scores) <= 0).all()


@pytest.mark.parametrize("per_level", [False, True])
def test_proposals_keep_at_most_post_nms(per_level):
    levels, _ = proposals_by_level(per_level=per_level, pre_nms=1000, post_nms=7)
    assert len(levels) == 7


def test_the_best_rows_are_ranked_by_score_and_padded_in_both_modes():
    from cvcore_rcnn_fpn.rpn import _best

    rows = mx.nd.array([[[0.2, 1, 1, 2, 2], [-1, -1, -1, -1, -1], [0.9, 3, 3, 4, 4]],
                        [[0.5, 5, 5, 6, 6], [0.7, 7, 7, 8, 8], [0.1, 9, 9, 9, 9]]])
    expected = [[0.9, 0.2, -1, -1], [0.7, 0.5, 0.1, -1]]  # four asked of three rows: the last is padding
    np.testing.assert_allclose(_best(mx.nd, rows, 4).asnumpy()[:, :, 0], expected)
    symbol = _best(mx.sym, mx.sym.var("rows"), 4)
    np.testing.assert_allclose(symbol.eval(rows=rows)[0].asnumpy(), _best(mx.nd, rows, 4).asnumpy())
    assert _best(mx.nd, rows, 4).asnumpy()[1, 0, 1:].tolist() == [7, 7, 8, 8]  # whole rows move with their scores
