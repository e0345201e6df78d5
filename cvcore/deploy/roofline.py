"""This CPU's ceiling for the roofline benchmark: its measured FP32 matmul peak (a network's FLOPs: :mod:`cvcore.deploy.profile`)."""
from __future__ import annotations

import time

import mxnet as mx


def matmul_peak_gflops(size: int = 4096, repeats: int = 5) -> float:
    """Best FP32 GFLOP/s of a ``size``x``size`` dense layer (oneDNN's inner product where built in) on this process's threads."""
    data, weight = mx.nd.random.uniform(shape=(size, size)), mx.nd.random.uniform(shape=(size, size))

    def product() -> mx.nd.NDArray:
        return mx.nd.FullyConnected(data, weight, no_bias=True, num_hidden=size)

    product().wait_to_read()
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        product().wait_to_read()
        best = max(best, 2 * size**3 / (time.perf_counter() - started) / 1e9)
    return best
