"""R-CNN FPN on the CPU: seconds per image of Faster and Mask R-CNN ResNet-50 on each deploy path, and what they learn in a time budget.

Speed: faster_rcnn_fpn_resnet50_v1b_coco and mask_rcnn_fpn_resnet50_v1b_coco at
512x512, batch 1, on cvcore's default FP32 path (the ``hybridize`` transform)
and through INT8: MXNet oneDNN with signed (int8) activations (what its
automatic choice falls back to on these graphs, so it is not timed twice) and
OpenVINO + NNCF, calibrated on the timed input.
A path that fails to build or run is listed with its error. All in one process
on the same threads, medians, one model at a time with its paths' runs
interleaved. Weights are random, and speed depends on them only through
post-processing: every class of a random head scores about 1/81, so at the
zoo's score_threshold of 0.01 all 80 x 1000 region-class pairs go to NMS (a
trained model sends far fewer), and at 0.05, torchvision's default, which the
headline figures use, none do. The FP32 path is timed at both thresholds: they
bound what a trained model's post-processing costs. (The mask head runs on all
100 detection slots, filled or not, so its cost is the same either way.) The
peers' figures are the issue's (2-core AVX-512 EPYC), not measured here.

Accuracy (``--accuracy``, about an hour): a Faster and a Mask R-CNN FPN on
resnet18_v1b with a 128-channel pyramid (:data:`HEAD`) trained from scratch on synthetic shapes at 256x256, each for
``--minutes`` of wall clock (as many epochs of a cosine schedule as a short
timed probe run says fit), with COCO AP on the 100 val images after every
epoch of 300 training images. The anchors (16 to 256 pixels) and per-level
proposals suit the shapes, 12 pixels to half the image.

Speed goes to ``rcnn.json`` and the learning curves to ``rcnn_training.json``,
each with the machine it ran on: ``--no-speed`` trains without timing, so a
curve can be measured on another machine than the committed speed figures.
``--quick`` checks the script end to end in minutes (256x256, one run, a tiny
data set, one epoch) and writes its JSON to the temporary folder.

    python benchmarks/rcnn.py [--accuracy [--no-speed]] [--runs 5] [--seconds 2] [--minutes 30] [--quick]
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import cvcore  # sets OMP_NUM_THREADS before mxnet loads

# isort: split
import mxnet as mx
from _budget import Clock, plan_epochs

from cvcore.data.synthetic import synthesize_once
from cvcore.data.synthetic.shapes import synthesize
from cvcore.deploy.benchmark import compare, write_report
from cvcore.deploy.machine import fingerprint
from cvcore.pipeline import Pipeline
from cvcore.tables import table

RESULTS = Path(__file__).parent / "results"
MODELS = {"Faster": "faster_rcnn_fpn_resnet50_v1b_coco", "Mask": "mask_rcnn_fpn_resnet50_v1b_coco"}
SCORE_THRESHOLD = 0.05
"""torchvision's default; the zoo's 0.01 lets every class of a random head through to NMS."""
FP32 = "FP32 (cvcore default)"
PATHS: tuple[tuple[str, float, str, dict[str, Any]], ...] = (
    (FP32, SCORE_THRESHOLD, "hybridize", {}),
    (f"{FP32}, zoo score_threshold", 0.01, "hybridize", {}),
    ("INT8 MXNet, int8 activations", SCORE_THRESHOLD, "int8", {"backend": "mxnet", "quantized_dtype": "int8"}),
    ("INT8 OpenVINO", SCORE_THRESHOLD, "int8", {"backend": "openvino"}),
)
"""Each path: its name, the head's score_threshold, and the deploy transform with its options."""
PEERS = (("Faster", "torchvision fasterrcnn_resnet50_fpn, eager", 0.72), ("Mask", "torchvision maskrcnn_resnet50_fpn, eager", 1.86),
         ("Faster", "GluonCV Faster R-CNN FPN", 1.31))
"""The issue's seconds per 512x512 image on a 2-core AVX-512 EPYC."""
SPEED_TARGETS = {"Faster s/img": 0.70, "Mask s/img": 1.80, "INT8 / FP32": 0.5}
AP_TARGETS = {"Faster AP": 0.5, "Mask segm_AP": 0.4}

DATA = {"train": 300, "val": 100, "size": [256, 256]}
"""Epochs of 300 images: several points on the curve when a step of 4 images takes 2 to 4 s on 2 cores."""
QUICK_DATA = {"train": 8, "val": 4, "size": [256, 256]}
NECK = {"name": "fpn", "channels": 128}
HEAD = {"name": "rcnn_fpn", "rpn_channels": 128, "anchor_sizes": [16, 32, 64, 128, 256], "rpn_per_level": True,
        "rpn_pre_nms": [1000, 500], "rpn_post_nms": [256, 100], "roi_samples": 64}
"""A slim pyramid (128 channels, half the zoo's) with fewer proposals and ROI samples: a training step of 4 images took
10.5 s at 256 channels with 2000 proposals per level on a 2-core Zen 1, 3.9 s so; the convolutions' backward pass dominates."""
MASK_HEAD = {"masks": True, "roi_size": 14}
FIT = {"batch_size": 4, "lr": 0.02, "wd": 1e-4, "warmup_epochs": 0.5, "lr_mode": "cosine", "clip_gradient_norm": 10.0,
       "progress": False, "hybridize": True}
PROBE_IMAGES = 64
"""Training images of the probe run that times a step and a validation."""


def speed(size: int, runs: int, seconds: float) -> dict[str, Any]:
    """Seconds per image of each model on each path (or why the path is unavailable) and how many detections it returns."""
    rows = []
    for kind, name in MODELS.items():
        rows += _model_speed(kind, name, size, runs, seconds)
        gc.collect()  # one model's networks at a time: both detectors with all their paths outgrow a 24 GB machine at 512x512
    return {"size": size, "batch_size": 1, "rows": rows}


def _model_speed(kind: str, name: str, size: int, runs: int, seconds: float) -> list[dict[str, Any]]:
    """One model's rows, its paths' runs interleaved, all with the same random weights."""
    built = {threshold: Pipeline.from_model(name, input_shape=[1, 3, size, size], head={"score_threshold": threshold})
             for threshold in {path[1] for path in PATHS}}
    example = built[SCORE_THRESHOLD].example(1)
    rows, contenders = [], {}
    for path, threshold, transform, options in PATHS:
        row: dict[str, Any] = {"model": kind, "path": path, "score_threshold": threshold}
        try:
            deployed = built[threshold].copy().deploy(transform, example=example, calib_data=example, **options)
            row["detections"] = int((deployed.net(example)[0] >= 0).sum().asscalar())
        except Exception as error:  # a path the detector's graph does not survive is reported, not fatal
            row["error"] = _summary(error)
        else:
            contenders[path] = _runner(deployed, example)
        rows.append(row)
        gc.collect()  # a failed attempt's graphs, which its traceback kept
    print(f"  deployed {kind} R-CNN", file=sys.stderr, flush=True)
    for path, result in compare(contenders, 1, runs=runs, seconds=seconds).items():
        next(r for r in rows if r["path"] == path).update(s_img=1 / result["median"], runs_s_img=[1 / rate for rate in result["runs"]])
    return rows


def _runner(pipeline: Pipeline, example: mx.nd.NDArray) -> Callable[[], Any]:
    return lambda: pipeline.net(example)


def _summary(error: Exception) -> str:
    """The error's last line (MXNet and OpenVINO put the cause there, under a trace), with its type."""
    lines = str(error).strip().splitlines() or [""]
    kind = type(error).__name__
    return lines[-1] if lines[-1].startswith(kind) else f"{kind}: {lines[-1]}"


def detector(masks: bool, data: Path) -> Pipeline:
    """A fresh Faster (or Mask) R-CNN FPN on resnet18_v1b for the 5 synthetic shapes at 256x256."""
    head = {**HEAD, **(MASK_HEAD if masks else {})}
    return Pipeline("detection", backbone="resnet18_v1b", neck=NECK, head=head, loss="rcnn", input_shape=[1, 3, 256, 256],
                    max_objects=20, classes=5, masks=masks, data={"root": str(data)})


def learning_curve(masks: bool, data: Path, minutes: float) -> dict[str, Any]:
    """Train one detector for ``minutes`` of wall clock: the plan and (minutes, AP[, segm AP]) after every epoch."""
    pipeline = detector(masks, data)
    train, val = (pipeline.task.dataset(pipeline, split) for split in ("train", "val"))
    planned = plan_epochs(lambda: detector(masks, data), train, val, 60 * minutes, FIT, PROBE_IMAGES)
    print(f"  {'Mask' if masks else 'Faster'} R-CNN: {planned['epochs']} epochs planned", file=sys.stderr, flush=True)
    clock = Clock()
    pipeline.fit(train, val, epochs=planned["epochs"], callbacks=[clock], **FIT)
    curve = clock.curve(("AP", "segm_AP") if masks else ("AP",))
    return {"plan": planned, "train_images": len(train), "val_images": len(val), "curve": curve}


def accuracy(work: Path, data: Mapping[str, Any], minutes: float, done: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The learning curves of a Faster and a Mask R-CNN on the synthetic shapes written once under ``work``.

    ``done`` gets the curves so far after each model, so that an interrupted run keeps what it measured.
    """
    root = work / "shapes"
    synthesize_once(root, data, lambda: synthesize(root, train=data["train"], val=data["val"], size=tuple(data["size"]),
                                                   overwrite=True, progress=False))
    curves: dict[str, Any] = {}
    for kind, masks in (("Faster", False), ("Mask", True)):
        curves[kind] = learning_curve(masks, root, minutes)
        done(curves)
    return curves


class Verdicts(list):
    """Lines saying whether each target of the issue is met, or by how far it is missed (or why it cannot be checked)."""

    def check(self, label: str, value: float | None, goal: float, higher: bool = True, missing: str = "unavailable") -> None:
        if value is None:
            self.append(f"MISS  {label}: {missing} (target {'>=' if higher else '<='} {goal})")
            return
        met = value >= goal if higher else value <= goal
        self.append(f"{'met ' if met else 'MISS'}  {label}: {value:.2f} (target {'>=' if higher else '<='} {goal})")


def speed_verdicts(speed_rows: list[dict[str, Any]]) -> Verdicts:
    """FP32 seconds per image, and the best INT8 path's share of them, against the targets."""
    lines = Verdicts()
    times = {(r["model"], r["path"]): r.get("s_img") for r in speed_rows}
    for kind in MODELS:
        fp32 = times[(kind, FP32)]
        lines.check(f"{kind} R-CNN {FP32}, s/img", fp32, SPEED_TARGETS[f"{kind} s/img"], higher=False)
        int8 = [t for (model, path), t in times.items() if model == kind and path.startswith("INT8") and t is not None]
        lines.check(f"{kind} R-CNN best INT8 over {FP32}", min(int8) / fp32 if int8 and fp32 else None, SPEED_TARGETS["INT8 / FP32"],
                    higher=False)
    return lines


def accuracy_verdicts(accuracy: Mapping[str, Any], minutes: float) -> Verdicts:
    """The last val AP (Faster) and segm AP (Mask) within ``minutes`` against the targets."""
    lines = Verdicts()
    for kind, result in accuracy.items():
        metric = "AP" if kind == "Faster" else "segm_AP"
        within = [point for point in result["curve"] if point["minutes"] <= minutes]
        lines.check(f"{kind} R-CNN val {metric} after {minutes:g} minutes", within[-1][metric] if within else None,
                    AP_TARGETS[f"{kind} {metric}"], missing="no epoch ended within the budget")
    return lines


def speed_table(speed_rows: list[dict[str, Any]]) -> str:
    """Every path's row, failures with their error, then the issue's peers."""
    rows = []
    fp32 = {r["model"]: r.get("s_img") for r in speed_rows if r["path"] == FP32}
    for r in speed_rows:
        ratio = f"{r['s_img'] / fp32[r['model']]:.2f}x" if "s_img" in r and fp32[r["model"]] else "-"
        timing = f"{r['s_img']:.3f}" if "s_img" in r else f"unavailable: {r['error']}"
        rows.append((r["model"], r["path"], r["score_threshold"], r.get("detections", "-"), ratio, timing))
    rows += [(kind, f"{peer}: reference (issue), not measured here", "-", "-", "-", f"{s_img:.2f}") for kind, peer, s_img in PEERS]
    return table(rows, ("model", "path", "score threshold", "detections", f"vs {FP32}", "s/img"))


def curve_table(accuracy: Mapping[str, Any]) -> str:
    """Each model's val AP after every epoch."""
    rows = []
    for kind, result in accuracy.items():
        for p in result["curve"]:
            rows.append((kind, p["epoch"], f"{p['minutes']:.1f}", f"{p['AP']:.3f}", f"{p['segm_AP']:.3f}" if "segm_AP" in p else "-"))
    return table(rows, ("model", "epoch", "minutes", "val bbox AP", "val segm AP"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--accuracy", action="store_true", help="also train a Faster and a Mask R-CNN for --minutes each")
    parser.add_argument("--no-speed", action="store_true", help="with --accuracy: train only, leaving rcnn.json as it is")
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock training budget of each model")
    parser.add_argument("--work", type=Path, default=Path("runs/rcnn-bench"), help="the synthetic data (reused)")
    parser.add_argument("--results", type=Path, default=None,
                        help="folder of rcnn.json and rcnn_training.json (default: benchmarks/results; --quick: the temporary folder)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 256x256, one run, a tiny data set, one epoch")
    args = parser.parse_args(argv)
    if args.no_speed and not args.accuracy:
        parser.error("--no-speed measures nothing without --accuracy")
    if args.quick:
        args.size, args.runs, args.seconds, args.minutes = 256, 1, 0.0, 0.1
    results = args.results or (Path(tempfile.gettempdir()) / "rcnn-quick" if args.quick else RESULTS)

    machine = fingerprint()
    print(f"{machine['cpu']} ({', '.join(machine['cpu_flags'])}), {machine['cores']} cores, "
          f"OMP_NUM_THREADS={machine['omp_num_threads']}")
    if not args.no_speed:
        print(f"speed: random weights, batch 1, {args.size}x{args.size}, medians of {args.runs} runs")
        found = speed(args.size, args.runs, args.seconds)
        print(speed_table(found["rows"]))
        lines = speed_verdicts(found["rows"])
        print("\n".join(lines))
        write_report(results / "rcnn.json", "rcnn", cvcore=cvcore.__version__, quick=args.quick, runs=args.runs,
                     seconds_per_run=args.seconds, weights="random", score_threshold=SCORE_THRESHOLD, targets=SPEED_TARGETS,
                     peers=[{"model": kind, "peer": peer, "s_img": s_img} for kind, peer, s_img in PEERS], verdicts=lines, speed=found)
    if args.accuracy:
        data = QUICK_DATA if args.quick else DATA

        def report(curves: dict[str, Any]) -> None:
            lines = accuracy_verdicts(curves, args.minutes)
            print(curve_table(curves), "\n".join(lines), sep="\n")
            write_report(results / "rcnn_training.json", "rcnn_training", cvcore=cvcore.__version__, quick=args.quick,
                         minutes=args.minutes, targets=AP_TARGETS, data=data, backbone="resnet18_v1b", neck=NECK, head=HEAD,
                         mask_head=MASK_HEAD, fit=FIT, probe_images=PROBE_IMAGES, verdicts=lines, accuracy=curves)

        with tempfile.TemporaryDirectory() if args.quick else contextlib.nullcontext(args.work) as work:
            accuracy(Path(work), data, args.minutes, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
