"""Arrays given to predict: the layouts users pass give what the same picture read from a file gives; others are named."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from cvcore.data.image import ImageReadError, as_rgb_image, read_image
from cvcore.pipeline import Pipeline


@pytest.fixture
def picture():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)  # RGB


def test_every_accepted_layout_equals_the_file_read(picture, tmp_path):
    bgr = picture[:, :, ::-1]
    cv2.imwrite(str(tmp_path / "rgb.png"), bgr)
    assert np.array_equal(as_rgb_image(picture), read_image(tmp_path / "rgb.png"))
    assert np.array_equal(as_rgb_image(bgr, "bgr"), picture)  # as cv2.imread gives it
    rgba = np.concatenate([picture, np.full((24, 32, 1), 128, np.uint8)], axis=2)
    cv2.imwrite(str(tmp_path / "rgba.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    assert np.array_equal(as_rgb_image(rgba), read_image(tmp_path / "rgba.png"))
    grey = picture[:, :, 0]
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    assert np.array_equal(as_rgb_image(grey), read_image(tmp_path / "grey.png"))
    assert np.array_equal(as_rgb_image(grey[:, :, None]), read_image(tmp_path / "grey.png"))
    deep = picture.astype(np.uint16) * 257 + 100
    cv2.imwrite(str(tmp_path / "deep.png"), deep[:, :, ::-1])
    assert np.array_equal(as_rgb_image(deep), read_image(tmp_path / "deep.png"))
    assert np.array_equal(as_rgb_image(picture / 255.0), picture)


@pytest.mark.parametrize("array, message", [
    (np.zeros((3, 24, 32), np.uint8), r"channels first; .*transpose\(1, 2, 0\)"),
    (np.zeros((0, 0, 3), np.uint8), "holds no pixels"),
    (np.zeros((24, 32, 2), np.uint8), "1, 3 or 4 channels"),
    (np.full((24, 32, 3), np.nan, np.float32), "NaN"),
    (np.full((24, 32, 3), 200.0), r"float images must lie in \[0, 1\]"),
    (np.zeros((24, 32, 3), np.int64), "dtype int64"),
    (np.zeros((4, 24, 32, 3), np.uint8), r"shape \(4, 24, 32, 3\)"),
])
def test_other_arrays_are_refused_with_the_reason(array, message):
    with pytest.raises(ImageReadError, match=message):
        as_rgb_image(array)


def test_a_classifier_predicts_the_same_from_an_array_and_from_its_file(tinynet, picture, tmp_path):
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    pipeline.random_weights = False  # the comparison, not the weights, is under test
    cv2.imwrite(str(tmp_path / "grey.png"), picture[:, :, 0])
    from_file = pipeline.predict(str(tmp_path / "grey.png"), top_k=3)
    assert pipeline.predict(picture[:, :, 0], top_k=3) == from_file
    assert pipeline.predict(cv2.imread(str(tmp_path / "grey.png")), top_k=3, channel_order="bgr") == from_file
    with pytest.raises(ImageReadError, match="image 0 is a float array"):
        pipeline.predict(picture.astype(np.float32))

