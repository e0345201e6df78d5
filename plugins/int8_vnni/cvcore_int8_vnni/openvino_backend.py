"""OpenVINO: an MXNet network exported through ONNX, optionally INT8 by NNCF, run by the OpenVINO runtime."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import mxnet as mx
import numpy as np

from cvcore.errors import ConfigError, CvcoreError

from .exporting import export_onnx, require


class _SignalStack(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    """This process's C library (loaded once: the guard below runs around every inference), or None."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _sigaltstack(new: _SignalStack | None) -> _SignalStack | None:
    """Set this thread's signal stack to ``new`` (when given) and return the one before; None where libc cannot be reached."""
    libc = _libc()
    if libc is None:
        return None
    old = _SignalStack()
    libc.sigaltstack(ctypes.byref(new) if new is not None else None, ctypes.byref(old))
    return old


@contextlib.contextmanager
def keep_signal_stack():
    """Run an OpenVINO call and then give this thread back its own signal stack.

    OpenVINO's CPU plugin installs a signal stack (``sigaltstack``) of its own on
    the calling thread and later replaces it, freeing the old one. Python runs
    signal handlers on that stack, so the next Ctrl-C to a process that had
    compiled a model crashed it (seen while MXNet was training in it).
    """
    saved = _sigaltstack(None)
    try:
        yield
    finally:
        if saved is not None:
            _sigaltstack(saved)


try:
    # Import OpenVINO before MXNet runs its first operator: imported after MXNet's OpenMP
    # workers exist, it leaves the next Deconvolution waiting forever (MXNet 1.9.1, OpenVINO 2024.6).
    # The plugin's deploy transforms hook imports this module when the registry is built.
    with keep_signal_stack():
        import openvino  # noqa: F401
except ImportError:  # the [openvino] extra is optional
    pass

PRECISIONS = {"fp32": "f32", "bf16": "bf16"}
"""OpenVINO inference precisions by the names cvcore's options use."""
RUNTIME_SUFFIX = ".runtime.json"


def default_threads() -> int:
    """The thread count MXNet uses here (``OMP_NUM_THREADS``, which cvcore sets), so contenders are compared fairly."""
    from cvcore._environment import usable_cores

    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else usable_cores()


class OpenVINONet:
    """An OpenVINO model behind a block's interface: an input ``NDArray`` in, ``NDArray`` outputs out.

    The model is compiled for each input shape it meets (static shapes run
    fastest) on ``threads`` CPU threads, in ``precision`` (``fp32`` or ``bf16``;
    an INT8 model runs its quantized layers in INT8 either way).
    """

    def __init__(self, model: Any, precision: str = "fp32", threads: int | None = None):
        ov = require("openvino")
        if precision not in PRECISIONS:
            raise ConfigError(f"OpenVINO precision {precision!r} is not one of {', '.join(map(repr, PRECISIONS))}.")
        self.model, self.precision = model, precision
        self.threads = threads or default_threads()
        with keep_signal_stack():
            self._core = ov.Core()
            capabilities = self._core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if precision == "bf16" and "BF16" not in capabilities:
            raise CvcoreError("This CPU has no bf16 support in OpenVINO (no AVX-512 BF16 or AMX); use precision='fp32'.")
        self._compiled: dict[tuple[int, ...], Any] = {}

    def __call__(self, x: Any) -> Any:
        array = x.asnumpy() if isinstance(x, mx.nd.NDArray) else np.asarray(x, dtype=np.float32)
        compiled = self.compiled(array.shape)
        with keep_signal_stack():
            results = compiled(array)
        outputs = [mx.nd.from_numpy(results[port], zero_copy=False) for port in compiled.outputs]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def compiled(self, shape: Sequence[int]) -> Any:
        """The model compiled for inputs of ``shape`` (cached)."""
        shape = tuple(int(s) for s in shape)
        if shape not in self._compiled:
            model = self.model.clone()
            model.reshape({model.inputs[0].any_name: shape})
            config = {"INFERENCE_NUM_THREADS": self.threads, "PERFORMANCE_HINT": "LATENCY",
                      "INFERENCE_PRECISION_HINT": PRECISIONS[self.precision]}
            with keep_signal_stack():
                self._compiled[shape] = self._core.compile_model(model, "CPU", config)
        return self._compiled[shape]

    def export(self, prefix: str | os.PathLike) -> None:
        """Write the model as OpenVINO IR (``prefix.xml`` + ``prefix.bin``) and its runtime settings."""
        ov = require("openvino")
        with keep_signal_stack():
            ov.save_model(self.model, f"{prefix}.xml", compress_to_fp16=False)
        Path(f"{prefix}{RUNTIME_SUFFIX}").write_text(json.dumps({"precision": self.precision}))

    def hybridize(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: the OpenVINO model is already a static graph."""


def read_model(path: str | os.PathLike) -> Any:
    """An ``openvino.Model`` from an IR ``.xml`` or an ``.onnx`` file."""
    ov = require("openvino")
    with keep_signal_stack():
        return ov.Core().read_model(str(path))


def load_graph(prefix: str | os.PathLike, ctx: Any = None) -> OpenVINONet:
    """Read back what :meth:`OpenVINONet.export` wrote."""
    xml = Path(f"{prefix}.xml")
    if not xml.is_file():
        raise CvcoreError(f"The deployed OpenVINO model {xml} is missing.")
    settings_file = Path(f"{prefix}{RUNTIME_SUFFIX}")
    settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
    return OpenVINONet(read_model(xml), precision=settings.get("precision", "fp32"))


def to_openvino(net: Any, example: mx.nd.NDArray) -> Any:
    """``net`` (an MXNet block) as an ``openvino.Model``, through an ONNX file with a dynamic batch."""
    ov = require("openvino")
    with tempfile.TemporaryDirectory(prefix="cvcore-onnx-") as tmp:
        onnx_file = export_onnx(net, example, Path(tmp) / "model.onnx")
        with keep_signal_stack():
            return ov.convert_model(str(onnx_file))


def openvino_names(model: Any, mxnet_names: Iterable[str]) -> list[str]:
    """The OpenVINO operations that carry out the MXNet layers ``mxnet_names`` (matched by name)."""
    wanted = set(mxnet_names)
    found = []
    for op in model.get_ordered_ops():
        name = op.get_friendly_name()
        if name in wanted or any(name.startswith(f"{layer}/") or name.startswith(f"{layer}_") for layer in wanted):
            found.append(name)
    return found


def quantize(
    model: Any,
    *,
    calib_data: Iterable[mx.nd.NDArray] | None,
    num_calib_examples: int = 256,
    ignored: Sequence[str] = (),
    preset: str = "performance",
) -> Any:
    """An INT8 ``openvino.Model`` of ``model`` by NNCF post-training quantization on single calibration inputs.

    ``ignored`` are MXNet layer names kept in FP32 (mapped to the OpenVINO
    operations exported from them); ``preset`` is NNCF's ``performance``
    (symmetric) or ``mixed`` (asymmetric activations).
    """
    nncf = require("nncf")
    if calib_data is None:
        raise ConfigError("int8 with backend='openvino' needs calib_data (a dataset or input batches) for NNCF.")
    presets = {"performance": nncf.QuantizationPreset.PERFORMANCE, "mixed": nncf.QuantizationPreset.MIXED}
    if preset not in presets:
        raise ConfigError(f"preset={preset!r} is not one of {', '.join(map(repr, presets))}.")
    samples = []
    for batch in calib_data:
        samples.extend(batch.asnumpy()[i:i + 1] for i in range(batch.shape[0]))
        if len(samples) >= num_calib_examples:
            break
    if not samples:
        raise ConfigError("The calibration data yielded no batches.")
    names = openvino_names(model, ignored)
    if ignored and not names:
        raise CvcoreError(f"None of the excluded layers {sorted(ignored)} was found in the OpenVINO model.")
    with keep_signal_stack():
        return nncf.quantize(
            model,
            nncf.Dataset(samples[:num_calib_examples]),
            preset=presets[preset],
            subset_size=min(len(samples), num_calib_examples),
            ignored_scope=nncf.IgnoredScope(names=names, validate=False) if names else None,
        )
