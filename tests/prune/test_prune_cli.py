"""cvcore prune RUN --macs R --out DIR, then cvcore train DIR (fine-tuning, distilling from RUN)."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore.cli import main
from cvcore.deploy.profile import profile
from cvcore.pipeline import Pipeline


@pytest.fixture
def run(stripes_root, tmp_path):
    """A resnet18_v1b classifier trained one epoch on the stripes, saved as a run folder."""
    mx.random.seed(0)
    pipeline = Pipeline("classification", backbone="resnet18_v1b", classes=4, input_shape=[1, 3, 32, 32],
                        data={"dataset": "image_folder", "root": str(stripes_root)})
    pipeline.fit(epochs=1, batch_size=16, progress=False, out_dir=str(tmp_path / "checkpoints"))
    return pipeline.save(tmp_path / "run")


def test_prune_then_fine_tune_with_the_original_as_teacher(run, capsys):
    assert main(["prune", str(run), "--macs", "0.5"]) == 0
    printed = capsys.readouterr().out
    pruned_dir = run.parent / "run-pruned"
    assert "multiply-adds (G)" in printed and f"cvcore train {pruned_dir}" in printed
    original, pruned = Pipeline.load(run), Pipeline.load(pruned_dir)
    assert 0.48 <= profile(pruned).macs / profile(original).macs <= 0.5

    assert main(["train", str(pruned_dir), "--epochs", "1", "--set", f"teacher={run}", "--set", "progress=false"]) == 0
    tuned = Pipeline.load(run.parent / "run-pruned-trained")
    assert tuned.net.backbone.widths == pruned.net.backbone.widths
    assert tuned.config()["train"]["teacher"] == str(run)
    x = mx.nd.random.uniform(-1, 1, shape=(2, 3, 32, 32))
    assert not np.array_equal(tuned.net(x).asnumpy(), pruned.net(x).asnumpy())  # trained on, from the pruned weights
    assert Pipeline.load(pruned_dir).net.backbone.widths == pruned.net.backbone.widths  # the pruned run is left as it was


def test_activation_criterion_reads_the_calibration_split(run, stripes_root, tmp_path):
    out = tmp_path / "by-activation"
    assert main(["prune", str(run), "--params", "0.6", "--criterion", "activation", "--calib", str(stripes_root),
                 "--out", str(out)]) == 0
    ratio = profile(Pipeline.load(out)).trainable_params / profile(Pipeline.load(run)).trainable_params
    assert 0.58 <= ratio <= 0.6


def test_bad_budgets_are_refused(run, capsys):
    with pytest.raises(SystemExit) as both:
        main(["prune", str(run), "--macs", "0.5", "--params", "0.5"])
    assert both.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert main(["prune", str(run), "--macs", "2"]) == 1
    assert "target 2.0 must be a fraction in (0, 1]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prune", str(run), "--macs", "0.5", "--criterion", "gamma"])
    assert "invalid choice: 'gamma'" in capsys.readouterr().err


def test_a_pose_run_is_pruned_fine_tuned_evaluated_and_quantized(capsys, tmp_path):
    import tomli_w

    data = tmp_path / "keypoints"
    assert main(["data", "synth", "keypoints", str(data), "--set", "train=8", "--set", "val=2", "--set", "size=[128, 96]",
                 "--set", "progress=false"]) == 0
    config = tmp_path / "pose.toml"
    config.write_text(tomli_w.dumps({
        "task": "pose", "backbone": {"name": "resnet18_v1b"}, "input_shape": [1, 3, 64, 64],
        "data": {"dataset": "coco_keypoints", "root": str(data)},
        "train": {"epochs": 1, "batch_size": 4, "optimizer": "adam", "lr": 1e-3, "progress": False},
    }))
    run = tmp_path / "run"
    assert main(["train", str(config), "--out", str(run)]) == 0
    assert main(["prune", str(run), "--macs", "0.7", "--criterion", "l1"]) == 0
    pruned = Pipeline.load(tmp_path / "run-pruned")
    assert 0.68 <= profile(pruned).macs / profile(Pipeline.load(run)).macs <= 0.7
    assert main(["train", str(tmp_path / "run-pruned")]) == 0  # the run's own [train]: one epoch
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "run-pruned-trained")]) == 0
    assert "AP" in capsys.readouterr().out
    assert main(["deploy", str(tmp_path / "run-pruned-trained"), "--transform", "int8", "--calib", str(data),
                 "--out", str(tmp_path / "int8")]) == 0
    quantized = Pipeline.load(tmp_path / "int8")
    assert [step["transform"] for step in quantized.deployed] == ["int8"]
    assert quantized.trainable().net.backbone.widths == pruned.net.backbone.widths
    heatmaps = quantized.net(mx.nd.random.uniform(-1, 1, shape=(1, 3, 64, 64)))
    assert heatmaps.shape == (1, 17, 16, 16)
