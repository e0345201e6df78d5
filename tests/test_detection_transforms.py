"""cvcore.data.detection_transforms: boxes and masks stay on the same pixels through resizing and flipping."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore.data.detection_transforms import flip_horizontal, mask_boxes, resize_short, short_side_scale
from cvcore.data.transforms import Normalize

HEIGHT, WIDTH = 60, 80
BOXES = [[10, 5, 30, 25], [50, 40, 80, 60], [0, 0, 7, 3]]  # x1, y1, x2, y2; the second touches the corner


def sample() -> tuple[np.ndarray, dict]:
    """An image whose red channel and masks are the boxes drawn as filled rectangles."""
    masks = np.zeros((len(BOXES), HEIGHT, WIDTH), dtype=np.uint8)
    for mask, (x1, y1, x2, y2) in zip(masks, BOXES):
        mask[y1:y2, x1:x2] = 1
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[..., 0] = 255 * masks.max(axis=0)
    target = {"boxes": np.array(BOXES, dtype=np.float32), "labels": np.arange(3, dtype=np.int32), "masks": masks,
              "image_id": 7, "size": (HEIGHT, WIDTH)}
    return image, target


@pytest.mark.parametrize("short, max_size", [(30, 1000), (37, 1000), (97, 1000), (100, 120), (600, 1000)])
def test_resize_short_keeps_masks_on_their_boxes(short, max_size):
    image, target = sample()
    resized, out, scale = resize_short(image, target, short, max_size)
    height, width = resized.shape[:2]
    assert out["size"] == (height, width) and out["masks"].shape == (3, height, width) and out["masks"].dtype == np.uint8
    assert max(height, width) <= max_size and (min(height, width) == short or max(height, width) == max_size)
    assert scale == pytest.approx(min(short / HEIGHT, max_size / WIDTH))
    assert out["boxes"].dtype == np.float32
    np.testing.assert_allclose(mask_boxes(out["masks"]), out["boxes"], atol=1)
    np.testing.assert_allclose(out["boxes"] / scale, BOXES, atol=1)
    assert out["labels"] is target["labels"] and out["image_id"] == 7
    assert np.array_equal(target["boxes"], BOXES) and target["masks"].shape == (3, HEIGHT, WIDTH)  # the input is left alone


def test_max_size_wins_over_short():
    image, target = sample()
    resized, out, scale = resize_short(image, target, 100, 120)
    assert resized.shape[:2] == (90, 120) and scale == pytest.approx(1.5)
    assert short_side_scale(1000, 3000, 800, 1333) == pytest.approx(1333 / 3000)
    with pytest.raises(ValueError, match="must be positive"):
        resize_short(image, target, 0, 100)


def test_flip_horizontal_mirrors_boxes_masks_and_pixels():
    image, target = sample()
    flipped, out = flip_horizontal(image, target)
    assert out["boxes"].tolist() == [[50, 5, 70, 25], [0, 40, 30, 60], [73, 0, 80, 3]]
    assert np.array_equal(mask_boxes(out["masks"]), out["boxes"])
    assert np.array_equal(flipped, image[:, ::-1]) and np.array_equal(flipped[..., 0] > 0, out["masks"].max(axis=0) > 0)
    again, back = flip_horizontal(flipped, out)
    assert np.array_equal(again, image) and np.array_equal(back["boxes"], target["boxes"])
    assert np.array_equal(back["masks"], target["masks"])


def test_resize_then_flip_then_normalize():
    image, target = sample()
    resized, out, _ = resize_short(image, target, 45, 1000)
    flipped, out = flip_horizontal(resized, out)
    np.testing.assert_allclose(mask_boxes(out["masks"]), out["boxes"], atol=1)
    data = Normalize()(flipped)
    assert data.shape == (3, *flipped.shape[:2]) and data.dtype == np.float32


def test_targets_without_objects():
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    target = {"boxes": np.zeros((0, 4), dtype=np.float32), "masks": np.zeros((0, HEIGHT, WIDTH), dtype=np.uint8)}
    resized, out, _ = resize_short(image, target, 30, 1000)
    assert out["boxes"].shape == (0, 4) and out["masks"].shape == (0, 30, 40)
    _, out = flip_horizontal(resized, out)
    assert out["boxes"].shape == (0, 4) and out["masks"].shape == (0, 30, 40)
    _, plain, _ = resize_short(image, {}, 30, 1000)
    assert plain == {"size": (30, 40)}
