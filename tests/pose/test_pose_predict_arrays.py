"""Pose prediction from arrays gives what the same picture read from a file gives."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from cvcore.data.image import ImageReadError
from cvcore.pipeline import Pipeline


@pytest.fixture
def picture():
    return np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)  # RGB


def test_pose_predicts_the_same_from_an_rgba_array_and_from_its_file(picture, tmp_path):
    pipeline = Pipeline.from_model("simple_pose_resnet18_v1b", input_shape=[1, 3, 64, 64])
    pipeline.random_weights = False
    rgba = np.concatenate([picture, np.full((24, 32, 1), 255, np.uint8)], axis=2)
    cv2.imwrite(str(tmp_path / "person.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    box = [[2, 2, 20, 18]]
    from_file = pipeline.predict(str(tmp_path / "person.png"), boxes=box)[0]
    from_array = pipeline.predict(rgba, boxes=box)[0]
    np.testing.assert_array_equal(from_array["keypoints"], from_file["keypoints"])
    with pytest.raises(ImageReadError, match="image 0 has shape .*channels first"):
        pipeline.predict(picture.transpose(2, 0, 1), boxes=box)
