"""`cvcore train`: --out holds checkpoints and logs, --resume continues exactly."""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
from conftest import write_classification_config

from cvcore.cli import main
from cvcore.data.folder import ImageFolderDataset


def write_config(path, data_root):
    return write_classification_config(path, data_root, size=16, epochs=2, batch_size=12, lr=0.05, lr_mode="cosine", seed=5)


def train(capsys, *argv):
    mx.random.seed(0)  # the same initial weights in every run
    code = main(["train", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_interrupted_then_resumed_equals_a_straight_run(capsys, tmp_path, tinynet, color_folders, monkeypatch):
    config = write_config(tmp_path / "colors.toml", color_folders)
    code, out, _ = train(capsys, str(config), "--out", str(tmp_path / "straight"), "--json", str(tmp_path / "straight.json"))
    assert code == 0
    straight = json.loads((tmp_path / "straight.json").read_text())

    reads = {"count": 0}
    original = ImageFolderDataset.__getitem__

    def ctrl_c_in_epoch_two(self, index):
        reads["count"] += 1
        if reads["count"] == 36 + 12 + 15:  # epoch 1 (and its validation), then in batch 2 of epoch 2
            raise KeyboardInterrupt
        return original(self, index)

    monkeypatch.setattr(ImageFolderDataset, "__getitem__", ctrl_c_in_epoch_two)
    split = tmp_path / "split"
    code, out, err = train(capsys, str(config), "--out", str(split))
    assert code == 130 and out == ""
    assert "saved checkpoint" in err and f"cvcore train {config} --out {split} --resume" in err
    monkeypatch.undo()

    code, out, err = train(capsys, str(config), "--out", str(split), "--resume", "--json", str(tmp_path / "resumed.json"))
    assert code == 0 and "resumed from" in err and "step-00000004" in err
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["history"] == [{**e, "seconds": r["seconds"], "samples_per_sec": r["samples_per_sec"]}
                                  for e, r in zip(straight["history"], resumed["history"])]
    expected, got = mx.nd.load(str(tmp_path / "straight" / "model.params")), mx.nd.load(str(split / "model.params"))
    assert expected.keys() == got.keys()
    assert all(np.array_equal(expected[k].asnumpy(), got[k].asnumpy()) for k in expected)
    events = [json.loads(line)["event"] for line in (split / "train.jsonl").read_text().splitlines()]
    assert events == ["start", "epoch", "interrupted", "resume", "epoch"]


def test_train_without_resume_refuses_to_mix_runs(capsys, tmp_path, tinynet, color_folders):
    config = write_config(tmp_path / "colors.toml", color_folders)
    assert train(capsys, str(config), "--out", str(tmp_path / "run"), "--epochs", "1")[0] == 0
    code, _, err = train(capsys, str(config), "--out", str(tmp_path / "run"), "--epochs", "1")
    assert code == 1 and "already holds checkpoints" in err and "--resume" in err


def test_training_prints_one_line_per_epoch_and_no_dump(capfd, tmp_path, tinynet, color_folders):
    config = write_classification_config(tmp_path / "colors.toml", color_folders, size=16, epochs=2, batch_size=12,
                                         hybridize=True, progress=True)
    mx.random.seed(0)
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 0
    out, err = capfd.readouterr()  # file descriptors: MXNet's C++ log lines too
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert all("loss " in line and "val_top1 " in line and " min (" in line for line in lines[:2])
    assert lines[2].startswith(f"saved the trained pipeline to {tmp_path / 'run'} after 2 epochs (val_top1 ")
    assert lines[3] == f"learning curves: {tmp_path / 'run' / 'curves.png'}"
    assert len(lines) == 4 and "{" not in out
    assert "Subgraph backend" not in err
