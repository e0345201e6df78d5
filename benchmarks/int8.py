"""INT8 against FP32 on this CPU, MXNet and OpenVINO side by side: img/s and accuracy, in one run.

Contenders, all on the same ``OMP_NUM_THREADS`` threads (OpenVINO gets that many
inference threads), with the same weights, runs interleaved, medians reported:

- MXNet FP32: cvcore's default path (the ``hybridize`` transform: static graph, oneDNN fusion);
- MXNet INT8: ``deploy("int8", backend="mxnet")`` (oneDNN, VNNI);
- OpenVINO FP32: ``deploy("openvino")``;
- OpenVINO INT8: ``deploy("int8", backend="openvino")`` (NNCF).

Speed: resnet50_v1 and mobilenet1.0 at batch 16, 224x224; simple_pose_resnet50_v1b
at batch 8, 256x192; the four SSD detectors of GluonCV's INT8 table at batch 8 and
their own input size, with GluonCV's evaluation settings (NMS 0.45 over the best
200 boxes; decoding and NMS stay FP32 on every path). Accuracy: no ImageNet or COCO weights can be fetched here, so
each model is trained from scratch (6 to 35 minutes each on 2 cores of an AMX Xeon) on cvcore's synthetic sets at a
low resolution (classification 64x64 shapes, top-1 on 1,000 held-out images; pose
128x96 stick figures, OKS AP on the val split) and evaluated there in FP32 and in
each INT8 path, calibrated on training images. The SSD rows' accuracy is the VOC07
mAP on the synthetic VOC set of the MobileNet SSD that ``benchmarks/ssd.py`` trains
(run it first; its ``--work`` folder is this one's ``ssd`` folder); training the VGG16
and ResNet-50 SSDs from scratch does not fit a 2-core budget, so their rows time only. Trained weights are kept in
``--work`` with their recipe, so a second run skips training unless the recipe changed. Usage:

    python benchmarks/int8.py [--models resnet50_v1 mobilenet1.0 simple_pose_resnet50_v1b] [--runs 5] [--speed-only]

``--speed-only`` skips training and accuracy: speeds with untrained weights, in minutes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cvcore  # sets OMP_NUM_THREADS before mxnet loads
from cvcore.data.synthetic import synthesize_once
from cvcore.deploy.benchmark import compare, write_report
from cvcore.pipeline import Pipeline
from cvcore.tables import table
from cvcore_pose.demo import RECIPE as POSE_RECIPE

RESULTS = Path(__file__).parent / "results"
PATHS = ("MXNet FP32", "MXNet INT8", "OpenVINO FP32", "OpenVINO INT8")
SSD_SPEED = {"ssd_300_vgg16_atrous_voc": (8, [300, 300]), "ssd_512_vgg16_atrous_voc": (8, [512, 512]),
             "ssd_512_resnet50_v1_voc": (8, [512, 512]), "ssd_512_mobilenet1.0_voc": (8, [512, 512])}
SPEED = {"resnet50_v1": (16, [224, 224]), "mobilenet1.0": (16, [224, 224]), "simple_pose_resnet50_v1b": (8, [256, 192]), **SSD_SPEED}
SSD_EVALUATION = {"nms_threshold": 0.45, "nms_topk": 200}
"""GluonCV's SSD evaluation settings (its INT8 table's)."""
SSD_TRAINED = {"ssd_512_mobilenet1.0_voc": "ssd/model"}
"""The SSD rows with an accuracy column, from the model benchmarks/ssd.py trained under ``--work``: a small SSD of the row's
parts (MobileNet 0.25 at 256 pixels), since the zoo model cannot be trained here in time; the speed columns are the zoo
model's, with fresh weights and its 20 VOC classes (random scores near 1/21 pass the 0.01 threshold: about the most NMS work)."""
CLASSIFIER_FIT = {"batch_size": 64, "optimizer": "nag", "lr": 0.1, "momentum": 0.9, "wd": 4e-5, "warmup_epochs": 1}
"""Nesterov SGD: with Adam (1e-3) the classifiers learnt the synthetic shapes far more slowly."""
TRAINING = {
    "resnet50_v1": {"size": [64, 64], "epochs": 30, "fit": {**CLASSIFIER_FIT, "lr": 0.05, "warmup_epochs": 2},
                    "backbone": {"last_gamma": True}},
    "mobilenet1.0": {"size": [64, 64], "epochs": 24, "fit": CLASSIFIER_FIT},
    "simple_pose_resnet50_v1b": {"size": [128, 96], "epochs": 4,
                                 "fit": {key: POSE_RECIPE[key] for key in ("batch_size", "optimizer", "lr", "wd", "warmup_epochs")},
                                 "pose": {"augment": POSE_RECIPE["augment"]}},
}
"""Each model's from-scratch recipe (all with cosine decay); a cached model trained otherwise is trained again.

resnet50_v1 at mobilenet's lr 0.1 diverged in its first epoch and stayed at chance; at lr 0.05, with each
residual branch's last norm starting at zero, it climbs slowly but steadily over the 30 epochs.
"""
CLASSIFICATION_DATA = {"classes": 10, "train_per_class": 500, "val_per_class": 100, "size": 64}
POSE_DATA = {"train": 5000, "val": 300, "size": [320, 240]}
CALIB_EXAMPLES = 256
TARGETS = {"mxnet_int8_speedup": 3.0, "resnet50_best_int8_img_s": 150.0, "mobilenet_int8_speedup": 2.5,
           "top1_drop_points": 0.5, "ap_drop_points": 1.0, "map_drop_points": 1.0, "ssd_resnet50_best_int8_speedup": 3.0}


def paths(pipeline: Pipeline, calib: Any, example: Any) -> dict[str, Pipeline]:
    """The four contenders, each its own copy of ``pipeline`` (FP32 and unfused)."""
    return {
        "MXNet FP32": pipeline.copy().deploy("hybridize", example=example),
        "MXNet INT8": pipeline.copy().deploy("int8", example=example, calib_data=calib, num_calib_examples=CALIB_EXAMPLES),
        "OpenVINO FP32": pipeline.copy().deploy("openvino", example=example),
        "OpenVINO INT8": pipeline.copy().deploy("int8", backend="openvino", example=example, calib_data=calib,
                                                num_calib_examples=CALIB_EXAMPLES),
    }


def trained(name: str, work: Path) -> Pipeline | None:
    """``name`` trained on its synthetic set at its low resolution (cached under ``work`` while its recipe is unchanged);
    for an SSD, the one benchmarks/ssd.py trained, if any (None otherwise)."""
    if name in SSD_SPEED:
        if name not in SSD_TRAINED:
            print(f"  {name}: no small twin is trained for this row: speed only", file=sys.stderr, flush=True)
            return None
        saved = work / SSD_TRAINED[name]
        if not (saved / "pipeline.toml").is_file():
            print(f"  {name}: no trained SSD under {saved} (benchmarks/ssd.py --work {saved.parent}): speed only",
                  file=sys.stderr, flush=True)
            return None
        return Pipeline.load(saved)  # trained with SSD_EVALUATION's settings
    saved = work / name
    synthesize_once(saved, TRAINING[name], lambda: train(name, work).save(saved))
    return Pipeline.load(saved)


def untrained(name: str, work: Path) -> Pipeline:
    """``name`` with fresh weights at its training resolution, on its synthetic set (written once under ``work``)."""
    if name in SSD_SPEED:
        from cvcore.data.synthetic.voc import CLASSES, synthesize

        spec = {"train": 32, "val": 8, "size": [256, 256]}  # calibration images, resized to each model's input
        data = synthesize_once(work / "voc", spec, lambda: synthesize(work / "voc", overwrite=True, progress=False, **spec))
        return Pipeline.from_model(name, head=SSD_EVALUATION, data={"dataset": "voc_detection", "root": str(data),
                                                                    "classes": list(CLASSES)})
    recipe = TRAINING[name]
    height, width = recipe["size"]
    if name.startswith("simple_pose"):
        from cvcore_pose.synthetic import synthesize

        data = synthesize_once(work / "keypoints", POSE_DATA, lambda: synthesize(work / "keypoints", overwrite=True, **POSE_DATA))
        return Pipeline.from_model(name, input_shape=[1, 3, height, width], data={"root": str(data)}, **recipe["pose"])
    from cvcore.data.synthetic.classification import synthesize

    data = synthesize_once(work / "shapes", CLASSIFICATION_DATA,
                           lambda: synthesize(work / "shapes", overwrite=True, **CLASSIFICATION_DATA))
    return Pipeline.from_model(name, classes=CLASSIFICATION_DATA["classes"], input_shape=[1, 3, height, width],
                               data={"root": str(data)}, augment={"scale": [0.5, 1.0], "lighting": 0.0},
                               **({"backbone": recipe["backbone"]} if "backbone" in recipe else {}))


def training_images(pipeline: Pipeline) -> Any:
    """The pipeline's train split, for calibration. A zoo SSD keeps its 20 VOC classes for timing, where the
    synthetic VOC set has 5: its images are read through a twin with the set's classes (the labels go unused)."""
    names = (pipeline.options.get("data") or {}).get("classes")
    if pipeline.task_name == "detection" and names and pipeline.options["classes"] != len(names):
        twin = Pipeline.from_model(pipeline.model_name, input_shape=pipeline.options["input_shape"], classes=len(names),
                                   data=pipeline.options["data"])
        return twin.task.dataset(twin, "train")
    return pipeline.task.dataset(pipeline, "train")


def train(name: str, work: Path) -> Pipeline:
    """``name`` trained from scratch with its :data:`TRAINING` recipe."""
    recipe = TRAINING[name]
    pipeline = untrained(name, work)
    run_dir = work / f"{name}-run"
    shutil.rmtree(run_dir, ignore_errors=True)  # checkpoints of an earlier recipe's training
    started = time.perf_counter()
    pipeline.fit(epochs=recipe["epochs"], lr_mode="cosine", hybridize=True, num_workers=1, progress=True,
                 out_dir=str(run_dir), **recipe["fit"])
    print(f"  trained {name} in {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr, flush=True)
    return pipeline


def accuracy(pipeline: Pipeline) -> dict[str, float]:
    """The task's headline metric (top-1 or OKS AP, in points) of every path at the training resolution."""
    val, calib = pipeline.task.dataset(pipeline, "val"), pipeline.task.dataset(pipeline, "train")
    key = {"pose": "AP", "detection": "mAP"}.get(pipeline.task_name, "top1")
    return {name: 100 * path.evaluate(val)[key] for name, path in paths(pipeline, calib, pipeline.example()).items()}


def speed(pipeline: Pipeline, batch: int, size: list[int], runs: int, seconds: float) -> dict[str, float]:
    """Median img/s of every path at the benchmark resolution, calibrated on training images at that resolution."""
    fast = pipeline.copy()
    fast.options["input_shape"] = [1, 3, *size]
    example = fast.example(batch)
    contenders: dict[str, Callable[[], Any]] = {name: (lambda net=path.net: net(example))
                                                 for name, path in paths(fast, training_images(fast), example).items()}
    return {name: result["median"] for name, result in compare(contenders, batch, runs=runs, seconds=seconds).items()}


def verdicts(results: dict[str, dict]) -> list[str]:
    """Each target of the INT8 issue: met, or by how far it is missed."""
    lines = []

    def check(label: str, value: float, goal: float, higher: bool = True, unit: str = "") -> None:
        met = value >= goal if higher else value <= goal
        lines.append(f"{'met ' if met else 'MISS'}  {label}: {value:.2f}{unit} (target {'>=' if higher else '<='} {goal}{unit})")

    for name, result in results.items():
        rate, scores = result["img_s"], result["accuracy"]
        base = rate["MXNet FP32"]
        if name == "resnet50_v1":
            check("resnet50_v1 MXNet INT8 speedup over the default FP32 path", rate["MXNet INT8"] / base,
                  TARGETS["mxnet_int8_speedup"], unit="x")
            check("resnet50_v1 best INT8 img/s", max(rate["MXNet INT8"], rate["OpenVINO INT8"]), TARGETS["resnet50_best_int8_img_s"])
        if name == "mobilenet1.0":
            check("mobilenet1.0 MXNet INT8 speedup", rate["MXNet INT8"] / base, TARGETS["mobilenet_int8_speedup"], unit="x")
        if name == "ssd_512_resnet50_v1_voc":
            check(f"{name} best INT8 speedup over the default FP32 path", max(rate["MXNet INT8"], rate["OpenVINO INT8"]) / base,
                  TARGETS["ssd_resnet50_best_int8_speedup"], unit="x")
        if scores is None:
            continue
        limit = TARGETS["map_drop_points" if name in SSD_SPEED else "ap_drop_points" if name.startswith("simple_pose")
                        else "top1_drop_points"]
        for path in ("MXNet INT8", "OpenVINO INT8"):
            check(f"{name} {path} accuracy drop", scores["MXNet FP32"] - scores[path], limit, higher=False, unit=" points")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SPEED), choices=list(SPEED))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--work", type=Path, default=Path("runs/int8-bench"), help="trained models and data (reused)")
    parser.add_argument("--json", type=Path, default=RESULTS / "int8.json")
    parser.add_argument("--speed-only", action="store_true", help="untrained weights, no accuracy columns")
    args = parser.parse_args(argv)

    from cvcore_int8_vnni.machine import int8_support

    support = int8_support()
    print(f"  CPU INT8 support: {support.summary}; {os.environ.get('OMP_NUM_THREADS')} threads", file=sys.stderr, flush=True)
    results, rows = {}, []
    for name in args.models:
        learnt = None if args.speed_only else trained(name, args.work)
        scores = accuracy(learnt) if learnt is not None else None
        timed = learnt if learnt is not None and name not in SSD_SPEED else untrained(name, args.work)  # SSDs: the zoo's
        batch, size = SPEED[name]
        rates = speed(timed, batch, size, args.runs, args.seconds)
        results[name] = {"batch_size": batch, "input": size, "img_s": rates, "accuracy": scores,
                         "accuracy_input": learnt.options["input_shape"][2:] if scores else None,
                         "metric": "VOC07 mAP" if name in SSD_SPEED else "OKS AP" if name.startswith("simple_pose") else "top-1"}
        base = rates["MXNet FP32"]
        for path in PATHS:
            rows.append((name, batch, f"{size[0]}x{size[1]}", path, f"{rates[path]:.1f}", f"{rates[path] / base:.2f}x",
                         *((f"{scores[path]:.2f}", f"{scores[path] - scores['MXNet FP32']:+.2f}") if scores else ("n/a", "n/a"))))
        print(f"  {name}: " + ", ".join(f"{p} {rates[p]:.1f}" for p in PATHS), file=sys.stderr, flush=True)
    print(table(rows, ("model", "batch", "input", "path", "img/s", "vs MXNet FP32", "accuracy", "delta (points)")))
    if not args.speed_only:
        print("accuracy: top-1 (classification, 64x64), OKS AP (pose, 128x96) or VOC07 mAP (SSD, 256x256), in points, "
              "of models trained here on synthetic data")
    lines = verdicts(results)
    print("\n".join(lines))
    write_report(args.json, args.json.stem, cvcore=cvcore.__version__, int8_support=support.summary, runs=args.runs,
                 seconds_per_run=args.seconds, targets=TARGETS, results=results, verdicts=lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
