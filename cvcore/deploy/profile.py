"""What one forward pass of a network costs: parameters, multiply-adds and peak activation memory.

Everything is read off the network's symbolic graph (``net(mx.sym.var("data"))``
and ``infer_shape``), so no weights need to exist and nothing runs. Figures are
per image: the batch axis of the input shape is set to 1.

- **Parameters**: the graph's arguments other than its input. *Trainable* ones
  are those whose Gluon ``Parameter`` has a ``grad_req`` other than ``"null"``;
  the *total* adds every other argument and the auxiliary states (BatchNorm's
  running mean and variance).
- **Multiply-adds (MACs)**: of ``Convolution`` (grouped and depthwise too),
  ``Deconvolution`` and ``FullyConnected``, and of oneDNN's fused
  ``_sg_mkldnn_conv`` / ``_sg_mkldnn_fully_connected``; bias additions,
  normalisation, activations and pooling are not counted, as in the published
  figures (ResNet-50, MobileNet).
- **Peak activation memory**: the operators run in the graph's (topological)
  order; each one's outputs take float32 space when it runs, and each tensor,
  the input included, is freed once its last consumer has run (the graph's
  outputs stay to the end). The peak of that sum is the estimate. Parameters,
  operator workspace and MXNet's in-place buffer sharing are left out, so
  MXNet's memory planner may need somewhat less.

A Gluon block is traced as its ``hybrid_forward`` writes it, so a block that
``hybridize`` fused in place is profiled unfused (the same MACs); a
``SymbolBlock`` of a deployed graph is profiled as stored, fused nodes
included. A pipeline is profiled through its trainable network, or through its
deployed graph when it was loaded without one.
"""
from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from math import prod
from typing import Any, Sequence

import mxnet as mx
from mxnet import gluon

from ..errors import ConfigError, CvcoreError
from ..pipeline import Pipeline

FLOAT32_BYTES = 4
INPUT = "data"
_CONVOLUTIONS = ("Convolution", "_sg_mkldnn_conv")
_DENSE = ("FullyConnected", "_sg_mkldnn_fully_connected")
_DECONVOLUTIONS = ("Deconvolution",)


@dataclass(frozen=True)
class Layer:
    """One counted operator of the graph: its node name, operator, multiply-adds and output shape (batch 1)."""

    name: str
    op: str
    macs: int
    output_shape: tuple[int, ...]


@dataclass(frozen=True)
class Profile:
    """The cost of one forward pass per image (see the module's docstring for what each figure counts)."""

    input_shape: tuple[int, ...]
    """The shape traced, batch 1."""
    trainable_params: int
    total_params: int
    """Every parameter, BatchNorm running statistics included."""
    macs: int
    peak_activation_bytes: int
    """Float32 bytes of the activations alive at once, at most, in a forward pass."""
    layers: tuple[Layer, ...]
    """Every counted operator, in graph order."""

    def top(self, count: int = 10) -> list[Layer]:
        """The ``count`` layers with the most multiply-adds, most first (graph order among equals)."""
        return sorted(self.layers, key=lambda layer: -layer.macs)[:count]


def profile(net_or_pipeline: gluon.HybridBlock | Pipeline, input_shape: Sequence[int] | None = None) -> Profile:
    """Parameters, multiply-adds and peak activation memory of a network for inputs of ``input_shape`` (batch set to 1).

    ``input_shape`` (``(N, C, H, W)`` for images) defaults, for a pipeline, to its
    own input shape; a bare network needs it.
    """
    net, input_shape = _network(net_or_pipeline, input_shape)
    shape = (1, *input_shape[1:])
    outputs = net(mx.sym.var(INPUT))
    graph = mx.sym.Group(list(outputs)) if isinstance(outputs, (list, tuple)) else outputs
    internals = graph.get_internals()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # MXNet prints the arguments of a failed inference
            arg_shapes, out_shapes, aux_shapes = internals.infer_shape(**{INPUT: shape})
    except mx.MXNetError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ConfigError(f"The {type(net).__name__} does not take inputs of shape {list(shape)}: {reason}. "
                          "Give the input shape it was built for (cvcore info --shape N,C,H,W).") from exc
    if out_shapes is None:
        raise ConfigError(f"Tracing the {type(net).__name__} at input shape {list(shape)} left shapes unknown; "
                          "its graph needs an input other than a single 'data' array, which profile cannot trace.")
    params = {param.name: param for param in net.collect_params().values()}
    trainable = frozen = 0
    for name, arg_shape in zip(internals.list_arguments(), arg_shapes):
        if name == INPUT:
            continue
        if name in params and params[name].grad_req == "null":
            frozen += prod(arg_shape)
        else:
            trainable += prod(arg_shape)
    running = sum(prod(aux_shape) for aux_shape in aux_shapes)
    symbol = json.loads(graph.tojson())
    shapes = _entry_shapes(symbol["nodes"], internals.list_outputs(), out_shapes)
    layers = _counted_layers(symbol["nodes"], shapes)
    return Profile(
        input_shape=shape,
        trainable_params=trainable,
        total_params=trainable + frozen + running,
        macs=sum(layer.macs for layer in layers),
        peak_activation_bytes=_peak_activation_bytes(symbol, shapes),
        layers=tuple(layers),
    )


def _network(target: Any, input_shape: Sequence[int] | None) -> tuple[gluon.HybridBlock, tuple[int, ...]]:
    """The block to trace and the input shape to trace it at."""
    if isinstance(target, Pipeline):
        net = target.trainable_net if target.trainable_net is not None else target.net
        if input_shape is None:
            input_shape = target.options.get("input_shape") or target.task.default_input_shape
    else:
        net = target
    if not isinstance(net, gluon.HybridBlock):
        raise CvcoreError(f"profile traces networks symbolically, so it needs a gluon.HybridBlock or a pipeline whose network is one; "
                          f"got a {type(net).__name__}. For a deployed pipeline, profile the pipeline it was deployed from.")
    if input_shape is None:
        raise ConfigError(f"Profiling a bare {type(net).__name__} needs its input shape: profile(net, (1, 3, 224, 224)).")
    if len(input_shape) < 2 or not all(isinstance(size, int) and size > 0 for size in input_shape):
        raise ConfigError(f"input shape {list(input_shape)!r} must be positive sizes with the batch first, e.g. (1, 3, 224, 224).")
    return net, tuple(input_shape)


def _entry_shapes(nodes: list[dict[str, Any]], names: list[str], out_shapes: list) -> dict[tuple[int, int], tuple[int, ...]]:
    """The shape of each node output ``(node position, output index)`` that ``get_internals`` shows.

    Its outputs come in the graph's node order, so they are matched in order: a
    block called several times (an RPN head shared by pyramid levels) gives every
    call's node the same name. Outputs it hides (BatchNorm's mean) are not there.
    """
    shapes, cursor = {}, 0
    for position, node in enumerate(nodes):
        single = node["name"] if node["op"] == "null" else f"{node['name']}_output"
        if cursor < len(names) and names[cursor] == single:
            shapes[(position, 0)], cursor = tuple(out_shapes[cursor]), cursor + 1
            continue
        index = 0
        while cursor < len(names) and names[cursor] == f"{single}{index}":
            shapes[(position, index)], cursor, index = tuple(out_shapes[cursor]), cursor + 1, index + 1
    if cursor != len(names):
        raise RuntimeError(f"profile could not match the graph's output {names[cursor]!r} to its node.")
    return shapes


def _counted_layers(nodes: list[dict[str, Any]], shapes: dict[tuple[int, int], tuple[int, ...]]) -> list[Layer]:
    layers = []
    for position, node in enumerate(nodes):
        op = node["op"]
        if op not in (*_CONVOLUTIONS, *_DENSE, *_DECONVOLUTIONS):
            continue
        (data, data_index, _), (weight, weight_index, _) = node["inputs"][:2]
        data_shape, weight_shape = shapes[(data, data_index)], shapes[(weight, weight_index)]
        output_shape = shapes[(position, 0)]
        if op in _CONVOLUTIONS:  # weight (out, in / groups, *kernel): each output sums in / groups x kernel products
            macs = prod(output_shape) * prod(weight_shape[1:])
        elif op in _DENSE:  # weight (hidden, in): each output sums `in` products
            macs = prod(output_shape) * weight_shape[1]
        else:  # weight (in, out / groups, *kernel): each input value is scattered into out / groups x kernel outputs
            macs = prod(data_shape) * prod(weight_shape[1:])
        layers.append(Layer(node["name"], op, macs, output_shape))
    return layers


def _peak_activation_bytes(symbol: dict[str, Any], shapes: dict[tuple[int, int], tuple[int, ...]]) -> int:
    nodes = symbol["nodes"]
    kept = {(node, index) for node, index, _ in symbol["heads"]}
    last_use: dict[tuple[int, int], int] = {}
    for position, node in enumerate(nodes):
        for source, index, _ in node["inputs"]:
            last_use[(source, index)] = position

    visible = Counter(node for node, _ in shapes)

    def size(node: int, index: int) -> int:
        return FLOAT32_BYTES * prod(shapes[(node, index)]) if (node, index) in shapes else 0

    live = {(position, 0): size(position, 0) for position, node in enumerate(nodes) if node["op"] == "null" and node["name"] == INPUT}
    peak = sum(live.values())
    for position, node in enumerate(nodes):
        if node["op"] == "null":
            continue
        outputs = [(position, index) for index in range(visible[position])]
        for tensor in outputs:
            live[tensor] = size(*tensor)
        peak = max(peak, sum(live.values()))
        for tensor in [*((source, index) for source, index, _ in node["inputs"]), *outputs]:
            if tensor in live and tensor not in kept and last_use.get(tensor, position) <= position:
                del live[tensor]
    return peak
