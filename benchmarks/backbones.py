"""FP32 inference img/s of the zoo backbones: plain ``hybridize()`` against cvcore's default path.

Both contenders run in this one process on the same thread count, with the same
weights, alternating runs; the table reports medians. Each row also says how
much arithmetic the network does (GFLOP per image) and what share of this CPU's
measured FP32 matmul peak the default path reaches: a network already near
100% cannot be made much faster in FP32 by any graph rewrite. Usage:

    python benchmarks/backbones.py [--models resnet50_v1 mobilenet1.0 | --all] [--runs 5] [--seconds 2]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cvcore  # sets OMP_NUM_THREADS before mxnet loads
from cvcore.deploy.benchmark import compare, inference_paths, write_report
from cvcore.deploy.profile import profile
from cvcore.deploy.roofline import matmul_peak_gflops
from cvcore.pipeline import Pipeline
from cvcore.tables import table

DEFAULT_MODELS = [
    "resnet18_v1", "resnet50_v1", "resnet50_v1b", "resnet50_v1d",
    "resnext50_32x4d", "se_resnext50_32x4d", "mobilenet1.0", "mobilenet0.25",
]
RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--all", action="store_true", help="every classification model in the zoo")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=RESULTS / "backbones.json")
    args = parser.parse_args(argv)

    models = cvcore.list_models(task="classification") if args.all else args.models
    peak = matmul_peak_gflops()
    print(f"  FP32 matmul peak on {os.environ.get('OMP_NUM_THREADS')} threads: {peak:.0f} GFLOP/s", file=sys.stderr, flush=True)
    rows, results = [], []
    for name in models:
        pipeline = Pipeline.from_model(name, input_shape=[1, 3, args.size, args.size])
        contenders, _ = inference_paths(pipeline, args.batch_size)
        paths = compare(contenders, args.batch_size, runs=args.runs, seconds=args.seconds)
        plain, fused = paths["hybridize()"]["median"], paths["cvcore default"]["median"]
        gflop = 2 * profile(pipeline).macs / 1e9  # 2 FLOP per multiply-add
        share = fused * gflop / peak
        rows.append((name, args.batch_size, f"{plain:.1f}", f"{fused:.1f}", f"{fused / plain:.2f}x", f"{gflop:.2f}", f"{share:.0%}"))
        results.append({
            "model": name, "batch_size": args.batch_size, "size": args.size, "paths": paths,
            "speedup": fused / plain, "gflop_per_image": gflop, "share_of_matmul_peak": share,
        })
        print(f"  {name}: {plain:.1f} -> {fused:.1f} img/s", file=sys.stderr, flush=True)
    print(table(rows, ("model", "batch", "hybridize() img/s", "cvcore default img/s", "speedup", "GFLOP/img", "of matmul peak")))
    print(f"FP32 matmul peak: {peak:.0f} GFLOP/s")
    write_report(args.json, "backbones", runs=args.runs, matmul_peak_gflops=peak, seconds_per_run=args.seconds, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
