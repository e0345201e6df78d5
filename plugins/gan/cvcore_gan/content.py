"""SRGAN's content loss: pixel MSE, or MSE between the VGG19 features of the output and of the target.

The VGG variant needs ImageNet VGG19 weights (the zoo's ``vgg19`` / ``vgg19_bn``
in the weight store, or a file): without them the loss is an error that names
both fixes, never a silent switch to pixels.
"""
from __future__ import annotations

from pathlib import Path

import mxnet as mx
from mxnet import gluon

from cvcore.errors import ConfigError
from cvcore.plugins import get
from cvcore.weights import WeightsError, assign, fetch, read_params, rename, under
from cvcore.zoo import get_recipe

CONTENT_LOSSES = ("mse", "vgg19", "vgg19_bn")
VGG_SCALE = (1 / 12.75) ** 2
"""SRGAN rescales the VGG feature maps by 1/12.75 so that their MSE is of the order of the pixel MSE."""
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PixelMSE(gluon.HybridBlock):
    """Per-sample mean squared error of two image batches."""

    def hybrid_forward(self, F, output, target):
        return F.mean(F.square(output - target), axis=(1, 2, 3))


class VGGContent(gluon.HybridBlock):
    """Per-sample MSE between frozen VGG19 features (stage ``layer``) of two [-1, 1] RGB batches, times :data:`VGG_SCALE`."""

    def __init__(self, features: gluon.HybridBlock) -> None:
        super().__init__()
        with self.name_scope():
            self.features = features
        self.features.collect_params().setattr("grad_req", "null")
        self.mean = mx.nd.array(IMAGENET_MEAN).reshape((1, 3, 1, 1))
        self.std = mx.nd.array(IMAGENET_STD).reshape((1, 3, 1, 1))

    def forward(self, output, target):
        mean, std = self.mean.as_in_context(output.context), self.std.as_in_context(output.context)
        both = mx.nd.concat(output, target, dim=0)
        normalized = mx.nd.broadcast_div(mx.nd.broadcast_sub((both + 1) / 2, mean), std)
        maps = self.features(normalized)[-1]
        ours, theirs = mx.nd.split(maps, 2, axis=0)
        return VGG_SCALE * mx.nd.mean(mx.nd.square(ours - theirs), axis=(1, 2, 3))


def content_loss(kind: str, *, layer: str = "c5", weights: bool | str = True, ctx: mx.Context | None = None) -> gluon.Block:
    """The content loss ``kind`` (:data:`CONTENT_LOSSES`); a VGG one compares stage ``layer`` of VGG19 with ImageNet
    weights from ``weights`` (True: the zoo's file in the weight store; or a path to GluonCV's file)."""
    if kind == "mse":
        return PixelMSE()
    if kind not in CONTENT_LOSSES:
        raise ConfigError(f"content_loss = {kind!r} is not one of {', '.join(CONTENT_LOSSES)}.")
    recipe = get_recipe(kind)
    try:
        path = fetch(recipe.weights, kind) if weights is True else Path(weights)
        params = under(rename(read_params(path), recipe.name_map), "backbone.")
    except WeightsError as exc:
        raise WeightsError(
            f"content_loss = {kind!r} compares ImageNet {kind} features, and no {kind} weights could be read: {exc} "
            f"Put GluonCV's {kind} file into the weight store (or give content_weights = \"file.params\"), "
            "or train on pixels with content_loss = \"mse\"."
        ) from exc
    features = get("backbone", kind).build(out_features=[layer])
    wanted = features._collect_params_with_prefix()
    assign(features, {name: value for name, value in params.items() if name in wanted}, path, ctx=ctx)
    return VGGContent(features)
