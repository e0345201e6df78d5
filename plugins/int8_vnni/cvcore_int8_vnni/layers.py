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


def output_layers(graph: Graph) -> list[str]:
    """The compute layers that produce the graph's outputs (through parameter-free ops such as flatten)."""
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
            stack.extend(source[0] for source in node["inputs"])
    return sorted(found)


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
