"""Image transforms: geometry, colour statistics, determinism for a seed."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from cvcore.data.transforms import (
    IMAGENET_EIGVAL,
    IMAGENET_EIGVEC,
    IMAGENET_MEAN,
    IMAGENET_STD,
    LUMA,
    ColorJitter,
    Compose,
    HorizontalFlip,
    Lighting,
    Normalize,
    RandomResizedCrop,
    ResizeCenterCrop,
    classification_eval_transform,
    classification_train_transform,
    jitter_matrix,
)


def random_image(height: int = 48, width: int = 64, seed: int = 0, low: int = 0, high: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, size=(height, width, 3), dtype=np.uint8)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- geometry ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(48, 64), (300, 200), (5, 400), (400, 5), (1, 1)])
def test_random_resized_crop_always_gives_the_requested_size(shape):
    crop = RandomResizedCrop((24, 32))
    generator = rng()
    for _ in range(20):
        out = crop(random_image(*shape), generator)
        assert out.shape == (24, 32, 3) and out.dtype == np.uint8


def test_random_resized_crop_boxes_cover_the_scale_and_ratio_ranges():
    crop = RandomResizedCrop(64, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
    generator = rng()
    boxes = np.array([crop.box(400, 400, generator) for _ in range(3000)])
    top, left, height, width = boxes.T
    assert (top >= 0).all() and (left >= 0).all() and (top + height <= 400).all() and (left + width <= 400).all()
    area = height * width / 400**2
    assert area.min() >= 0.08 * 0.97 and area.max() <= 1.0
    assert area.min() < 0.1 and area.max() > 0.9  # the whole range is drawn, not a corner of it
    aspect = width / height
    assert aspect.min() >= 3 / 4 * 0.98 and aspect.max() <= 4 / 3 * 1.02
    assert np.median(aspect) == pytest.approx(1.0, abs=0.05)


def test_random_resized_crop_falls_back_to_a_centred_box_of_allowed_aspect():
    crop = RandomResizedCrop(16, scale=(0.9, 1.0), ratio=(3 / 4, 4 / 3))
    assert crop.box(10, 200, rng()) == (0, 93, 10, 13)  # no box of 90% area fits this strip


def test_random_resized_crop_of_the_whole_image_is_a_plain_resize():
    image = random_image(32, 32)
    crop = RandomResizedCrop(32, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    np.testing.assert_array_equal(crop(image, rng()), image)


def test_flip_is_an_exact_mirror_with_probability_p():
    image = random_image()
    np.testing.assert_array_equal(HorizontalFlip(1.0)(image, rng()), image[:, ::-1])
    np.testing.assert_array_equal(HorizontalFlip(0.0)(image, rng()), image)
    generator = rng()
    flipped = sum(not np.array_equal(HorizontalFlip(0.5)(image, generator), image) for _ in range(400))
    assert 160 < flipped < 240


def test_resize_center_crop_resizes_the_shorter_side_then_takes_the_centre():
    image = random_image(64, 128)
    out = ResizeCenterCrop(56, crop_fraction=0.875)(image)  # shorter side ceil(56 / 0.875) = 64: no resize
    np.testing.assert_array_equal(out, image[4:60, 36:92])
    assert ResizeCenterCrop((24, 40))(random_image(300, 200)).shape == (24, 40, 3)


def test_resize_center_crop_keeps_a_centred_square_centred():
    image = np.zeros((200, 300, 3), np.uint8)
    image[90:110, 140:160] = 255
    out = ResizeCenterCrop(64)(image)
    rows, cols = np.nonzero(out[..., 0] > 127)
    assert abs(rows.mean() - 31.5) < 1 and abs(cols.mean() - 31.5) < 1


# -- colour ------------------------------------------------------------------------------------
def sequential_jitter(image: np.ndarray, factors, order) -> np.ndarray:
    """The three colour changes applied one after another on floats (the reference)."""
    out = image.astype(np.float64)
    for op in order:
        factor = factors[op]
        grey = out @ LUMA
        if op == 0:
            out = out * factor
        elif op == 1:
            out = out * factor + (1 - factor) * grey.mean()
        else:
            out = out * factor + (1 - factor) * grey[..., None]
    return out


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_jitter_matrix_equals_the_changes_applied_in_sequence(order):
    image = random_image(low=60, high=200)
    factors = (1.2, 0.7, 1.3)
    matrix = jitter_matrix(image.reshape(-1, 3).mean(axis=0), factors, order)
    by_matrix = image.astype(np.float64) @ matrix[:, :3].T + matrix[:, 3]
    np.testing.assert_allclose(by_matrix, sequential_jitter(image, factors, order), atol=1e-6)


def test_color_jitter_of_zero_strength_is_the_identity():
    image = random_image()
    np.testing.assert_array_equal(ColorJitter(0, 0, 0)(image, rng()), image)


def test_brightness_scales_every_pixel_by_one_factor():
    image = random_image(low=50, high=150)
    out = ColorJitter(brightness=0.4, contrast=0, saturation=0)(image, rng(3)).astype(np.float64)
    factor = out.sum() / image.sum()
    assert 0.6 <= factor <= 1.4
    np.testing.assert_allclose(out, image * factor, atol=1.01)


def test_saturation_leaves_grey_pixels_alone_and_contrast_keeps_the_mean_grey():
    grey = np.repeat(random_image(low=30, high=220)[..., :1], 3, axis=2)
    generator = rng()
    for _ in range(5):
        np.testing.assert_allclose(ColorJitter(0, 0, saturation=0.9)(grey, generator), grey, atol=1)
    image = random_image(low=90, high=170)
    out = ColorJitter(0, contrast=0.4, saturation=0)(image, generator)
    assert abs((out @ LUMA).mean() - (image @ LUMA).mean()) < 1.0


def test_color_jitter_saturates_instead_of_wrapping():
    white = np.full((8, 8, 3), 250, np.uint8)
    out = ColorJitter(brightness=0.4, contrast=0, saturation=0)
    values = np.concatenate([out(white, rng(seed)).ravel() for seed in range(20)])
    assert values.max() == 255 and values.min() >= 150


def test_lighting_adds_one_pca_colour_shift_per_image():
    assert np.allclose(np.asarray(IMAGENET_EIGVEC).T @ IMAGENET_EIGVEC, np.eye(3), atol=1e-3)  # orthonormal
    image = np.full((6, 6, 3), 128, np.uint8)
    lighting = Lighting(0.1)
    shift = lighting.shift(rng(7))
    np.testing.assert_array_equal(lighting(image, rng(7)), np.broadcast_to(np.rint(128 + shift), image.shape))
    shifts = np.array([lighting.shift(rng(seed)) for seed in range(2000)])
    # the variance of the shift is eigvec diag(eigval^2 alpha_std^2) eigvec^T
    eigvec = np.asarray(IMAGENET_EIGVEC)
    expected = eigvec @ np.diag((0.1 * np.asarray(IMAGENET_EIGVAL)) ** 2) @ eigvec.T
    np.testing.assert_allclose(np.cov(shifts.T), expected, rtol=0.15, atol=0.2)


def test_normalize_matches_a_hand_computation_in_chw():
    image = random_image()
    out = Normalize()(image)
    expected = ((image.astype(np.float32) - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    assert out.dtype == np.float32 and out.shape == (3, 48, 64) and out.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


# -- chains -----------------------------------------------------------------------------------
def test_train_preset_gives_network_inputs_and_is_reproducible_for_a_seed():
    transform = classification_train_transform((40, 56))
    image = random_image(120, 90)
    first, again = transform(image, rng(5)), transform(image, rng(5))
    assert first.shape == (3, 40, 56) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, transform(image, rng(6)))
    assert transform(image).shape == (3, 40, 56)  # a fresh generator when none is given


def test_zero_strengths_leave_steps_out_of_the_train_preset():
    full = classification_train_transform(32)
    bare = classification_train_transform(32, flip=0, brightness=0, contrast=0, saturation=0, lighting=0)
    assert [type(t) for t in full.transforms] == [RandomResizedCrop, HorizontalFlip, ColorJitter, Lighting, Normalize]
    assert [type(t) for t in bare.transforms] == [RandomResizedCrop, Normalize]


def test_eval_preset_is_deterministic_and_transforms_pickle():
    image = random_image(100, 80)
    evaluate = classification_eval_transform(32)
    np.testing.assert_array_equal(evaluate(image), evaluate(image, rng(1)))
    train = classification_train_transform(32)
    copy = pickle.loads(pickle.dumps(train))
    assert copy == train
    np.testing.assert_array_equal(copy(image, rng(2)), train(image, rng(2)))


def test_compose_draws_every_step_from_the_one_generator():
    chain = Compose((HorizontalFlip(0.5), ColorJitter()))
    image = random_image()
    outputs = {chain(image, rng(seed)).tobytes() for seed in (11, 11, 11)}
    assert len(outputs) == 1


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: RandomResizedCrop(32, scale=(0.5, 0.2)), "scale must be a range"),
        (lambda: RandomResizedCrop(32, scale=(0.5, 1.5)), r"scale must lie in \(0, 1\]"),
        (lambda: RandomResizedCrop(0), "size must be positive"),
        (lambda: ResizeCenterCrop(32, crop_fraction=1.5), "crop_fraction"),
        (lambda: ColorJitter(brightness=-1), "brightness must be >= 0"),
    ],
)
def test_bad_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
