"""A network with random weights never predicts or evaluates silently; ImageNet classifiers speak ImageNet's class names."""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from cvcore.data.class_names import resolve
from cvcore.data.image import write_image
from cvcore.errors import ConfigError
from cvcore.pipeline import Pipeline, RandomWeightsWarning

SMALL = {"classes": 3, "input_shape": [1, 3, 32, 32]}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    write_image(path, np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return path


def test_a_zoo_classifier_without_weights_says_so_and_names_imagenet_classes(photo):
    done = subprocess.run([sys.executable, "-m", "cvcore.cli", "predict", "resnet18_v1", str(photo), "--set", "top_k=3"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    warning = "cvcore predict: warning: Zoo model 'resnet18_v1' predicts with random weights"
    assert [line for line in done.stderr.splitlines() if "warning" in line][0].startswith(warning)  # one readable line
    assert "--pretrained" in done.stderr
    names = [part.rsplit(" ", 1)[0] for part in done.stdout.split(": ", 1)[1].strip().split(", ")]
    assert len(names) == 3 and set(names) <= set(resolve("imagenet1k")), done.stdout


def test_loaded_or_trained_weights_do_not_warn(tinynet, color_folders, tmp_path, photo):
    pipeline = Pipeline("classification", backbone="tinynet", data={"root": str(color_folders)}, **SMALL)
    with pytest.warns(RandomWeightsWarning, match="This pipeline predicts with random weights"):
        pipeline.predict(photo)
    pipeline.save(tmp_path / "untrained")
    with pytest.warns(RandomWeightsWarning, match="evaluates with random weights"):
        Pipeline.load(tmp_path / "untrained").evaluate()  # the record survives a save and a copy
    pipeline.fit(epochs=1, batch_size=12, progress=False)
    pipeline.save(tmp_path / "trained")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomWeightsWarning)
        pipeline.predict(photo)
        Pipeline.load(tmp_path / "trained").copy().evaluate()


def test_zoo_weights_from_a_file_do_not_warn(tmp_path, photo):
    fresh = Pipeline.from_model("resnet18_v1", input_shape=[1, 3, 32, 32])
    fresh.net.save_parameters(str(tmp_path / "resnet18_v1.params"))
    loaded = Pipeline.from_model("resnet18_v1", pretrained=str(tmp_path / "resnet18_v1.params"), input_shape=[1, 3, 32, 32])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomWeightsWarning)
        top = loaded.predict(photo, top_k=1)[0][0]
    assert top[0] in resolve("imagenet1k")


def test_fine_tuning_a_zoo_classifier_drops_its_imagenet_names(tinynet):
    pipeline = Pipeline.from_model("resnet18_v1", classes=4)
    assert "class_names" not in pipeline.options
    with pytest.raises(ConfigError, match="class_names has 2 names but classes = 3"):
        Pipeline("classification", backbone="tinynet", class_names=["a", "b"], **SMALL)
    with pytest.raises(ConfigError, match="class_names = 'imagenet21k' is neither a list"):
        Pipeline("classification", backbone="tinynet", class_names="imagenet21k", **SMALL)
