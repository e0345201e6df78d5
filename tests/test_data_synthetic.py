"""The synthetic classification set: real JPEGs in an image folder, deterministic, not solvable by colour."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvcore.cli import main
from cvcore.data.folder import ImageFolderDataset
from cvcore.data.synthetic import synthesize_once
from cvcore.data.synthetic.classification import CLASS_NAMES, synthesize
from cvcore.errors import ConfigError

SMALL = {"classes": 4, "train_per_class": 3, "val_per_class": 2, "size": 32}


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_jpegs_in_an_image_folder_with_class_list_and_readme(tmp_path):
    synthesize(tmp_path / "set", **SMALL)
    written = files(tmp_path / "set")
    images = {name: data for name, data in written.items() if name.endswith(".jpg")}
    assert len(images) == 4 * (3 + 2) and set(written) - set(images) == {"classes.txt", "README.md"}
    assert all(data[:3] == b"\xff\xd8\xff" for data in images.values())  # JPEG magic
    train = ImageFolderDataset(tmp_path / "set", "train")
    assert train.classes == (tmp_path / "set" / "classes.txt").read_text().split()
    assert train.classes == sorted(CLASS_NAMES[:4]) and len(train) == 12
    assert train[0][0].shape == (32, 32, 3)
    assert ImageFolderDataset(tmp_path / "set", "val").class_counts == dict.fromkeys(train.classes, 2)
    assert "classes = 4" in written["README.md"].decode()


def test_same_seed_same_bytes_and_more_images_keep_the_first(tmp_path):
    synthesize(tmp_path / "a", **SMALL)
    synthesize(tmp_path / "b", **SMALL)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    synthesize(tmp_path / "c", **{**SMALL, "seed": 1})
    assert files(tmp_path / "c")["train/circle_stripes/00000.jpg"] != files(tmp_path / "a")["train/circle_stripes/00000.jpg"]
    synthesize(tmp_path / "d", **{**SMALL, "train_per_class": 4})
    first = files(tmp_path / "a")["train/square_stripes/00002.jpg"]
    assert files(tmp_path / "d")["train/square_stripes/00002.jpg"] == first


def test_the_mean_colour_does_not_give_the_class_away(tmp_path):
    synthesize(tmp_path / "set", classes=10, train_per_class=30, val_per_class=20, size=32)
    def mean_colours_and_labels(split: str) -> tuple[np.ndarray, np.ndarray]:
        dataset = ImageFolderDataset(tmp_path / "set", split)
        colours = np.array([dataset[i][0].mean(axis=(0, 1)) for i in range(len(dataset))])
        return colours, np.array([label for _, label in dataset.items])

    (train_x, train_y), (val_x, val_y) = mean_colours_and_labels("train"), mean_colours_and_labels("val")
    centroids = np.stack([train_x[train_y == c].mean(axis=0) for c in range(10)])
    predicted = np.argmin(((val_x[:, None] - centroids) ** 2).sum(axis=2), axis=1)
    assert (predicted == val_y).mean() < 0.25  # chance is 0.1


def test_refuses_a_non_empty_directory_unless_overwrite(tmp_path):
    synthesize(tmp_path, **SMALL)
    with pytest.raises(ConfigError, match="is not empty; choose a new directory or pass overwrite=true"):
        synthesize(tmp_path, **SMALL)
    synthesize(tmp_path, **{**SMALL, "classes": 2, "overwrite": True})
    assert len(ImageFolderDataset(tmp_path).classes) == 2


@pytest.mark.parametrize("options, message", [({"classes": 21}, "between 1 and 20"), ({"size": 8}, "at least 16")])
def test_bad_options_are_named(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        synthesize(tmp_path, **options)


def test_cli_data_synth_classification_writes_the_set(tmp_path, capsys):
    target = tmp_path / "cli"
    argv = ["data", "synth", "classification", str(target)] + [f"--set={k}={v}" for k, v in SMALL.items()]
    assert main(argv) == 0
    assert f"wrote a synthetic classification dataset to {target}" in capsys.readouterr().out
    assert len(ImageFolderDataset(target, "train")) == 12


def test_synthesize_once_reuses_only_what_was_fully_written_with_the_same_parameters(tmp_path):
    root = tmp_path / "set"
    calls = []

    def write(params):
        def run():
            calls.append(params)
            synthesize(root, overwrite=True, **params)
        return run

    assert synthesize_once(root, SMALL, write(SMALL)) == root and len(calls) == 1
    synthesize_once(root, dict(SMALL), write(SMALL))
    assert len(calls) == 1  # same parameters: the files on disk are reused

    more = {**SMALL, "train_per_class": 4}
    synthesize_once(root, more, write(more))
    assert len(calls) == 2 and len(ImageFolderDataset(root, "train")) == 16

    (root / "synthesized.json").write_text('{"classes": 4, "trunc')  # as if killed while recording
    synthesize_once(root, more, write(more))
    assert len(calls) == 3

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesize_once(root, SMALL, interrupted)
    assert not (root / "synthesized.json").exists()  # a half-written set is never taken for a finished one
    synthesize_once(root, more, write(more))
    assert len(calls) == 4
