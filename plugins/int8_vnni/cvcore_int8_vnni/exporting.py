"""ONNX export of an MXNet network, and the optional libraries the OpenVINO path needs."""
from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator

import mxnet as mx
import numpy as np

from cvcore.errors import CvcoreError
from cvcore.graphs import write_graph
from cvcore.tasks.detection_outputs import detection_differences, is_detection_batch

from .onnx_converters import CONVERTERS

EXTRA_HINT = 'pip install "cvcore-int8-vnni[openvino]" (onnx<1.16, openvino==2024.6.0, nncf==2.14.1)'


class MissingExtraError(CvcoreError):
    """An optional dependency of the ONNX/OpenVINO path is not installed."""


def require(module: str) -> Any:
    """Import ``module`` (onnx, openvino, nncf) or raise an error naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(f"The ONNX/OpenVINO path needs the {module} package ({exc}); install it with {EXTRA_HINT}.") from exc


OPSET = 13
"""The ONNX opset written and declared. MXNet 1.9's converters write nodes in opset 12 and 13 forms; its
``export_model`` declares the installed onnx package's newest opset instead, so a reduction written with
13's ``axes`` attribute is invalid in the model it declares (ReduceMean/ReduceMax take ``axes`` as an
input from opset 18). Declaring 13 makes every node valid as written."""

MXNET_ONLY_PATHS = "hybridize, export (the MXNet graph) and int8 with backend='mxnet' do not need ONNX"


def export_onnx(net: Any, example: mx.nd.NDArray, path: str | os.PathLike) -> Path:
    """Write ``net`` (a HybridBlock or SymbolBlock) as ONNX (opset :data:`OPSET`) to ``path``, with a dynamic batch dimension."""
    onnx = require("onnx")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = to_onnx(net, example)
    staging = path.with_name(f".{path.name}.partial")
    try:
        onnx.save(model, str(staging))
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path


def to_onnx(net: Any, example: mx.nd.NDArray) -> Any:
    """``net`` as a checked ONNX ``ModelProto``; an operator ONNX has no form for is an error naming it and its layer."""
    onnx = require("onnx")
    from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph

    symbol, params = _graph(unfused(net, example), example)
    symbol = _as_inference_ops(symbol)
    missing = _without_converter(symbol)
    if missing:
        named = "; ".join(f"{op!r} (in {', '.join(nodes[:3])}{' ...' if len(nodes) > 3 else ''})" for op, nodes in missing.items())
        fused = any(op.startswith("_sg_") or "quantize" in op for op in missing)
        plural = len(missing) > 1
        raise CvcoreError(f"The network cannot be written as ONNX: MXNet has no ONNX form for the operator{'s' * plural} {named}. "
                          f"The ONNX paths (onnx, openvino, int8 with backend='openvino') cannot take {'them' if plural else 'it'}; "
                          f"{MXNET_ONLY_PATHS}."
                          + (" Those are oneDNN's fused or INT8 operators of a deployed graph: export the FP32 pipeline "
                             "(pipeline.trainable())." if fused else ""))
    tensor_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(np.float32))
    try:
        with warnings.catch_warnings(), _graph_checks_at(OPSET), _faithful_converters():
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # MXNet's converters use onnx.mapping
            graph = MXNetGraph().create_onnx_graph_proto(
                symbol, params, [tuple(example.shape)], [tensor_type], opset_version=OPSET, dynamic=True,
                dynamic_input_shapes=[(None, *example.shape[1:])])
    except Exception as exc:  # a converter that refuses its node's attributes
        raise CvcoreError(f"ONNX export failed in MXNet's converter: {type(exc).__name__}: {exc}. {MXNET_ONLY_PATHS}.") from exc
    _fix_resize_coordinates(symbol, graph)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="cvcore")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise CvcoreError(f"MXNet's converter wrote an invalid ONNX opset-{OPSET} model: {str(exc).strip().splitlines()[0]} "
                          f"{MXNET_ONLY_PATHS}.") from exc
    return model


def _graph(net: Any, example: mx.nd.NDArray) -> tuple[mx.sym.Symbol, dict[str, mx.nd.NDArray]]:
    """The network's symbol and its parameters by name, as ``export`` writes them."""
    with tempfile.TemporaryDirectory(prefix="cvcore-onnx-") as tmp:
        prefix = Path(tmp) / "model"
        write_graph(net, prefix, example)
        symbol = mx.sym.load(f"{prefix}-symbol.json")
        stored = mx.nd.load(f"{prefix}-0000.params")  # a list when the network has no parameters
        params = {key.split(":", 1)[1]: value for key, value in (stored.items() if isinstance(stored, dict) else ())}
    return symbol, params


@contextlib.contextmanager
def _graph_checks_at(opset: int) -> Iterator[None]:
    """MXNet's converter checks the graph it wrote against the installed onnx's newest opset: check it against ``opset``."""
    import onnx

    original = onnx.checker.check_graph
    context = onnx.checker.C.CheckerContext()
    context.ir_version = onnx.helper.find_min_ir_version_for([onnx.helper.make_opsetid("", opset)])
    context.opset_imports = {"": opset}
    onnx.checker.check_graph = functools.partial(original, ctx=context)
    try:
        yield
    finally:
        onnx.checker.check_graph = original


@contextlib.contextmanager
def _faithful_converters() -> Iterator[None]:
    """Our converters (:mod:`.onnx_converters`) in place of MXNet's during an export, MXNet's restored after."""
    from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph

    table = MXNetGraph.registry_.setdefault(OPSET, {})
    previous = {op: table.get(op) for op in CONVERTERS}
    table.update(CONVERTERS)
    try:
        yield
    finally:
        for op, converter in previous.items():
            if converter is None:
                del table[op]
            else:
                table[op] = converter


def _fix_resize_coordinates(symbol: mx.sym.Symbol, graph: Any) -> None:
    """MXNet writes every BilinearResize2D as an align-corners Resize; one with ``align_corners=False`` samples at
    half-pixel centres."""
    import onnx

    half_pixel = {node["name"] for node in json.loads(symbol.tojson())["nodes"]
                  if node["op"] == "_contrib_BilinearResize2D" and node.get("attrs", {}).get("align_corners") in ("False", "0")}
    for node in graph.node:
        if node.op_type == "Resize" and node.name in half_pixel:
            for attribute in node.attribute:
                if attribute.name == "coordinate_transformation_mode":
                    attribute.CopyFrom(onnx.helper.make_attribute("coordinate_transformation_mode", "half_pixel"))


_BATCH_NORM_ATTRIBUTES = ("eps", "momentum", "fix_gamma", "use_global_stats", "output_mean_var")


def _as_inference_ops(symbol: mx.sym.Symbol) -> mx.sym.Symbol:
    """``symbol`` with SyncBatchNorm written as BatchNorm: at inference both normalize with the running statistics."""
    graph = json.loads(symbol.tojson())
    changed = False
    for node in graph["nodes"]:
        if node["op"] == "_contrib_SyncBatchNorm":
            node["op"] = "BatchNorm"
            node["attrs"] = {k: v for k, v in node.get("attrs", {}).items() if k in _BATCH_NORM_ATTRIBUTES}
            changed = True
    return mx.sym.load_json(json.dumps(graph)) if changed else symbol


def _without_converter(symbol: mx.sym.Symbol) -> dict[str, list[str]]:
    """Operators of ``symbol`` that MXNet cannot convert at :data:`OPSET`, with the nodes that use them."""
    from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph

    known = set().union(*(ops for version, ops in MXNetGraph.registry_.items() if version <= OPSET))
    missing: dict[str, list[str]] = {}
    for node in json.loads(symbol.tojson())["nodes"]:
        if node["op"] != "null" and node["op"] not in known:
            missing.setdefault(node["op"], []).append(node["name"])
    return missing


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
    """Run the ONNX file on ``example`` with the OpenVINO runtime (FP32) and compare with ``net``; returns the max abs difference.

    A detector's outputs are compared detection by detection
    (:func:`~cvcore.tasks.detection_outputs.detection_differences`): equal scores
    may come in either order, and a tie at the cut may keep either detection.
    """
    onnx = require("onnx")
    onnx.checker.check_model(str(path))
    from .openvino_backend import OpenVINONet, read_model

    theirs = OpenVINONet(read_model(path), precision="fp32")(example)
    ours = net(example)
    ours, theirs = ([y.asnumpy() for y in outputs] if isinstance(outputs, (list, tuple)) else [outputs.asnumpy()]
                    for outputs in (ours, theirs))
    for mine, other in zip(ours, theirs):
        if mine.shape != other.shape:
            raise CvcoreError(f"The ONNX model {path} gives outputs of shape {other.shape}; the MXNet network gives {mine.shape}.")
    if is_detection_batch([y.shape for y in ours]):
        problems, worst = detection_differences(ours, theirs, rtol=rtol, atol=atol)
        if problems:
            raise CvcoreError(f"The ONNX model {path} disagrees with the MXNet network (MXNet first, ONNX second): "
                              + "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "") + ".")
        return worst
    worst = 0.0
    for mine, other in zip(ours, theirs):
        worst = max(worst, float(np.abs(mine - other).max()))
        if not np.allclose(mine, other, rtol=rtol, atol=atol):
            raise CvcoreError(f"The ONNX model {path} disagrees with the MXNet network (max abs difference {worst:.3g}).")
    return worst
