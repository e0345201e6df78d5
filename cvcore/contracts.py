"""The structural contracts of the parts, checked by tracing them symbolically (no computation, no weights).

Assembly runs these checks so that a part which breaks its kind's contract
(:mod:`cvcore.hookspecs`) fails with an error naming it, instead of a shape
error deep inside MXNet at the first forward pass; :mod:`cvcore.testing`
runs them too, beside the checks that need real data.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Sequence

import mxnet as mx
from mxnet import gluon

from .errors import IncompatiblePartsError

Shape = tuple[int, ...]


def require_block(part: Any, what: str, hook: str) -> None:
    """``part`` is a ``HybridBlock``; else an error saying what the factory returned instead."""
    if not isinstance(part, gluon.HybridBlock):
        shown = repr(part) if isinstance(part, (str, int, float)) else f"a {type(part).__module__}.{type(part).__name__}"
        raise IncompatiblePartsError(
            f"The {what} built {shown}, not a mxnet.gluon.HybridBlock; its factory must return one "
            f"(the {hook} contract: help(cvcore.hookspecs.{hook}))."
        )


def require_attributes(part: Any, what: str, hook: str, names: Sequence[str] = ("out_channels", "strides")) -> None:
    """``part`` has each attribute of ``names``; else an error listing the missing ones."""
    missing = [name for name in names if not hasattr(part, name)]
    if missing:
        raise IncompatiblePartsError(
            f"The {what} does not expose {' and '.join(missing)}; every such part must "
            f"(the {hook} contract: help(cvcore.hookspecs.{hook}))."
        )


def traced_output_shapes(block: gluon.HybridBlock, input_shapes: Sequence[Shape], what: str, *,
                         single_allowed: bool = False) -> tuple[Shape, ...]:
    """The shapes of the tuple ``block`` returns for inputs of ``input_shapes``, found by symbolic shape inference.

    A block whose forward returns a single array instead of a tuple (unless
    ``single_allowed``, as for heads), or that cannot run on inputs of these
    shapes (its layers disagree with the channels it was given, say), is an
    :class:`~cvcore.errors.IncompatiblePartsError` naming ``what``.
    """
    names = [f"input{index}" for index in range(len(input_shapes))]
    try:
        outputs = block(*[mx.sym.var(name) for name in names])
    except mx.base.MXNetError as exc:
        shapes = list(input_shapes)
        raise IncompatiblePartsError(f"The {what} could not be traced on inputs of shapes {shapes}: {_first_line(exc)}") from exc
    if single_allowed and not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    if not isinstance(outputs, (list, tuple)):
        raise IncompatiblePartsError(
            f"The {what} returns a single {type(outputs).__name__} where a tuple of feature maps is expected; "
            "return (x,) for one feature map."
        )
    if not outputs:
        raise IncompatiblePartsError(f"The {what} returns an empty tuple; it must return at least one feature map.")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # MXNet prints the arguments before raising; the error says it all
            _, shapes, _ = mx.sym.Group(list(outputs)).infer_shape(**dict(zip(names, input_shapes)))
    except mx.base.MXNetError as exc:
        raise IncompatiblePartsError(
            f"The {what} does not run on inputs of shapes {list(input_shapes)}: its layers disagree about a shape "
            f"(MXNet: {_first_line(exc)})."
        ) from exc
    return tuple(tuple(int(size) for size in shape) for shape in shapes)


def check_feature_maps(shapes: Sequence[Shape], channels: Sequence[int], strides: Sequence[int], input_size: Sequence[int],
                       what: str) -> None:
    """Feature maps of ``shapes`` have the ``channels`` and ``strides`` a part claims (for an input of ``input_size``, H x W)."""
    if len(shapes) != len(channels):
        raise IncompatiblePartsError(
            f"The {what} returns {len(shapes)} feature maps but claims {len(channels)} (out_channels={tuple(channels)})."
        )
    for index, (shape, claimed, stride) in enumerate(zip(shapes, channels, strides)):
        if len(shape) != 4:
            raise IncompatiblePartsError(f"The {what} returns feature map {index} of shape {shape}; feature maps are NCHW.")
        if shape[1] != claimed:
            raise IncompatiblePartsError(
                f"The {what} claims {claimed} channels for feature map {index} (out_channels={tuple(channels)}) "
                f"but gives {shape[1]} (shape {shape})."
            )
        expected = [size / stride for size in input_size]
        if any(abs(got - want) >= 1 for got, want in zip(shape[2:], expected)):
            raise IncompatiblePartsError(
                f"The {what} claims stride {stride} for feature map {index} (strides={tuple(strides)}), so "
                f"{'x'.join(map(str, input_size))} input should give about {'x'.join(f'{e:g}' for e in expected)}, "
                f"but it gives {shape[2]}x{shape[3]}."
            )


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and not line.startswith(("Traceback", "  File", "["))]
    return lines[0] if lines else type(exc).__name__
