"""SSD's extra feature layers: smaller and smaller maps appended to a backbone's last two (the ``ssd_extras`` neck)."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError
from cvcore.nn.norm import norm_factory

PRESETS: dict[str, tuple[tuple[int, int, int, int, int], ...]] = {
    "vgg300": ((256, 512, 3, 2, 1), (128, 256, 3, 2, 1), (128, 256, 3, 1, 0), (128, 256, 3, 1, 0)),
    "vgg512": ((256, 512, 3, 2, 1), (128, 256, 3, 2, 1), (128, 256, 3, 2, 1), (128, 256, 3, 2, 1), (128, 256, 4, 1, 1)),
    "expand512": ((512, 512, 3, 2, 1), (512, 512, 3, 2, 1), (256, 256, 3, 2, 1), (256, 256, 3, 2, 1)),
}
"""Each extra layer as (1x1 transition channels, channels, kernel, stride, padding): GluonCV's atrous VGG16 at 300 and 512
pixels, and its feature expander on ResNet and MobileNet (with ``batch_norm``)."""
INIT = init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2)


class SSDExtras(HybridBlock):
    """``(a, b) -> (a, b, e1, e2, ...)``: the backbone's two maps, then each extra layer applied to the last map.

    An extra layer (``extras.i``) is a 1x1 convolution to its transition width
    and a ``kernel`` x ``kernel`` convolution with ``stride`` and ``padding``, each
    followed by a ReLU; with ``batch_norm`` the convolutions lose their bias and
    a ``norm_layer`` follows each (GluonCV's feature expander). ``layers`` is a
    preset name (:data:`PRESETS`) or a list of (transition, channels, kernel,
    stride, padding). A layer that shrinks its map by a number of cells
    rather than a factor (stride 1, kernel larger than 2 x padding + 1, as the
    last layers of ``vgg300``) has a scale only for a given input: such layers
    need ``image_size``, the input side their :attr:`strides` are stated for.
    """

    def __init__(self, in_channels: Sequence[int], in_strides: Sequence[int], *,
                 layers: str | Sequence[Sequence[int]] = "vgg300", batch_norm: bool = False, image_size: int | None = None,
                 norm_layer: str = "BatchNorm", norm_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        specs = _layers(layers)
        if len(in_channels) != 2:
            raise ConfigError(f"The ssd_extras neck takes a backbone's last two feature maps; got {len(in_channels)}.")
        norm = norm_factory(norm_layer, norm_kwargs) if batch_norm else None
        self.out_channels = (*in_channels, *(channels for _, channels, *_ in specs))
        self.strides = (*in_strides, *_strides(specs, in_strides[-1], image_size))
        with self.name_scope():
            self.extras = nn.HybridSequential()
            width = in_channels[-1]
            for transition, channels, kernel, stride, padding in specs:
                layer = nn.HybridSequential(prefix="")
                for out, size, step, pad, fan_in in ((transition, 1, 1, 0, width), (channels, kernel, stride, padding, transition)):
                    layer.add(nn.Conv2D(out, size, strides=step, padding=pad, in_channels=fan_in, use_bias=norm is None,
                                        weight_initializer=INIT, bias_initializer="zeros"))
                    if norm is not None:
                        layer.add(norm(in_channels=out))
                    layer.add(nn.Activation("relu"))
                self.extras.add(layer)
                width = channels

    def hybrid_forward(self, F, first, second):
        # the maps passed through are copies: a hybridized graph whose outputs are its inputs fails its backward pass in MXNet
        outputs = [F.identity(first), F.identity(second)]
        for layer in self.extras:
            outputs.append(layer(outputs[-1]))
        return tuple(outputs)


def _layers(layers: str | Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    if isinstance(layers, str):
        if layers not in PRESETS:
            raise ConfigError(f"ssd_extras layers = {layers!r} is not a preset ({', '.join(PRESETS)}) nor a list of "
                              "[transition, channels, kernel, stride, padding].")
        return PRESETS[layers]
    specs = tuple(tuple(spec) for spec in layers)
    if not specs or any(len(spec) != 5 or not all(isinstance(v, int) and v >= 0 for v in spec) or min(spec[:4]) < 1 for spec in specs):
        raise ConfigError(f"ssd_extras layers must be [transition, channels, kernel, stride, padding] lists of whole numbers "
                          f"(padding may be 0), got {layers!r}.")
    return specs


def _strides(specs: Sequence[Sequence[int]], stride: int, image_size: int | None) -> list[float]:
    """The input pixels per cell of each extra layer's map, from a map of ``stride`` (for an ``image_size`` input if any shrinks)."""
    shrinking = [spec for spec in specs if spec[3] == 1 and spec[2] > 2 * spec[4] + 1]
    if shrinking and image_size is None:
        raise ConfigError(f"ssd_extras layers {[list(spec) for spec in shrinking]} shrink their maps by a number of cells: "
                          "set image_size (the input side, e.g. 300) so that their scale can be stated.")
    if image_size is None:
        strides = []
        for *_, step, _ in specs:
            stride *= step
            strides.append(stride)
        return strides
    cells = math.ceil(image_size / stride)
    strides = []
    for _, _, kernel, step, padding in specs:
        cells = (cells + 2 * padding - kernel) // step + 1
        if cells < 1:
            raise ConfigError(f"ssd_extras: a {image_size}-pixel input leaves no cell for extra layer {len(strides)}; "
                              "use a larger input or fewer layers.")
        strides.append(image_size / cells)
    return strides
