"""The pose demo: synthetic stick figures, simple_pose_resnet18_v1b from scratch, OKS AP on held-out images."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cvcore.options import check_keys
from cvcore.train import Callback
from cvcore.train.curves import CURVES_FILE, plot_curves

RECIPE: dict[str, Any] = {
    "model": "simple_pose_resnet18_v1b",
    "input_size": [128, 96],
    "train_images": 5000,
    "val_images": 300,
    "image_size": [320, 240],
    "epochs": 2,
    "batch_size": 32,
    "optimizer": "adam",
    "lr": 2e-3,
    "wd": 0.0,
    "warmup_epochs": 0.3,
    "augment": {"scale_factor": 0.0, "rotation_factor": 0.0, "rotation_prob": 0.0},
    "num_workers": 1,
    "val_every": 1,
    "drawings": 4,
}
"""What the demo trains; ``cvcore demo --set epochs=10`` (or ``run(..., epochs=10)``) overrides any key.

``augment`` keeps only the horizontal flip: the synthetic val crops come from the
same generator and from ground-truth boxes, so in a run this short the scale and
rotation jitter of Simple Baselines only slows learning. Training on COCO keeps
the task's defaults.
"""


class LearningCurve(Callback):
    """Validation AP against training minutes (evaluation time excluded), one point per validated epoch."""

    def __init__(self) -> None:
        self.train_seconds = 0.0
        self.points: list[dict[str, float]] = []

    def on_epoch_end(self, state, record) -> None:
        self.train_seconds += record["seconds"]
        if "val_AP" in record:
            self.points.append({"epoch": record["epoch"], "minutes": self.train_seconds / 60, "loss": record["loss"],
                                "samples_per_sec": record["samples_per_sec"], "val_AP": record["val_AP"]})


def synthetic_data(root: Path, recipe: dict[str, Any], progress: bool = True) -> Path:
    """The demo's dataset under ``root``, written once and reused while the recipe asks for the same images."""
    from cvcore.data.synthetic import synthesize_once

    from .synthetic import synthesize

    params = {"train": recipe["train_images"], "val": recipe["val_images"], "size": list(recipe["image_size"])}
    return synthesize_once(root, params, lambda: synthesize(root, **params, progress=progress, overwrite=True))


def run(out_dir: str | Path = "runs/pose-demo", *, progress: bool = True, **overrides: Any) -> dict[str, Any]:
    """Synthesize, train, evaluate (with and without flip test), draw; returns everything the report prints."""
    from cvcore.pipeline import Pipeline

    check_keys(overrides, RECIPE, "demo option")
    recipe = {**RECIPE, **overrides}
    out_dir = Path(out_dir)
    data = synthetic_data(out_dir / "data", recipe, progress)
    height, width = recipe["input_size"]
    pipeline = Pipeline.from_model(recipe["model"], input_shape=[1, 3, height, width],
                                   data={"dataset": "coco_keypoints", "root": str(data)},
                                   augment=recipe["augment"])
    run_dir = out_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}"
    curve = LearningCurve()
    pipeline.fit(
        epochs=recipe["epochs"], batch_size=recipe["batch_size"], optimizer=recipe["optimizer"], lr=recipe["lr"],
        wd=recipe["wd"], lr_mode="cosine", warmup_epochs=recipe["warmup_epochs"], hybridize=True,
        num_workers=recipe["num_workers"], val_every=recipe["val_every"], progress=progress, callbacks=[curve],
        out_dir=str(run_dir),
    )
    pipeline.save(run_dir / "pipeline")
    curves = plot_curves([run_dir], run_dir / CURVES_FILE)
    val = pipeline.task.dataset(pipeline, "val")
    final = pipeline.evaluate(val, results_file=run_dir / "keypoints_val_results.json", progress=progress)
    no_flip = pipeline.evaluate(val, flip_test=False)
    result = {
        "recipe": recipe, "curve": curve.points, "final": final, "final_no_flip": no_flip,
        "train_minutes": curve.train_seconds / 60, "pipeline": str(run_dir / "pipeline"), "curves": str(curves),
        "drawings": draw_examples(pipeline, val, run_dir / "drawn", recipe["drawings"]),
        "int8": int8_report(pipeline, val, pipeline.task.dataset(pipeline, "train")),
    }
    (run_dir / "demo.json").write_text(json.dumps(result, indent=2, default=float))
    return result


def draw_examples(pipeline, val, directory: Path, count: int) -> list[str]:
    """Predictions on the first ``count`` val images, drawn from their ground-truth boxes."""
    coco = val.coco
    written = []
    for image_id in sorted(coco.getImgIds())[:count]:
        info = coco.loadImgs(image_id)[0]
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False)) if a.get("num_keypoints", 0) > 0]
        if not anns:
            continue
        path = Path(val.image_dir) / info["file_name"]
        target = directory / f"{Path(info['file_name']).stem}_pose.jpg"
        pipeline.predict(str(path), boxes=[a["bbox"] for a in anns], out=target)
        written.append(str(target))
    return written


def int8_report(pipeline, val, calib) -> list[dict[str, Any]] | None:
    """AP and speedup over cvcore's FP32 default path of each INT8 backend available,
    calibrated on ``calib``; None without the int8 plugin."""
    import importlib.util

    from cvcore.plugins import host

    if "int8" not in host().registry.available("transform"):
        return None
    from cvcore.deploy.benchmark import compare

    example = pipeline.example(8)
    fp32 = pipeline.copy().deploy("hybridize", example=example)
    backends = ["mxnet"] + (["openvino"] if importlib.util.find_spec("nncf") else [])
    rows, contenders = [], {"fp32": lambda: fp32.net(example)}
    for backend in backends:
        quantized = pipeline.copy().deploy("int8", example=example, calib_data=calib, backend=backend)
        rows.append({"backend": backend, "AP": quantized.evaluate(val)["AP"]})
        contenders[backend] = lambda net=quantized.net: net(example)
    rates = compare(contenders, 8, runs=3, seconds=1.0)
    for row in rows:
        row["speedup"] = rates[row["backend"]]["median"] / rates["fp32"]["median"]
    return rows


def report(result: dict[str, Any]) -> str:
    """The summary table the demo prints."""
    from cvcore.tables import table

    rows = [(p["epoch"], f"{p['minutes']:.1f}", f"{p['loss']:.5f}", f"{p['samples_per_sec']:.0f}", f"{p['val_AP']:.3f}")
            for p in result["curve"]]
    final, no_flip = result["final"], result["final_no_flip"]
    metrics = [(name, _metric(final[name]), _metric(no_flip[name])) for name in ("AP", "AP50", "AP75", "APm", "APl", "AR")]
    lines = [
        table(rows, ("epoch", "train minutes", "train loss", "samples/s", "val AP")),
        "",
        table(metrics, ("OKS metric (val)", "flip test", "no flip")),
    ]
    if result["int8"] is not None:
        lines.append("")
        lines.append(table([("FP32 (cvcore default)", f"{final['AP']:.3f}", "1.00x")]
                           + [(f"INT8 ({row['backend']})", f"{row['AP']:.3f}", f"{row['speedup']:.2f}x") for row in result["int8"]],
                           ("path", "val AP (flip)", "speed")))
    else:
        lines.append("INT8: no plugin provides the int8 transform here (pip install \"cvcore[int8]\").")
    lines.append(f"drawn predictions: {', '.join(result['drawings']) or 'none'}")
    lines.append(f"pipeline saved to {result['pipeline']}; {result['train_minutes']:.1f} training minutes")
    lines.append(f"learning curves: {result['curves']}")
    return "\n".join(lines)


def _metric(value: float) -> str:
    """COCOeval reports -1 for an area range without ground truth: shown as n/a."""
    return "n/a" if value < 0 else f"{value:.3f}"
