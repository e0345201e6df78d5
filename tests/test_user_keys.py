"""Every key a user gives is checked before it is used: config tables, Pipeline keywords, part, data, predict and eval options."""
from __future__ import annotations

import pytest
from conftest import write_classification_config

from cvcore.cli import main
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline

SMALL = {"classes": 3, "input_shape": [1, 3, 32, 32]}


def test_a_top_level_typo_in_a_config_is_named_with_the_closest_key(tinynet, color_folders, tmp_path):
    config = write_classification_config(tmp_path / "c.toml", color_folders, size=32)
    config.write_text(config.read_text().replace("classes = 3", "clases = 3"))
    with pytest.raises(ConfigError, match=r"Unknown pipeline option of task 'classification': 'clases' \(did you mean 'classes'\?\)"):
        Pipeline.from_config(config)


def test_pipeline_keywords_are_checked(tinynet):
    with pytest.raises(ConfigError) as error:
        Pipeline("classification", backbone="tinynet", input_shap=[1, 3, 32, 32], hed="classifier", classes=3)
    message = str(error.value)
    assert "'input_shap' (did you mean 'input_shape'?)" in message and "'hed' (did you mean 'head'?)" in message
    assert "augment, backbone, class_names, classes, data" in message  # the accepted keys, the task's own among them


@pytest.mark.parametrize("data, message", [
    ({"dataset": "image_folder", "rot": "x"}, r"\[data\] option of dataset 'image_folder': 'rot' \(did you mean 'root'\?\)"),
    ({"root": "x", "on_bad_imag": "skip"}, r"'on_bad_imag' \(did you mean 'on_bad_image'\?\)"),
    ("images/", "data = .images/. \\(pipeline option of task .classification.\\) must be a table, not a string"),
])
def test_data_keys_are_checked_against_the_dataset(tinynet, data, message):
    with pytest.raises(ConfigError, match=message):
        Pipeline("classification", backbone="tinynet", data=data, **SMALL)


def test_part_options_are_checked_against_the_part(tinynet):
    with pytest.raises(ConfigError, match=r"option of 'resnet18_v1b': 'norm_layr' \(did you mean 'norm_layer'\?\)"):
        Pipeline("classification", backbone={"name": "resnet18_v1b", "norm_layr": "SyncBatchNorm"}, **SMALL)
    with pytest.raises(ConfigError, match=r"option of 'classifier': 'dropot'"):
        Pipeline("classification", backbone="tinynet", head={"name": "classifier", "dropot": 0.5}, **SMALL)


def test_predict_and_evaluate_options_are_checked(tinynet, color_folders):
    pipeline = Pipeline("classification", backbone="tinynet", data={"root": str(color_folders)}, **SMALL)
    image = next((color_folders / "val").glob("*/*.png"))
    with pytest.raises(ConfigError, match=r"predict option of task 'classification': 'topk' \(did you mean 'top_k'\?\)"):
        pipeline.predict(image, topk=2)
    with pytest.raises(ConfigError, match=r"evaluate option of task 'classification': 'batch' \(did you mean 'batch_size'\?\)"):
        pipeline.evaluate(batch=4)


def test_cli_predict_options_a_classifier_does_not_take_are_named(tinynet, color_folders, tmp_path, capsys):
    pipeline = Pipeline("classification", backbone="tinynet", data={"root": str(color_folders)}, **SMALL)
    pipeline.save(tmp_path / "run")
    image = next((color_folders / "val").glob("*/*.png"))
    for extra, named in ((["--set", "thresh=0.0"], "'thresh'"), (["--out", str(tmp_path / "drawn")], "'out'")):
        code = main(["predict", str(tmp_path / "run"), str(image), *extra])
        err = capsys.readouterr().err
        assert code == 1 and f"predict option of task 'classification': {named}" in err and "top_k" in err, err


def test_a_deployed_pipelines_config_is_not_read_as_a_fresh_one(tinynet, tmp_path):
    Pipeline("classification", backbone="tinynet", **SMALL).deploy("export").save(tmp_path / "run")
    with pytest.raises(ConfigError, match="deployed pipeline's: open its folder with Pipeline.load"):
        Pipeline.from_config(tmp_path / "run" / "pipeline.toml")
    assert Pipeline.open(tmp_path / "run").deployed  # the folder opens as the deployed pipeline


def test_generator_and_demo_options_are_checked(capsys, tmp_path):
    code = main(["data", "synth", "classification", str(tmp_path / "d"), "--set", "clases=3"])
    assert code == 1 and "option of the classification generator: 'clases' (did you mean 'classes'?)" in capsys.readouterr().err
    code = main(["demo", "--task", "classification", "--set", "epoch=1"])
    assert code == 1 and "demo option: 'epoch' (did you mean 'epochs'?)" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
