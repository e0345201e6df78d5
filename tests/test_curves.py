"""Learning curves as a picture, at the end of `cvcore train` and on demand with `cvcore plot`."""
from __future__ import annotations

import json

import cv2
import pytest
from conftest import write_classification_config

from cvcore.cli import main
from cvcore.errors import CvcoreError
from cvcore.train.curves import read_curves


def write_log(run, epochs: int, *, steps_per_epoch: int = 4, metric: str = "val_top1"):
    run.mkdir(parents=True)
    events = [{"event": "start", "steps_per_epoch": steps_per_epoch}]
    for epoch in range(1, epochs + 1):
        events.append({"event": "train", "epoch": epoch, "step": epoch * steps_per_epoch - 2, "loss": 2.0 / epoch, "lr": 0.1})
        events.append({"event": "epoch", "epoch": epoch, "step": epoch * steps_per_epoch, "loss": 1.5 / epoch, "lr": 0.1 / epoch,
                       "seconds": 30.0, metric: epoch / 10, "val_APl": -1.0})
    (run / "train.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return run


def test_the_log_becomes_curves_on_an_epoch_axis(tmp_path):
    curves = read_curves(write_log(tmp_path / "a", 3))
    assert curves.loss == [(0.5, 2.0), (1.5, 1.0), (2.5, 2.0 / 3)]  # step 2 of 4 per epoch is epoch 0.5
    assert curves.epoch_loss[-1] == (3.0, 0.5) and curves.lr[-1] == (3.0, 0.1 / 3)
    assert curves.metrics == {"top1": [(1.0, 0.1), (2.0, 0.2), (3.0, 0.3)]}  # COCO's -1 (no such objects) is not drawn
    assert curves.minutes == [(1.0, 0.5), (2.0, 1.0), (3.0, 1.5)]


def test_cvcore_plot_overlays_runs_into_one_picture(tmp_path, capsys):
    a, b = write_log(tmp_path / "a", 3), write_log(tmp_path / "b", 2, metric="val_AP")
    assert main(["plot", str(a), str(b), "--out", str(tmp_path / "both.png")]) == 0
    image = cv2.imread(str(tmp_path / "both.png"))
    assert image is not None and image.shape[1] > 1000 and image.std() > 10  # a real picture, not a blank
    assert f"wrote {tmp_path / 'both.png'}" in capsys.readouterr().out


def test_a_folder_without_a_log_or_epochs_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CvcoreError, match="has no training log"):
        read_curves(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "train.jsonl").write_text('{"event": "start"}\nnot json\n')
    with pytest.raises(CvcoreError, match=r"train.jsonl: line 2 is not JSON"):
        read_curves(tmp_path / "bad")
    code = main(["plot", str(write_log(tmp_path / "none", 0)), "--out", str(tmp_path / "x.png")])
    assert code == 1 and not (tmp_path / "x.png").exists()


def test_cvcore_train_ends_with_the_picture_in_the_run_folder(tinynet, color_folders, tmp_path, capsys):
    config = write_classification_config(tmp_path / "c.toml", color_folders, size=16, epochs=2, batch_size=12)
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 0
    assert f"learning curves: {tmp_path / 'run' / 'curves.png'}" in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "run" / "curves.png")).shape[0] > 300
