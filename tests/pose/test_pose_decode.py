"""Heatmap decoding: sub-pixel peaks, the quarter shift, back to the image, the flip test, rescoring."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore_pose.decode import decode_heatmaps, flip_average, flip_back, instance_scores, to_image_coords
from cvcore_pose.keypoints import FLIP_PAIRS, NUM_JOINTS, flip_permutation


def gaussians(points: np.ndarray, size=(48, 64), sigma=2.0) -> np.ndarray:
    """(N, J, h, w) heatmaps: a Gaussian around each continuous (x, y) of points (N, J, 2)."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    dx = xs[None, None] - points[..., 0, None, None]
    dy = ys[None, None] - points[..., 1, None, None]
    return np.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2)).astype(np.float32)


def test_sub_pixel_peaks_decode_within_a_quarter_pixel():
    rng = np.random.default_rng(0)
    points = rng.uniform([2, 2], [45, 61], size=(4, NUM_JOINTS, 2))
    coords, maxvals = decode_heatmaps(gaussians(points))
    assert coords.shape == (4, NUM_JOINTS, 2) and maxvals.shape == (4, NUM_JOINTS)
    assert coords.dtype == np.float32
    assert np.abs(coords - points).max() <= 0.25 + 1e-6
    assert (maxvals > 0.8).all() and (maxvals <= 1).all()


def test_the_quarter_shift_goes_towards_the_higher_neighbour():
    maps = np.zeros((1, 4, 7, 9), dtype=np.float32)
    maps[0, 0, 3, 4] = 1.0
    maps[0, 0, 3, 5] = 0.5  # right higher than left
    maps[0, 0, 2, 4] = 0.3  # above higher than below
    maps[0, 1, 3, 4] = 1.0  # both neighbours equal: no shift
    maps[0, 2, 0, 8] = 1.0  # top-right corner: no neighbour on one side, no shift
    maps[0, 2, 1, 8] = 0.9
    maps[0, 2, 0, 7] = 0.9
    maps[0, 3] = -1.0  # nothing detected
    maps[0, 3, 5, 2] = -0.5
    coords, maxvals = decode_heatmaps(maps)
    np.testing.assert_array_equal(coords[0], [[4.25, 2.75], [4, 3], [8, 0], [2, 5]])
    np.testing.assert_array_equal(maxvals[0], [1, 1, 1, -0.5])


def test_left_and_below_shifts_and_bad_shapes():
    maps = np.zeros((2, 1, 5, 5), dtype=np.float32)
    maps[:, 0, 2, 2] = 1.0
    maps[0, 0, 2, 1] = 0.2  # left higher
    maps[1, 0, 3, 2] = 0.2  # below higher
    coords, _ = decode_heatmaps(maps)
    np.testing.assert_array_equal(coords[:, 0], [[1.75, 2], [2, 2.25]])
    with pytest.raises(ValueError, match=r"\(N, J, h, w\)"):
        decode_heatmaps(maps[0])


def test_to_image_coords_closed_form():
    coords = np.array([[[0, 0], [48, 64], [24, 32], [12, 48]]], dtype=np.float32)
    image = to_image_coords(coords, centers=[[100, 200]], sizes=[[96, 128]], heatmap_size=(48, 64))
    np.testing.assert_allclose(image[0], [[52, 136], [148, 264], [100, 200], [76, 232]])
    with pytest.raises(ValueError, match="centers"):
        to_image_coords(coords, centers=[[1, 2], [3, 4]], sizes=[[1, 1]], heatmap_size=(48, 64))


def test_to_image_coords_inverts_the_crop_of_the_geometry_module():
    geometry = pytest.importorskip("cvcore_pose.geometry")
    rng = np.random.default_rng(1)
    centers = rng.uniform(100, 400, size=(3, 2))
    sizes = rng.uniform(50, 300, size=(3, 2))
    points = centers[:, None] + rng.uniform(-0.5, 0.5, size=(3, 5, 2)) * sizes[:, None]
    heatmap = []
    for center, size, person in zip(centers, sizes, points):
        to_heatmap = geometry.affine_matrix(center, size, 0, (48, 64))
        to_input = geometry.affine_matrix(center, size, 0, (192, 256))
        on_heatmap = geometry.apply_affine(person, to_heatmap)
        # heatmap coordinate x is input coordinate x * stride (4)
        np.testing.assert_allclose(geometry.apply_affine(person, to_input), on_heatmap * 4, rtol=1e-9, atol=1e-6)
        heatmap.append(on_heatmap)
    back = to_image_coords(np.array(heatmap), centers, sizes, heatmap_size=(48, 64))
    np.testing.assert_allclose(back, points, atol=1e-3)


def mirrored_output(heatmaps: np.ndarray) -> np.ndarray:
    """What a perfectly mirror-consistent network gives on the mirrored input."""
    return heatmaps[..., ::-1][:, flip_permutation()]


def test_flip_average_of_a_mirror_consistent_output_is_the_output():
    rng = np.random.default_rng(2)
    heatmaps = rng.uniform(size=(2, NUM_JOINTS, 8, 6)).astype(np.float32)
    flipped = mirrored_output(heatmaps)
    np.testing.assert_array_equal(flip_average(heatmaps, flipped, shift=False), heatmaps)
    shifted = flip_average(heatmaps, flipped)  # GluonCV's default: the flipped half moves one pixel right
    expected = heatmaps.copy()
    expected[..., 1:] = (heatmaps[..., 1:] + heatmaps[..., :-1]) / 2
    np.testing.assert_allclose(shifted, expected, rtol=1e-6)


def test_flip_back_swaps_left_and_right_and_mirrors():
    flipped = np.zeros((1, NUM_JOINTS, 4, 6), dtype=np.float32)
    flipped[0, 1, 2, 1] = 1.0  # "left eye" on the mirrored image, column 1
    flipped[0, 0, 0, 5] = 1.0  # the nose stays the nose
    back = flip_back(flipped, shift=False)
    assert back[0, 2, 2, 4] == 1 and back[0, 0, 0, 0] == 1 and back.sum() == 2
    shifted = flip_back(flipped)  # one column right; the first column is kept as it was
    assert shifted[0, 2, 2, 5] == 1 and shifted[0, 0, 0, 0] == shifted[0, 0, 0, 1] == 1 and shifted.sum() == 3
    assert flipped[0, 1, 2, 1] == 1  # the input is not changed
    for left, right in FLIP_PAIRS:
        assert flip_permutation()[left] == right
    np.testing.assert_array_equal(flip_back(flipped[0], shift=False), back[0])
    with pytest.raises(ValueError, match="permutation"):
        flip_back(np.zeros((1, 5, 4, 4)))
    np.testing.assert_array_equal(flip_back(np.arange(5.0)[None, :, None, None] * np.ones((1, 5, 1, 2)), False, [1, 0, 2, 4, 3])[0, :, 0, 0], [1, 0, 2, 4, 3])


def test_instance_scores():
    maxvals = np.array([[0.9, 0.5, 0.1], [0.1, 0.2, 0.05], [0.3, 0.3, 0.3]])
    scores = instance_scores(maxvals, np.array([0.8, 1.0, 0.5]))
    np.testing.assert_allclose(scores, [0.8 * 0.7, 0.0, 0.5 * 0.3], rtol=1e-6)
    np.testing.assert_allclose(instance_scores(maxvals, np.ones(3), threshold=0.0), maxvals.mean(axis=1), rtol=1e-6)
