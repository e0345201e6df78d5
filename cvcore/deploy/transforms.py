"""Built-in deploy transforms: ``hybridize`` (cvcore's fast CPU path) and ``export``."""
from __future__ import annotations

import tempfile
import warnings
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
        try:
            net.optimize_for(example, backend="MKLDNN", static_alloc=True, static_shape=True)
            mx.nd.waitall()
            return net
        except mx.MXNetError as exc:
            # MXNet 1.9's conv+sum fusion mis-wires some graphs (SE-ResNeXt, GluonCV's own too)
            warnings.warn(
                f"oneDNN fusion failed for this network ({str(exc).splitlines()[-1][:160]}); running it unfused. "
                "Starting the process with MXNET_DISABLE_MKLDNN_FUSE_CONV_SUM=1 fuses the rest.",
                RuntimeWarning,
                stacklevel=2,
            )
    net.hybridize(active=True, backend=None, static_alloc=True, static_shape=True)
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
