"""SSD's training augmentation: colours, zoom-out and IoU-constrained crops keep boxes, masks and labels together."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore.data import ssd_augment
from cvcore.data.detection_transforms import box_iou, crop, expand, mask_boxes
from cvcore.data.ssd_augment import SSDAugment, sample_crop
from cvcore.data.transforms import PhotometricDistort, hue_matrix
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline

BOXES = np.array([[10, 5, 30, 25], [50, 40, 80, 60], [0, 0, 7, 3]], np.float32)
HEIGHT, WIDTH = 60, 80


def sample() -> tuple[np.ndarray, dict]:
    """An image whose red channel and masks are the boxes drawn as filled rectangles, with labels and crowd flags."""
    masks = np.zeros((len(BOXES), HEIGHT, WIDTH), np.uint8)
    for mask, (x1, y1, x2, y2) in zip(masks, BOXES.astype(int)):
        mask[y1:y2, x1:x2] = 1
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    image[..., 0] = 255 * masks.max(axis=0)
    return image, {"boxes": BOXES.copy(), "labels": np.array([4, 5, 6]), "crowd": np.array([False, True, False]),
                   "masks": masks, "image_id": 3, "size": (HEIGHT, WIDTH)}


def test_a_hue_turn_keeps_grey_and_adds_up():
    grey = np.array([90.0, 90.0, 90.0])
    np.testing.assert_allclose(hue_matrix(37) @ grey, grey, atol=1e-9)
    np.testing.assert_allclose(hue_matrix(10) @ hue_matrix(25), hue_matrix(35), atol=1e-9)
    np.testing.assert_allclose(hue_matrix(360), np.eye(3), atol=1e-9)
    assert not np.allclose(hue_matrix(18) @ [200.0, 30.0, 30.0], [200, 30, 30], atol=5)  # red turns


def test_photometric_distortion_replays_from_its_seed_and_leaves_some_images_alone():
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    distort = PhotometricDistort()
    first = distort(image, np.random.default_rng(5))
    assert first.dtype == np.uint8 and first.shape == image.shape
    np.testing.assert_array_equal(first, distort(image, np.random.default_rng(5)))
    untouched = sum(np.array_equal(distort(image, np.random.default_rng(seed)), image) for seed in range(400))
    assert 8 <= untouched <= 45  # brightness and the three others each skipped with probability 1/2: 1/16 of 400 is 25
    with pytest.raises(ValueError, match="low/high"):
        PhotometricDistort(low=1.5, high=0.5)


def test_expand_moves_boxes_and_masks_with_the_pixels():
    image, target = sample()
    canvas, out = expand(image, target, 150, 200, top=30, left=70, fill=(1, 2, 3))
    assert canvas.shape == (150, 200, 3) and out["size"] == (150, 200)
    np.testing.assert_array_equal(canvas[30:90, 70:150], image)
    assert (canvas[0, 0] == [1, 2, 3]).all()
    np.testing.assert_array_equal(out["boxes"], BOXES + [70, 30, 70, 30])
    np.testing.assert_array_equal(mask_boxes(out["masks"]), out["boxes"])
    with pytest.raises(ValueError, match="does not fit"):
        expand(image, target, 60, 80, top=1, left=0, fill=(0, 0, 0))


def test_crop_drops_objects_whose_centre_is_outside_and_clips_the_rest():
    image, target = sample()
    cropped, out = crop(image, target, (20, 0, 70, 50))  # centres: (20, 15) on the edge, (65, 50) on the edge, (3.5, 1.5)
    assert cropped.shape == (50, 50, 3) and out["size"] == (50, 50)
    assert len(out["boxes"]) == 0 and out["labels"].size == out["crowd"].size == len(out["masks"]) == 0
    cropped, out = crop(image, target, (15, 2, 70, 58))
    np.testing.assert_array_equal(out["boxes"], [[0, 3, 15, 23], [35, 38, 55, 56]])
    assert out["labels"].tolist() == [4, 5] and out["crowd"].tolist() == [False, True]
    np.testing.assert_array_equal(mask_boxes(out["masks"]), out["boxes"])
    np.testing.assert_array_equal(cropped, image[2:58, 15:70])
    with pytest.raises(ValueError, match="not inside"):
        crop(image, target, (0, 0, 81, 10))


def test_sampled_crops_meet_their_iou_and_hold_an_object_centre(monkeypatch):
    monkeypatch.setattr(ssd_augment, "MIN_IOUS", (0.7,))
    boxes = np.array([[60, 40, 260, 200], [10, 10, 30, 40]], np.float32)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    found = [sample_crop(boxes, 240, 320, np.random.default_rng(seed)) for seed in range(60)]
    crops = [c for c in found if c is not None]
    assert len(crops) >= 20  # most seeds find one in 50 trials
    for x1, y1, x2, y2 in crops:
        assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 240
        assert box_iou(np.array([x1, y1, x2, y2], float), boxes).max() >= 0.7
        assert ((centres[:, 0] > x1) & (centres[:, 0] < x2) & (centres[:, 1] > y1) & (centres[:, 1] < y2)).any()
    assert sample_crop(np.zeros((0, 4), np.float32), 240, 320, np.random.default_rng(0)) is None
    monkeypatch.setattr(ssd_augment, "MIN_IOUS", (None,))
    assert sample_crop(boxes, 240, 320, np.random.default_rng(0)) is None


def test_the_whole_chain_keeps_masks_inside_their_boxes():
    augment = SSDAugment(max_expand=3.0)
    for seed in range(30):
        image, target = sample()
        out_image, out = augment(image, target, np.random.default_rng(seed))
        assert out_image.shape[:2] == out["size"] and len(out["boxes"]) == len(out["labels"]) == len(out["masks"])
        for box, mask_box in zip(out["boxes"], mask_boxes(out["masks"])):
            assert (mask_box[:2] >= box[:2] - 1e-4).all() and (mask_box[2:] <= box[2:] + 1e-4).all()
    with pytest.raises(ValueError, match="max_expand"):
        SSDAugment(max_expand=0.5)


def test_the_detection_tasks_augment_table_turns_the_steps_on_and_checks_them():
    def transform(augment):
        pipeline = Pipeline(task="detection", backbone="resnet18_v1b", head="classifier", classes=7, input_shape=[1, 3, 64, 64],
                            augment=augment)
        return pipeline.task.sample_transform(pipeline, train=True)

    assert transform({}).augment is None  # R-CNN's default: flips only
    ssd = transform({"photometric": True, "expand": 4, "crop": True}).augment
    assert ssd == SSDAugment(photometric=True, max_expand=4.0, crop=True)
    image, target = sample()
    x, boxes, labels, meta = transform({"expand": 4, "crop": True})(image, target, rng=np.random.default_rng(1))
    kept = labels >= 0
    assert x.shape == (3, 64, 64) and set(labels[kept].tolist()) <= {4, 6}  # the crowd (5) never reaches training targets
    assert (boxes[kept] >= 0).all() and (boxes[kept][:, 2:] <= 64).all()
    for bad, message in [({"expand": 0.5}, "expand must be a zoom-out ratio >= 1"), ({"crop": "yes"}, "crop must be true or false"),
                         ({"zoom": 2}, r"Unknown \[augment\] option\(s\) \['zoom'\]")]:
        with pytest.raises(ConfigError, match=message):
            transform(bad)
