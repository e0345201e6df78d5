"""GANs on the CPU, in one run: SRGAN 4x and CycleGAN trained for a wall-clock budget, then both generators' inference speed.

SRGAN: the zoo's ``srgan_4x`` (16 residual blocks, 64 channels) with its
``bicubic_skip`` on, on the synthetic SR set (``cvcore data synth sr``), 64-pixel
HR crops, pixel-MSE content loss (no ImageNet VGG19 weights here; chosen
explicitly, as the task requires), Adam 1e-3. Without the skip the paper's
generator starts from grey and was still 0.15 dB under bicubic after 9 minutes
(this benchmark, 2026-12-05); with it, it starts at bicubic and learns the
correction. Three quarters of the planned epochs train the content loss alone,
the rest the GAN. Val PSNR / SSIM on Y (4-pixel border) of bicubic upscaling,
of the generator after the content stage and after the GAN stage. Target: the
generator >= bicubic + 1.5 dB after about 15 minutes.

CycleGAN: ``cyclegan_resnet6_128``'s recipe (6 residual blocks, LSGAN, cycle 10,
pool 50, Adam 2e-4 beta1 0.5, constant then linear rate) at 64 pixels with 32
base channels, on the synthetic unpaired set, whose test pairs are the same
scene in both styles, without the identity loss: style B inverts and mixes the
colours, so the identity loss (weight 0.5 x 10 on an L1 of about 0.84 for the
true translation) costs the truth about 4 while the least-squares adversarial
loss can gain at most 1, and with it the error stayed at 0.82 of the untrained
generator's after 20 minutes (this benchmark, 2026-12-05). Target: the A->B mean absolute error
against the truth at most half the untrained generator's after about 20 minutes.

Inference: img/s of ``srgan_4x`` (64x64 -> 256x256) and ``cyclegan_resnet9_256``
(256x256), batch 1, on cvcore's default FP32 path, OpenVINO FP32 and INT8 on both backends, interleaved, medians.

    python benchmarks/gan.py [--sr-minutes 15] [--cycle-minutes 20] [--work runs/gan-bench] [--quick]
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import cvcore  # sets OMP_NUM_THREADS before mxnet loads

# isort: split
import mxnet as mx
import numpy as np
from _budget import Clock, plan_epochs

from cvcore.data.synthetic import synthesize_once
from cvcore.deploy.benchmark import compare, write_report
from cvcore.deploy.machine import fingerprint
from cvcore.pipeline import Pipeline
from cvcore.tables import table
from cvcore_gan.pixels import from_network, to_network, upscale
from cvcore_gan.quality import SuperResolutionQuality
from cvcore_gan.synthetic import synthesize_sr, synthesize_unpaired

RESULTS = Path(__file__).parent / "results"
SR_DATA, SR_QUICK = {"train": 400, "val": 16, "size": 128}, {"train": 16, "val": 2, "size": 96}
CYCLE_DATA, CYCLE_QUICK = {"train": 200, "test": 16, "size": 64}, {"train": 8, "test": 2, "size": 64}
SR_OPTIONS = {"content_loss": "mse", "crop": 64,
              "generator": {"blocks": 16, "channels": 64, "activation": "prelu", "bicubic_skip": True}}
SR_CONTENT_SHARE = 0.75
SR_FIT = {"batch_size": 16, "optimizer": "adam", "lr": 1e-3, "wd": 0.0, "lr_mode": "cosine", "hybridize": True, "progress": False}
CYCLE_OPTIONS = {"generator": {"blocks": 6, "channels": 32}, "identity_weight": 0.0,
                 "crop": 64, "load_size": 72, "input_shape": [1, 3, 64, 64]}
CYCLE_FIT = {"batch_size": 4, "hybridize": True, "progress": False}  # the zoo entry's optimizer and schedule
PROBE_IMAGES = {"sr": 64, "cycle": 32}
SR_TARGET_DB, CYCLE_TARGET_RATIO = 1.5, 0.5
SPEED_MODELS = {"srgan_4x": [1, 3, 64, 64], "cyclegan_resnet9_256": [1, 3, 256, 256]}


def bicubic_quality(pipeline: Pipeline, val: Any) -> dict[str, float]:
    """PSNR / SSIM of bicubic upscaling on ``val``, scored by the task's own metric and evaluation transform."""
    metric, transform = SuperResolutionQuality(), pipeline.task.sample_transform(pipeline, train=False)
    rng = np.random.default_rng(0)
    for index in range(len(val)):
        lr, hr = transform(*val[index], rng=rng)
        metric.update((hr[None],), to_network(upscale(from_network(lr), 4))[None])
    return metric.get()


def train_srgan(root: Path, minutes: float) -> dict[str, Any]:
    def fresh(pretrain: int = 0) -> Pipeline:
        return Pipeline.from_model("srgan_4x", pretrain_epochs=pretrain, data={"dataset": "sr_folder", "root": str(root)}, **SR_OPTIONS)

    probe = fresh()
    train, val = probe.task.dataset(probe, "train"), probe.task.dataset(probe, "val")
    content = plan_epochs(lambda: fresh(1), train, val, 60 * minutes, SR_FIT, PROBE_IMAGES["sr"])
    gan = plan_epochs(fresh, train, val, 60 * minutes, SR_FIT, PROBE_IMAGES["sr"])  # a GAN step also trains the discriminator
    epochs = max(1, int(1 / (SR_CONTENT_SHARE / content["epochs"] + (1 - SR_CONTENT_SHARE) / gan["epochs"])))
    planned = {"epochs": epochs, "content_probe": content, "gan_probe": gan}
    pretrain = max(1, round(epochs * SR_CONTENT_SHARE)) if epochs > 1 else 0
    print(f"  SRGAN: {epochs} epochs planned, {pretrain} of content loss", file=sys.stderr, flush=True)
    pipeline, clock = fresh(pretrain), Clock()
    pipeline.fit(train, val, epochs=epochs, callbacks=[clock], **SR_FIT)
    curve = clock.curve(("psnr", "ssim"))
    content = next((point for point in curve if point["epoch"] == pretrain), None)
    return {"plan": planned, "pretrain_epochs": pretrain, "train_images": len(train), "val_images": len(val),
            "bicubic": bicubic_quality(pipeline, val), "content_stage": content, "gan_stage": curve[-1], "curve": curve}


def train_cyclegan(root: Path, minutes: float) -> dict[str, Any]:
    def fresh() -> Pipeline:
        mx.random.seed(0)
        return Pipeline.from_model("cyclegan_resnet6_128", data={"dataset": "unpaired_folders", "root": str(root)}, **CYCLE_OPTIONS)

    pipeline = fresh()
    train, val = pipeline.task.dataset(pipeline, "train"), pipeline.task.dataset(pipeline, "val")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the untrained generator is scored on purpose
        untrained = pipeline.evaluate(val)
    unchanged = identity_error(pipeline, val)
    planned = plan_epochs(fresh, train, val, 60 * minutes, CYCLE_FIT, PROBE_IMAGES["cycle"])
    print(f"  CycleGAN: {planned['epochs']} epochs planned", file=sys.stderr, flush=True)
    clock = Clock()
    pipeline.fit(train, val, epochs=planned["epochs"], callbacks=[clock], **CYCLE_FIT)
    return {"plan": planned, "train_images": len(train), "val_images": len(val), "untrained": untrained,
            "unchanged_input": unchanged, "curve": clock.curve(("mae", "psnr"))}


def identity_error(pipeline: Pipeline, val: Any) -> dict[str, float]:
    """The error of giving back image A untranslated: what a generator must beat to have learned anything."""
    metric, transform = pipeline.metric, pipeline.task.sample_transform(pipeline, train=False)
    metric.reset()
    for index in range(len(val)):
        a, b = transform(*val[index], rng=np.random.default_rng(0))
        metric.update((b[None],), a[None])
    return metric.get()


def inference_speed(runs: int, seconds: float) -> dict[str, Any]:
    """img/s of each zoo generator on the default path, OpenVINO and INT8 (batch 1, random weights: speed only)."""
    results = {}
    for name, shape in SPEED_MODELS.items():
        example = mx.nd.random.uniform(-1, 1, tuple(shape))
        contenders = {}
        calib = {"calib_data": mx.nd.random.uniform(-1, 1, (4, *shape[1:]))}
        for path, steps in (("cvcore default", [("hybridize", {})]), ("OpenVINO FP32", [("openvino", {})]),
                            ("INT8 (MXNet)", [("int8", calib)]), ("INT8 (OpenVINO)", [("int8", {**calib, "backend": "openvino"})])):
            mx.random.seed(0)
            pipeline = Pipeline.from_model(name, input_shape=shape, **({"content_loss": "mse"} if name.startswith("srgan") else {}))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for transform, options in steps:
                    pipeline.deploy(transform, example=example, **options)
            contenders[path] = (lambda net, x: lambda: net(x))(pipeline.net, example)
        results[name] = {"input_shape": shape, "paths": compare(contenders, shape[0], runs=runs, seconds=seconds)}
    return results


def stage_costs(sr: dict[str, Any]) -> list[str]:
    """Each SRGAN stage's PSNR gain, minutes and minutes per epoch, from the validation curve."""
    content, last, start = sr["content_stage"], sr["gan_stage"], sr["bicubic"]["psnr"]
    gan_epochs = last["epoch"] - content["epoch"]
    costs = [f"content stage {content['psnr'] - start:+.2f} dB in {content['minutes']:.1f} min "
             f"({content['minutes'] / content['epoch']:.2f} min/epoch)"]
    if gan_epochs:
        minutes = last["minutes"] - content["minutes"]
        costs.append(f"GAN stage {last['psnr'] - content['psnr']:+.2f} dB in {minutes:.1f} min ({minutes / gan_epochs:.2f} min/epoch: "
                     "the discriminator's step costs more than the generator's)")
    return costs


def verdicts(sr: dict[str, Any], cycle: dict[str, Any], sr_minutes: float, cycle_minutes: float) -> list[str]:
    gain = sr["gan_stage"]["psnr"] - sr["bicubic"]["psnr"]
    lines = [f"{'met ' if gain >= SR_TARGET_DB else 'MISS'}  SRGAN generator after {sr['gan_stage']['minutes']:.1f} min: "
             f"{gain:+.2f} dB PSNR over bicubic (target >= +{SR_TARGET_DB} dB in about {sr_minutes:g} min)"]
    if gain < SR_TARGET_DB and sr["content_stage"]:
        lines.append("      where the time went: " + "; ".join(stage_costs(sr)))
    if cycle["curve"]:
        last = cycle["curve"][-1]
        ratio = last["mae"] / cycle["untrained"]["mae"]
        lines.append(f"{'met ' if ratio <= CYCLE_TARGET_RATIO else 'MISS'}  CycleGAN A->B error after {last['minutes']:.1f} min: "
                     f"{ratio:.2f} of the untrained generator's (target <= {CYCLE_TARGET_RATIO} in about {cycle_minutes:g} min)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sr-minutes", type=float, default=15.0)
    parser.add_argument("--cycle-minutes", type=float, default=20.0)
    parser.add_argument("--work", type=Path, default=Path("runs/gan-bench"), help="the synthetic data sets (reused)")
    parser.add_argument("--results", type=Path, default=None, help="folder of gan.json (default: benchmarks/results; --quick: temp)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny data sets, a few seconds of training each")
    args = parser.parse_args(argv)
    if args.quick:
        args.sr_minutes = args.cycle_minutes = 0.05
    results = args.results or (Path(tempfile.gettempdir()) / "gan-quick" if args.quick else RESULTS)
    machine = fingerprint()
    print(f"{machine['cpu']} ({', '.join(machine['cpu_flags'])}), {machine['cores']} cores, OMP_NUM_THREADS={machine['omp_num_threads']}")
    sr_spec, cycle_spec = (SR_QUICK, CYCLE_QUICK) if args.quick else (SR_DATA, CYCLE_DATA)
    with tempfile.TemporaryDirectory() if args.quick else contextlib.nullcontext(args.work) as work:
        sr_root, cycle_root = Path(work) / "sr", Path(work) / "unpaired"
        synthesize_once(sr_root, sr_spec, lambda: synthesize_sr(sr_root, **sr_spec, overwrite=True))
        synthesize_once(cycle_root, cycle_spec, lambda: synthesize_unpaired(cycle_root, **cycle_spec, overwrite=True))
        sr = train_srgan(sr_root, args.sr_minutes)
        cycle = train_cyclegan(cycle_root, args.cycle_minutes)
    speed = inference_speed(runs=1 if args.quick else 5, seconds=0.2 if args.quick else 2.0)

    content = sr["content_stage"] or {}
    print(table([("bicubic", "-", f"{sr['bicubic']['psnr']:.2f}", f"{sr['bicubic']['ssim']:.3f}"),
                 ("content stage (MSE)", f"{content.get('minutes', float('nan')):.1f}", f"{content.get('psnr', float('nan')):.2f}",
                  f"{content.get('ssim', float('nan')):.3f}"),
                 ("GAN stage", f"{sr['gan_stage']['minutes']:.1f}", f"{sr['gan_stage']['psnr']:.2f}", f"{sr['gan_stage']['ssim']:.3f}")],
                ("SRGAN 4x, synthetic val", "minutes", "PSNR (dB, Y)", "SSIM (Y)")))
    rows = [("untrained", "-", f"{cycle['untrained']['mae']:.1f}"), ("input unchanged", "-", f"{cycle['unchanged_input']['mae']:.1f}")]
    rows += [(f"epoch {p['epoch']}", f"{p['minutes']:.1f}", f"{p['mae']:.1f}") for p in cycle["curve"]]
    print(table(rows, ("CycleGAN A->B", "minutes", "mean abs error (0..255)")))
    print(table([(name, path, f"{r['median']:.2f}") for name, s in speed.items() for path, r in s["paths"].items()],
                ("generator", "path", "img/s")))
    lines = verdicts(sr, cycle, args.sr_minutes, args.cycle_minutes)
    print("\n".join(lines))
    write_report(results / "gan.json", "gan", cvcore=cvcore.__version__, quick=args.quick, sr_minutes=args.sr_minutes,
                 cycle_minutes=args.cycle_minutes, sr_options=SR_OPTIONS, sr_fit=SR_FIT, cycle_options=CYCLE_OPTIONS,
                 cycle_fit=CYCLE_FIT, sr_data=sr_spec, cycle_data=cycle_spec, srgan=sr, cyclegan=cycle, speed=speed,
                 runs=1 if args.quick else 5, verdicts=lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
