"""Pose throughput: input pipeline, training, inference and evaluation; optionally the 60-minute learning curve.

Sections (all in one process, OMP_NUM_THREADS as cvcore sets it, medians of ``--runs``):
- data: the top-down train transform (affine crop + scale/rotation/flip + sigma-2
  heatmaps) at 128x96 from 320x240 synthetic JPEGs, alone and with JPEG decode,
  on one core (OpenCV at one thread); and through the loader with 2 workers.
- train: samples/s of hybridized training steps of simple_pose_resnet50_v1b at
  256x192 (forward, heatmap loss, backward, Adam update), batch 8 and 32.
- inference: img/s of simple_pose_resnet50_v1b at 256x192, batch 8 and 32, plain
  ``hybridize()`` against cvcore's default path.
- eval: wall time of a full OKS evaluation with flip test on the GPU-less default
  path, per 1000 person instances (network + decoding + COCOeval, and COCOeval alone).
- ``--learning-curve``: the long synthetic run (about an hour): OKS AP against
  training minutes for simple_pose_resnet18_v1b from scratch; goal AP >= 0.80 within 60 minutes.

    python benchmarks/pose.py [--sections data train inference eval] [--runs 5] [--learning-curve]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cvcore  # noqa: F401  (sets the thread defaults before MXNet is imported)

# isort: split
import cv2
import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from cvcore.deploy.benchmark import compare_inference_paths, median_rate, write_report
from cvcore.pipeline import Pipeline
from cvcore.tables import table
from cvcore_pose import demo
from cvcore_pose.coco import COCOKeypoints
from cvcore_pose.evaluation import coco_keypoint_ap
from cvcore_pose.synthetic import synthesize
from cvcore_pose.transforms import TopDownTrainTransform

RESULTS = Path(__file__).parent / "results"
MODEL = "simple_pose_resnet50_v1b"
SECTIONS = ("data", "train", "inference", "eval")
LONG_RUN: dict = {"train_images": 11000, "epochs": 3}
"""The learning-curve recipe (over :data:`cvcore_pose.demo.RECIPE`)."""


def bench_data(scratch: Path, runs: int) -> list[tuple]:
    synthesize(scratch / "data", train=256, val=1, progress=False)
    dataset = COCOKeypoints(scratch / "data", "train")
    transform = TopDownTrainTransform((128, 96))
    samples = [dataset[i] for i in range(len(dataset))]
    rng = np.random.default_rng(0)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        rates = {
            "transform only, 1 core": median_rate(lambda: [transform(*s, rng=rng) for s in samples], len(samples), runs),
            "decode + transform, 1 core": median_rate(
                lambda: [transform(*dataset[i], rng=rng) for i in range(len(dataset))], len(dataset), runs
            ),
        }
    finally:
        cv2.setNumThreads(threads)
    loader = gluon.data.DataLoader(dataset.transform(transform), batch_size=32, last_batch="discard", num_workers=2)
    rates["loader, 2 workers"] = median_rate(lambda: [b[0].wait_to_read() for b in loader], len(loader) * 32, runs)
    return [("data", "128x96", 32, path, round(rate, 1)) for path, rate in rates.items()]


def bench_train(runs: int) -> list[tuple]:
    rows = []
    for batch in (8, 32):
        pipeline = Pipeline.from_model(MODEL)
        net, loss = pipeline.net, pipeline.loss
        net.hybridize(static_alloc=True)
        trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 1e-3})
        x = pipeline.example(batch)
        out_shape = net(x).shape
        target, weight = mx.nd.random.uniform(shape=out_shape), mx.nd.ones(out_shape[:2])

        def step(loss=loss, net=net, x=x, target=target, weight=weight, trainer=trainer, batch=batch) -> None:
            with autograd.record():
                value = loss(net(x), target, weight)
            value.backward()
            trainer.step(batch)
            mx.nd.waitall()

        rows.append(("train", "256x192", batch, "hybridized step (fwd+bwd+adam)", round(median_rate(step, batch, runs), 2)))
    return rows


def bench_inference(runs: int) -> list[tuple]:
    rows = []
    for batch in (8, 32):
        _, result = compare_inference_paths(Pipeline.from_model(MODEL), batch_size=batch, runs=runs, seconds=2.0)
        rows += [("inference", "256x192", batch, path, round(r["median"], 1)) for path, r in result["paths"].items()]
    return rows


def bench_eval(scratch: Path) -> list[tuple]:
    synthesize(scratch / "eval", train=1, val=420, progress=False)
    pipeline = Pipeline.from_model(MODEL, data={"dataset": "coco_keypoints", "root": str(scratch / "eval")})
    val = pipeline.task.dataset(pipeline, "val")
    pipeline.deploy("hybridize")
    results_file = scratch / "results.json"
    started = time.perf_counter()
    pipeline.evaluate(val, batch_size=32, results_file=results_file)
    total = time.perf_counter() - started
    results = json.loads(results_file.read_text())
    started = time.perf_counter()
    coco_keypoint_ap(val.coco, results)
    cocoeval = time.perf_counter() - started
    per_1000 = 1000 / len(val)
    return [("eval", "256x192", 32, f"s per 1000 instances, flip test ({len(val)} measured)", round(total * per_1000, 1)),
            ("eval", "-", "-", "s per 1000 instances, COCOeval alone", round(cocoeval * per_1000, 2))]


def learning_curve(out_dir: Path) -> dict:
    """The long run; returns its curve and the first minute at which val AP reached 0.80."""
    result = demo.run(out_dir, progress=False, **LONG_RUN)
    reached = next((p["minutes"] for p in result["curve"] if p["val_AP"] >= 0.80), None)
    return {"recipe": result["recipe"], "curve": result["curve"], "final": result["final"], "minutes_to_0.80": reached,
            "int8": result["int8"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--learning-curve", action="store_true", help="also run the ~60-minute synthetic training run")
    parser.add_argument("--out", type=Path, default=Path("runs/pose-learning-curve"), help="where the learning-curve run writes")
    parser.add_argument("--json", type=Path, default=RESULTS / "pose.json")
    args = parser.parse_args(argv)

    rows: list[tuple] = []
    report: dict = {"runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for section in args.sections:
            print(f"  {section} ...", file=sys.stderr, flush=True)
            rows += {"data": lambda: bench_data(scratch, args.runs), "train": lambda: bench_train(args.runs),
                     "inference": lambda: bench_inference(args.runs), "eval": lambda: bench_eval(scratch)}[section]()
    print(table(rows, ("section", "input", "batch", "what", "samples/s, img/s or s")))
    report["rows"] = [dict(zip(("section", "input", "batch", "what", "value"), row)) for row in rows]
    if args.learning_curve:
        curve = learning_curve(args.out)
        report["learning_curve"] = curve
        print(table([(p["epoch"], f"{p['minutes']:.1f}", f"{p['val_AP']:.3f}") for p in curve["curve"]],
                    ("epoch", "train minutes", "val AP")))
        print(f"AP >= 0.80 reached after {curve['minutes_to_0.80']:.1f} training minutes" if curve["minutes_to_0.80"] is not None
              else "AP 0.80 not reached")
    write_report(args.json, "pose", **report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
