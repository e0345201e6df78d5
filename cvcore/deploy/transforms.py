"""Built-in deploy transforms: ``hybridize`` (cvcore's fast CPU path) and ``export``."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import mxnet as mx
from mxnet import gluon

from ..graphs import load_graph, write_graph


def has_onednn() -> bool:
    """Whether this MXNet build has oneDNN (MKLDNN) kernels."""
    return bool(mx.runtime.Features().is_enabled("MKLDNN"))


def hybridize(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, fuse: bool = True) -> Any:
    """Static graph with static memory; with ``fuse`` and oneDNN, conv+bn+relu fused by ``optimize_for``.

    A network that is not a Gluon block (an OpenVINO model) is already a static graph and is returned as it is.
    """
    if not isinstance(net, gluon.HybridBlock):
        return net
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


def export(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, path: str | None = None) -> Any:
    """Write the network's graph files at ``path`` and return the network read back from them.

    A Gluon block becomes ``path-symbol.json`` + ``path-0000.params`` (loaded
    back as a ``SymbolBlock``); any other deployed network writes its own
    format through its ``export(path)`` and is returned unchanged. Without
    ``path`` the files go to a temporary folder, removed once read back.
    """
    if not path:
        with tempfile.TemporaryDirectory(prefix="cvcore-export-") as folder:
            return export(net, example=example, path=str(Path(folder) / "model"))
    prefix = Path(path)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(net, gluon.HybridBlock):
        net.export(str(prefix))
        return net
    write_graph(net, prefix, example)
    graph = load_graph(prefix, [example.context])
    graph(example)
    mx.nd.waitall()
    return graph
