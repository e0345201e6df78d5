"""The operator table of the ONNX bridge: one small network per MXNet operator, and the input it runs on.

Every operator in every zoo model's graph is here (a test collects them from the graphs), with the
common ones a stranger's part would use: reductions, slicing, upsampling, pixel shuffle, padding,
instance norm, softmax, arg-max, top-k, where, clip and broadcast arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mxnet import gluon
from mxnet.gluon import nn


class OneOp(gluon.HybridBlock):
    """``forward(x) = fn(F, x)``, with ``layer`` (a Gluon layer holding parameters) as ``self.layer`` when given."""

    def __init__(self, fn: Callable[..., Any], layer: gluon.HybridBlock | None = None):
        super().__init__()
        self.fn = fn
        with self.name_scope():
            self.layer = layer

    def hybrid_forward(self, F, x):
        return self.fn(F, x, self.layer) if self.layer is not None else self.fn(F, x)


@dataclass(frozen=True)
class Case:
    op: str
    """The MXNet operator, as the graph's JSON names it."""
    build: Callable[[], gluon.HybridBlock]
    shape: tuple[int, ...] = (2, 4, 8, 8)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}[{self.label}]" if self.label else self.op


def layer(block: Callable[[], gluon.HybridBlock]) -> Callable[[], gluon.HybridBlock]:
    return lambda: OneOp(lambda F, x, inner: inner(x), block())


def op(fn: Callable[..., Any]) -> Callable[[], gluon.HybridBlock]:
    return lambda: OneOp(fn)


CASES = [
    # the zoo's operators
    Case("Activation", op(lambda F, x: F.Activation(x, act_type="relu")), label="relu"),
    Case("Activation", op(lambda F, x: F.Activation(x, act_type="sigmoid")), label="sigmoid"),
    Case("Activation", op(lambda F, x: F.Activation(x, act_type="tanh")), label="tanh"),
    Case("Activation", op(lambda F, x: F.Activation(x, act_type="softrelu")), label="softrelu"),
    Case("BatchNorm", layer(lambda: nn.BatchNorm(in_channels=4))),
    Case("Convolution", layer(lambda: nn.Conv2D(6, 3, padding=1, in_channels=4)), label="3x3"),
    Case("Convolution", layer(lambda: nn.Conv2D(8, 3, strides=2, padding=1, groups=2, in_channels=4)), label="grouped strided"),
    Case("Convolution", layer(lambda: nn.Conv2D(4, 3, padding=2, dilation=2, groups=4, in_channels=4)), label="depthwise dilated"),
    Case("Deconvolution", layer(lambda: nn.Conv2DTranspose(3, 4, strides=2, padding=1, in_channels=4, use_bias=False))),
    Case("Dropout", layer(lambda: nn.Dropout(0.5))),
    Case("Flatten", op(lambda F, x: F.Flatten(x))),
    Case("FullyConnected", layer(lambda: nn.Dense(5, in_units=4 * 8 * 8))),
    Case("Pooling", op(lambda F, x: F.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")), label="max"),
    Case("Pooling", op(lambda F, x: F.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="avg")), label="avg"),
    Case("Pooling", op(lambda F, x: F.Pooling(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="avg",
                                              count_include_pad=False)), label="avg excluding padding"),
    Case("Pooling", op(lambda F, x: F.Pooling(x, global_pool=True, kernel=(1, 1), pool_type="avg")), label="global avg"),
    Case("Pooling", op(lambda F, x: F.Pooling(x, global_pool=True, kernel=(1, 1), pool_type="max")), label="global max"),
    Case("broadcast_mul", op(lambda F, x: F.broadcast_mul(x, F.mean(x, axis=(2, 3), keepdims=True)))),
    Case("elemwise_add", op(lambda F, x: x + F.relu(x))),
    # what a stranger's part would use
    Case("mean", op(lambda F, x: F.mean(x, axis=(2, 3), keepdims=True)), label="keepdims"),
    Case("mean", op(lambda F, x: F.mean(x, axis=1)), label="one axis"),
    Case("max", op(lambda F, x: F.max(x, axis=(2, 3), keepdims=True))),
    Case("min", op(lambda F, x: F.min(x, axis=(2, 3)))),
    Case("sum", op(lambda F, x: F.sum(x, axis=(1, 3), keepdims=True))),
    Case("slice_axis", op(lambda F, x: F.slice_axis(x, axis=1, begin=1, end=3))),
    Case("slice", op(lambda F, x: F.slice(x, begin=(None, 0, 2, 1), end=(None, 2, 6, 7)))),
    Case("Concat", op(lambda F, x: F.concat(x, F.relu(x), dim=1))),
    Case("UpSampling", op(lambda F, x: F.UpSampling(x, scale=2, sample_type="nearest")), label="nearest"),
    Case("_contrib_BilinearResize2D", op(lambda F, x: F.contrib.BilinearResize2D(x, scale_height=2, scale_width=2,
                                                                                   align_corners=False)), label="bilinear"),
    Case("depth_to_space", op(lambda F, x: F.depth_to_space(x, block_size=2)), label="pixel shuffle"),
    Case("Pad", op(lambda F, x: F.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 1, 1, 1, 1))), label="reflect"),
    Case("Pad", op(lambda F, x: F.pad(x, mode="edge", pad_width=(0, 0, 0, 0, 2, 2, 2, 2))), label="edge"),
    Case("InstanceNorm", layer(lambda: nn.InstanceNorm(in_channels=4))),
    Case("softmax", op(lambda F, x: F.softmax(x, axis=1))),
    Case("log_softmax", op(lambda F, x: F.log_softmax(x, axis=1))),
    Case("argmax", op(lambda F, x: F.argmax(x, axis=1))),
    Case("topk", op(lambda F, x: F.topk(x, axis=1, k=2, ret_typ="value"))),
    Case("where", op(lambda F, x: F.where(x > 0, x, x * 0.1))),
    Case("clip", op(lambda F, x: F.clip(x, -0.5, 0.5))),
    Case("broadcast_add", op(lambda F, x: F.broadcast_add(x, F.mean(x, axis=1, keepdims=True)))),
    Case("broadcast_sub", op(lambda F, x: F.broadcast_sub(x, F.mean(x, axis=1, keepdims=True)))),
    Case("broadcast_div", op(lambda F, x: F.broadcast_div(x, F.sum(F.abs(x), axis=1, keepdims=True) + 1))),
    Case("LeakyReLU", layer(lambda: nn.LeakyReLU(0.1)), label="leaky"),
    Case("LeakyReLU", layer(lambda: nn.PReLU(in_channels=4)), label="prelu"),
    Case("transpose", op(lambda F, x: F.transpose(x, axes=(0, 2, 3, 1)))),
    Case("Reshape", op(lambda F, x: F.reshape(x, shape=(0, -1)))),
    Case("reshape_like", op(lambda F, x: F.reshape_like(F.transpose(x.reshape((0, 2, 2, -1)), axes=(0, 2, 1, 3)), x))),
    Case("tanh", op(lambda F, x: F.tanh(x))),
    Case("_contrib_SyncBatchNorm", layer(lambda: gluon.contrib.nn.SyncBatchNorm(in_channels=4))),
]
"""Every case; the ONNX bridge must export each, and OpenVINO must give MXNet's outputs."""
