"""ONNX export of an MXNet network, and the optional libraries the OpenVINO path needs."""
from __future__ import annotations

import importlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from cvcore.errors import CvcoreError
from cvcore.graphs import write_graph

EXTRA_HINT = 'pip install "cvcore-int8-vnni[openvino]" (onnx<1.16, openvino==2024.6.0, nncf==2.14.1)'


class MissingExtraError(CvcoreError):
    """An optional dependency of the ONNX/OpenVINO path is not installed."""


def require(module: str) -> Any:
    """Import ``module`` (onnx, openvino, nncf) or raise an error naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(f"The ONNX/OpenVINO path needs the {module} package ({exc}); install it with {EXTRA_HINT}.") from exc


def export_onnx(net: Any, example: mx.nd.NDArray, path: str | os.PathLike) -> Path:
    """Write ``net`` (a HybridBlock or SymbolBlock) as ONNX to ``path``, with a dynamic batch dimension."""
    require("onnx")
    import mxnet.onnx  # noqa: F401  (registers mx.onnx)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cvcore-onnx-") as tmp:
        prefix = Path(tmp) / "model"
        write_graph(unfused(net, example), prefix, example)
        staging = path.with_name(f".{path.name}.partial")
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=DeprecationWarning)  # MXNet's exporter uses onnx.mapping
                mx.onnx.export_model(
                    f"{prefix}-symbol.json", f"{prefix}-0000.params", in_shapes=[tuple(example.shape)], in_types=[np.float32],
                    onnx_file_path=str(staging), dynamic=True, dynamic_input_shapes=[(None, *example.shape[1:])],
                )
        except Exception as exc:
            staging.unlink(missing_ok=True)
            raise CvcoreError(
                f"ONNX export failed: {exc}. (oneDNN-fused graphs saved as files and INT8 MXNet graphs cannot be exported; "
                "export the FP32 pipeline.)"
            ) from exc
        os.replace(staging, path)
    return path


def unfused(net: Any, example: mx.nd.NDArray) -> Any:
    """``net`` traced again without oneDNN's fused operators, which ONNX lacks (a block after ``hybridize``).

    ``optimize_for`` fuses in the graph only, so the block's parameters are the
    unfused ones; hybridizing it again without a backend drops the fused graph.
    """
    if isinstance(net, mx.gluon.HybridBlock) and getattr(net, "_backend", None):
        net.hybridize(static_alloc=True, static_shape=True)
        net(example)
    return net


def check_onnx(path: str | os.PathLike, net: Any, example: mx.nd.NDArray, rtol: float = 1e-3, atol: float = 1e-4) -> float:
    """Run the ONNX file on ``example`` with the OpenVINO runtime (FP32) and compare with ``net``; returns the max abs difference."""
    onnx = require("onnx")
    onnx.checker.check_model(str(path))
    from .openvino_backend import OpenVINONet, read_model

    theirs = OpenVINONet(read_model(path), precision="fp32")(example)
    ours = net(example)
    pairs = list(zip(ours, theirs)) if isinstance(ours, (list, tuple)) else [(ours, theirs)]
    worst = 0.0
    for mine, other in pairs:
        mine, other = mine.asnumpy(), other.asnumpy()
        if mine.shape != other.shape:
            raise CvcoreError(f"The ONNX model {path} gives outputs of shape {other.shape}; the MXNet network gives {mine.shape}.")
        worst = max(worst, float(np.abs(mine - other).max()))
        if not np.allclose(mine, other, rtol=rtol, atol=atol):
            raise CvcoreError(f"The ONNX model {path} disagrees with the MXNet network (max abs difference {worst:.3g}).")
    return worst
