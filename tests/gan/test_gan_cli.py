"""The GANs through the CLI: synthetic data, train (into a run folder), eval and the zoo entries."""
from __future__ import annotations

import json

import tomli_w
from conftest import run_cli

from cvcore import Pipeline
from cvcore.zoo import get_recipe


def test_synth_writes_both_layouts(tmp_path, capsys):
    assert run_cli(capsys, "data", "synth", "sr", tmp_path / "sr", "--set", "train=3", "--set", "val=1")[0] == 0
    assert len(list((tmp_path / "sr" / "train").glob("*.png"))) == 3
    assert run_cli(capsys, "data", "synth", "unpaired", tmp_path / "u", "--set", "train=2", "--set", "test=1")[0] == 0
    assert {p.name for p in (tmp_path / "u").iterdir()} >= {"trainA", "trainB", "testA", "testB", "truth.json"}


def test_train_then_eval_a_super_resolution_run(sr_root, tmp_path, capsys):
    config = {"task": "super_resolution", "generator": {"blocks": 1, "channels": 8}, "discriminator": {"channels": 8},
              "content_loss": "mse", "crop": 64, "data": {"root": str(sr_root)},
              "train": {"epochs": 2, "batch_size": 4, "optimizer": "adam", "lr": 1e-3, "progress": False}}
    (tmp_path / "sr.toml").write_text(tomli_w.dumps(config))
    code, out, err = run_cli(capsys, "train", tmp_path / "sr.toml", "--out", tmp_path / "run")
    assert code == 0, err
    assert (tmp_path / "run" / "samples" / "epoch-002.png").is_file()
    code, out, err = run_cli(capsys, "eval", tmp_path / "run", "--json", tmp_path / "eval.json")
    assert code == 0, err
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert set(scores) == {"psnr", "ssim"} and scores["psnr"] > 0
    reloaded = Pipeline.load(tmp_path / "run")
    assert reloaded.evaluate(reloaded.task.dataset(reloaded, "val")) == scores


def test_train_then_eval_a_translation_run(unpaired_root, tmp_path, capsys):
    config = {"task": "image_translation", "generator": {"blocks": 1, "channels": 8}, "crop": 32, "load_size": 36,
              "data": {"root": str(unpaired_root)}, "train": {"epochs": 1, "batch_size": 2, "optimizer": "adam", "lr": 2e-4,
                                                           "lr_mode": "linear", "progress": False}}
    (tmp_path / "cycle.toml").write_text(tomli_w.dumps(config))
    code, _, err = run_cli(capsys, "train", tmp_path / "cycle.toml", "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = run_cli(capsys, "eval", tmp_path / "run", "--json", tmp_path / "eval.json")
    assert code == 0, err
    assert set(json.loads((tmp_path / "eval.json").read_text())) == {"mae", "psnr"}


def test_zoo_entries_carry_their_papers_optimizers():
    cyclegan = get_recipe("cyclegan_resnet9_256").config()
    assert cyclegan["generator"] == {"blocks": 9} and cyclegan["train"]["optimizer_params"] == {"beta1": 0.5}
    assert cyclegan["train"]["lr_mode"] == "linear" and get_recipe("cyclegan_resnet6_128").config()["crop"] == 128
    assert get_recipe("srgan_4x").config()["train"]["lr"] == 1e-4
