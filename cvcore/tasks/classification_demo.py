"""The classification demo: synthetic shapes, a ResNet-18 from scratch, top-1 on held-out images."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..options import check_keys
from ..train import Callback
from ..train.curves import CURVES_FILE, plot_curves

RECIPE: dict[str, Any] = {
    "model": "resnet18_v1b",
    "size": 64,
    "classes": 10,
    "epochs": 12,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 1e-3,
    "wd": 1e-4,
    "warmup_epochs": 1,
    "augment": {"scale": [0.5, 1.0], "lighting": 0.0},
}


class _Curve(Callback):
    """Validation top-1 against wall-clock minutes, one point per epoch."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.points: list[dict[str, float]] = []

    def on_epoch_end(self, state, record) -> None:
        self.points.append({"epoch": record["epoch"], "minutes": (time.perf_counter() - self.started) / 60,
                            "loss": record["loss"], "val_top1": record.get("val_top1", float("nan"))})


def run(out_dir: str | Path = "runs/classification-demo", *, progress: bool = True, **overrides: Any) -> dict[str, Any]:
    """Synthesize the shapes set (once), train the recipe from scratch, evaluate; returns the learning curve."""
    from ..data.synthetic import synthesize_once
    from ..data.synthetic.classification import synthesize
    from ..pipeline import Pipeline

    check_keys(overrides, RECIPE, "demo option")
    recipe = {**RECIPE, **overrides}
    out_dir = Path(out_dir)
    data = out_dir / "data"
    params = {"classes": recipe["classes"], "size": recipe["size"]}
    synthesize_once(data, params, lambda: synthesize(data, **params, overwrite=True))
    size = recipe["size"]
    pipeline = Pipeline.from_model(
        recipe["model"], classes=recipe["classes"], input_shape=[1, 3, size, size],
        data={"dataset": "image_folder", "root": str(data)}, augment=recipe["augment"],
    )
    curve = _Curve()
    run_dir = out_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}"
    history = pipeline.fit(
        epochs=recipe["epochs"], batch_size=recipe["batch_size"], optimizer=recipe["optimizer"], lr=recipe["lr"],
        wd=recipe["wd"], lr_mode="cosine", warmup_epochs=recipe["warmup_epochs"], hybridize=True,
        progress=progress, callbacks=[curve], out_dir=str(run_dir),
    )
    pipeline.save(run_dir / "pipeline")
    result = {"recipe": recipe, "curve": curve.points, "final": pipeline.evaluate(), "pipeline": str(run_dir / "pipeline"),
              "train_seconds": sum(e["seconds"] for e in history["history"]),
              "curves": str(plot_curves([run_dir], run_dir / CURVES_FILE))}
    (run_dir / "demo.json").write_text(json.dumps(result, indent=2))
    return result


def report(result: dict[str, Any]) -> str:
    from ..tables import table

    rows = [(p["epoch"], f"{p['minutes']:.1f}", f"{p['loss']:.3f}", f"{p['val_top1']:.3f}") for p in result["curve"]]
    final = result["final"]
    return (table(rows, ("epoch", "minutes", "train loss", "val top-1"))
            + f"\nfinal val top-1 {final['top1']:.3f}, top-5 {final['top5']:.3f}; pipeline saved to {result['pipeline']}"
            + f"\nlearning curves: {result['curves']}")
