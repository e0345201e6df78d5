"""The COCO person keypoints: names, left/right pairs, skeleton and OKS constants."""
from __future__ import annotations

import numpy as np

JOINTS: tuple[str, ...] = (
    "nose",
    "left_eye", "right_eye",
    "left_ear", "right_ear",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)
"""The 17 joints in COCO's order."""

NUM_JOINTS = len(JOINTS)

FLIP_PAIRS: tuple[tuple[int, int], ...] = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
"""Joint indices that swap when an image is mirrored left-right."""

SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
"""Limbs as 0-based joint index pairs (COCO's ``skeleton`` is the same, 1-based)."""

OKS_SIGMAS = np.array(
    [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
) / 10.0
"""Per-joint falloff of COCO's object keypoint similarity (as in pycocotools' COCOeval)."""


def flip_permutation() -> np.ndarray:
    """``order[j]`` is the joint that joint ``j`` becomes in a mirrored image."""
    order = np.arange(NUM_JOINTS)
    for left, right in FLIP_PAIRS:
        order[left], order[right] = right, left
    return order


def coco_category() -> dict:
    """The ``person`` category entry of a COCO keypoints annotation file."""
    return {
        "id": 1,
        "name": "person",
        "supercategory": "person",
        "keypoints": list(JOINTS),
        "skeleton": [[a + 1, b + 1] for a, b in SKELETON],
    }
