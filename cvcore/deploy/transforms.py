"""Built-in deploy transforms: ``hybridize`` (cvcore's fast CPU path) and ``export``."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mxnet as mx
from mxnet import gluon


def has_onednn() -> bool:
    """Whether this MXNet build has oneDNN (MKLDNN) kernels."""
    return bool(mx.runtime.Features().is_enabled("MKLDNN"))


def hybridize(net: gluon.HybridBlock, *, example: mx.nd.NDArray, calib_data: Any = None, fuse: bool = True, **_: Any) -> gluon.HybridBlock:
    """Static graph with static memory; with ``fuse`` and oneDNN, conv+bn+relu fused by ``optimize_for``."""
    if fuse and has_onednn():
        net.optimize_for(example, backend="MKLDNN", static_alloc=True, static_shape=True)
    else:
        net.hybridize(static_alloc=True, static_shape=True)
        net(example)
    mx.nd.waitall()
    return net


def export(net: gluon.HybridBlock, *, example: mx.nd.NDArray, calib_data: Any = None, path: str | None = None, **_: Any) -> gluon.SymbolBlock:
    """Write ``path-symbol.json`` + ``path-0000.params`` and return the graph loaded back from them."""
    from ..pipeline import load_graph

    if not getattr(net, "_active", False):
        net.hybridize(static_alloc=True, static_shape=True)
    net(example)
    prefix = Path(path) if path else Path(tempfile.mkdtemp(prefix="cvcore-export-")) / "model"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    net.export(str(prefix))
    graph = load_graph(prefix, [example.context])
    graph(example)
    mx.nd.waitall()
    return graph
