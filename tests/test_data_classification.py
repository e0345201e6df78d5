"""The classification task's sample transform, [augment] options and prediction preprocessing."""
from __future__ import annotations

import inspect
import pickle
from types import SimpleNamespace

import mxnet as mx
import numpy as np
import pytest

from cvcore.data.transforms import ColorJitter, HorizontalFlip, Lighting, Normalize, RandomResizedCrop, ResizeCenterCrop
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore.tasks.classification import ClassificationTask

TASK = ClassificationTask()


def stub(**options):
    """What sample_transform reads of a pipeline: its options."""
    return SimpleNamespace(options={"input_shape": [1, 3, 24, 32], **options})


def image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(60, 50, 3), dtype=np.uint8)


def test_the_transform_takes_an_optional_rng_and_draws_only_from_it():
    transform = TASK.sample_transform(stub(), train=True)
    assert "rng" in inspect.signature(transform).parameters
    x, y = transform(image(), 3)
    assert x.shape == (3, 24, 32) and x.dtype == np.float32 and y == np.float32(3) and y.dtype == np.float32
    first = transform(image(), 3, rng=np.random.default_rng(42))[0]
    np.testing.assert_array_equal(first, transform(image(), 3, rng=np.random.default_rng(42))[0])
    copy = pickle.loads(pickle.dumps(transform))  # what a spawned loader worker receives
    np.testing.assert_array_equal(first, copy(image(), 3, rng=np.random.default_rng(42))[0])


def test_without_rng_each_call_draws_afresh():
    transform = TASK.sample_transform(stub(), train=True)
    assert len({transform(image(), 0)[0].tobytes() for _ in range(4)}) > 1


def test_evaluation_is_resize_centre_crop_normalize():
    transform = TASK.sample_transform(stub(augment={"crop_fraction": 1.0}), train=False)
    assert [type(t) for t in transform.image_transform.transforms] == [ResizeCenterCrop, Normalize]
    assert transform.image_transform.transforms[0].crop_fraction == 1.0
    np.testing.assert_array_equal(transform(image(), 0)[0], transform(image(), 0, rng=np.random.default_rng(1))[0])


def test_augment_table_sets_the_training_steps():
    steps = TASK.sample_transform(stub(), train=True).image_transform.transforms
    assert [type(t) for t in steps] == [RandomResizedCrop, HorizontalFlip, ColorJitter, Lighting, Normalize]
    assert steps[0].size == (24, 32) and steps[0].scale == (0.08, 1.0) and steps[3].alpha_std == 0.1
    augment = {"scale": [0.35, 1.0], "jitter": 0.2, "saturation": 0.0, "flip": False, "lighting": 0}
    steps = TASK.sample_transform(stub(augment=augment), train=True).image_transform.transforms
    assert [type(t) for t in steps] == [RandomResizedCrop, ColorJitter, Normalize]
    assert steps[0].scale == (0.35, 1.0) and steps[1] == ColorJitter(0.2, 0.2, 0.0)


@pytest.mark.parametrize(
    "augment, message",
    [
        ({"jiter": 0.3}, r"Unknown \[augment\] option: 'jiter' \(did you mean 'jitter'\?\)"),
        ({"scale": [0.5]}, r"\[augment\] scale must be \[low, high\]"),
    ],
)
def test_bad_augment_options_are_named(augment, message):
    with pytest.raises(ConfigError, match=message):
        TASK.sample_transform(stub(augment=augment), train=True)


def test_predict_preprocesses_like_evaluation(tinynet):
    pipeline = Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32])
    picture = image()
    (top,) = pipeline.predict(picture, top_k=3)
    x = TASK.sample_transform(pipeline, train=False)(picture, 0)[0]
    probs = pipeline.net(mx.nd.array(x[None])).softmax().asnumpy()[0]
    assert [score for _, score in top] == pytest.approx(sorted(probs, reverse=True), abs=1e-6)
