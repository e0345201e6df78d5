"""The cvcore command, run in-process with the fixture backbone registered."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import run_cli, write_classification_config

import cvcore.plugins
from cvcore.cli import main

CVCORE = [sys.executable, "-m", "cvcore.cli"]


def write_config(path: Path, data_root: Path) -> Path:
    return write_classification_config(path, data_root, size=32, epochs=6, batch_size=12, lr=0.1)


def plugin_rows(out: str) -> dict[str, str]:
    """``cvcore plugins``' rows by plugin, each with its wrapped continuation lines joined on."""
    rows: dict[str, str] = {}
    last = None
    for line in out.splitlines()[2:]:
        if line.startswith("(") or line.startswith("conflict:"):
            break
        if line.startswith(" ") and last is not None:
            rows[last] += " " + line.strip()
        else:
            last = line.split()[0]
            rows[last] = line
    return rows


@pytest.mark.first_party
def test_plugins_lists_builtins_and_all_first_party_plugins():
    env = {**__import__("os").environ, "COLUMNS": "100"}
    out = subprocess.run(CVCORE + ["plugins"], capture_output=True, text=True, check=True, env=env, timeout=300).stdout
    assert max(len(line) for line in out.splitlines()) <= 100  # fits the terminal
    rows = plugin_rows(out)
    assert set(rows) >= {"cvcore", "pose", "rcnn-fpn", "ssd", "gan", "prune", "int8-vnni"}
    assert "cvcore-int8-vnni" in rows["int8-vnni"] and " ok " in rows["int8-vnni"]
    assert "1 head" not in rows["cvcore"] and "2 tasks" in rows["cvcore"] and "2 transforms" in rows["cvcore"]
    names = subprocess.run(CVCORE + ["plugins", "cvcore"], capture_output=True, text=True, check=True, env=env, timeout=300).stdout
    assert "  transform: export, hybridize" in names and "  head: classifier" in names
    assert max(len(line) for line in names.splitlines()) <= 100


@pytest.mark.first_party
def test_plugins_shows_a_disabled_plugin(monkeypatch):
    env = {**__import__("os").environ, "CVCORE_PLUGINS_DISABLE": "gan"}
    out = subprocess.run(CVCORE + ["plugins"], capture_output=True, text=True, check=True, env=env, timeout=300).stdout
    assert " disabled " in plugin_rows(out)["gan"]


def test_info_describes_a_part(capsys, tinynet):
    code, out, _ = run_cli(capsys, "info", "tinynet")
    assert code == 0
    assert "tinynet  (backbone, from plugin tinynet)" in out and "stride-2" in out


@pytest.fixture
def without_gan(tinynet):
    """As if no first-party plugin were installed: cvcore-gan's task names serve as those of a missing one."""
    cvcore.plugins.reset_host(autoload=False)
    cvcore.plugins.register_plugin(tinynet, name="tinynet")
    return tinynet


def test_info_on_a_missing_model_names_the_extra(capsys, tinynet):
    code, _, err = run_cli(capsys, "info", "cyclegan_horse2zebra")
    assert code == 1
    assert "cvcore-gan" in err and "No model named" in err


def test_unknown_task_in_a_config_names_the_plugin(capsys, tmp_path, without_gan):
    config = tmp_path / "upscale.toml"
    config.write_text('task = "super_resolution"\n[backbone]\nname = "tinynet"\n')
    code, _, err = run_cli(capsys, "train", str(config))
    assert code == 1 and "No task named 'super_resolution'" in err and "cvcore-gan" in err


def test_models_lists_the_classification_zoo(capsys, tinynet):
    code, out, _ = run_cli(capsys, "models", "--task", "classification")
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert code == 0
    assert {"resnet50_v1", "resnet50_v1b", "resnet50_v1d", "resnext50_32x4d", "mobilenet1.0", "vgg16"} <= set(rows)
    assert "classification  cvcore" in rows["resnet50_v1d"]


def test_models_of_a_task_without_models_says_so(capsys, without_gan):
    code, _, err = run_cli(capsys, "models", "--task", "super_resolution")
    assert code == 1 and "No models for task 'super_resolution'" in err


def test_train_eval_predict_deploy_bench(capsys, tmp_path, tinynet, color_folders):
    config = write_config(tmp_path / "colors.toml", color_folders)
    out_dir = tmp_path / "run"
    code, out, _ = run_cli(capsys, "train", str(config), "--out", str(out_dir), "--json", str(tmp_path / "history.json"))
    assert code == 0 and (out_dir / "model.params").is_file()
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["epoch"] == 6 and history["val_top1"] >= 0.9

    metrics_file = tmp_path / "metrics.json"
    code, out, _ = run_cli(capsys, "eval", str(out_dir), "--json", str(metrics_file))
    assert code == 0 and "top1" in out
    assert json.loads(metrics_file.read_text())["top1"] == history["val_top1"]

    image = sorted((color_folders / "val" / "green").iterdir())[0]
    code, out, _ = run_cli(capsys, "predict", str(out_dir), str(image), "--set", "top_k=1")
    path, predicted = out.strip().split(": ")
    name, probability = predicted.rsplit(" ", 1)
    assert code == 0 and path == str(image) and name == "green" and 0.5 < float(probability) <= 1.0

    deployed = tmp_path / "deployed"
    code, out, _ = run_cli(capsys, "deploy", str(out_dir), "--transform", "hybridize", "--out", str(deployed))
    assert code == 0 and (deployed / "deployed-symbol.json").is_file()
    code, out, _ = run_cli(capsys, "eval", str(deployed), "--data", str(color_folders))
    assert code == 0 and f"{history['val_top1']:.4f}" in out

    bench_json = tmp_path / "bench.json"
    code, out, _ = run_cli(capsys, "bench", str(out_dir), "--batch-size", "2", "--runs", "2", "--seconds", "0.2", "--json", str(bench_json))
    assert code == 0 and "cvcore default" in out and "hybridize()" in out
    result = json.loads(bench_json.read_text())
    assert set(result["paths"]) == {"hybridize()", "cvcore default"}
    assert all(r["median"] > 0 for r in result["paths"].values())


def test_data_synth_classification_writes_image_folders(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "data", "synth", "classification", str(tmp_path / "synth"), "--set", "classes=3",
                           "--set", "train_per_class=2", "--set", "val_per_class=1")
    assert code == 0 and "synthetic classification dataset" in out
    assert len(list((tmp_path / "synth" / "train").iterdir())) == 3


def test_data_synth_names_what_can_be_synthesized(capsys, tmp_path, without_gan):
    import cvcore

    class Plain:
        @cvcore.hookimpl
        def cvcore_datasets(self):
            return [cvcore.Component("plain_folder", dict, "A dataset without a generator.")]

    cvcore.register_plugin(Plain(), name="plain")
    code, _, err = run_cli(capsys, "data", "synth", "plain_folder", str(tmp_path / "never"))
    assert code == 1 and "cannot be synthesized; these can: " in err and "classification" in err
    assert not (tmp_path / "never").exists()
    code, _, err = run_cli(capsys, "data", "synth", "unpaired", str(tmp_path / "never"))
    assert code == 1 and "cvcore-gan" in err


def test_demo_of_a_task_that_is_not_installed_names_the_plugin(capsys, without_gan):
    code, _, err = run_cli(capsys, "demo", "--task", "image_translation")
    assert code == 1 and "No task named 'image_translation'" in err and "cvcore-gan" in err


def test_demo_runs_the_classification_demo_when_pose_is_disabled(capsys, monkeypatch):
    from cvcore.tasks.classification import ClassificationTask

    calls = []
    cvcore.plugins.reset_host(disabled={"pose"})
    monkeypatch.setattr(ClassificationTask, "demo", lambda self, **options: calls.append(options) or 0)
    try:
        code, _, _ = run_cli(capsys, "demo", "--set", "epochs=1")
    finally:
        cvcore.plugins.reset_host()
    assert code == 0 and calls == [{"epochs": 1}]


def test_launch_runs_workers_on_the_dist_sync_kvstore(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent("""
        import sys
        import cvcore, mxnet as mx
        kv = mx.kv.create("dist_sync")
        kv.init("w", mx.nd.zeros((2,)))
        kv.push("w", mx.nd.ones((2,)) * (kv.rank + 1))
        out = mx.nd.zeros((2,))
        kv.pull("w", out=out)
        with open(f"{sys.argv[1]}/rank{kv.rank}.txt", "w") as handle:  # one file each: stdout lines would interleave
            handle.write(f"rank {kv.rank} of {kv.num_workers} sum {out.asnumpy().tolist()}")
    """))
    result = subprocess.run(
        CVCORE + ["launch", "-n", "2", "--timeout", "120", "--", sys.executable, str(script), str(tmp_path)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = [(tmp_path / f"rank{rank}.txt").read_text() for rank in (0, 1)]
    assert lines == ["rank 0 of 2 sum [3.0, 3.0]", "rank 1 of 2 sum [3.0, 3.0]"]


def test_launch_reports_a_failing_worker(tmp_path):
    result = subprocess.run(
        CVCORE + ["launch", "-n", "1", "--timeout", "60", "--", sys.executable, "-c", "import sys; sys.exit(3)"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 3


def test_predict_a_folder_of_images_with_raw_json(capsys, tmp_path, tinynet, color_folders):
    from cvcore.pipeline import Pipeline

    Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
             class_names=["blue", "green", "red"]).save(tmp_path / "run")
    folder = color_folders / "val" / "red"
    code, out, err = run_cli(capsys, "predict", str(tmp_path / "run"), str(folder), "--set", "top_k=2", "--json", str(tmp_path / "p.json"))
    assert code == 0, err
    records = json.loads((tmp_path / "p.json").read_text())
    assert (
        [r["input"] for r in records]
        == [str(p) for p in sorted(folder.glob("*.png"))]
        == [line.split(": ")[0] for line in out.splitlines()]
    )
    for record in records:
        assert len(record["classes"]) == 2 and {c["name"] for c in record["classes"]} <= {"blue", "green", "red"}
        assert record["classes"][0]["score"] >= record["classes"][1]["score"]


def test_version_names_the_core_and_every_plugin(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    lines = capsys.readouterr().out.splitlines()
    assert done.value.code == 0 and lines[0] == f"cvcore {cvcore.__version__}"
    infos = [info for info in cvcore.plugins.host().plugins.values() if info.name != "cvcore"]
    assert len(lines) == 1 + len(infos)
    assert all(line.startswith("  ") and line.endswith(("(ok)", "(disabled)", "(broken)")) for line in lines[1:])


def test_models_fit_a_100_column_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["models", "--task", "classification"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 30 and max(len(line) for line in lines) <= 100
    assert any(line.endswith("\u2026") for line in lines)  # long descriptions are cut, with an ellipsis
