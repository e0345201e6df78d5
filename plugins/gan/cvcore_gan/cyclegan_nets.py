"""CycleGAN's networks (Zhu et al., 2017): the ResNet generator and the 70x70 PatchGAN, named as GluonCV's tables."""
from __future__ import annotations

from mxnet.gluon import HybridBlock, nn

from .srgan_nets import GAN_INIT, conv


def _up(in_channels: int, channels: int) -> nn.Conv2DTranspose:
    """A 3x3 transposed conv that doubles the map exactly (weight ``in x out x 3 x 3``)."""
    return nn.Conv2DTranspose(channels, 3, strides=2, padding=1, output_padding=1, in_channels=in_channels,
                              weight_initializer=GAN_INIT)


class _ResidualBlock(HybridBlock):
    """``x + conv_block(x)``: twice reflection pad 1, 3x3 conv, InstanceNorm, with a ReLU between."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        with self.name_scope():
            self.conv_block = nn.HybridSequential()
            self.conv_block.add(nn.ReflectionPad2D(1), conv(channels, 3, channels), nn.InstanceNorm(in_channels=channels),
                                nn.Activation("relu"),
                                nn.ReflectionPad2D(1), conv(channels, 3, channels), nn.InstanceNorm(in_channels=channels))

    def hybrid_forward(self, F, x):
        return x + self.conv_block(x)


class ResnetGenerator(HybridBlock):
    """``N x 3 x H x W`` in [-1, 1] (H, W multiples of 4) to the same size in [-1, 1].

    One ``model``: a reflection-padded 7x7 conv, two stride-2 convs (to
    ``4 * channels``), ``blocks`` residual blocks, two transposed convs back, a
    reflection-padded 7x7 conv to 3 and tanh; InstanceNorm and ReLU after each
    inner conv.
    """

    def __init__(self, *, blocks: int = 9, channels: int = 64) -> None:
        super().__init__()
        with self.name_scope():
            self.model = nn.HybridSequential()
            self.model.add(nn.ReflectionPad2D(3), conv(channels, 7, 3), nn.InstanceNorm(in_channels=channels), nn.Activation("relu"))
            for width in (channels, channels * 2):
                self.model.add(conv(width * 2, 3, width, strides=2, padding=1), nn.InstanceNorm(in_channels=width * 2),
                               nn.Activation("relu"))
            self.model.add(*(_ResidualBlock(channels * 4) for _ in range(blocks)))
            for width in (channels * 4, channels * 2):
                self.model.add(_up(width, width // 2), nn.InstanceNorm(in_channels=width // 2), nn.Activation("relu"))
            self.model.add(nn.ReflectionPad2D(3), conv(3, 7, channels), nn.Activation("tanh"))

    def hybrid_forward(self, F, x):
        return self.model(x)


class PatchDiscriminator(HybridBlock):
    """The 70x70 PatchGAN: ``N x 3 x H x W`` to ``N x 1 x (H/8 - 2) x (W/8 - 2)`` logits, one per overlapping patch.

    4x4 convs: three of stride 2 (64, 128, 256 channels), one of stride 1 to
    512, one of stride 1 to the logit; InstanceNorm after all but the first and
    last, LeakyReLU(0.2) after all but the last.
    """

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.model = nn.HybridSequential()
            self.model.add(conv(64, 4, 3, strides=2, padding=1), nn.LeakyReLU(0.2))
            for width, strides in ((64, 2), (128, 2), (256, 1)):
                self.model.add(conv(width * 2, 4, width, strides=strides, padding=1), nn.InstanceNorm(in_channels=width * 2),
                               nn.LeakyReLU(0.2))
            self.model.add(conv(1, 4, 512, padding=1))

    def hybrid_forward(self, F, x):
        return self.model(x)
