"""cvcore_pose.targets: Gaussian heatmaps at the joints (or rounded joints), truncated at 3 sigma, and their weights."""
from __future__ import annotations

import numpy as np

from cvcore_pose.targets import heatmap_targets


def one(x: float, y: float, visible: bool = True, size=(24, 32), sigma: float = 2.0, subpixel: bool = False):
    heatmaps, weight = heatmap_targets(np.array([[x, y]]), np.array([visible]), size, sigma, subpixel)
    return heatmaps[0], weight[0]


def test_shapes_and_dtypes():
    heatmaps, weight = heatmap_targets(np.zeros((17, 2)), np.ones(17, dtype=bool), (24, 32))
    assert heatmaps.shape == (17, 32, 24) and heatmaps.dtype == np.float32
    assert weight.shape == (17,) and weight.dtype == np.float32


def test_peak_of_one_at_the_rounded_joint():
    heatmap, weight = one(5.4, 7.6)
    assert weight == 1.0
    assert np.unravel_index(heatmap.argmax(), heatmap.shape) == (8, 5)
    assert heatmap[8, 5] == 1.0
    np.testing.assert_allclose(heatmap[9, 7], np.exp(-(1 + 4) / 8), rtol=1e-6)
    assert one(2.5, 3.5)[0][4, 3] == 1.0  # halves round up


def test_subpixel_targets_centre_the_gaussian_on_the_joint_in_the_same_window():
    heatmap, weight = one(5.4, 7.6, subpixel=True)
    rounded, _ = one(5.4, 7.6)
    assert weight == 1.0
    np.testing.assert_array_equal(heatmap > 0, rounded > 0)
    ys, xs = np.nonzero(heatmap)
    np.testing.assert_allclose(heatmap[ys, xs], np.exp(-((xs - 5.4) ** 2 + (ys - 7.6) ** 2) / 8), rtol=1e-5)
    assert heatmap.max() < 1 and np.unravel_index(heatmap.argmax(), heatmap.shape) == (8, 5)
    # the default is sub-pixel; invisible joints and NaN coordinates still give empty maps
    default, _ = heatmap_targets(np.array([[5.4, 7.6], [np.nan, np.nan]]), np.array([True, False]), (24, 32))
    np.testing.assert_array_equal(default[0], heatmap)
    assert not default[1].any()


def test_truncated_at_three_sigma():
    heatmap, _ = one(12, 16, sigma=2.0)
    assert heatmap[16, 18] > 0 and heatmap[16, 19] == 0 and heatmap[16, 5] == 0 and heatmap[10, 12] > 0
    assert heatmap[9, 12] == 0 and heatmap[22, 18] > 0
    assert (heatmap > 0).sum() == 13 * 13


def test_invisible_and_far_outside_joints_get_zero_weight_and_an_empty_map():
    for x, y, visible in ((5, 5, False), (-7, 10, True), (30, 10, True), (10, 38, True), (np.nan, np.nan, False)):
        heatmap, weight = one(x, y, visible)
        assert weight == 0.0 and not heatmap.any(), (x, y, visible)


def test_a_joint_just_outside_whose_window_overlaps_still_counts():
    heatmap, weight = one(-4, 10)
    assert weight == 1.0
    np.testing.assert_allclose(heatmap[10, :3], np.exp(-np.array([16, 25, 36]) / 8), rtol=1e-6)
    assert heatmap[:, 3:].sum() == 0
