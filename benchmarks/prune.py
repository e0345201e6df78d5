"""Pruned ResNets measured: how much faster they run, and what cvcore's pruning keeps after fine-tuning.

Speed: GluonCV's pruned resnet50_v1d family (its published widths) against the
full resnet50_v1d, on cvcore's default FP32 path, and through INT8 (MXNet
oneDNN and OpenVINO) for the full network and the two smallest; a
resnet50_v1d that ``cvcore_prune.prune`` cuts to the multiply-adds of
resnet50_v1d_0.37 runs beside them. All in one process on the same threads,
runs interleaved, medians; random weights (speed does not depend on them).

Accuracy (``--accuracy``): the classification demo's model and the pose demo's
model, trained by their demos' recipes, pruned to half their multiply-adds and
fine-tuned for a quarter of their original training (the pose fine-tune reads a
quarter of the training images for one epoch) at the recipe's learning rate,
decayed to 0 by a cosine. Trained runs are kept in
``--work`` and reused.

    python benchmarks/prune.py [--accuracy] [--runs 5] [--seconds 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import cvcore  # sets OMP_NUM_THREADS before mxnet loads
from cvcore.deploy.benchmark import compare, write_report
from cvcore.deploy.profile import profile
from cvcore.pipeline import Pipeline
from cvcore.tables import table

FULL = "resnet50_v1d"
GLUONCV_PRUNED = ["resnet50_v1d_0.86", "resnet50_v1d_0.48", "resnet50_v1d_0.37", "resnet50_v1d_0.11"]
INT8_MODELS = [FULL, "resnet50_v1d_0.37", "resnet50_v1d_0.11"]
OURS = "resnet50_v1d cut by cvcore to _0.37's MACs"
TARGETS = {"speedup resnet50_v1d_0.37": 6.0, "speedup resnet50_v1d_0.11": 10.0, "best INT8 resnet50_v1d_0.37": 15.0,
           "top-1 drop (points)": 1.0, "OKS AP drop (points)": 2.0}
RESULTS = Path(__file__).parent / "results"


def speed(batch: int, size: int, runs: int, seconds: float) -> dict[str, Any]:
    """img/s of every network and path at ``size`` x ``size``, with each network's parameters and multiply-adds."""
    from cvcore_prune import prune

    networks = {name: Pipeline.from_model(name, input_shape=[1, 3, size, size]) for name in [FULL, *GLUONCV_PRUNED]}
    costs = {name: profile(p) for name, p in networks.items()}
    target = costs["resnet50_v1d_0.37"].macs / costs[FULL].macs
    networks[OURS] = prune(networks[FULL], target)
    costs[OURS] = profile(networks[OURS])
    example = networks[FULL].example(batch)
    paths: dict[str, Callable[[], Any]] = {}
    for name, pipeline in networks.items():
        paths[f"{name} | FP32"] = _runner(pipeline.copy().deploy("hybridize", example=example), example)
    for name in INT8_MODELS:
        for backend in ("mxnet", "openvino"):
            deployed = networks[name].copy().deploy("int8", backend=backend, example=example, calib_data=example)
            paths[f"{name} | INT8 {backend}"] = _runner(deployed, example)
        print(f"  quantized {name}", file=sys.stderr, flush=True)
    rates = compare(paths, batch, runs=runs, seconds=seconds)
    rows = []
    for key, result in rates.items():
        name, path = key.split(" | ")
        rows.append({"model": name, "path": path, "img_s": result["median"], "runs": result["runs"],
                     "params": costs[name].trainable_params, "macs": costs[name].macs})
    return {"batch_size": batch, "size": size, "rows": rows}


def _runner(pipeline: Pipeline, example: Any) -> Callable[[], Any]:
    return lambda: pipeline.net(example)


def accuracy(work: Path) -> dict[str, Any]:
    """Each demo model: its metric trained, pruned to half its multiply-adds (no fine-tuning), and fine-tuned."""
    return {"classification": _classification(work / "classification"), "pose": _pose(work / "pose")}


def _classification(work: Path) -> dict[str, Any]:
    from cvcore.tasks import classification_demo as demo

    trained = _trained(work, lambda: demo.run(work, progress=False)["pipeline"])
    recipe = demo.RECIPE
    epochs = recipe["epochs"] // 4
    fine_tune = {"epochs": epochs, "batch_size": recipe["batch_size"], "optimizer": recipe["optimizer"], "lr": recipe["lr"],
                 "wd": recipe["wd"], "lr_mode": "cosine", "hybridize": True, "progress": False}
    return _prune_and_fine_tune(trained, "top1", fine_tune, f"{epochs} of {recipe['epochs']} epochs", work)


def _pose(work: Path) -> dict[str, Any]:
    from cvcore_pose import demo

    trained = _trained(work, lambda: demo.run(work, progress=False)["pipeline"])
    recipe = demo.RECIPE
    shards = max(1, round(4 / recipe["epochs"]))  # one epoch of 1/shards of the images: a quarter of the original training
    part = trained.task.dataset(trained, "train").shard(shards, 0)
    fine_tune = {"epochs": 1, "batch_size": recipe["batch_size"], "optimizer": recipe["optimizer"], "lr": recipe["lr"],
                 "wd": recipe["wd"], "lr_mode": "cosine", "hybridize": True, "progress": False}
    return _prune_and_fine_tune(trained, "AP", fine_tune, f"1 epoch of 1/{shards} of the images ({recipe['epochs']} epochs trained)",
                                work, train_data=part)


def _trained(work: Path, train: Callable[[], str]) -> Pipeline:
    saved = next(work.glob("**/pipeline/pipeline.toml"), None)
    return Pipeline.load(saved.parent if saved else train())


def _prune_and_fine_tune(trained: Pipeline, metric: str, options: dict, budget: str, work: Path, train_data: Any = None) -> dict:
    from cvcore_prune import prune

    val = trained.task.dataset(trained, "val")
    before = trained.evaluate(val)[metric]
    pruned = prune(trained, 0.5)
    one_shot = pruned.evaluate(val)[metric]
    out = work / "pruned-fine-tune"
    shutil.rmtree(out, ignore_errors=True)  # a fresh run each time: the engine refuses to mix runs in one folder
    pruned.fit(train_data, val if train_data is not None else None, out_dir=str(out), teacher=trained, **options)
    after = pruned.evaluate(val)[metric]
    total, pruned_total = profile(trained).macs, profile(pruned).macs
    shape = trained.example(1).shape  # how the cut is shared between the backbone and the head
    backbone, pruned_backbone = profile(trained.net.backbone, shape).macs, profile(pruned.net.backbone, shape).macs
    print(f"  {trained.task_name}: {metric} {before:.3f} -> pruned {one_shot:.3f} -> fine-tuned {after:.3f}", file=sys.stderr, flush=True)
    return {"model": trained.config()["backbone"]["name"], "metric": metric, "trained": before, "pruned": one_shot,
            "fine_tuned": after, "macs_ratio": pruned_total / total, "backbone_macs_ratio": pruned_backbone / backbone,
            "head_macs_ratio": (pruned_total - pruned_backbone) / (total - backbone), "fine_tune": budget}


def verdicts(found: dict[str, Any]) -> list[str]:
    """Each target of the prune issue: met, or by how far it is missed."""
    lines = []

    def check(label: str, value: float, goal: float, higher: bool = True) -> None:
        met = value >= goal if higher else value <= goal
        lines.append(f"{'met ' if met else 'MISS'}  {label}: {value:.2f} (target {'>=' if higher else '<='} {goal})")

    rates = {(r["model"], r["path"]): r["img_s"] for r in found["speed"]["rows"]}
    base = rates[(FULL, "FP32")]
    order = [rates[(name, "FP32")] for name in GLUONCV_PRUNED]
    lines.append(f"{'met ' if order == sorted(order) else 'MISS'}  FP32 speed in the release's order "
                 f"(0.86 < 0.48 < 0.37 < 0.11): {', '.join(f'{r / base:.2f}x' for r in order)}")
    for name in ("resnet50_v1d_0.37", "resnet50_v1d_0.11"):
        check(f"speedup {name} (FP32 over FP32 {FULL})", rates[(name, "FP32")] / base, TARGETS[f"speedup {name}"])
    best = max(rates[("resnet50_v1d_0.37", f"INT8 {b}")] for b in ("mxnet", "openvino"))
    check(f"best INT8 resnet50_v1d_0.37 over FP32 {FULL}", best / base, TARGETS["best INT8 resnet50_v1d_0.37"])
    for task, result in found.get("accuracy", {}).items():
        goal = "top-1 drop (points)" if task == "classification" else "OKS AP drop (points)"
        check(f"{task} pruned to {result['macs_ratio']:.2f} of its MACs (backbone {result['backbone_macs_ratio']:.2f}, head "
              f"{result['head_macs_ratio']:.2f}), fine-tuned for {result['fine_tune']}: {goal}",
              100 * (result["trained"] - result["fine_tuned"]), TARGETS[goal], higher=False)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--accuracy", action="store_true", help="also train, prune and fine-tune the two demo models")
    parser.add_argument("--work", type=Path, default=Path("runs/prune-bench"), help="trained demo runs (reused)")
    parser.add_argument("--json", type=Path, default=RESULTS / "prune.json")
    args = parser.parse_args(argv)

    print(f"  {os.environ.get('OMP_NUM_THREADS')} threads", file=sys.stderr, flush=True)
    found: dict[str, Any] = {"speed": speed(args.batch_size, args.size, args.runs, args.seconds)}
    if args.accuracy:
        found["accuracy"] = accuracy(args.work)
    base = next(r["img_s"] for r in found["speed"]["rows"] if r["model"] == FULL and r["path"] == "FP32")
    print(table([(r["model"], r["path"], f"{r['params'] / 1e6:.1f}", f"{r['macs'] / 1e9:.2f}", f"{r['img_s']:.1f}",
                  f"{r['img_s'] / base:.2f}x") for r in found["speed"]["rows"]],
                ("model", "path", "params (M)", "GMACs", "img/s", f"vs {FULL} FP32")))
    for task, r in found.get("accuracy", {}).items():
        print(f"{task} ({r['model']}): {r['metric']} trained {r['trained']:.3f}, pruned to {r['macs_ratio']:.2f} of the MACs "
              f"{r['pruned']:.3f}, fine-tuned ({r['fine_tune']}) {r['fine_tuned']:.3f}")
    lines = verdicts(found)
    print("\n".join(lines))
    write_report(args.json, "prune", cvcore=cvcore.__version__, runs=args.runs, seconds_per_run=args.seconds, targets=TARGETS,
                 verdicts=lines, **found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
