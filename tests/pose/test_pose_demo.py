"""The pose demo end to end: at a toy size (data, training, evaluation, drawings, the report),
and at its own size against its AP goal (slow)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvcore_pose import demo


def test_the_demo_trains_evaluates_draws_and_reports(tmp_path):
    result = demo.run(tmp_path, progress=False, train_images=8, val_images=3, image_size=[128, 96], input_size=[64, 64],
                      epochs=1, batch_size=4, num_workers=0, drawings=2)
    assert [point["epoch"] for point in result["curve"]] == [1]
    assert set(result["final"]) >= {"AP", "AP50", "AP75", "APm", "APl", "AR"}
    assert len(result["drawings"]) == 2 and all(Path(path).is_file() for path in result["drawings"])
    assert [row["backend"] for row in result["int8"]] == ["mxnet", "openvino"]
    assert all(0 <= row["AP"] <= 1 and row["speedup"] > 0 for row in result["int8"])
    assert (Path(result["pipeline"]) / "pipeline.toml").is_file()
    saved = json.loads((Path(result["pipeline"]).parent / "demo.json").read_text())
    assert saved["recipe"]["train_images"] == 8
    report = demo.report(result)
    assert "val AP" in report and "flip test" in report and "INT8 (mxnet)" in report and "INT8 (openvino)" in report
    assert "INT8: no plugin" in demo.report({**result, "int8": None})
    assert demo._metric(-1.0) == "n/a" and demo._metric(0.5) == "0.500"


@pytest.mark.slow
def test_the_demo_recipe_reaches_oks_ap_050_on_the_synthetic_val_split(tmp_path):
    result = demo.run(tmp_path, progress=False)
    assert len(result["curve"]) == demo.RECIPE["epochs"]
    assert result["curve"][0]["val_AP"] < result["final"]["AP"]  # it is still learning: not a trivial set
    assert result["final"]["AP"] >= 0.50
    assert len(result["drawings"]) == demo.RECIPE["drawings"]
