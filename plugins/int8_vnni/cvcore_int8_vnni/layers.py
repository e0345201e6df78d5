"""Layer names of a network's graph, and the layers an exclusion option selects."""
from __future__ import annotations

import fnmatch
from typing import Any, Iterable, Sequence

import mxnet as mx

from cvcore.errors import ConfigError
from cvcore.graphs import graph_json

COMPUTE_OPS = frozenset({"Convolution", "Deconvolution", "FullyConnected", "_sg_mkldnn_conv", "_sg_mkldnn_fully_connected"})
"""Operators whose weights INT8 quantizes."""


Graph = tuple[list[dict], list[list[int]]]
"""A graph as MXNet's symbol JSON lists it: its nodes and its output heads."""


def graph_nodes(net: Any, example: mx.nd.NDArray | None = None) -> Graph:
    """The JSON nodes and output heads of ``net``'s traced graph (traced on ``example`` when it never ran).

    This is the graph quantization sees: after the ``hybridize`` transform its
    layers are oneDNN's fused nodes (``sg_mkldnn_conv_bn_act_3``), not Gluon's.
    """
    graph = graph_json(net, example)
    return graph["nodes"], graph["heads"]


def layer_names(graph: Graph) -> list[str]:
    """Names of the graph's compute layers (:data:`COMPUTE_OPS`), in graph order (what ``exclude`` patterns match)."""
    return [node["name"] for node in graph[0] if node["op"] in COMPUTE_OPS]


SHAPE_ONLY = {"shape_array": (0,), "size_array": (0,), "zeros_like": (0,), "ones_like": (0,), "_contrib_arange_like": (0,),
              "slice_like": (1,), "broadcast_like": (1,), "reshape_like": (1,)}
"""Inputs of which an operator reads only the shape (SSD cuts its default boxes to each map with ``slice_like``)."""


def output_layers(graph: Graph) -> list[str]:
    """The compute layers that produce the graph's outputs (through parameter-free ops such as flatten).

    A layer whose output reaches them only as a shape (:data:`SHAPE_ONLY`) is not one.
    """
    nodes, heads = graph
    found: list[str] = []
    stack = [head[0] for head in heads]
    seen: set[int] = set()
    while stack:
        index = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        node = nodes[index]
        if node["op"] in COMPUTE_OPS:
            found.append(node["name"])
        elif node["op"] != "null":
            shape_only = SHAPE_ONLY.get(node["op"], ())
            stack.extend(source[0] for position, source in enumerate(node["inputs"]) if position not in shape_only)
    return sorted(found)


def after_layers(graph: Graph, layers: Iterable[str]) -> list[str]:
    """The parameter-free ops that ``layers``' outputs reach before any compute layer (a detector's decoding and NMS).

    Quantization would otherwise give them INT8 forms where MXNet has one
    (concatenation, pooling, flatten) and squeeze a box's label, score and
    coordinates into one INT8 range.
    """
    nodes, _ = graph
    consumers: dict[int, list[int]] = {}
    for index, node in enumerate(nodes):
        for source in node.get("inputs", []):
            consumers.setdefault(source[0], []).append(index)
    wanted = set(layers)
    stack = [index for index, node in enumerate(nodes) if node["name"] in wanted]
    found: set[int] = set()
    while stack:
        for index in consumers.get(stack.pop(), []):
            if index not in found and nodes[index]["op"] not in COMPUTE_OPS:
                found.add(index)
                stack.append(index)
    return [nodes[index]["name"] for index in sorted(found)]


def select_layers(names: Sequence[str], patterns: Iterable[str]) -> list[str]:
    """The ``names`` matching any glob ``pattern`` (``*dense*``, an exact name, ...), in ``names``' order.

    A pattern that matches nothing is an error that shows some of the names,
    so a typo cannot silently quantize a layer meant to stay in FP32.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    selected: set[str] = set()
    for pattern in patterns:
        matches = fnmatch.filter(names, pattern)
        if not matches:
            examples = ", ".join(names[:3] + (["...", names[-1]] if len(names) > 3 else []))
            raise ConfigError(f"exclude pattern {pattern!r} matches no layer; the layers are named like {examples}.")
        selected.update(matches)
    return [name for name in names if name in selected]
