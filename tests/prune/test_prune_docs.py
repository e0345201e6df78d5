"""docs/prune.md: its Python example runs with the outputs its comments promise, and its commands run as written."""
from __future__ import annotations

import shlex

import mxnet as mx
import pytest
from doc_examples import ROOT, code_blocks, run_python

from cvcore.cli import main
from cvcore.pipeline import Pipeline

GUIDE = ROOT / "docs" / "prune.md"


def test_the_guides_python_example_runs_as_documented(tmp_path):
    (example,) = code_blocks(GUIDE, "python")
    run_python(example, tmp_path, [])


@pytest.mark.slow  # trains, prunes, fine-tunes and quantizes a ResNet-50: 40 s of the default suite's 20 minutes
def test_the_guides_commands_run_as_written(stripes_root, tmp_path, monkeypatch):
    """The guide's runs/shapes, here a resnet50_v1d trained one epoch on the stripes (its data/shapes)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shapes").symlink_to(stripes_root)
    mx.random.seed(0)
    pipeline = Pipeline("classification", backbone="resnet50_v1d", classes=4, input_shape=[1, 3, 32, 32],
                        data={"dataset": "image_folder", "root": str(stripes_root)})
    pipeline.fit(epochs=1, batch_size=16, progress=False, out_dir="checkpoints")
    pipeline.save("runs/shapes")
    commands = [line for block in code_blocks(GUIDE, "sh") for line in block.splitlines() if line.startswith("cvcore ")]
    assert len(commands) == 3
    for command in commands:
        argv = shlex.split(command.split("  #")[0])[1:]
        assert main(argv + (["--set", "progress=false"] if argv[0] == "train" else [])) == 0, command
    assert Pipeline.load("runs/shapes-pruned-trained").net.backbone.widths == Pipeline.load("runs/shapes-pruned").net.backbone.widths
    deployed = Pipeline.load("runs/shapes-fast")
    assert [step["transform"] for step in deployed.deployed] == ["prune", "hybridize", "int8"]
