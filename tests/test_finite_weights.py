"""No checkpoint, saved pipeline or training result ever holds NaN or infinite weights; loading one says so."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from conftest import write_classification_config

from cvcore.cli import main
from cvcore.pipeline import Pipeline
from cvcore.train import TrainingDiverged
from cvcore.train.checkpoint import CheckpointError, find_checkpoints
from cvcore.weights import WeightsError, non_finite, read_params

SMALL = {"classes": 3, "input_shape": [1, 3, 16, 16]}


def pipeline(root) -> Pipeline:
    mx.random.seed(0)
    return Pipeline("classification", backbone="tinynet", data={"root": str(root)}, **SMALL)


def test_a_run_that_explodes_later_names_a_truly_good_checkpoint_and_resumes_from_it(tinynet, color_folders, tmp_path):
    run = pipeline(color_folders)
    with pytest.raises(TrainingDiverged) as error:  # epoch 1 at lr 0.01, then lr 1e6
        run.fit(epochs=2, batch_size=12, lr=0.01, lr_mode="step", lr_steps=[1], lr_factor=1e8, progress=False,
                out_dir=str(tmp_path), checkpoint_every=1)
    saved = find_checkpoints(tmp_path / "checkpoints")
    assert saved[-1].name == "step-00000003"  # epoch 1's last; the one written after the bad update is set aside
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.diverged")) == ["step-00000004.diverged"]
    assert all(not non_finite(read_params(c / "model.params")) for c in saved)
    assert f"the last good checkpoint is {saved[-1]}" in str(error.value)
    resumed = pipeline(color_folders)
    result = resumed.fit(epochs=2, batch_size=12, lr=1e-3, progress=False, out_dir=str(tmp_path), resume=True)
    assert result["epoch"] == 2 and np.isfinite(result["loss"]) and result["loss"] < 5
    assert not non_finite({n: p.data() for n, p in resumed.net._collect_params_with_prefix().items()})


def test_a_run_that_explodes_at_once_has_no_good_checkpoint_to_offer(tinynet, color_folders, tmp_path):
    with pytest.raises(TrainingDiverged, match="exploded.*no checkpoint of this run is known to be good"):
        pipeline(color_folders).fit(epochs=2, batch_size=12, lr=1e6, progress=False, out_dir=str(tmp_path), checkpoint_every=1)
    assert find_checkpoints(tmp_path / "checkpoints") == []


def test_train_exits_nonzero_and_saves_no_model_when_the_weights_blow_up(capsys, tinynet, color_folders, tmp_path):
    config = write_classification_config(tmp_path / "c.toml", color_folders, size=16, epochs=1, batch_size=12, lr=1e6)
    code = main(["train", str(config), "--out", str(tmp_path / "run")])
    assert code == 1 and "Training diverged" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.params").exists()


def test_non_finite_weights_are_never_saved_nor_loaded(tinynet, tmp_path):
    good = Pipeline("classification", backbone="tinynet", **SMALL)
    good.save(tmp_path / "good")
    params = read_params(tmp_path / "good" / "model.params")
    params["head.fc.weight"][0, 0] = float("nan")
    mx.nd.save(str(tmp_path / "good" / "model.params"), params)
    with pytest.raises(WeightsError, match=r"1 of \d+ arrays hold NaN or infinite values \(head.fc.weight\).*diverged"):
        Pipeline.load(tmp_path / "good")
    broken = Pipeline("classification", backbone="tinynet", **SMALL)
    broken.net.head.fc.weight.data()[:] = float("inf")
    with pytest.raises(WeightsError, match="NaN or infinite"):
        broken.save(tmp_path / "broken")
    assert not (tmp_path / "broken" / "model.params").exists()


def test_a_checkpoint_with_non_finite_weights_is_not_resumed(tinynet, color_folders, tmp_path):
    pipeline(color_folders).fit(epochs=1, batch_size=12, progress=False, out_dir=str(tmp_path))
    checkpoint = find_checkpoints(tmp_path / "checkpoints")[-1]
    params = read_params(checkpoint / "model.params")
    name = next(iter(params))
    params[name][:] = float("nan")
    mx.nd.save(str(checkpoint / "model.params"), params)
    with pytest.raises(CheckpointError, match=f"{checkpoint}.*NaN or infinite.*earlier one"):
        pipeline(color_folders).fit(epochs=2, batch_size=12, progress=False, out_dir=str(tmp_path), resume=True)
