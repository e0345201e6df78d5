"""Atomic checkpoints, Ctrl-C, and what resume refuses."""
from __future__ import annotations

import json
import os
import signal

import mxnet as mx
import pytest
from mxnet import gluon

import cvcore
from cvcore.pipeline import Pipeline
from cvcore.train import Callback, TrainingInterrupted, ValidationFailedWarning
from cvcore.train.checkpoint import CheckpointError, Checkpoints

OPTIONS = dict(batch_size=12, lr=0.05, progress=False)  # 3 steps per epoch


def small_pipeline(root) -> Pipeline:
    mx.random.seed(0)
    return Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 16, 16],
                    data={"dataset": "image_folder", "root": str(root)})


def checkpoint_names(out):
    return sorted(p.name for p in (out / "checkpoints").iterdir())


def test_checkpoints_every_n_steps_and_each_epoch_keeping_the_last_k(tinynet, color_folders, tmp_path):
    history = small_pipeline(color_folders).fit(epochs=2, checkpoint_every=2, keep_checkpoints=2, out_dir=str(tmp_path), **OPTIONS)
    assert checkpoint_names(tmp_path) == ["step-00000004", "step-00000006"]  # saved 2, 3 (epoch), 4, 6 (epoch)
    latest = tmp_path / "checkpoints" / "step-00000006"
    assert history["checkpoint"] == str(latest)
    assert sorted(p.name for p in latest.iterdir()) == ["model.params", "state.json", "trainer.states"]
    state = json.loads((latest / "state.json").read_text())
    assert state["state"]["epochs_done"] == 2 and state["state"]["global_step"] == 6 and state["seed"] == 0
    fresh = small_pipeline(color_folders)
    fresh.net.load_parameters(str(latest / "model.params"))  # plain gluon reads it


def test_a_crash_while_writing_leaves_the_previous_checkpoint_loadable(tinynet, color_folders, tmp_path, monkeypatch):
    small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path), **OPTIONS)
    assert checkpoint_names(tmp_path) == ["step-00000003"]

    def crash_mid_write(trainer, fname):
        with open(fname, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(gluon.Trainer, "save_states", crash_mid_write)
    latest = tmp_path / "checkpoints" / "step-00000003"
    with pytest.raises(CheckpointError, match=f"Could not write checkpoint .*step-00000006: No space left on device. "
                                              f"The earlier checkpoints are intact \\(latest: {latest}\\)"):
        small_pipeline(color_folders).fit(epochs=2, resume=True, out_dir=str(tmp_path), **OPTIONS)
    monkeypatch.undo()
    assert checkpoint_names(tmp_path) == ["step-00000003"]  # nothing half-written is visible

    killed = tmp_path / "checkpoints" / ".writing-killed"  # what a kill -9 mid-write leaves
    killed.mkdir()
    (killed / "model.params").write_bytes(b"garbage")
    assert Checkpoints(tmp_path / "checkpoints").latest().name == "step-00000003" and not killed.exists()
    history = small_pipeline(color_folders).fit(epochs=2, resume=True, out_dir=str(tmp_path), **OPTIONS)
    assert history["step"] == 6 and [e["epoch"] for e in history["history"]] == [1, 2]


def test_mxnet_failing_to_write_is_a_named_error_too(tinynet, color_folders, tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise mx.base.MXNetError("[12:00:00] src/io/local_filesys.cc:209: Check failed: std::fwrite(...) == size")

    monkeypatch.setattr(mx.nd, "save", full_disk)
    with pytest.raises(CheckpointError, match="Could not write checkpoint .*step-00000003: .*Check failed.*No earlier checkpoint"):
        small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path), **OPTIONS)
    with pytest.raises(cvcore.CvcoreError, match=f"Could not save the pipeline to {tmp_path / 'saved'}: .*Check failed"):
        small_pipeline(color_folders).save(tmp_path / "saved")


def test_an_out_dir_that_cannot_be_written_is_named_before_training(tinynet, color_folders, tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(cvcore.CvcoreError, match=f"Cannot write into {tmp_path / 'a-file' / 'run'}: Not a directory"):
        small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path / "a-file" / "run"), **OPTIONS)
    with pytest.raises(cvcore.CvcoreError, match="Cannot write into"):
        small_pipeline(color_folders).save(tmp_path / "a-file" / "saved")


class SendSigterm(Callback):
    def on_step_end(self, state, record):
        if state.global_step == 2:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_saves_a_checkpoint_as_ctrl_c_does(tinynet, color_folders, tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted) as stopped:
        small_pipeline(color_folders).fit(epochs=2, out_dir=str(tmp_path), callbacks=[SendSigterm()], **OPTIONS)
    assert stopped.value.signal == signal.SIGTERM and "by SIGTERM" in str(stopped.value)
    assert stopped.value.checkpoint == str(tmp_path / "checkpoints" / "step-00000002")
    assert signal.getsignal(signal.SIGTERM) is before
    assert small_pipeline(color_folders).fit(epochs=2, resume=True, out_dir=str(tmp_path), **OPTIONS)["step"] == 6


def test_cvcore_train_stopped_by_sigterm_exits_143_with_a_checkpoint(tmp_path, color_folders):
    """A real process, as a scheduler stops it: SIGTERM while it trains."""
    import subprocess
    import sys
    import time

    from conftest import write_classification_config

    config = write_classification_config(tmp_path / "c.toml", color_folders, size=64, epochs=200, batch_size=4)
    config.write_text(config.read_text().replace('name = "tinynet"', 'name = "resnet18_v1b"'))
    process = subprocess.Popen([sys.executable, "-m", "cvcore.cli", "train", str(config), "--out", str(tmp_path / "run")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "run" / "train.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.is_file() and '"event": "start"' in log.read_text()):
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "by SIGTERM" in err and "--resume" in err
    assert checkpoint_names(tmp_path / "run")


class SendCtrlC(Callback):
    def on_step_end(self, state, record):
        if state.global_step == 2:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_finishes_the_step_saves_and_says_where(tinynet, color_folders, tmp_path):
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the tests run in a background job
    with pytest.raises(TrainingInterrupted) as stopped:
        small_pipeline(color_folders).fit(epochs=2, out_dir=str(tmp_path), callbacks=[SendCtrlC()], **OPTIONS)
    assert stopped.value.checkpoint == str(tmp_path / "checkpoints" / "step-00000002")
    assert "epoch 1, batch 2/3 (global step 2)" in str(stopped.value) and "resume=True" in str(stopped.value)
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    log = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert log[-1]["event"] == "interrupted" and log[-1]["step"] == 2
    history = small_pipeline(color_folders).fit(epochs=2, resume=str(stopped.value.checkpoint), out_dir=str(tmp_path), **OPTIONS)
    assert history["step"] == 6


class SendSigtermAfterTheLastEpoch(Callback):
    def on_epoch_end(self, state, record):
        if record["epoch"] == 2:  # the last epoch is trained, validated and saved: only the signal is left
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_signal_during_the_last_epochs_end_still_stops_with_its_checkpoint(tinynet, color_folders, tmp_path):
    with pytest.raises(TrainingInterrupted) as stopped:  # before: fit returned as if nothing had happened, and the process ran on
        small_pipeline(color_folders).fit(epochs=2, out_dir=str(tmp_path), callbacks=[SendSigtermAfterTheLastEpoch()], **OPTIONS)
    assert stopped.value.signal == signal.SIGTERM and "by SIGTERM" in str(stopped.value)
    assert stopped.value.checkpoint == str(tmp_path / "checkpoints" / "step-00000006")


def test_an_interrupted_data_iterator_also_saves(tinynet, color_folders, tmp_path):
    class FlakyDataset(gluon.data.Dataset):
        def __init__(self, dataset):
            self.dataset, self.reads = dataset, 0

        def __len__(self):
            return len(self.dataset)

        def __getitem__(self, index):
            self.reads += 1
            if self.reads == 30:  # inside the third batch
                raise KeyboardInterrupt
            return self.dataset[index]

    pipeline = small_pipeline(color_folders)
    data = FlakyDataset(pipeline.task.dataset(pipeline, "train"))
    with pytest.raises(TrainingInterrupted) as stopped:
        pipeline.fit(data, epochs=1, out_dir=str(tmp_path), **OPTIONS)
    assert stopped.value.checkpoint.endswith("step-00000002")


def test_interrupted_without_out_dir_says_nothing_was_saved(tinynet, color_folders):
    with pytest.raises(TrainingInterrupted, match="nothing was saved \\(set out_dir"):
        small_pipeline(color_folders).fit(epochs=1, callbacks=[SendCtrlC()], **OPTIONS)


def test_a_new_run_refuses_an_out_dir_with_checkpoints(tinynet, color_folders, tmp_path):
    small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path), **OPTIONS)
    with pytest.raises(cvcore.ConfigError, match="already holds checkpoints.*resume=True"):
        small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path), **OPTIONS)
    with pytest.raises(cvcore.ConfigError, match="cannot be resumed exactly: batch_size 12 -> 6"):
        small_pipeline(color_folders).fit(epochs=2, resume=True, out_dir=str(tmp_path), **{**OPTIONS, "batch_size": 6})


def test_a_failing_validation_costs_no_training(tinynet, color_folders, tmp_path):
    pipeline = small_pipeline(color_folders)
    train, val = pipeline.task.dataset(pipeline, "train"), pipeline.task.dataset(pipeline, "val")

    class BrokenVal(gluon.data.Dataset):
        def __len__(self):
            return len(val)

        def __getitem__(self, index):
            raise IndexError("boolean index did not match indexed array along dimension 0; dimension is 17 but ...")

    with pytest.warns(ValidationFailedWarning, match="after epoch 1 failed.*step-00000003.*IndexError: boolean index"):
        history = pipeline.fit(train, BrokenVal(), epochs=2, out_dir=str(tmp_path), **OPTIONS)
    assert history["epoch"] == 2 and "IndexError" in history["val_error"]
    assert checkpoint_names(tmp_path) == ["step-00000003", "step-00000006"]  # each epoch's checkpoint was written


def test_validation_results_reach_the_epochs_checkpoint(tinynet, color_folders, tmp_path):
    small_pipeline(color_folders).fit(epochs=1, out_dir=str(tmp_path), **OPTIONS)
    saved = json.loads((tmp_path / "checkpoints" / "step-00000003" / "state.json").read_text())
    assert "val_top1" in saved["state"]["history"][0]  # written before validation, completed after it
