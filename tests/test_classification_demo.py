"""The classification demo learns the synthetic shapes set (minutes: slow)."""
from __future__ import annotations

import pytest

from cvcore.tasks import classification_demo


@pytest.mark.slow
def test_resnet18_from_scratch_reaches_90_percent_top1_on_synthetic_shapes(tmp_path):
    result = classification_demo.run(tmp_path / "demo", progress=False)
    curve = result["curve"]
    assert len(curve) == classification_demo.RECIPE["epochs"]
    assert curve[0]["val_top1"] < 0.5  # not trivial: the first epoch is far from it
    assert result["final"]["top1"] >= 0.90
    assert "final val top-1" in classification_demo.report(result)
