"""cvcore_pose.transforms: top-down train/eval crops, augmentation from the rng only, consistent targets."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from cvcore_pose.geometry import affine_matrix, apply_affine, box_to_center_size, crop
from cvcore_pose.keypoints import JOINTS, NUM_JOINTS
from cvcore_pose.targets import heatmap_targets
from cvcore_pose.transforms import TopDownEvalTransform, TopDownTrainTransform, meta_center_size

INPUT = (128, 96)  # (height, width)
NO_AUGMENTATION = dict(scale_factor=0.0, rotation_prob=0.0, flip_prob=0.0)
BOX = (120.0, 60.0, 77.0, 102.0)  # about the input's size once padded, so the crop is hardly scaled


def person(rng: np.random.Generator | None = None) -> np.ndarray:
    """(17, 3) joints inside BOX, all labeled (v=2)."""
    rng = rng or np.random.default_rng(1)
    joints = np.empty((NUM_JOINTS, 3), dtype=np.float32)
    joints[:, 0] = rng.uniform(BOX[0] + 5, BOX[0] + BOX[2] - 5, NUM_JOINTS)
    joints[:, 1] = rng.uniform(BOX[1] + 5, BOX[1] + BOX[3] - 5, NUM_JOINTS)
    joints[:, 2] = 2
    return joints


def record(joints: np.ndarray, box=BOX) -> dict:
    return {"joints": joints, "box": box, "image_id": 7, "score": 0.8, "ann_id": 3, "file": "x.jpg"}


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(240, 320, 3), dtype=np.uint8)


def peaks(heatmaps: np.ndarray) -> np.ndarray:
    """(J, 2) integer (x, y) of each map's maximum."""
    flat = heatmaps.reshape(len(heatmaps), -1).argmax(axis=1)
    return np.stack([flat % heatmaps.shape[2], flat // heatmaps.shape[2]], axis=1)


def test_outputs_and_sizes(image):
    transform = TopDownTrainTransform(INPUT)
    assert transform.heatmap_size == (24, 32) and transform.output_size == (96, 128)
    data, heatmaps, weight = transform(image, record(person()), np.random.default_rng(0))
    assert data.shape == (3, 128, 96) and data.dtype == np.float32
    assert heatmaps.shape == (17, 32, 24) and heatmaps.dtype == np.float32
    assert weight.shape == (17,) and weight.dtype == np.float32


def test_same_seed_same_sample_and_pickles(image):
    transform = TopDownTrainTransform(INPUT, half_body_prob=0.5)
    sample = record(person())
    first = transform(image, sample, np.random.default_rng(5))
    again = pickle.loads(pickle.dumps(transform))(image, sample, np.random.default_rng(5))
    other = transform(image, sample, np.random.default_rng(6))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_without_augmentation_peaks_lie_where_apply_affine_puts_the_joints(image):
    joints = person()
    joints[3, 2] = 0  # unlabeled
    joints[4, 2] = 1  # labeled, occluded: still a target
    data, heatmaps, weight = TopDownTrainTransform(INPUT, **NO_AUGMENTATION)(image, record(joints))
    center, size = box_to_center_size(BOX, 96 / 128)
    matrix = affine_matrix(center, size, 0.0, (96, 128))
    expected = np.floor(apply_affine(joints[:, :2], matrix) / 4 + 0.5)
    labeled = joints[:, 2] > 0
    np.testing.assert_array_equal(peaks(heatmaps)[labeled], expected[labeled])
    np.testing.assert_array_equal(weight, labeled.astype(np.float32))
    assert not heatmaps[3].any()
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(
        data, ((crop(image, matrix, (96, 128)) / 255.0 - mean) / std).transpose(2, 0, 1), rtol=1e-5, atol=1e-5
    )


def test_flip_mirrors_about_the_box_centre_and_swaps_left_and_right(image):
    joints = person()
    center, _ = box_to_center_size(BOX, 96 / 128)
    left_shoulder, right_shoulder = JOINTS.index("left_shoulder"), JOINTS.index("right_shoulder")
    joints[left_shoulder, :2] = (center[0] + 20, center[1] - 10)
    joints[right_shoulder, :2] = (center[0] - 12, center[1] - 10)
    plain = TopDownTrainTransform(INPUT, **NO_AUGMENTATION)(image, record(joints))
    flipped = TopDownTrainTransform(INPUT, **{**NO_AUGMENTATION, "flip_prob": 1.0})(image, record(joints))
    scale = 96 / (box_to_center_size(BOX, 96 / 128)[1][0])
    # The left shoulder, 20 px right of the centre, is mirrored to 20 px left of it and is now the right shoulder.
    row = np.floor((64 - 10 * scale) / 4 + 0.5)
    assert tuple(peaks(flipped[1])[right_shoulder]) == (np.floor((48 - 20 * scale) / 4 + 0.5), row)
    assert tuple(peaks(flipped[1])[left_shoulder]) == (np.floor((48 + 12 * scale) / 4 + 0.5), row)
    np.testing.assert_array_equal(flipped[2], plain[2])
    # Output column u of the mirrored crop samples the image where column W - u of the plain one does.
    np.testing.assert_allclose(flipped[0][:, :, 1:], plain[0][:, :, :0:-1], atol=0.05)


def test_targets_follow_the_image_under_random_scale_rotation_and_flip():
    """A white dot at the only labeled joint lands in the input where 4 x its heatmap peak says."""
    image = np.zeros((240, 320, 3), dtype=np.uint8)
    joints = np.zeros((NUM_JOINTS, 3), dtype=np.float32)
    left_wrist = JOINTS.index("left_wrist")
    joints[left_wrist] = (150, 90, 2)
    image[87:94, 147:154] = 255
    transform = TopDownTrainTransform(INPUT, rotation_prob=1.0)
    flips = 0
    for seed in range(12):
        data, heatmaps, weight = transform(image, record(joints), np.random.default_rng(seed))
        (labeled,) = np.flatnonzero(weight)
        flips += labeled != left_wrist
        assert labeled in (left_wrist, JOINTS.index("right_wrist"))
        brightness = data.sum(axis=0)
        ys, xs = np.nonzero(brightness > brightness.min() + 0.5 * np.ptp(brightness))
        np.testing.assert_allclose(4 * peaks(heatmaps)[labeled], (xs.mean(), ys.mean()), atol=2.6)
    assert 0 < flips < 12


def test_half_body_box_is_the_upper_or_lower_body(image):
    joints = person(np.random.default_rng(3))
    transform = TopDownTrainTransform(INPUT, half_body_prob=1.0, **NO_AUGMENTATION)
    expected = []
    for part in (np.arange(11), np.arange(11, 17)):
        low, high = joints[part, :2].min(axis=0), joints[part, :2].max(axis=0)
        center, size = box_to_center_size((*low, *(high - low)), 0.75, padding=1.5)
        points = apply_affine(joints[:, :2], affine_matrix(center, size, 0.0, (96, 128))) / 4
        expected.append(heatmap_targets(points, np.ones(NUM_JOINTS, dtype=bool), (24, 32))[0])
    seen = set()
    for seed in range(8):
        heatmaps = transform(image, record(joints), np.random.default_rng(seed))[1]
        seen |= {i for i, hm in enumerate(expected) if np.array_equal(hm, heatmaps)}
    assert seen == {0, 1}
    joints[8:, 2] = 0  # a half-body box needs 9 labeled joints; with 8 the whole box is used
    full = TopDownTrainTransform(INPUT, **NO_AUGMENTATION)(image, record(joints))
    np.testing.assert_array_equal(transform(image, record(joints), np.random.default_rng(0))[1], full[1])


def test_eval_transform_crops_the_padded_box_and_returns_its_meta(image):
    transform = TopDownEvalTransform(INPUT)
    data, meta = transform(image, record(person()))
    center, size = box_to_center_size(BOX, 0.75)
    assert data.shape == (3, 128, 96) and data.dtype == np.float32
    assert meta.dtype == np.float64
    np.testing.assert_allclose(meta, [*center, *size, 0.8, 7, -1])  # -1: it stands in for no unreadable image
    train = TopDownTrainTransform(INPUT, **NO_AUGMENTATION)(image, record(person()))
    np.testing.assert_array_equal(data, train[0])
    centers, sizes = meta_center_size(np.stack([meta, meta]))
    np.testing.assert_allclose(centers, [center, center])
    np.testing.assert_allclose(sizes, [size, size])


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(input_size=(130, 96)), "divisible by heatmap_stride"),
        (dict(flip_prob=1.5), "flip_prob is a probability"),
        (dict(scale_factor=1.0), "scale_factor < 1"),
        (dict(std=(0.2, 0.2)), "mean and std need 3 values"),
    ],
)
def test_bad_options_are_explained(options, message):
    with pytest.raises(ValueError, match=message):
        TopDownTrainTransform(**options)
