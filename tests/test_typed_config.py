"""Every value is checked against its declared type and range, with an error naming the key, the value and what fits."""
from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

import pytest
from conftest import write_classification_config

from cvcore.cli import main
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline
from cvcore.typecheck import describe, fits

SMALL = {"classes": 3, "input_shape": [1, 3, 16, 16]}


@pytest.mark.parametrize("option, value, message", [
    ("epochs", "1", r"epochs = '1' \(\[train\] option\) must be an integer, not a string"),
    ("seed", "7", r"seed = '7' .* must be an integer, not a string"),
    ("lr", "fast", r"lr = 'fast' .* must be a number, not a string"),
    ("batch_size", 16.5, r"batch_size = 16.5 .* must be an integer, not a number with a fraction"),
    ("momentum", [0.9], r"momentum = \[0.9\] .* must be a number, not a list"),
    ("hybridize", "yes", r"hybridize = 'yes' .* must be true or false, not a string"),
    ("lr_steps", [10, "20"], r"lr_steps = \[10, '20'\] .* must be a list of numbers"),
    ("lr", -0.1, "lr must be positive, got -0.1"),
    ("wd", -1e-4, "wd must be zero or more"),
    ("momentum", 1.5, r"momentum must be in \[0, 1\)"),
])
def test_train_options_of_the_wrong_type_or_range_are_named(tinynet, color_folders, option, value, message):
    pipeline = Pipeline("classification", backbone="tinynet", data={"root": str(color_folders)}, **SMALL)
    with pytest.raises(ConfigError, match=message):
        pipeline.fit(**{"epochs": 1, "batch_size": 12, "progress": False, option: value})


@pytest.mark.parametrize("options, message", [
    ({"classes": "five"}, r"classes = 'five' \(pipeline option of task 'classification'\) must be an integer, not a string"),
    ({"classes": 0}, "classes must be at least 1"),
    ({"classes": 3, "input_shape": "32x32"}, r"input_shape = '32x32' .* must be a list of integers"),
    ({"classes": 3, "input_shape": [3, 32, 32]}, r"must be four positive sizes \[N, C, H, W\]"),
    ({"classes": 3, "augment": {"scale": 0.5}}, r"scale = 0.5 \(\[augment\] option\) must be a list of numbers"),
    ({"classes": 3, "data": {"root": "x", "on_bad_image": "ignore"}}, r"on_bad_image = 'ignore' .* must be 'raise' or 'skip'"),
])
def test_pipeline_values_of_the_wrong_type_are_named(tinynet, options, message):
    with pytest.raises(ConfigError, match=message):
        pipeline = Pipeline("classification", backbone="tinynet", **options)
        pipeline.task.sample_transform(pipeline, train=True)  # [augment] is read when the data is


def test_part_option_types_come_from_the_parts_own_signature(tinynet):
    with pytest.raises(ConfigError, match=r"stem_width = '32' \(option of 'resnet50_v1d'\) must be an integer"):
        Pipeline("classification", backbone={"name": "resnet50_v1d", "stem_width": "32"}, **SMALL)
    with pytest.raises(ConfigError, match=r"last_gamma = 1 .* must be true or false, not an integer"):
        Pipeline("classification", backbone={"name": "resnet18_v1b", "last_gamma": 1}, **SMALL)


def test_a_misspelt_table_in_a_config_file_is_named(tinynet, color_folders, tmp_path, capsys):
    config = write_classification_config(tmp_path / "c.toml", color_folders, size=16, epochs=1)
    config.write_text(config.read_text().replace("[train]", "[trian]"))
    assert main(["train", str(config)]) == 1
    assert "'trian' (did you mean 'train'?)" in capsys.readouterr().err


@pytest.mark.parametrize("value, hint, expected", [
    (3, int, True), (3.0, int, False), (True, int, False), (3, float, True), (False, float, False),
    ([1, 2.5], Sequence[float], True), ("ab", Sequence[str], False), ((1, 2), tuple[int, ...], True),
    (None, float | None, True), ("skip", Literal["raise", "skip"], True), ({"a": 1}, Mapping[str, Any], True),
])
def test_the_type_rules(value, hint, expected):
    assert fits(value, hint) is expected
    assert describe(Sequence[float]) == "a list of numbers" and describe(int | None) == "an integer (or leave it out)"
