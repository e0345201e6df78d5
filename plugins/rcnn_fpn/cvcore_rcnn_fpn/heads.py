"""The per-region heads: box features with class and box predictors, and the mask head."""
from __future__ import annotations

from typing import Any, Mapping

from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError
from cvcore.nn.norm import norm_factory

BOX_HEADS = ("fc", "conv")
MASK_INIT = init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2)


def box_features(kind: str, in_channels: int, roi_size: int, *, norm_layer: str = "BatchNorm",
                 norm_kwargs: Mapping[str, Any] | None = None) -> nn.HybridSequential:
    """Region features -> a 1024-d vector per region.

    ``"fc"``: two 1024-d fully connected layers (Faster/Mask R-CNN FPN); ``"conv"``:
    a 3x3 convolution with a normalization, then one (GluonCV's BatchNorm model).
    Regions pooled larger than 7x7 (Mask R-CNN pools 14x14 for its masks) are
    first averaged down to 7x7.
    """
    if kind not in BOX_HEADS:
        raise ConfigError(f"Unknown box_head {kind!r}; use one of {', '.join(BOX_HEADS)}.")
    normal = init.Normal(0.01)
    layers = nn.HybridSequential()
    pooled = roi_size
    if roi_size > 7:
        layers.add(nn.AvgPool2D(pool_size=3, strides=2, padding=1))
        pooled = (roi_size + 1) // 2
    if kind == "conv":
        layers.add(nn.Conv2D(in_channels, 3, padding=1, in_channels=in_channels, use_bias=False),
                   norm_factory(norm_layer, norm_kwargs)(in_channels=in_channels), nn.Activation("relu"))
    width = in_channels * pooled * pooled
    for _ in range(2 if kind == "fc" else 1):
        layers.add(nn.Dense(1024, in_units=width, weight_initializer=normal), nn.Activation("relu"))
        width = 1024
    return layers


class MaskHead(HybridBlock):
    """Four 3x3 convolutions of ``channels``, a 2x transposed convolution, and a 1x1 convolution to one mask per class.

    ``(R, C, 14, 14)`` region features -> ``(R, classes, 28, 28)`` mask logits.
    """

    def __init__(self, in_channels: int, classes: int, channels: int = 256, convs: int = 4) -> None:
        super().__init__()
        xavier, self.channels = MASK_INIT, channels
        with self.name_scope():
            self.deconv = nn.HybridSequential()
            width = in_channels
            for _ in range(convs):
                self.deconv.add(nn.Conv2D(channels, 3, padding=1, in_channels=width, weight_initializer=xavier), nn.Activation("relu"))
                width = channels
            self.deconv.add(nn.Conv2DTranspose(channels, 2, strides=2, in_channels=channels, weight_initializer=xavier))
            self.mask = self.predictor(classes)

    def predictor(self, classes: int) -> nn.Conv2D:
        """The 1x1 convolution to one mask per class (a new one for new classes)."""
        return nn.Conv2D(classes, 1, in_channels=self.channels, weight_initializer=MASK_INIT)

    def hybrid_forward(self, F, x):
        return self.mask(F.relu(self.deconv(x)))
