"""Heatmap decoding: sub-pixel peaks (DARK, the quarter shift), back to the image, the flip test, rescoring."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore_pose.decode import decode_heatmaps, flip_average, flip_back, flip_shift, instance_scores, to_image_coords
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
    coords, maxvals = decode_heatmaps(gaussians(points), refine="quarter")
    assert coords.shape == (4, NUM_JOINTS, 2) and maxvals.shape == (4, NUM_JOINTS)
    assert coords.dtype == np.float32
    assert np.abs(coords - points).max() <= 0.25 + 1e-6
    assert (maxvals > 0.8).all() and (maxvals <= 1).all()


def test_dark_recovers_sub_pixel_peaks_of_gaussians_and_noisy_maps():
    rng = np.random.default_rng(0)
    points = rng.uniform([2, 2], [45, 61], size=(4, NUM_JOINTS, 2))
    maps = gaussians(points)
    coords, maxvals = decode_heatmaps(maps)  # "dark" is the default
    error = np.abs(coords - points)
    away_from_borders = ((points > 4) & (points < np.array([44, 60]) - 4)).all(axis=-1)
    assert away_from_borders.sum() > 40 and error[away_from_borders].max() < 1e-4
    assert error.max() < 0.05  # within 3 pixels of a border the blur loses the peak's outer part
    np.testing.assert_array_equal(maxvals, decode_heatmaps(maps, refine="quarter")[1])  # scores use the raw peak
    noisy = maps + rng.normal(0, 0.05, maps.shape).astype(np.float32)
    dark_error = np.abs(decode_heatmaps(noisy)[0] - points).mean()
    quarter_error = np.abs(decode_heatmaps(noisy, refine="quarter")[0] - points).mean()
    assert dark_error < 0.5 * quarter_error


def test_dark_falls_back_to_the_quarter_shift_on_borders_and_flat_maps():
    maps = np.zeros((1, 3, 7, 9), dtype=np.float32)
    maps[0, 0, 0, 8] = 1.0  # corner peak
    maps[0, 0, 1, 8] = 0.9
    maps[0, 1] = -1.0  # nothing detected: the log-map is flat
    maps[0, 1, 5, 2] = -0.5
    maps[0, 2, 3, 4] = 1.0  # an isolated peak with a higher right neighbour
    maps[0, 2, 3, 5] = 0.5
    dark, _ = decode_heatmaps(maps, refine="dark")
    quarter, _ = decode_heatmaps(maps, refine="quarter")
    np.testing.assert_array_equal(dark[0, :2], quarter[0, :2])
    assert 4 < dark[0, 2, 0] < 5 and abs(dark[0, 2, 1] - 3) < 1e-6  # refined towards the right, not in y
    with pytest.raises(ValueError, match="refinement 'argmax'"):
        decode_heatmaps(maps, refine="argmax")


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
    coords, maxvals = decode_heatmaps(maps, refine="quarter")
    np.testing.assert_array_equal(coords[0], [[4.25, 2.75], [4, 3], [8, 0], [2, 5]])
    np.testing.assert_array_equal(maxvals[0], [1, 1, 1, -0.5])


def test_left_and_below_shifts_and_bad_shapes():
    maps = np.zeros((2, 1, 5, 5), dtype=np.float32)
    maps[:, 0, 2, 2] = 1.0
    maps[0, 0, 2, 1] = 0.2  # left higher
    maps[1, 0, 3, 2] = 0.2  # below higher
    coords, _ = decode_heatmaps(maps, refine="quarter")
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
    from cvcore_pose import geometry

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
    np.testing.assert_array_equal(
        flip_back(np.arange(5.0)[None, :, None, None] * np.ones((1, 5, 1, 2)), False, [1, 0, 2, 4, 3])[0, :, 0, 0], [1, 0, 2, 4, 3]
    )


def test_fractional_shifts_interpolate_and_stay_in_range():
    rng = np.random.default_rng(3)
    flipped = rng.uniform(size=(2, NUM_JOINTS, 8, 6)).astype(np.float32)
    half = flip_back(flipped, 0.5)
    np.testing.assert_allclose(half, (flip_back(flipped, 0.0) + flip_back(flipped, 1.0)) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="0 to 1 pixel"):
        flip_back(flipped, 1.5)
    assert flip_shift(1) == 0 and flip_shift(4) == 0.75
    with pytest.raises(ValueError, match="stride"):
        flip_shift(0)


def test_the_exact_flip_shift_realigns_what_a_mirrored_input_gives():
    """A joint at input x shows at heatmap x/4; on the mirrored input at (W-1-x)/4; shift 0.75 undoes that exactly."""
    rng = np.random.default_rng(4)
    width, stride = 96, 4
    points = rng.uniform([12, 8], [84, 56], size=(1, 5, 2))  # input-crop pixels
    mirrored = points.copy()
    mirrored[..., 0] = width - 1 - points[..., 0]
    size = (width // stride, 64 // stride)
    truth = points / stride
    heatmaps = gaussians(mirrored / stride, size=size)
    identity = np.arange(5)
    for shift, tolerance in ((flip_shift(stride), 0.03), (1.0, 0.3)):
        back, _ = decode_heatmaps(flip_back(heatmaps, shift, identity))
        error = np.abs(back[..., 0] - truth[..., 0]).max()
        assert error < tolerance, (shift, error)
    exact = np.abs(decode_heatmaps(flip_back(heatmaps, flip_shift(stride), identity))[0][..., 0] - truth[..., 0]).max()
    gluoncv = np.abs(decode_heatmaps(flip_back(heatmaps, 1.0, identity))[0][..., 0] - truth[..., 0]).mean()
    assert exact < 0.03 and 0.2 < gluoncv < 0.3


def test_instance_scores():
    maxvals = np.array([[0.9, 0.5, 0.1], [0.1, 0.2, 0.05], [0.3, 0.3, 0.3]])
    scores = instance_scores(maxvals, np.array([0.8, 1.0, 0.5]))
    np.testing.assert_allclose(scores, [0.8 * 0.7, 0.0, 0.5 * 0.3], rtol=1e-6)
    np.testing.assert_allclose(instance_scores(maxvals, np.ones(3), threshold=0.0), maxvals.mean(axis=1), rtol=1e-6)
