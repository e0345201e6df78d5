"""VGG16 (with and without BatchNorm) and SSD's atrous VGG16, parameter-compatible with GluonCV.

``vgg16`` / ``vgg16_bn`` keep GluonCV's flat ``features`` sequence (3x3 conv,
[BN,] ReLU per conv; a 2x2 max pool closing each of the five blocks) with the
same indices. GluonCV also puts fc6 and fc7 into ``features``; here the
backbone stops at the last pool and fc6, fc7 and the logits form the
``vgg_classifier`` head, so the zoo entries map those keys to ``head.*``.

Stages of ``vgg16`` (each ends with its block's max pool; ``vgg16_bn`` has the
same stages, its pools at ``features.6/13/23/33/43``):

====  ======  ========  ===========================  ===========
name  stride  channels  layers                       last layer
====  ======  ========  ===========================  ===========
c1    2       64        conv1_1, conv1_2, pool1      features.4
c2    4       128       conv2_1, conv2_2, pool2      features.9
c3    8       256       conv3_1 .. conv3_3, pool3    features.16
c4    16      512       conv4_1 .. conv4_3, pool4    features.23
c5    32      512       conv5_1 .. conv5_3, pool5    features.30
====  ======  ========  ===========================  ===========

``vgg16_atrous`` is the base network of GluonCV's SSD (its ``VGGAtrousBase``);
see :class:`VGGAtrous`.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Mapping, Sequence

import mxnet as mx
from mxnet.gluon import HybridBlock, nn

from ...component import Component
from ...zoo import classification_model
from ..backbone import Backbone, SequentialBackbone
from ..blocks import NormFactory
from ..norm import norm_factory

VGG16_LAYERS: tuple[int, ...] = (2, 2, 3, 3, 3)
"""Convolutions in each of VGG16's five blocks."""
VGG19_LAYERS: tuple[int, ...] = (2, 2, 4, 4, 4)
"""Convolutions in each of VGG19's five blocks (the content loss of SRGAN reads its features)."""
VGG_FILTERS: tuple[int, ...] = (64, 128, 256, 512, 512)
FC_UNITS = 4096
ATROUS_FC_CHANNELS = 1024
PIXEL_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
"""ImageNet std in pixels: ``vgg16_atrous`` multiplies its (mean/std-normalized) input by it, as its Caffe-born weights expect."""

# GluonCV's VGG initialization: convs Xavier (gaussian, fan-out, magnitude 2), dense layers N(0, 0.01), biases zero.
CONV_INIT = mx.init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2)
DENSE_INIT = "normal"


class VGG(SequentialBackbone):
    """VGG feature extractor (`arXiv:1409.1556 <https://arxiv.org/abs/1409.1556>`_): the conv blocks, no fc layers.

    ``batch_norm=True`` puts a ``norm_layer`` after every conv (GluonCV's
    ``vgg16_bn``); without it ``norm_layer`` is accepted and unused.
    """

    def __init__(
        self,
        layers: Sequence[int] = VGG16_LAYERS,
        filters: Sequence[int] = VGG_FILTERS,
        *,
        batch_norm: bool = False,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        norm = norm_factory(norm_layer, norm_kwargs) if batch_norm else None
        in_channels, stride = 3, 1
        with self.name_scope():
            for count, channels in zip(layers, filters):
                for _ in range(count):
                    self.add_layers(*_conv_relu(in_channels, channels, norm))
                    in_channels = channels
                self.add_layers(nn.MaxPool2D(pool_size=2, strides=2))
                stride *= 2
                self.end_stage(channels, stride)
        self.finish(out_features)


class VGGClassifierHead(HybridBlock):
    """VGG's fully connected top: fc6 and fc7 (Dense + ReLU + Dropout each), then the class logits.

    fc6 flattens the last feature map, so its size is fixed: ``feature_size``
    is that map's height and width (7 for VGG16's c5 at 224x224 input).
    """

    in_features = 1

    def __init__(
        self,
        in_channels: Sequence[int],
        in_strides: Sequence[int] = (),
        classes: int = 1000,
        *,
        feature_size: int = 7,
        hidden: int = FC_UNITS,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.feature_size = int(feature_size)
        flat = int(in_channels[-1]) * self.feature_size**2
        with self.name_scope():
            self.fc6 = nn.Dense(hidden, activation="relu", in_units=flat, weight_initializer=DENSE_INIT)
            self.drop6 = nn.Dropout(dropout)
            self.fc7 = nn.Dense(hidden, activation="relu", in_units=hidden, weight_initializer=DENSE_INIT)
            self.drop7 = nn.Dropout(dropout)
            self.fc = nn.Dense(classes, in_units=hidden, weight_initializer=DENSE_INIT)

    def forward(self, x, *args):
        size = (self.feature_size, self.feature_size)
        if isinstance(x, mx.nd.NDArray) and tuple(x.shape[2:]) != size:
            raise ValueError(
                f"vgg_classifier expects {size[0]}x{size[1]} feature maps but got {x.shape[2]}x{x.shape[3]}: "
                f"build it with feature_size={x.shape[2]} (or feed the input size it was made for, e.g. 224x224 for VGG16)."
            )
        return super().forward(x, *args)

    def hybrid_forward(self, F, x):
        x = self.drop6(self.fc6(x))
        x = self.drop7(self.fc7(x))
        return self.fc(x)


class L2Norm(HybridBlock):
    """L2 normalization across channels at each pixel, times a learned per-channel ``scale`` (SSD's conv4_3 norm)."""

    def __init__(self, channels: int, initial: float = 20.0, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        with self.name_scope():
            self.scale = self.params.get("scale", shape=(1, channels, 1, 1), init=mx.init.Constant(initial))

    def hybrid_forward(self, F, x, scale):
        return F.broadcast_mul(F.L2Normalization(x, mode="channel", eps=self.eps), scale)


class VGGAtrous(Backbone):
    """VGG16 as SSD's base network (`arXiv:1512.02325 <https://arxiv.org/abs/1512.02325>`_), GluonCV's ``VGGAtrousBase``.

    Layout (``stages.0``-``stages.4`` are VGG16's conv blocks, ``stages.5`` = fc6, fc7):
    input x ``init_scale`` (a constant, :data:`PIXEL_STD`) -> blocks 1-3, each
    followed by a 2x2 max pool (ceil mode) -> block 4, whose output conv4_3 goes
    through :class:`L2Norm` ``norm4`` -> 2x2 pool -> block 5 -> 3x3 max pool,
    stride 1 -> fc6: 3x3 conv, 1024, dilation 6 -> fc7: 1x1 conv, 1024.

    Features: ``conv4_3`` (stride 8, 512 channels, L2-normalized and scaled)
    and ``fc7`` (stride 16, 1024 channels). With ceil-mode pooling a 300x300
    input gives 38x38 and 19x19 maps. Asked for conv4_3 only, block 5 and
    fc6/fc7 are not built. ``batch_norm=True`` adds a norm layer after every
    conv; otherwise ``norm_layer`` is accepted and unused.
    """

    def __init__(
        self,
        *,
        batch_norm: bool = False,
        out_features: Sequence[str] | None = None,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        norm = norm_factory(norm_layer, norm_kwargs) if batch_norm else None
        self.select_features(out_features, {"conv4_3": VGG_FILTERS[3], "fc7": ATROUS_FC_CHANNELS}, {"conv4_3": 8, "fc7": 16})
        with self.name_scope():
            self.init_scale = self.params.get_constant("init_scale", mx.nd.array(PIXEL_STD).reshape((1, 3, 1, 1)))
            self.stages = nn.HybridSequential()
            in_channels = 3
            with_fc7 = self.last_feature == "fc7"  # block 5, fc6 and fc7 only lead to fc7
            for count, channels in zip(VGG16_LAYERS[: 5 if with_fc7 else 4], VGG_FILTERS):
                stage = nn.HybridSequential(prefix="")
                for _ in range(count):
                    stage.add(*_conv_relu(in_channels, channels, norm))
                    in_channels = channels
                self.stages.add(stage)
            if with_fc7:
                fc = nn.HybridSequential(prefix="")
                fc.add(*_conv_relu(in_channels, ATROUS_FC_CHANNELS, norm, kernel=3, dilation=6))
                fc.add(*_conv_relu(ATROUS_FC_CHANNELS, ATROUS_FC_CHANNELS, norm, kernel=1))
                self.stages.add(fc)
            self.norm4 = L2Norm(VGG_FILTERS[3])
            self.pool = nn.MaxPool2D(pool_size=2, strides=2, ceil_mode=True)
            self.pool5 = nn.MaxPool2D(pool_size=3, strides=1, padding=1, ceil_mode=True)

    def hybrid_forward(self, F, x, init_scale):
        x = F.broadcast_mul(x, init_scale)
        for index in range(3):
            x = self.pool(self.stages[index](x))
        x = self.stages[3](x)
        outputs = {"conv4_3": self.norm4(x)}
        if self.last_feature == "fc7":
            x = self.pool5(self.stages[4](self.pool(x)))
            outputs["fc7"] = self.stages[5](x)
        return self.pick(outputs)


def _conv_relu(in_channels: int, channels: int, norm: NormFactory | None, *, kernel: int = 3, dilation: int = 1) -> list[HybridBlock]:
    """A size-preserving convolution, its normalization when ``norm`` is given, and a ReLU."""
    layers = [
        nn.Conv2D(
            channels, kernel, padding=dilation * (kernel // 2), dilation=dilation,
            in_channels=in_channels, weight_initializer=CONV_INIT, bias_initializer="zeros",
        )
    ]
    if norm is not None:
        layers.append(norm(in_channels=channels))
    return layers + [nn.Activation("relu")]


def name_map(batch_norm: bool, layers: Sequence[int] = VGG16_LAYERS) -> dict[str, str]:
    """GluonCV's VGG keys -> the pipeline's: fc6/fc7 (after the conv layers in ``features``) go to the head."""
    fc6 = sum(layers) * (3 if batch_norm else 2) + len(layers)  # conv, [BN,] ReLU per conv; a pool per block
    return {
        f"features.{fc6}.": "head.fc6.",
        f"features.{fc6 + 2}.": "head.fc7.",  # fc6 is followed by its dropout
        "features.": "backbone.features.",
        "output.": "head.fc.",
    }


def backbones() -> list[Component]:
    return [
        Component("vgg16", VGG, "VGG16 conv blocks (no BN; norm_layer unused), stages c1-c5 (strides 2-32)."),
        Component("vgg16_bn", partial(VGG, batch_norm=True), "VGG16 conv blocks with a norm layer after every conv, stages c1-c5."),
        Component("vgg19", partial(VGG, VGG19_LAYERS), "VGG19 conv blocks (no BN; norm_layer unused), stages c1-c5 (strides 2-32)."),
        Component("vgg19_bn", partial(VGG, VGG19_LAYERS, batch_norm=True),
                  "VGG19 conv blocks with a norm layer after every conv, stages c1-c5."),
        Component("vgg16_atrous", VGGAtrous, "SSD's atrous VGG16: conv4_3 (L2-normalized, stride 8) and dilated fc6/fc7 (stride 16)."),
    ]


def heads() -> list[Component]:
    return [
        Component(
            "vgg_classifier",
            VGGClassifierHead,
            "VGG's fc6, fc7 (4096 units, ReLU, dropout) and class logits; feature_size = input height / 32.",
            {"in_features": 1},
        )
    ]


def classification_models() -> list[Component]:
    return [
        classification_model(
            name,
            name,
            name_map(batch_norm=name.endswith("_bn"), layers=VGG19_LAYERS if name.startswith("vgg19") else VGG16_LAYERS),
            f"{name}, ImageNet 1000 classes at 224x224 (GluonCV's weights).",
            head="vgg_classifier",
        )
        for name in ("vgg16", "vgg16_bn", "vgg19", "vgg19_bn")
    ]
