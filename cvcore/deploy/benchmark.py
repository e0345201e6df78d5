"""Inference throughput, measured the same way for every contender, interleaved to share the noise."""
from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import mxnet as mx

if TYPE_CHECKING:
    from ..pipeline import Pipeline


def timed_run(run_batch: Callable[[], Any], batch_size: int, seconds: float) -> float:
    """Images per second over at least one batch and about ``seconds``."""
    count, started = 0, time.perf_counter()
    while True:
        run_batch()
        mx.nd.waitall()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count * batch_size / elapsed


def median_rate(run: Callable[[], Any], samples: int, runs: int) -> float:
    """Median samples/s of ``run()`` (which handles ``samples`` samples) over ``runs`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return samples / statistics.median(times)


def compare(
    contenders: Mapping[str, Callable[[], Any]], batch_size: int, *, runs: int = 5, seconds: float = 2.0, warmup: int = 2
) -> dict[str, dict[str, Any]]:
    """Median img/s of each contender; runs alternate between contenders so drift hits all alike."""
    for run_batch in contenders.values():
        for _ in range(warmup):
            run_batch()
        mx.nd.waitall()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, run_batch in contenders.items():
            rates[name].append(timed_run(run_batch, batch_size, seconds))
    return {name: {"median": statistics.median(r), "runs": r} for name, r in rates.items()}


def inference_paths(pipeline: "Pipeline", batch_size: int) -> tuple[dict[str, Callable[[], Any]], mx.nd.NDArray]:
    """What ``cvcore bench`` compares, all with the same weights.

    An undeployed pipeline: plain ``hybridize()`` against cvcore's default
    path. A deployed one: cvcore's default FP32 path (when its trainable
    parameters are known) against the deployed network as it is.
    """
    example = pipeline.example(batch_size)
    if pipeline.deployed:
        contenders: dict[str, Callable[[], Any]] = {}
        if pipeline.trainable_net is not None:
            fp32 = pipeline.trainable().deploy("hybridize", example=example)
            contenders["cvcore default"] = lambda: fp32.net(example)
        steps = " -> ".join(step["transform"] for step in pipeline.deployed)
        contenders[f"deployed: {steps}"] = lambda: pipeline.net(example)
        return contenders, example
    plain, default = pipeline.copy(), pipeline.copy()
    plain.net.hybridize()
    default.deploy("hybridize", example=example)
    return {"hybridize()": lambda: plain.net(example), "cvcore default": lambda: default.net(example)}, example


def compare_inference_paths(pipeline: "Pipeline", *, batch_size: int = 16, runs: int = 5, seconds: float = 2.0):
    """Rows for a table and a JSON-able result: the contenders of :func:`inference_paths`, speedups over the first."""
    contenders, example = inference_paths(pipeline, batch_size)
    paths = compare(contenders, batch_size, runs=runs, seconds=seconds)
    base = next(iter(paths.values()))["median"]
    results: dict[str, Any] = {
        "model": pipeline.model_name or pipeline.config().get("backbone", {}).get("name"),
        "batch_size": batch_size,
        "input_shape": list(example.shape),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "paths": paths,
    }
    rows = [(name, batch_size, f"{r['median']:.1f}", len(r["runs"]), f"{r['median'] / base:.2f}x") for name, r in paths.items()]
    return rows, results


def write_report(path: str | os.PathLike, benchmark: str, **fields: Any) -> Path:
    """Write a benchmark's JSON (its name and the machine's :func:`~cvcore.deploy.machine.fingerprint`, then ``fields``)."""
    from .machine import fingerprint

    report = {"benchmark": benchmark, "machine": fingerprint(), **fields}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path
