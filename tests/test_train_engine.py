"""The training loop: logs, history, validation and devices."""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import pytest

import cvcore
from cvcore.pipeline import Pipeline


def small_pipeline(root, ctx=None) -> Pipeline:
    mx.random.seed(0)
    return Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 16, 16], ctx=ctx,
                    data={"dataset": "image_folder", "root": str(root)})


def test_json_lines_log_has_a_line_per_interval_and_per_epoch(tinynet, color_folders, tmp_path):
    pipeline = small_pipeline(color_folders)
    val = pipeline.task.dataset(pipeline, "val")
    history = pipeline.fit(None, val, epochs=2, batch_size=8, log_every=2, clip_gradient_norm=10.0,
                           progress=False, log_file=str(tmp_path / "log.jsonl"))
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [line["event"] for line in lines] == ["start"] + ["train", "train", "epoch"] * 2
    train = [line for line in lines if line["event"] == "train"]
    assert [line["step"] for line in train] == [2, 4, 6, 8]
    for line in train:
        assert {"epoch", "step", "loss", "lr", "samples_per_sec", "grad_norm", "time"} <= set(line)
        assert line["samples_per_sec"] > 0 and np.isfinite(line["loss"])
    epochs = [line for line in lines if line["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert {"loss", "lr", "samples_per_sec", "seconds", "val_top1", "val_top5"} <= set(epochs[0])
    assert history["history"] == [{k: v for k, v in e.items() if k not in ("event", "time")} for e in epochs]
    assert history["epoch"] == 2 and history["val_top1"] == epochs[-1]["val_top1"]


def test_validation_every_n_epochs_and_always_the_last(tinynet, color_folders):
    pipeline = small_pipeline(color_folders)
    val = pipeline.task.dataset(pipeline, "val")
    history = pipeline.fit(None, val, epochs=3, batch_size=12, val_every=2, progress=False)
    assert ["val_top1" in e for e in history["history"]] == [False, True, True]


def test_two_devices_train_with_a_kvstore_and_keep_their_copies_equal(tinynet, color_folders):
    devices = [mx.cpu(0), mx.cpu(1)]
    pipeline = small_pipeline(color_folders, devices)
    history = pipeline.fit(epochs=2, batch_size=8, lr=0.1, kvstore="local", no_bias_decay=True,
                           clip_gradient_norm=5.0, mixup=True, mixup_off_epochs=1, progress=False)
    assert history["step"] == 8 and np.isfinite(history["loss"])
    for param in pipeline.net.collect_params().values():
        if param.grad_req != "null":
            first, second = (d.asnumpy() for d in param.list_data())
            assert np.array_equal(first, second), param.name


def test_kvstore_none_refuses_several_devices(tinynet, color_folders):
    pipeline = small_pipeline(color_folders, [mx.cpu(0), mx.cpu(1)])
    with pytest.raises(cvcore.ConfigError, match="would never be summed"):
        pipeline.fit(epochs=1, batch_size=8, kvstore="none", progress=False)


def test_a_dataset_smaller_than_a_batch_says_so(tinynet, color_folders):
    with pytest.raises(cvcore.ConfigError, match="36 samples, fewer than one batch"):
        small_pipeline(color_folders).fit(epochs=1, batch_size=64, progress=False)
