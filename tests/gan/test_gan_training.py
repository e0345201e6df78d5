"""Both GANs on the shared engine: one optimizer per network, the stages, exact resume with both optimizers and the pool."""
from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import pytest
from conftest import StopAt

from cvcore import Pipeline
from cvcore.errors import ConfigError
from cvcore.train import TrainingInterrupted
from cvcore.weights import WeightsError

SR = dict(generator={"blocks": 2, "channels": 16}, discriminator={"channels": 8}, content_loss="mse", crop=64)
SR_FIT = dict(epochs=2, batch_size=4, optimizer="adam", lr=1e-3, seed=3, progress=False, log_every=1)
CYCLE = dict(generator={"blocks": 1, "channels": 8}, crop=32, load_size=36, pool_size=3)
CYCLE_FIT = dict(epochs=2, batch_size=2, optimizer="adam", lr=2e-4, optimizer_params={"beta1": 0.5}, lr_mode="linear",
                 seed=5, progress=False, log_every=1)


def sr_pipeline(root, **options) -> Pipeline:
    mx.random.seed(0)
    return Pipeline("super_resolution", **{**SR, **options}, data={"root": str(root)})


def cycle_pipeline(root, **options) -> Pipeline:
    mx.random.seed(0)
    return Pipeline("image_translation", **{**CYCLE, **options}, data={"root": str(root)})


def weights(pipeline: Pipeline) -> dict[str, np.ndarray]:
    return {name: p.data().asnumpy() for name, p in pipeline.net._collect_params_with_prefix().items()}


def test_srgan_pretrains_then_trains_both_networks_with_their_own_optimizers(sr_root, tmp_path):
    pipeline = sr_pipeline(sr_root, pretrain_epochs=1)
    before = weights(pipeline)
    result = pipeline.fit(out_dir=str(tmp_path), **SR_FIT)
    after = weights(pipeline)
    records = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["event"] == "train"]
    first, second = [r for r in steps if r["epoch"] == 1], [r for r in steps if r["epoch"] == 2]
    assert first and all("loss_d" not in r for r in first)  # the content-only stage
    assert second and all({"loss_d", "loss_adversarial", "loss_content"} <= r.keys() for r in second)
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    assert any(n.startswith("generator.") for n in changed) and any(n.startswith("discriminator.") for n in changed)
    files = {p.name for p in (tmp_path / "checkpoints").glob("step-*/*")}
    assert {"trainer-generator.states", "trainer-discriminator.states", "model.params"} <= files
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch-001.png", "epoch-002.png"]
    assert {"val_psnr", "val_ssim"} <= result.keys() and np.isfinite(result["val_psnr"])


def test_discriminator_stays_put_during_content_pretraining(sr_root):
    pipeline = sr_pipeline(sr_root, pretrain_epochs=1)
    before = weights(pipeline)
    pipeline.fit(**{**SR_FIT, "epochs": 1})
    after = weights(pipeline)
    for name in before:
        if name.startswith("discriminator.") and "running" not in name:
            assert np.array_equal(before[name], after[name]), name


@pytest.mark.parametrize("stop", [3, 5])  # in the content stage, and in the GAN stage (2 batches an epoch)
def test_srgan_resume_is_exact(sr_root, tmp_path, stop):
    straight = sr_pipeline(sr_root, pretrain_epochs=1)
    straight.fit(**{**SR_FIT, "epochs": 3})
    first = sr_pipeline(sr_root, pretrain_epochs=1)
    with pytest.raises(TrainingInterrupted):
        first.fit(out_dir=str(tmp_path), callbacks=[StopAt(stop)], **{**SR_FIT, "epochs": 3})
    resumed = sr_pipeline(sr_root, pretrain_epochs=1)
    resumed.fit(out_dir=str(tmp_path), resume=True, **{**SR_FIT, "epochs": 3})
    a, b = weights(straight), weights(resumed)
    assert all(np.array_equal(a[name], b[name]) for name in a)


def test_cyclegan_resume_is_exact_with_its_history_pool(unpaired_root, tmp_path):
    straight = cycle_pipeline(unpaired_root)
    straight.fit(**CYCLE_FIT)
    first = cycle_pipeline(unpaired_root)
    with pytest.raises(TrainingInterrupted) as stopped:
        first.fit(out_dir=str(tmp_path), callbacks=[StopAt(4)], **CYCLE_FIT)  # the pool of 3 is full by then
    saved = mx.nd.load(str(tmp_path / "checkpoints" / "step-00000004" / "step.nd"))
    assert saved["pool_a"].shape == (3, 3, 32, 32) and saved["pool_b"].shape == (3, 3, 32, 32)
    assert "resume=True" in str(stopped.value)
    resumed = cycle_pipeline(unpaired_root)
    resumed.fit(out_dir=str(tmp_path), resume=True, **CYCLE_FIT)
    a, b = weights(straight), weights(resumed)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    names = {p.name for p in (tmp_path / "checkpoints").glob("step-*/*")}
    assert {"trainer-generators.states", "trainer-discriminators.states"} <= names


def test_cyclegan_logs_every_loss_and_evaluates_against_the_truth(unpaired_root, tmp_path):
    pipeline = cycle_pipeline(unpaired_root)
    result = pipeline.fit(out_dir=str(tmp_path), **{**CYCLE_FIT, "epochs": 1})
    steps = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    steps = [r for r in steps if r["event"] == "train"]
    assert steps and all({"loss_adversarial", "loss_cycle", "loss_identity", "loss_d"} <= r.keys() for r in steps)
    assert result["val_mae"] > 0 and np.isfinite(result["val_psnr"])


def test_two_optimizers_cannot_share_a_distributed_kvstore(sr_root):
    """Both Trainers would push their parameters under the same kvstore keys (0, 1, ...)."""
    from types import SimpleNamespace

    from cvcore.train.config import TrainConfig
    from cvcore.train.optim import make_trainers

    pipeline = sr_pipeline(sr_root)
    with pytest.raises(ConfigError, match="one parameter group"):
        make_trainers(pipeline.task.parameter_groups(pipeline), TrainConfig(), SimpleNamespace(type="dist_sync"))


@pytest.mark.parametrize("trick", ["mixup", "teacher"])
def test_tricks_of_the_supervised_step_are_refused(sr_root, trick):
    option = {"mixup": True} if trick == "mixup" else {"teacher": sr_pipeline(sr_root)}
    with pytest.raises(ConfigError, match=f"{trick}: .* its own step"):
        sr_pipeline(sr_root).fit(**{**SR_FIT, **option})


def test_vgg_content_loss_without_weights_names_both_fixes(sr_root, tmp_path):
    pipeline = sr_pipeline(sr_root, content_loss="vgg19", content_weights=str(tmp_path / "missing.params"))
    with pytest.raises(WeightsError, match='content_loss = "mse"'):
        pipeline.fit(**{**SR_FIT, "epochs": 1})


def test_vgg_content_loss_reads_the_features_of_a_vgg19_file(sr_root, tmp_path):
    """A VGG19 file under GluonCV's names (made here: no ImageNet weights offline) drives the content loss."""
    from cvcore.plugins import get
    from cvcore_gan.content import content_loss

    vgg = get("backbone", "vgg19").build(out_features=["c2"])
    vgg.initialize()
    vgg(mx.nd.zeros((1, 3, 32, 32)))
    mx.nd.save(str(tmp_path / "vgg19.params"), {f"{name}": p.data() for name, p in vgg._collect_params_with_prefix().items()})
    loss = content_loss("vgg19", layer="c2", weights=str(tmp_path / "vgg19.params"))
    x = mx.nd.random.uniform(-1, 1, (2, 3, 32, 32))
    assert loss(x, x).asnumpy() == pytest.approx([0.0, 0.0])
    assert (loss(x, -x).asnumpy() > 0).all()
    assert not any(p.grad_req != "null" for p in loss.collect_params().values())
