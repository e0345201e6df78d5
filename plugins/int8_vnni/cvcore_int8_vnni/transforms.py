"""The deploy transforms this plugin registers: ``int8`` (MXNet or OpenVINO), ``onnx`` and ``openvino``."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import mxnet as mx

from cvcore.errors import ConfigError

from . import mxnet_backend, openvino_backend
from .exporting import check_onnx, export_onnx, unfused
from .machine import warn_if_slow

BACKENDS = ("mxnet", "openvino")


def int8(
    net: Any,
    *,
    example: mx.nd.NDArray,
    calib_data: Iterable[mx.nd.NDArray] | None = None,
    backend: str = "mxnet",
    calib_mode: str = "naive",
    num_calib_examples: int = 256,
    exclude: Sequence[str] | str = (),
    exclude_output: bool = True,
    quantized_dtype: str = "auto",
    granularity: str = "channel-wise",
    quantize_mode: str = "full",
    preset: str = "performance",
) -> Any:
    """INT8 inference for any hybridizable network, calibrated on ``calib_data``.

    ``backend="mxnet"``: MXNet's oneDNN quantization (``calib_mode`` ``naive``,
    ``entropy`` or ``none``; ``quantized_dtype``, ``granularity``,
    ``quantize_mode``). ``backend="openvino"``: exported through ONNX,
    quantized by NNCF (``preset``) and run by OpenVINO. Both keep in FP32 the
    layers matching the ``exclude`` glob patterns and, with ``exclude_output``,
    the output layers and the parameter-free operations after them (a
    detector's decoding and NMS), and use ``num_calib_examples`` calibration inputs.
    """
    warn_if_slow()
    if isinstance(net, openvino_backend.OpenVINONet) or mxnet_backend.quantized_layers(net, example):
        raise ConfigError("This network is INT8 already (deployed with int8): quantize the FP32 pipeline it came from "
                          "(a copy made before deploy('int8'), or the saved FP32 model).")  # MXNet crashes on it
    if backend == "mxnet":
        return mxnet_backend.quantize(
            net, example=example, calib_data=calib_data, calib_mode=calib_mode, num_calib_examples=num_calib_examples,
            exclude=exclude, exclude_output=exclude_output, quantized_dtype=quantized_dtype, granularity=granularity,
            quantize_mode=quantize_mode,
        )
    if backend != "openvino":
        raise ConfigError(f"int8 backend={backend!r} is not one of {', '.join(map(repr, BACKENDS))}.")
    if calib_mode != "naive":
        raise ConfigError(f"calib_mode={calib_mode!r} is MXNet's; NNCF (backend='openvino') calibrates min/max ranges "
                          "with bias correction: leave calib_mode at 'naive' and choose preset='performance' or 'mixed'.")
    net = unfused(net, example)  # the layer names ONNX and NNCF will see
    kept = mxnet_backend.excluded_layers(net, example, exclude, exclude_output)
    model = openvino_backend.quantize(openvino_backend.to_openvino(net, example), calib_data=calib_data,
                                      num_calib_examples=num_calib_examples, ignored=kept, preset=preset)
    return _ready(openvino_backend.OpenVINONet(model), example)


def openvino(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, precision: str = "fp32") -> openvino_backend.OpenVINONet:
    """Run the network on the OpenVINO runtime in ``precision`` ``fp32`` or ``bf16`` (exported through ONNX)."""
    return _ready(openvino_backend.OpenVINONet(openvino_backend.to_openvino(net, example), precision=precision), example)


def onnx(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, path: str | os.PathLike | None = None,
         check: bool = True) -> Any:
    """Write the network as ONNX to ``path`` (dynamic batch), checked by running it on OpenVINO; the network is unchanged.

    Without ``path`` the file goes to a temporary folder, removed after the check.
    """
    if not path:
        with tempfile.TemporaryDirectory(prefix="cvcore-onnx-") as folder:
            return onnx(net, example=example, path=Path(folder) / "model.onnx", check=check)
    path = Path(path)
    export_onnx(net, example, path)
    if check:
        check_onnx(path, net, example)
    return net


def load_graph(prefix: str | os.PathLike, ctx: Any) -> Any:
    """Reload a saved deployed graph: OpenVINO IR when ``prefix.xml`` exists, else MXNet symbol and params."""
    if Path(f"{prefix}.xml").is_file():
        return openvino_backend.load_graph(prefix, ctx)
    from cvcore.graphs import load_graph as load_mxnet_graph

    return load_mxnet_graph(prefix, ctx)


def _ready(net: openvino_backend.OpenVINONet, example: mx.nd.NDArray) -> openvino_backend.OpenVINONet:
    """``net`` after one run on ``example`` (compiles it for that shape, as the transform contract asks)."""
    net(example)
    return net
