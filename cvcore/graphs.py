"""Deployed MXNet graphs on disk: ``PREFIX-symbol.json`` + ``PREFIX-0000.params``, written so they load back.

MXNet's own ``HybridBlock.export`` takes the parameters from the block's cached
operator, which a freshly imported ``SymbolBlock`` builds only at its first
forward pass: exported before that, it writes a parameter file of 32 bytes
without a word. :func:`write_graph` takes them from the block's parameters by
the graph's own argument names instead, and :func:`check_graph` refuses files
that would not load back.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import mxnet as mx
from mxnet import gluon

from .weights import WeightsError, describe_non_finite, non_finite, read_params


def graph_files(prefix: str | os.PathLike) -> tuple[Path, Path]:
    """The symbol and parameter files of the graph saved at ``prefix``."""
    return Path(f"{prefix}-symbol.json"), Path(f"{prefix}-0000.params")


def traced_symbol(net: gluon.HybridBlock, example: mx.nd.NDArray | None = None) -> tuple[mx.sym.Symbol, list[str]]:
    """``(graph, input names)`` of a hybridized block; a block never run is traced on ``example`` first."""
    if not net._cached_graph:
        if example is None:
            raise WeightsError(f"The {type(net).__name__} has no traced graph yet: run it once on an input first.")
        if not getattr(net, "_active", False):
            net.hybridize(static_alloc=True, static_shape=True)
        net(example)
    inputs, symbol = net._cached_graph
    return symbol, [variable.name for variable in inputs]


def graph_json(net: gluon.HybridBlock, example: mx.nd.NDArray | None = None) -> dict[str, Any]:
    """The block's graph as MXNet's symbol JSON (``nodes``, ``heads``, ...), without writing any file."""
    return json.loads(traced_symbol(net, example)[0].tojson())


def write_graph(net: gluon.HybridBlock, prefix: str | os.PathLike, example: mx.nd.NDArray | None = None) -> tuple[Path, Path]:
    """Write ``net``'s graph and every parameter it reads, then check that the pair loads back."""
    symbol, inputs = traced_symbol(net, example)
    by_name = {param.name: param for param in net.collect_params().values()}
    # a graph partitioned by optimize_for may read parameters its backend made, held only by the cached operator
    by_name.update({param.name: param for is_input, param in net._cached_op_args if not is_input})
    arrays, missing = {}, []
    for role, names in (("arg", symbol.list_arguments()), ("aux", symbol.list_auxiliary_states())):
        for name in names:
            if name in inputs:
                continue
            if name not in by_name or by_name[name]._data is None:
                missing.append(name)
            else:
                arrays[f"{role}:{name}"] = by_name[name]._reduce()
    symbol_file, params_file = graph_files(prefix)
    if missing:
        raise WeightsError(f"Cannot write {params_file}: the graph reads {len(missing)} parameters the network does not hold "
                           f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}).")
    symbol_file.parent.mkdir(parents=True, exist_ok=True)
    symbol.save(str(symbol_file), remove_amp_cast=True)
    mx.nd.save(str(params_file), arrays)
    check_graph(prefix, inputs)
    return symbol_file, params_file


def check_graph(prefix: str | os.PathLike, inputs: Sequence[str] = ("data",)) -> None:
    """Raise :class:`WeightsError` naming the file unless the graph at ``prefix`` has every parameter it reads."""
    symbol_file, params_file = graph_files(prefix)
    for required in (symbol_file, params_file):
        if not required.is_file():
            raise WeightsError(f"The deployed graph file {required} is missing.")
    try:
        symbol = mx.sym.load(str(symbol_file))
    except mx.base.MXNetError as exc:
        raise WeightsError(f"{symbol_file} is not an MXNet graph: {str(exc).splitlines()[0]}") from exc
    stored = read_params(params_file)
    needed = [name for name in (*symbol.list_arguments(), *symbol.list_auxiliary_states()) if name not in inputs]
    missing = [name for name in needed if name not in stored]
    if missing:
        raise WeightsError(f"{params_file} lacks {len(missing)} of the {len(needed)} parameters its graph {symbol_file.name} reads "
                           f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}): it would not load back.")
    broken = non_finite(stored)
    if broken:
        raise WeightsError(f"{params_file}: {describe_non_finite(broken, len(stored))}; the network it was made from had diverged.")


def load_graph(prefix: str | os.PathLike, ctx: list) -> gluon.SymbolBlock:
    """A ``SymbolBlock`` of the graph saved at ``prefix`` (static memory and shapes), checked first."""
    check_graph(prefix)
    symbol_file, params_file = graph_files(prefix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        block = gluon.SymbolBlock.imports(str(symbol_file), ["data"], str(params_file), ctx=ctx)
    block.hybridize(static_alloc=True, static_shape=True)
    return block
