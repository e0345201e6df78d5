"""Exact resume: training split by an interruption ends with bit-identical weights."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from conftest import StopAt

from cvcore.pipeline import Pipeline
from cvcore.train import TrainingInterrupted

# Every source of randomness at once: shuffling, augmentation (crop, flip, jitter),
# dropout (MXNet's generator), mixup, and a schedule with warmup.
OPTIONS = dict(epochs=2, batch_size=8, lr=0.05, lr_mode="cosine", warmup_epochs=0.5, mixup=True,
               no_bias_decay=True, seed=7, progress=False)


def make_pipeline(root, ctx=None) -> Pipeline:
    mx.random.seed(0)  # the same initial weights for the straight and the split run
    return Pipeline(backbone="tinynet", head={"name": "classifier", "dropout": 0.3}, classes=3,
                    input_shape=[1, 3, 16, 16], ctx=ctx, data={"dataset": "image_folder", "root": str(root)})


def weights(pipeline: Pipeline) -> dict[str, list[np.ndarray]]:
    """Every parameter's copy on every device (BatchNorm statistics differ per device)."""
    return {name: [d.asnumpy() for d in p.list_data()] for name, p in pipeline.net._collect_params_with_prefix().items()}


def assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for copy_a, copy_b in zip(a[name], b[name]):
            assert np.array_equal(copy_a, copy_b), name


def split_run(root, out, stop_step, ctx=None, **options):
    first = make_pipeline(root, ctx)
    with pytest.raises(TrainingInterrupted) as stopped:
        first.fit(out_dir=str(out), callbacks=[StopAt(stop_step)], **{**OPTIONS, **options})
    second = make_pipeline(root, ctx)  # a new object: nothing survives but the checkpoint
    history = second.fit(out_dir=str(out), resume=True, **{**OPTIONS, **options})
    return stopped.value, second, history


def test_resume_mid_epoch_matches_a_straight_run(tinynet, color_folders, tmp_path):
    straight = make_pipeline(color_folders)
    expected = straight.fit(**OPTIONS)
    stopped, resumed, history = split_run(color_folders, tmp_path / "run", stop_step=6)
    assert stopped.checkpoint.endswith("step-00000006") and "resume=True" in str(stopped)
    assert_identical(weights(straight), weights(resumed))
    assert history["step"] == expected["step"] == 8
    assert [e["loss"] for e in history["history"]] == [e["loss"] for e in expected["history"]]


def test_resume_is_exact_with_loader_workers(tinynet, color_folders, tmp_path):
    straight = make_pipeline(color_folders)
    straight.fit(**OPTIONS)
    first = make_pipeline(color_folders)
    with pytest.raises(TrainingInterrupted):
        first.fit(out_dir=str(tmp_path), callbacks=[StopAt(3)], **OPTIONS)
    resumed = make_pipeline(color_folders)
    resumed.fit(out_dir=str(tmp_path), resume=True, num_workers=2, **OPTIONS)
    assert_identical(weights(straight), weights(resumed))


def test_resume_is_exact_on_two_devices(tinynet, color_folders, tmp_path):
    devices = [mx.cpu(0), mx.cpu(1)]
    straight = make_pipeline(color_folders, devices)
    straight.fit(hybridize=True, **OPTIONS)
    _, resumed, _ = split_run(color_folders, tmp_path, stop_step=5, ctx=devices, hybridize=True)
    assert_identical(weights(straight), weights(resumed))
    means = resumed.net.backbone.collect_params(".*running_mean").values()
    assert any(not np.array_equal(*[d.asnumpy() for d in p.list_data()]) for p in means)  # really per device
