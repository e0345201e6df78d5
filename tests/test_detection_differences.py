"""Comparing two runs of a detector: float noise and the order of ties pass, a real difference is named."""
from __future__ import annotations

import numpy as np

from cvcore.tasks.detection_outputs import detection_differences


def batch(*detections, slots: int = 4):
    """One image's (label, score, box) detections in slots of ``slots``, unused slots -1."""
    labels = np.full((1, slots), -1.0, np.float32)
    scores = np.full((1, slots), -1.0, np.float32)
    boxes = np.full((1, slots, 4), -1.0, np.float32)
    for slot, (label, score, box) in enumerate(detections):
        labels[0, slot], scores[0, slot], boxes[0, slot] = label, score, box
    return labels, scores, boxes


A = (0, 0.9, [10, 10, 50, 50])
B = (1, 0.3, [20, 20, 60, 60])
C = (2, 0.3, [0, 0, 30, 30])
D = (1, 0.2, [5, 5, 25, 25])


def test_equal_scores_in_either_order_and_float_noise_agree():
    noisy = (A[0], A[1] + 2e-5, [10.0, 10.0, 50.0, 50.03])
    problems, worst = detection_differences(batch(A, B, C, D), batch(noisy, C, B, D))
    assert problems == [] and 0.02 < worst < 0.04


def test_a_tie_at_the_top_k_cut_may_keep_either_detection():
    problems, _ = detection_differences(batch(A, B, slots=2), batch(A, C, slots=2))
    assert problems == []


def test_a_missing_detection_above_the_cut_is_named_with_its_side():
    problems, _ = detection_differences(batch(A, B, D), batch(B, D))
    assert problems == ["image 0: the first has a detection of class 0, score 0.9, box [10.0, 10.0, 50.0, 50.0] "
                        "that the other lacks"]


def test_another_class_or_a_moved_box_is_a_difference():
    relabelled = (2, *A[1:])
    moved = (A[0], A[1], [10, 10, 50, 51])
    for changed in (relabelled, moved):
        problems, _ = detection_differences(batch(A, D), batch(changed, D))
        assert len(problems) == 2 and "the first" in problems[0] and "the second" in problems[1]


def test_masks_are_compared_too():
    labels, scores, boxes = batch(A, D)
    masks = np.zeros((1, 4, 2, 2), np.float32)
    other = masks.copy()
    other[0, 0, 0, 0] = 1.0
    assert detection_differences((labels, scores, boxes, masks), (labels, scores, boxes, masks))[0] == []
    assert len(detection_differences((labels, scores, boxes, masks), (labels, scores, boxes, other))[0]) == 2
