"""Inference throughput, measured the same way for every contender."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import mxnet as mx

if TYPE_CHECKING:
    from ..pipeline import Pipeline


def throughput(run_batch: Callable[[], Any], batch_size: int, *, runs: int = 5, seconds: float = 2.0, warmup: int = 2) -> list[float]:
    """Images per second of ``run_batch`` in each of ``runs`` timed runs of about ``seconds``."""
    for _ in range(warmup):
        run_batch()
    mx.nd.waitall()
    rates = []
    for _ in range(runs):
        count, started = 0, time.perf_counter()
        while True:
            run_batch()
            mx.nd.waitall()
            count += 1
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                break
        rates.append(count * batch_size / elapsed)
    return rates


def compare_inference_paths(pipeline: "Pipeline", *, batch_size: int = 16, runs: int = 5, seconds: float = 2.0):
    """Plain ``hybridize()`` against cvcore's default path (static alloc/shape + oneDNN fusion), same weights."""
    from ..pipeline import Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        pipeline.save(tmp)
        plain, default = Pipeline.load(tmp), Pipeline.load(Path(tmp))
    example = pipeline.example(batch_size)
    plain.net.hybridize()
    default.deploy("hybridize", example=example)
    results: dict[str, Any] = {
        "model": pipeline.model_name or pipeline.config().get("backbone", {}).get("name"),
        "batch_size": batch_size,
        "input_shape": list(example.shape),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "paths": {},
    }
    for name, net in (("hybridize()", plain.net), ("cvcore default", default.net)):
        rates = throughput(lambda: net(example), batch_size, runs=runs, seconds=seconds)
        results["paths"][name] = {"median": statistics.median(rates), "runs": rates}
    base = results["paths"]["hybridize()"]["median"]
    rows = [
        (name, batch_size, f"{r['median']:.1f}", len(r["runs"]), f"{r['median'] / base:.2f}x")
        for name, r in results["paths"].items()
    ]
    return rows, results
