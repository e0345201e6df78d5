"""cvcore_rcnn_fpn.targets: IoU, box encoding, RPN and R-CNN sampling, box and mask targets."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore_rcnn_fpn.targets import box_iou, encode_boxes, mask_targets, rcnn_box_targets, rpn_targets, sample_rois


def boxes(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def decode(deltas: np.ndarray, references: np.ndarray, stds) -> np.ndarray:
    """MXNet's own decoding, the operator the network uses at inference."""
    out = mx.nd.contrib.box_decode(mx.nd.array(deltas[None]), mx.nd.array(references[None]), *stds, clip=-1, format="corner")
    return out.asnumpy()[0]


def grid_anchors(step: int, side: int, extent: int) -> np.ndarray:
    """Square anchors of ``side`` every ``step`` pixels over [0, extent) (some cross the right/bottom border)."""
    corners = np.arange(0, extent, step, dtype=np.float32)
    x, y = np.meshgrid(corners, corners)
    return np.stack([x.ravel(), y.ravel(), x.ravel() + side, y.ravel() + side], axis=1)


# --- box_iou -------------------------------------------------------------------------------------


def test_box_iou_hand_computed():
    a = boxes([0, 0, 10, 10], [0, 0, 4, 4])
    b = boxes([5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3) and iou.dtype == np.float32
    expected = [[50 / 150, 1.0, 0.0], [0.0, 16 / 100, 0.0]]
    np.testing.assert_allclose(iou, expected, rtol=1e-6)


def test_box_iou_zero_area_is_zero_not_nan():
    iou = box_iou(boxes([3, 3, 3, 3], [1, 1, 1, 5]), boxes([3, 3, 3, 3], [0, 0, 10, 10]))
    assert np.all(iou == 0)
    assert box_iou(boxes([0, 0, 1, 1]), np.zeros((0, 4), np.float32)).shape == (1, 0)


# --- encode_boxes --------------------------------------------------------------------------------


@pytest.mark.parametrize("stds", [(1.0, 1.0, 1.0, 1.0), (0.1, 0.1, 0.2, 0.2)])
def test_encode_inverts_mxnet_box_decode(stds):
    rng = np.random.default_rng(0)
    references = boxes(*[[x, y, x + w, y + h] for x, y, w, h in rng.uniform([0, 0, 4, 4], [200, 200, 90, 90], (20, 4))])
    targets = boxes(*[[x, y, x + w, y + h] for x, y, w, h in rng.uniform([0, 0, 2, 2], [200, 200, 120, 120], (20, 4))])
    deltas = encode_boxes(targets, references, stds)
    assert deltas.shape == (20, 4) and deltas.dtype == np.float32
    np.testing.assert_allclose(decode(deltas, references, stds), targets, rtol=1e-4, atol=1e-3)


def test_encode_hand_computed_and_degenerate_finite():
    deltas = encode_boxes(boxes([12, 10, 52, 90]), boxes([10, 10, 50, 50]), (0.1, 0.1, 0.2, 0.2))
    np.testing.assert_allclose(deltas, [[2 / 40 / 0.1, 20 / 40 / 0.1, 0.0, np.log(2) / 0.2]], rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(encode_boxes(boxes([5, 5, 5, 5]), boxes([1, 1, 1, 1]), (1, 1, 1, 1))))


# --- rpn_targets ---------------------------------------------------------------------------------

GT = boxes([10, 10, 50, 50], [0, 60, 40, 100])
ANCHORS = boxes(
    [10, 10, 50, 50],   # 0: IoU 1 with gt 0 -> positive
    [12, 10, 52, 50],   # 1: IoU 0.905 with gt 0 -> positive
    [60, 60, 90, 90],   # 2: no overlap -> negative
    [80, 80, 120, 120],  # 3: crosses the border -> ignored
    [10, 10, 30, 50],   # 4: IoU 0.5 -> between the thresholds, ignored
    [0, 60, 40, 80],    # 5: IoU 0.5, gt 1's best inside anchor -> positive
    [0, 85, 40, 100],   # 6: IoU 0.375 -> ignored
    [0, 60, 40, 101],   # 7: IoU 0.976 with gt 1 but crosses the border -> ignored, not gt 1's best
)


def test_rpn_hand_built_labels_and_deltas():
    labels, deltas = rpn_targets(ANCHORS, GT, (100, 100), np.random.default_rng(0))
    assert labels.dtype == np.float32 and deltas.dtype == np.float32 and deltas.shape == (8, 4)
    np.testing.assert_array_equal(labels, [1, 1, 0, -1, -1, 1, -1, -1])
    expected = np.zeros((8, 4), np.float32)
    expected[1] = [-2 / 40, 0, np.log(40 / 40), 0]
    expected[5] = [0, 10 / 20, 0, np.log(40 / 20)]
    np.testing.assert_allclose(deltas, expected, atol=1e-6)
    np.testing.assert_allclose(decode(deltas[[0, 1, 5]], ANCHORS[[0, 1, 5]], (1, 1, 1, 1)), GT[[0, 0, 1]], atol=1e-4)


def test_rpn_ties_for_a_gts_best_are_all_positive():
    anchors = boxes([0, 60, 40, 80], [0, 80, 40, 100], [60, 0, 90, 30])
    labels, _ = rpn_targets(anchors, GT[1:], (100, 100), np.random.default_rng(0))
    np.testing.assert_array_equal(labels, [1, 1, 0])


def test_rpn_gt_overlapping_no_inside_anchor_makes_no_positive():
    anchors = boxes([0, 0, 20, 20], [20, 0, 40, 20], [90, 90, 110, 110])
    labels, deltas = rpn_targets(anchors, boxes([85, 85, 100, 100]), (100, 100), np.random.default_rng(0))
    np.testing.assert_array_equal(labels, [0, 0, -1])
    assert not deltas.any()


def test_rpn_without_gt_all_inside_anchors_are_negative():
    labels, deltas = rpn_targets(ANCHORS, np.zeros((0, 4), np.float32), (100, 100), np.random.default_rng(0))
    np.testing.assert_array_equal(labels, [0, 0, 0, -1, 0, 0, 0, -1])
    assert not deltas.any()


def test_rpn_valid_size_is_height_width():
    anchors = boxes([0, 0, 80, 20], [0, 0, 20, 80])
    labels, _ = rpn_targets(anchors, np.zeros((0, 4), np.float32), (40, 100), np.random.default_rng(0))
    np.testing.assert_array_equal(labels, [0, -1])


def test_rpn_subsampling_respects_counts_and_is_seeded():
    anchors = grid_anchors(step=4, side=16, extent=128)
    gt = boxes([8, 8, 72, 72], [60, 40, 120, 100])
    full, _ = rpn_targets(anchors, gt, (128, 128), np.random.default_rng(0), num_sample=10**6, positive_fraction=0.5)
    assert (full == 1).sum() > 8 and (full == 0).sum() > 32

    labels, deltas = rpn_targets(anchors, gt, (128, 128), np.random.default_rng(3), num_sample=32, positive_fraction=0.25)
    assert (labels == 1).sum() == 8 and (labels == 0).sum() == 24
    assert np.all(full[labels == 1] == 1) and np.all(full[labels == 0] == 0)
    assert not deltas[labels != 1].any()
    decoded = decode(deltas[labels == 1], anchors[labels == 1], (1, 1, 1, 1))
    best = gt[box_iou(anchors[labels == 1], gt).argmax(axis=1)]
    np.testing.assert_allclose(decoded, best, atol=1e-3)

    again, _ = rpn_targets(anchors, gt, (128, 128), np.random.default_rng(3), num_sample=32, positive_fraction=0.25)
    np.testing.assert_array_equal(labels, again)
    other, _ = rpn_targets(anchors, gt, (128, 128), np.random.default_rng(4), num_sample=32, positive_fraction=0.25)
    assert not np.array_equal(labels, other)


def test_rpn_few_positives_negatives_fill_up():
    labels, _ = rpn_targets(grid_anchors(4, 16, 128), boxes([8, 8, 24, 24]), (128, 128), np.random.default_rng(0), num_sample=64)
    positives = (labels == 1).sum()
    assert 1 <= positives < 32 and (labels == 0).sum() == 64 - positives


# --- sample_rois ---------------------------------------------------------------------------------


def test_sample_rois_gt_are_positives_with_class_plus_one_and_padding():
    gt = boxes([10, 10, 50, 50], [60, 60, 100, 90])
    proposals = boxes([12, 10, 52, 50], [0, 100, 20, 120])
    rois, labels, matched = sample_rois(proposals, gt, np.array([0, 2]), np.random.default_rng(0),
                                        num_sample=8, positive_fraction=0.5)
    assert rois.shape == (8, 4) and rois.dtype == np.float32
    assert labels.dtype == np.float32 and matched.dtype == np.int64
    np.testing.assert_array_equal(np.sort(labels[:3]), [1, 1, 3])
    np.testing.assert_array_equal(labels[3:], [0, -1, -1, -1, -1])
    np.testing.assert_array_equal(matched[3:], -1)
    np.testing.assert_array_equal(labels[:3], np.array([0, 2])[matched[:3]] + 1)
    positive_rois = {tuple(r) for r in rois[:3].tolist()}
    assert {tuple(r) for r in gt.tolist()} <= positive_rois and (12, 10, 52, 50) in positive_rois
    np.testing.assert_array_equal(rois[3], proposals[1])
    np.testing.assert_array_equal(rois[4:], np.tile([0, 0, 1, 1], (4, 1)))


def test_sample_rois_caps_positives_and_fills_with_negatives():
    gt = boxes([0, 0, 64, 64])
    positives = boxes(*[[s, 0, s + 64, 64] for s in range(1, 11)])  # IoU >= 0.7
    negatives = boxes(*[[100 + s, 100, 120 + s, 120] for s in range(20)])
    rois, labels, matched = sample_rois(np.concatenate([positives, negatives]), gt, np.array([4]), np.random.default_rng(1),
                                        num_sample=16, positive_fraction=0.25)
    np.testing.assert_array_equal(labels, [5] * 4 + [0] * 12)
    np.testing.assert_array_equal(matched, [0] * 4 + [-1] * 12)
    assert np.all(box_iou(rois[:4], gt) >= 0.5) and np.all(box_iou(rois[4:], gt) < 0.5)
    again = sample_rois(np.concatenate([positives, negatives]), gt, np.array([4]), np.random.default_rng(1),
                        num_sample=16, positive_fraction=0.25)
    np.testing.assert_array_equal(rois, again[0])


def test_sample_rois_without_gt_all_negative():
    proposals = boxes([0, 0, 10, 10], [5, 5, 20, 20])
    rois, labels, matched = sample_rois(proposals, np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                                        np.random.default_rng(0), num_sample=4)
    np.testing.assert_array_equal(labels, [0, 0, -1, -1])
    np.testing.assert_array_equal(matched, -1)
    assert {tuple(r) for r in rois[:2].tolist()} == {tuple(r) for r in proposals.tolist()}


# --- rcnn_box_targets ----------------------------------------------------------------------------


def test_rcnn_box_targets_decode_back_to_gt():
    gt = boxes([10, 10, 50, 50], [60, 60, 100, 90])
    rois = boxes([12, 8, 52, 47], [58, 61, 99, 95], [0, 0, 1, 1])
    matched = np.array([0, 1, -1])
    stds = (0.1, 0.1, 0.2, 0.2)
    deltas = rcnn_box_targets(rois, gt, matched, stds)
    assert deltas.shape == (3, 4) and deltas.dtype == np.float32
    np.testing.assert_allclose(decode(deltas[:2], rois[:2], stds), gt, rtol=1e-4, atol=1e-3)
    assert not deltas[2].any()


# --- mask_targets --------------------------------------------------------------------------------


def rectangle_mask(x1: int, y1: int, x2: int, y2: int, shape=(64, 64)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


def test_mask_targets_full_box_left_half_and_unmatched():
    masks = np.stack([rectangle_mask(10, 20, 30, 50), rectangle_mask(10, 10, 30, 50)])
    rois = boxes([10, 20, 30, 50], [10, 10, 30, 50], [10, 10, 50, 50], [10, 20, 30, 50])
    targets = mask_targets(rois, masks, np.array([0, 1, 1, -1]), size=28)
    assert targets.shape == (4, 28, 28) and targets.dtype == np.float32
    assert np.all(targets[0] == 1)  # the roi is the rectangle's box
    assert np.all(targets[1] == 1)  # the roi is the left half, where the mask is 1
    np.testing.assert_array_equal(targets[2][:, :14], 1)  # the roi spans the mask and as much empty space to its right
    np.testing.assert_array_equal(targets[2][:, 14:], 0)
    assert np.all(targets[3] == 0)


def test_mask_targets_size_and_empty():
    masks = rectangle_mask(0, 0, 32, 64)[None]
    targets = mask_targets(boxes([0, 0, 64, 64]), masks, np.array([0]), size=14)
    np.testing.assert_array_equal(targets[0][:, :7], 1)
    np.testing.assert_array_equal(targets[0][:, 7:], 0)
    assert mask_targets(np.zeros((0, 4), np.float32), masks, np.zeros(0, np.int64)).shape == (0, 28, 28)
