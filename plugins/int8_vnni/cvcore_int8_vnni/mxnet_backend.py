"""INT8 through MXNet's oneDNN quantization (``quantize_net_v2``): calibrated, fused, run by MXNet."""
from __future__ import annotations

import logging
import warnings
from typing import Any, Iterable, Sequence

import mxnet as mx
from mxnet import gluon

from cvcore.errors import ConfigError

from .layers import after_layers, graph_nodes, layer_names, output_layers, select_layers
from .machine import require_onednn

CALIB_MODES = ("naive", "entropy", "none")
QUANTIZED_DTYPES = ("auto", "int8", "uint8")
GRANULARITIES = ("tensor-wise", "channel-wise")
QUANTIZE_MODES = ("full", "smart")


def excluded_layers(net: Any, example: mx.nd.NDArray, exclude: Sequence[str] | str = (), exclude_output: bool = True) -> list[str]:
    """Layers to keep in FP32: those matching ``exclude`` patterns, plus the output layers when ``exclude_output``."""
    graph = graph_nodes(net, example)
    names = layer_names(graph)
    chosen = set(select_layers(names, exclude)) if exclude else set()
    if exclude_output:
        chosen.update(output_layers(graph))
    return [name for name in names if name in chosen]


def take_examples(batches: Iterable[mx.nd.NDArray], count: int) -> list[mx.nd.NDArray]:
    """Whole batches from ``batches`` until at least ``count`` examples are taken."""
    taken, total = [], 0
    for batch in batches:
        taken.append(batch)
        total += batch.shape[0]
        if total >= count:
            break
    return taken


def quantize(
    net: gluon.HybridBlock,
    *,
    example: mx.nd.NDArray,
    calib_data: Iterable[mx.nd.NDArray] | None,
    calib_mode: str = "naive",
    num_calib_examples: int = 256,
    exclude: Sequence[str] | str = (),
    exclude_output: bool = True,
    quantized_dtype: str = "auto",
    granularity: str = "channel-wise",
    quantize_mode: str = "full",
) -> gluon.SymbolBlock:
    """An INT8 ``SymbolBlock`` of ``net``: oneDNN-fused, calibrated on ``num_calib_examples`` inputs.

    ``calib_mode`` ``naive`` takes each layer's min/max over the calibration
    inputs, ``entropy`` picks thresholds that minimise the KL divergence of
    the quantized distribution, ``none`` computes ranges at run time (slower,
    needs no data). ``exclude`` glob patterns name layers kept in FP32
    (see :func:`~cvcore_int8_vnni.layers.layer_names`); the output layers are
    kept too, with the operations after them (a detector's decoding and
    NMS), unless ``exclude_output=False``. ``quantized_dtype`` ``auto`` lets
    MXNet choose (unsigned activations after ReLUs); on a graph where MXNet
    cannot run that (the R-CNN detectors) it is ``int8``, with a warning.
    """
    require_onednn()
    _check_choice("calib_mode", calib_mode, CALIB_MODES)
    _check_choice("quantized_dtype", quantized_dtype, QUANTIZED_DTYPES)
    _check_choice("granularity", granularity, GRANULARITIES)
    _check_choice("quantize_mode", quantize_mode, QUANTIZE_MODES)
    batches = None
    if calib_mode != "none":
        if calib_data is None:
            raise ConfigError(f"int8 with calib_mode={calib_mode!r} needs calib_data (a dataset or input batches); "
                              "calib_mode='none' quantizes without it, at some speed cost.")
        if num_calib_examples < 1:
            raise ConfigError(f"num_calib_examples must be at least 1, got {num_calib_examples}.")
        batches = take_examples(calib_data, num_calib_examples)
        if not batches:
            raise ConfigError("The calibration data yielded no batches.")
        shapes = {tuple(b.shape[1:]) for b in batches}
        if shapes != {tuple(example.shape[1:])}:
            raise ConfigError(f"Calibration inputs have shapes {sorted(shapes)} per example; the network takes {tuple(example.shape[1:])}.")
        batches = [b for b in batches if b.shape[0] == batches[0].shape[0]]
    kept = excluded_layers(net, example, exclude, exclude_output)
    if exclude_output:  # and what follows them: a detector's decoding and NMS
        kept += after_layers(graph_nodes(net, example), output_layers(graph_nodes(net, example)))
    settings = {"quantize_mode": quantize_mode, "quantize_granularity": granularity, "calib_mode": calib_mode, "exclude_layers": kept}
    if batches:
        settings.update(calib_data=[[batch] for batch in batches], num_calib_examples=num_calib_examples)  # a list per batch
    else:
        settings.update(data_shapes=[mx.io.DataDesc("data", example.shape)])
    try:
        return _quantized(net, example, quantized_dtype, settings)
    except mx.MXNetError as error:
        if quantized_dtype != "auto" or "data type do not match" not in str(error):
            raise
        warnings.warn(f"MXNet's automatic activation types (unsigned after ReLUs) fail on this graph ({_last_line(error)}); "
                      "quantized with signed int8 activations instead (quantized_dtype='int8').", RuntimeWarning, stacklevel=2)
        return _quantized(net, example, "int8", settings)


def _quantized(net: gluon.HybridBlock, example: mx.nd.NDArray, quantized_dtype: str, settings: dict[str, Any]) -> gluon.SymbolBlock:
    """``quantize_net_v2`` with ``settings``, hybridized and run once on ``example`` (where an unsupported graph fails)."""
    logger = logging.getLogger("cvcore.int8")
    with warnings.catch_warnings():
        # MXNet's SymbolBlock constructor cannot infer the input's type and says so; it is float32
        warnings.filterwarnings("ignore", message="Cannot decide type", category=UserWarning)
        quantized = mx.contrib.quantization.quantize_net_v2(
            net, quantized_dtype=quantized_dtype, ctx=mx.cpu(), logger=logger if logger.isEnabledFor(logging.INFO) else None,
            **settings)
    quantized.hybridize(static_alloc=True, static_shape=True)
    quantized(example.as_in_context(mx.cpu()))
    mx.nd.waitall()
    return quantized


def _last_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[-1][:160] if lines else type(error).__name__


def quantized_layers(net: Any, example: mx.nd.NDArray | None = None) -> list[str]:
    """Names of the graph's INT8 compute nodes (after :func:`quantize`; ``example`` traces a network that never ran)."""
    return [node["name"] for node in graph_nodes(net, example)[0]
            if node["op"].startswith("_sg_mkldnn") and node.get("attrs", {}).get("quantized", "").lower() == "true"
            or node["op"].startswith("_contrib_quantized")]


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}.")
