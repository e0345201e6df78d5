"""Calibration data for deploy transforms: datasets in a seeded order through the evaluation transform, arrays, batches."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore.calibration import CalibrationBatches, calibration_batches
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline


@pytest.fixture
def pipeline(color_folders):
    return Pipeline(task="classification", backbone="resnet18_v1", classes=3, input_shape=[1, 3, 32, 32],
                    data={"dataset": "image_folder", "root": str(color_folders)})


def test_a_dataset_is_read_in_a_seeded_shuffled_order_in_full_batches(pipeline):
    train = pipeline.task.dataset(pipeline, "train")  # 36 images, sorted by class on disk
    batches = list(calibration_batches(pipeline, train, batch_size=8))
    assert [b.shape for b in batches] == [(8, 3, 32, 32)] * 4  # 36 = 4 full batches + 4 left out
    again = list(calibration_batches(pipeline, train, batch_size=8))
    np.testing.assert_array_equal(batches[0].asnumpy(), again[0].asnumpy())
    # the first batch mixes the classes: the mean colours of its images differ
    channel_means = batches[0].asnumpy().mean(axis=(2, 3))
    assert len({int(row.argmax()) for row in channel_means}) > 1


def test_small_datasets_give_one_batch_and_arrays_and_iterables_pass_through(pipeline):
    val = pipeline.task.dataset(pipeline, "val")  # 12 images
    assert [b.shape[0] for b in calibration_batches(pipeline, val, batch_size=32)] == [12]
    array = np.zeros((10, 3, 32, 32), np.float32)
    assert [b.shape[0] for b in calibration_batches(pipeline, array, batch_size=4)] == [4, 4, 2]
    pairs = [(mx.nd.ones((2, 3, 32, 32)), mx.nd.zeros(2))]  # (inputs, labels) as a DataLoader gives them
    assert [b.shape for b in calibration_batches(pipeline, pairs)] == [(2, 3, 32, 32)]
    ready = CalibrationBatches(pipeline, array)
    assert calibration_batches(pipeline, ready) is ready and calibration_batches(pipeline, None) is None


def test_bad_calibration_data_is_named(pipeline):
    with pytest.raises(ConfigError, match="is a string"):
        calibration_batches(pipeline, "some/dir")
    with pytest.raises(ConfigError, match="N x C x H x W"):
        list(calibration_batches(pipeline, np.zeros((3, 32, 32))))


def test_deploy_hands_transforms_calibration_batches(pipeline, monkeypatch):
    from cvcore import pipeline as pipeline_module

    seen = {}

    class Recording:
        meta: dict = {}

        @staticmethod
        def factory(net, *, example, calib_data, **options):
            seen["calib"] = calib_data
            return net

    monkeypatch.setattr(pipeline_module, "get", lambda kind, name: Recording)
    pipeline.deploy("anything", calib_data=pipeline.task.dataset(pipeline, "val"))
    assert isinstance(seen["calib"], CalibrationBatches)
    assert next(iter(seen["calib"])).shape[1:] == (3, 32, 32)
