"""SRGAN's networks (Ledig et al., 2017): the SRResNet 4x generator and its discriminator, named as GluonCV's tables."""
from __future__ import annotations

import mxnet as mx
import numpy as np
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError

GAN_INIT = mx.init.Normal(0.02)
"""The convolution weights' initializer of the SRGAN and CycleGAN papers (biases start at zero, norm layers at 1 and 0)."""
ACTIVATIONS = ("prelu", "relu")
CUBIC_A = -0.75
"""The bicubic kernel's ``a`` of OpenCV's ``INTER_CUBIC`` (the degradation and the baseline of the SR data)."""
CUBIC_TAPS = 5
"""Input pixels per axis that any output pixel of a 2x or 4x bicubic upscaling reads (the centre one and two each side)."""


def pixel_shuffle(F, x, channels: int, factor: int = 2):
    """``(N, C * f * f, H, W) -> (N, C, f * H, f * W)``, C = ``channels``: ``out[c, f*h + i, f*w + j] = x[c*f*f + i*f + j, h, w]``.

    The usual sub-pixel order (PyTorch's ``PixelShuffle``). MXNet's ``depth_to_space``
    reads ``x[(i * f + j) * channels + c]`` instead, so the channels are regrouped
    first, with reshapes that ONNX can express (no MXNet-only shape codes).
    ``F`` is ``mx.nd`` or ``mx.sym``.
    """
    grouped = x.reshape((0, channels, factor * factor, -1)).transpose((0, 2, 1, 3))  # N, f*f, C, H*W
    return F.depth_to_space(F.reshape_like(grouped, x), factor)


def _cubic(distance: np.ndarray) -> np.ndarray:
    t = np.abs(distance)
    near = ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1
    far = ((CUBIC_A * t - 5 * CUBIC_A) * t + 8 * CUBIC_A) * t - 4 * CUBIC_A
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def bicubic_kernel(channels: int, factor: int) -> np.ndarray:
    """The weights of a ``CUBIC_TAPS`` x ``CUBIC_TAPS`` convolution whose :func:`pixel_shuffle` is bicubic upscaling by ``factor``.

    Output phase ``(i, j)`` of channel ``c`` samples the input at ``(h + d_i, w + d_j)``,
    ``d_i = (i + 0.5) / factor - 0.5`` (pixel centres aligned, as OpenCV does), so
    its taps are the cubic kernel at the distances from ``d_i`` to ``-2 .. 2``.
    Shape ``(channels * factor**2, channels, CUBIC_TAPS, CUBIC_TAPS)``.
    """
    offsets = (np.arange(factor) + 0.5) / factor - 0.5
    taps = _cubic(np.arange(CUBIC_TAPS)[None, :] - CUBIC_TAPS // 2 - offsets[:, None])  # (factor, taps)
    phases = taps[:, None, :, None] * taps[None, :, None, :]  # (i, j, ky, kx)
    kernel = np.zeros((channels, factor, factor, channels, CUBIC_TAPS, CUBIC_TAPS), np.float32)
    for c in range(channels):
        kernel[c, :, :, c] = phases
    return kernel.reshape(channels * factor * factor, channels, CUBIC_TAPS, CUBIC_TAPS)


class BicubicUpscale(HybridBlock):
    """Fixed bicubic upscaling by ``factor`` as a convolution and a pixel shuffle, edges replicated as OpenCV does.

    Differentiable and exportable (Pad, Conv, Reshape, Transpose, DepthToSpace);
    the kernel is a constant, so it trains nothing and is saved with the weights.
    """

    def __init__(self, channels: int = 3, factor: int = 4) -> None:
        super().__init__()
        self.channels, self.factor = channels, factor
        with self.name_scope():
            self.kernel = self.params.get_constant("kernel", bicubic_kernel(channels, factor))

    def hybrid_forward(self, F, x, kernel):
        pad = CUBIC_TAPS // 2
        padded = F.pad(x, mode="edge", pad_width=(0, 0, 0, 0, pad, pad, pad, pad))
        phases = F.Convolution(padded, kernel, kernel=(CUBIC_TAPS, CUBIC_TAPS), num_filter=self.channels * self.factor ** 2,
                               no_bias=True)
        return pixel_shuffle(F, phases, self.channels, self.factor)


def conv(channels: int, kernel: int, in_channels: int, *, strides: int = 1, padding: int = 0, use_bias: bool = True) -> nn.Conv2D:
    """A convolution with its input width given (no deferred shapes) and :data:`GAN_INIT` weights."""
    return nn.Conv2D(channels, kernel, strides=strides, padding=padding, in_channels=in_channels, use_bias=use_bias,
                     weight_initializer=GAN_INIT)


def _activation(kind: str) -> HybridBlock:
    return nn.PReLU() if kind == "prelu" else nn.Activation("relu")


class _ResidualBlock(HybridBlock):
    """``x + conv_block(x)``: conv, BatchNorm, activation, conv, BatchNorm, all 3x3 at one width."""

    def __init__(self, channels: int, activation: str) -> None:
        super().__init__()
        with self.name_scope():
            self.conv_block = nn.HybridSequential()
            self.conv_block.add(conv(channels, 3, channels, padding=1, use_bias=False), nn.BatchNorm(in_channels=channels),
                                _activation(activation),
                                conv(channels, 3, channels, padding=1, use_bias=False), nn.BatchNorm(in_channels=channels))

    def hybrid_forward(self, F, x):
        return x + self.conv_block(x)


class _SubpixelBlock(HybridBlock):
    """2x upsampling: a 3x3 conv to four times the width, :func:`pixel_shuffle`, the activation."""

    def __init__(self, channels: int, activation: str) -> None:
        super().__init__()
        with self.name_scope():
            self.conv = conv(channels * 4, 3, channels, padding=1)
            self.act = _activation(activation)
        self.channels = channels

    def hybrid_forward(self, F, x):
        return self.act(pixel_shuffle(F, self.conv(x), self.channels))


class SRGenerator(HybridBlock):
    """SRResNet, 4x: ``N x 3 x h x w`` in [-1, 1] to ``N x 3 x 4h x 4w`` in [-1, 1].

    ``conv1`` and its activation, ``blocks`` residual blocks and a conv +
    BatchNorm (``res_block``) around a global skip, two :func:`pixel_shuffle`
    2x blocks, a 1x1 ``conv4`` and tanh. ``activation="prelu"`` (the paper's)
    adds one shared ``alpha`` per activation; ``"relu"`` has GluonCV's
    parameters exactly. ``bicubic_skip=True`` (not in the paper) adds the
    input's :class:`BicubicUpscale` to ``conv4``'s output in place of the tanh:
    the network starts at bicubic quality and learns only the correction, which
    is what makes short training runs beat bicubic.
    """

    def __init__(self, *, channels: int = 64, blocks: int = 16, activation: str = "prelu", bicubic_skip: bool = False) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(f"SRGenerator activation = {activation!r}: use one of {', '.join(ACTIVATIONS)}.")
        with self.name_scope():
            self.conv1 = conv(channels, 3, 3, padding=1)
            self.act1 = _activation(activation)
            self.res_block = nn.HybridSequential()
            self.res_block.add(*(_ResidualBlock(channels, activation) for _ in range(blocks)))
            self.res_block.add(conv(channels, 3, channels, padding=1, use_bias=False), nn.BatchNorm(in_channels=channels))
            self.subpix_block1 = _SubpixelBlock(channels, activation)
            self.subpix_block2 = _SubpixelBlock(channels, activation)
            self.conv4 = conv(3, 1, channels)
            self.bicubic = BicubicUpscale(3, 4) if bicubic_skip else None

    def hybrid_forward(self, F, x):
        features = self.act1(self.conv1(x))
        features = features + self.res_block(features)
        detail = self.conv4(self.subpix_block2(self.subpix_block1(features)))
        return detail + self.bicubic(x) if self.bicubic is not None else F.tanh(detail)


class _ConvBlock(HybridBlock):
    """``model``: a conv without bias, BatchNorm and LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, channels: int, kernel: int = 4, strides: int = 2, padding: int = 1) -> None:
        super().__init__()
        with self.name_scope():
            self.model = nn.HybridSequential()
            self.model.add(conv(channels, kernel, in_channels, strides=strides, padding=padding, use_bias=False),
                           nn.BatchNorm(in_channels=channels), nn.LeakyReLU(0.2))

    def hybrid_forward(self, F, x):
        return self.model(x)


class SRDiscriminator(HybridBlock):
    """SRGAN's discriminator: ``N x 3 x H x W`` (H, W >= 64) to ``N x 1`` logits.

    ``model`` halves the map six times (``channels`` = 64 to 2048 channels)
    and comes back to 512 with 1x1 convs; ``res_block`` is a bottleneck added
    to it before a LeakyReLU; global average pooling and ``dense`` give the
    logit. A smaller ``channels`` scales every width (GluonCV's is 64).
    """

    def __init__(self, *, channels: int = 64) -> None:
        super().__init__()
        c = channels
        with self.name_scope():
            self.model = nn.HybridSequential()
            self.model.add(conv(c, 4, 3, strides=2, padding=1), nn.LeakyReLU(0.2))
            self.model.add(*(_ConvBlock(c * k, c * k * 2) for k in (1, 2, 4, 8, 16)))
            self.model.add(_ConvBlock(c * 32, c * 16, kernel=1, strides=1, padding=0), conv(c * 8, 1, c * 16, use_bias=False),
                           nn.BatchNorm(in_channels=c * 8))
            self.res_block = nn.HybridSequential()
            self.res_block.add(_ConvBlock(c * 8, c * 2, kernel=1, strides=1, padding=0), _ConvBlock(c * 2, c * 2, kernel=3, strides=1),
                               conv(c * 8, 3, c * 2, padding=1, use_bias=False), nn.BatchNorm(in_channels=c * 8))
            self.dense = nn.Dense(1, in_units=c * 8)

    def hybrid_forward(self, F, x):
        h = self.model(x)
        h = F.LeakyReLU(h + self.res_block(h), act_type="leaky", slope=0.2)
        return self.dense(F.flatten(F.Pooling(h, kernel=(1, 1), global_pool=True, pool_type="avg")))
