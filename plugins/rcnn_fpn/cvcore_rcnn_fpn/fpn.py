"""The feature pyramid neck: P2-P6 from any backbone's C2-C5 (Lin et al., "Feature Pyramid Networks", CVPR 2017)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError
from cvcore.nn.norm import norm_factory


class FPN(HybridBlock):
    """Top-down pyramid with lateral connections: ``(C2, C3, C4, C5) -> (P2, P3, P4, P5, P6)``, ``channels`` wide.

    Each input gets a 1x1 lateral convolution; from the coarsest down, the
    running map is upsampled twice (nearest), cropped to the lateral's size and
    added; a 3x3 convolution then smooths each level. P6 is a stride-2 3x3
    convolution of C5's lateral. With ``norm_layer`` (the BatchNorm variant)
    each convolution loses its bias and is followed by a normalization, as in
    GluonCV's ``faster_rcnn_fpn_syncbn`` model. Works under any backbone that
    gives four maps whose strides double.
    """

    def __init__(self, in_channels: Sequence[int], in_strides: Sequence[int], *, channels: int = 256,
                 norm_layer: str | None = None, norm_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if len(in_channels) != 4 or any(b != 2 * a for a, b in zip(in_strides, in_strides[1:])):
            raise ConfigError(f"The FPN neck takes four feature maps whose strides double (C2-C5); got strides {list(in_strides)}.")
        self.out_channels = (channels,) * 5
        self.strides = (*in_strides, in_strides[-1] * 2)
        self.normalized = norm_layer is not None
        xavier = init.Xavier(rnd_type="uniform", factor_type="in", magnitude=1.0)
        bias = not self.normalized
        with self.name_scope():
            self.lateral = nn.HybridSequential()
            self.output = nn.HybridSequential()
            for width in in_channels:
                self.lateral.add(nn.Conv2D(channels, 1, in_channels=width, use_bias=bias, weight_initializer=xavier))
                self.output.add(nn.Conv2D(channels, 3, padding=1, in_channels=channels, use_bias=bias, weight_initializer=xavier))
            self.p6 = nn.Conv2D(channels, 3, strides=2, padding=1, in_channels=channels, use_bias=bias, weight_initializer=xavier)
            if self.normalized:
                norm = norm_factory(norm_layer, norm_kwargs)
                self.lateral_norm = nn.HybridSequential()
                self.output_norm = nn.HybridSequential()
                for _ in in_channels:
                    self.lateral_norm.add(norm(in_channels=channels))
                    self.output_norm.add(norm(in_channels=channels))
                self.p6_norm = norm(in_channels=channels)

    def hybrid_forward(self, F, c2, c3, c4, c5):
        inputs = (c2, c3, c4, c5)
        laterals = [self._norm("lateral_norm", i, self.lateral[i](x)) for i, x in enumerate(inputs)]
        p6 = self.p6(laterals[-1])
        if self.normalized:
            p6 = self.p6_norm(p6)
        running, outputs = laterals[-1], [None] * 4
        for level in range(3, -1, -1):
            if level < 3:
                upsampled = F.UpSampling(running, scale=2, sample_type="nearest")
                running = laterals[level] + F.slice_like(upsampled, laterals[level], axes=(2, 3))
            outputs[level] = self._norm("output_norm", level, self.output[level](running))
        return (*outputs, p6)

    def _norm(self, name: str, index: int, x):
        return getattr(self, name)[index](x) if self.normalized else x
