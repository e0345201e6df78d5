"""How close a network runs to this CPU's ceiling: its FLOP count and the machine's measured matmul peak."""
from __future__ import annotations

import json
import time
from math import prod

import mxnet as mx
from mxnet import gluon

_COUNTED = ("Convolution", "Deconvolution", "FullyConnected")


def network_flops(net: gluon.HybridBlock, input_shape: tuple[int, ...]) -> int:
    """Floating-point operations (2 per multiply-add) of the convolutions and dense layers on one input batch."""
    graph = net(mx.sym.var("data"))
    graph = graph[0] if isinstance(graph, (list, tuple)) else graph
    internals = graph.get_internals()
    _, out_shapes, _ = internals.infer_shape(data=input_shape)
    shape_of = dict(zip(internals.list_outputs(), out_shapes))
    nodes = json.loads(graph.tojson())["nodes"]

    def input_shape_of(node: dict, position: int) -> tuple[int, ...]:
        source = nodes[node["inputs"][position][0]]
        return tuple(shape_of[source["name"] if source["op"] == "null" else f"{source['name']}_output"])

    flops = 0
    for node in nodes:
        if node["op"] not in _COUNTED:
            continue
        data, weight = input_shape_of(node, 0), input_shape_of(node, 1)
        if node["op"] == "FullyConnected":
            flops += 2 * data[0] * prod(weight)
        elif node["op"] == "Convolution":  # weight: (out, in / groups, kh, kw)
            flops += 2 * prod(shape_of[f"{node['name']}_output"]) * prod(weight[1:])
        else:  # Deconvolution weight: (in, out / groups, kh, kw); every input pixel scatters into a kernel
            flops += 2 * data[0] * prod(data[2:]) * prod(weight)
    return flops


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
