"""Paths in config files are relative to the file; a saved run finds its data from any working directory."""
from __future__ import annotations

import shutil
import tomllib

import tomli_w

from cvcore.cli import main
from cvcore.pipeline import Pipeline


def write_config(path, root: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({
        "task": "classification", "classes": 3, "input_shape": [1, 3, 32, 32], "backbone": {"name": "tinynet"},
        "data": {"dataset": "image_folder", "root": root}, "train": {"epochs": 1, "batch_size": 12, "progress": False},
    }))
    return path


def test_a_run_trained_in_one_folder_evaluates_from_any_other(tinynet, color_folders, tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(color_folders, project / "colors")
    config = write_config(project / "configs" / "colors.toml", "../colors")  # relative to the config file
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["train", str(config), "--out", str(project / "runs" / "colors")]) == 0
    saved = tomllib.loads((project / "runs" / "colors" / "pipeline.toml").read_text())
    assert saved["data"]["root"] == "../../colors" and saved["train"]["out_dir"] == "."
    monkeypatch.chdir(project / "configs")
    capsys.readouterr()
    assert main(["eval", "../runs/colors"]) == 0 and "top1" in capsys.readouterr().out
    shutil.move(str(project), str(tmp_path / "moved"))  # the run and its data moved together
    assert Pipeline.load(tmp_path / "moved" / "runs" / "colors").evaluate()["top1"] >= 0.0


def test_paths_given_in_python_are_relative_to_the_working_directory(tinynet, color_folders, tmp_path, monkeypatch):
    monkeypatch.chdir(color_folders.parent)
    pipeline = Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
                        data={"root": color_folders.name})
    pipeline.save(tmp_path / "runs" / "a")
    monkeypatch.chdir(tmp_path / "runs")
    assert Pipeline.load("a").task.dataset(Pipeline.load("a"), "val").root == color_folders


def test_a_missing_root_names_the_path_that_was_tried(tinynet, tmp_path, capsys):
    config = write_config(tmp_path / "configs" / "c.toml", "shapes")
    code = main(["train", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and f"Image folder root {tmp_path / 'configs' / 'shapes'} does not exist" in err
