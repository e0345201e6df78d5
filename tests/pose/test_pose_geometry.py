"""cvcore_pose.geometry: person boxes to padded crops and the affine maps between image and crop."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from cvcore_pose.geometry import affine_matrix, apply_affine, box_to_center_size, crop, invert_affine


@pytest.mark.parametrize(
    "box, center, size",
    [
        ((10, 20, 30, 80), (25, 60), (60 * 1.25, 80 * 1.25)),  # too narrow: widened to 0.75
        ((0, 0, 120, 60), (60, 30), (120 * 1.25, 160 * 1.25)),  # too wide: made taller
        ((5, 5, 30, 40), (20, 25), (30 * 1.25, 40 * 1.25)),  # already 3:4
    ],
)
def test_box_to_center_size_widens_to_the_aspect_ratio_then_pads(box, center, size):
    got_center, got_size = box_to_center_size(box, aspect_ratio=0.75)
    assert got_center.dtype == np.float32 and got_size.dtype == np.float32
    np.testing.assert_allclose(got_center, center)
    np.testing.assert_allclose(got_size, size, rtol=1e-6)


def test_box_to_center_size_padding_and_bad_boxes():
    _, size = box_to_center_size((0, 0, 30, 40), 0.75, padding=1.0)
    np.testing.assert_allclose(size, (30, 40))
    for bad in ((0, 0, 0, 0), (0, 0, -5, 10), (0, 0, float("nan"), 10)):
        with pytest.raises(ValueError, match="positive size"):
            box_to_center_size(bad, 0.75)


def test_the_box_fills_the_output_and_its_centre_maps_to_the_output_centre():
    matrix = affine_matrix((100.0, 50.0), (60.0, 80.0), 0.0, (48, 64))
    assert matrix.shape == (2, 3) and matrix.dtype == np.float64
    corners = np.array([[70.0, 10.0], [130.0, 90.0], [100.0, 50.0]])
    np.testing.assert_allclose(apply_affine(corners, matrix), [[0, 0], [48, 64], [24, 32]], atol=1e-9)


@pytest.mark.parametrize("rotation", [0.0, 30.0, -75.0, 180.0])
def test_inverse_round_trip(rotation):
    matrix = affine_matrix((40.0, 70.0), (90.0, 120.0), rotation, (96, 128))
    points = np.random.default_rng(0).uniform(-50, 200, size=(20, 2))
    np.testing.assert_allclose(apply_affine(apply_affine(points, matrix), invert_affine(matrix)), points, atol=1e-9)
    np.testing.assert_allclose(apply_affine([[40.0, 70.0]], matrix), [[48, 64]], atol=1e-9)


def test_rotation_is_counter_clockwise_like_opencv():
    # Same size in and out: the matrix is OpenCV's rotation about the centre.
    np.testing.assert_allclose(
        affine_matrix((24.0, 32.0), (48.0, 64.0), 35.0, (48, 64)), cv2.getRotationMatrix2D((24, 32), 35, 1.0), atol=1e-9
    )
    # A point right of the centre ends up above it (smaller y) after +90 degrees.
    quarter_turn = affine_matrix((24, 32), (48, 64), 90, (48, 64))
    np.testing.assert_allclose(apply_affine([[34.0, 32.0]], quarter_turn), [[24, 22]], atol=1e-9)


def test_crop_puts_image_content_where_apply_affine_says_and_fills_outside_with_black():
    image = np.full((240, 320, 3), 255, dtype=np.uint8)
    image[100:103, 200:203] = (255, 0, 0)  # a red dot centred on (201, 101)
    matrix = affine_matrix((180.0, 110.0), (96.0, 128.0), 20.0, (96, 128))
    out = crop(image, matrix, (96, 128))
    assert out.shape == (128, 96, 3) and out.dtype == np.uint8
    x, y = apply_affine([[201.0, 101.0]], matrix)[0]
    assert tuple(out[int(round(y)), int(round(x))]) == (255, 0, 0)
    far = crop(image, affine_matrix((-500.0, -500.0), (96.0, 128.0), 0.0, (96, 128)), (96, 128))
    assert not far.any()
