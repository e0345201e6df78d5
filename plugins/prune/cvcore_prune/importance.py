"""How much each channel of a network matters, by one of three criteria.

- ``bn_scale``: the magnitude of the BatchNorm scale (gamma) that follows each
  convolution (Liu et al., "Learning Efficient Convolutional Networks through
  Network Slimming", 2017);
- ``l1``: the mean absolute weight of each convolution filter (Li et al.,
  "Pruning Filters for Efficient ConvNets", 2017);
- ``activation``: the mean absolute output of each BatchNorm over calibration
  batches (needs ``calib_data``).

A group's score per channel is the sum over the layers that write it (a
stage's residual path has one writer per unit, plus the projection).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import mxnet as mx
import numpy as np
from mxnet import gluon

from cvcore.errors import ConfigError

from .channels import ChannelMap, Group

CRITERIA = ("bn_scale", "l1", "activation")


def importance(net: gluon.HybridBlock, channels: ChannelMap, criterion: str,
               calib_batches: Iterable[mx.nd.NDArray] | None = None) -> dict[Group, np.ndarray]:
    """Each group's importance per channel (non-negative, one value per channel) by ``criterion``."""
    if criterion not in CRITERIA:
        raise ConfigError(f"Unknown pruning criterion {criterion!r}; the criteria are {', '.join(CRITERIA)}.")
    params = {name: param.data(param.list_ctx()[0]).asnumpy() for name, param in net._collect_params_with_prefix().items()}
    if criterion == "bn_scale":
        per_layer = {norm: np.abs(params[f"{norm}.gamma"]) for group in channels.groups for _, norm in group.writers}
    elif criterion == "l1":
        per_layer = {conv: _filter_l1(params[f"{conv}.weight"], channels.axes[f"{conv}.weight"].index(group))
                     for group in channels.groups for conv, _ in group.writers}
    else:
        if calib_batches is None:
            raise ConfigError("The 'activation' criterion measures BatchNorm outputs on calibration batches: pass calib_data "
                              "(on the command line, --calib DIR).")
        per_layer = mean_abs_norm_outputs(net, [norm for group in channels.groups for _, norm in group.writers], calib_batches)
    index = 0 if criterion == "l1" else 1
    return {group: sum(per_layer[writer[index]] for writer in group.writers) for group in channels.groups}


def _filter_l1(weight: np.ndarray, out_axis: int) -> np.ndarray:
    """The mean absolute weight of each output channel (axis 0 of a convolution, 1 of a transposed one)."""
    return np.abs(np.moveaxis(weight, out_axis, 0)).reshape(weight.shape[out_axis], -1).mean(axis=1)


def mean_abs_norm_outputs(block: gluon.HybridBlock, norms: list[str], batches: Iterable[mx.nd.NDArray]) -> dict[str, np.ndarray]:
    """The mean absolute output per channel of each norm layer (by its name in ``block``) over ``batches``.

    Read off the block's symbolic graph, so it works whether or not it was
    hybridized (forward hooks would not see inside a hybridized block).
    """
    data = mx.sym.var("data", dtype=np.float32)  # typed, or SymbolBlock warns it cannot tell
    graph = block(data)
    graph = mx.sym.Group(list(graph)) if isinstance(graph, (list, tuple)) else graph
    outputs_of_gamma = _norm_outputs(graph)
    named = block._collect_params_with_prefix()
    wanted = [outputs_of_gamma[named[f"{norm}.gamma"].name] for norm in norms]
    internals = graph.get_internals()
    probe = gluon.SymbolBlock([internals[name] for name in wanted], data, params=block.collect_params())
    sums: list[Any] = [0.0] * len(norms)
    counts = [0] * len(norms)  # values per channel seen: images x positions
    for batch in batches:
        outputs = probe(batch)
        for position, output in enumerate(outputs if isinstance(outputs, (list, tuple)) else [outputs]):
            sums[position] = sums[position] + output.abs().sum(axis=(0, 2, 3)).asnumpy()
            counts[position] += output.shape[0] * output.shape[2] * output.shape[3]
    if not any(counts):
        raise ConfigError("calib_data gave no batches: the 'activation' criterion needs at least one.")
    return {norm: total / count for norm, total, count in zip(norms, sums, counts)}


def _norm_outputs(graph: mx.sym.Symbol) -> dict[str, str]:
    """Gamma variable name -> the output name of the normalisation node that reads it."""
    nodes = json.loads(graph.tojson())["nodes"]
    found = {}
    for node in nodes:
        if node["op"] in ("BatchNorm", "_contrib_SyncBatchNorm"):
            gamma = nodes[node["inputs"][1][0]]["name"]
            found[gamma] = f"{node['name']}_output"
    return found
