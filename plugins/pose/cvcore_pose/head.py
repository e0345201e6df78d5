"""The Simple Baselines pose head: transposed convolutions up to heatmaps, one per joint.

Xiao, Wu and Wei, "Simple Baselines for Human Pose Estimation and Tracking"
(ECCV 2018), as GluonCV's ``SimplePoseResNet`` lays it out: ``deconv_layers``
(a sequence of ``Conv2DTranspose``, ``BatchNorm``, ``ReLU`` triples, indices
0, 1, 2, 3, ...) and ``final_layer`` (a convolution to ``num_joints``
channels). Inside a pipeline the parameters are ``head.deconv_layers.*`` and
``head.final_layer.*``, so GluonCV's files load with a plain prefix rename.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.nn.norm import norm_factory

DECONV_CONFIG: dict[int, tuple[int, int]] = {4: (1, 0), 3: (1, 1), 2: (0, 0)}
"""Transposed-convolution kernel -> (padding, output_padding) that exactly doubles the size (GluonCV's table)."""


class SimplePoseHead(HybridBlock):
    """Heatmaps of ``num_joints`` joints from the last feature map of any backbone.

    ``deconv_layers`` times [``Conv2DTranspose(deconv_channels, deconv_kernel,
    stride 2)`` without bias, ``BatchNorm``, ``ReLU``] (``deconv_channels``: one
    width for all, or one per layer as a pruned head has), then a
    ``final_kernel`` x ``final_kernel`` convolution with bias to
    ``num_joints`` channels. The output is ``(N, num_joints, H / s, W / s)``
    with ``s = in_strides[-1] / 2 ** deconv_layers`` (:attr:`stride`): 64x48
    for a 256x192 input on a stride-32 backbone.

    The initialisation is the original's and is carried by the parameters
    themselves, so a pipeline's default initializer does not replace it:
    transposed-convolution and final weights normal with standard deviation
    0.001, final bias 0, BatchNorm gamma 1 and beta 0.
    ``norm_layer``/``norm_kwargs`` choose the normalization as a backbone's do
    (``"SyncBatchNorm"`` with ``norm_kwargs={"num_devices": N}``).
    """

    in_features = 1

    def __init__(
        self,
        in_channels: Sequence[int],
        in_strides: Sequence[int] = (),
        num_joints: int = 17,
        deconv_layers: int = 3,
        deconv_channels: int | Sequence[int] = 256,
        deconv_kernel: int = 4,
        final_kernel: int = 1,
        *,
        norm_layer: str | type = "BatchNorm",
        norm_kwargs: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        if not in_channels:
            raise ValueError("SimplePoseHead needs the channels of at least one feature map (in_channels).")
        if deconv_kernel not in DECONV_CONFIG:
            raise ValueError(f"deconv_kernel must be one of {sorted(DECONV_CONFIG)}, got {deconv_kernel}.")
        if final_kernel not in (1, 3):
            raise ValueError(f"final_kernel must be 1 or 3, got {final_kernel}.")
        widths = [int(deconv_channels)] * int(deconv_layers) if isinstance(deconv_channels, int) else [int(c) for c in deconv_channels]
        if int(num_joints) < 1 or int(deconv_layers) < 0 or len(widths) != int(deconv_layers) or min(widths, default=1) < 1:
            raise ValueError(
                f"need num_joints >= 1, deconv_layers >= 0 and deconv_channels >= 1 (one width, or one per layer), "
                f"got {num_joints}, {deconv_layers}, {deconv_channels}."
            )
        self.num_joints = int(num_joints)
        self.num_deconv_layers = int(deconv_layers)
        self.stride = in_strides[-1] / 2 ** self.num_deconv_layers if in_strides else None
        """Input pixels per heatmap pixel (None when the backbone's stride was not given)."""
        norm = norm_factory(norm_layer, norm_kwargs)
        padding, output_padding = DECONV_CONFIG[deconv_kernel]
        channels = int(in_channels[-1])
        with self.name_scope():
            self.deconv_layers = nn.HybridSequential(prefix="deconv_layers_")
            with self.deconv_layers.name_scope():
                for width in widths:
                    self.deconv_layers.add(
                        nn.Conv2DTranspose(
                            width,
                            deconv_kernel,
                            strides=2,
                            padding=padding,
                            output_padding=output_padding,
                            use_bias=False,
                            in_channels=channels,
                            weight_initializer=init.Normal(0.001),
                        ),
                        norm(in_channels=width, gamma_initializer=init.One(), beta_initializer=init.Zero()),
                        nn.Activation("relu"),
                    )
                    channels = width
            self.final_layer = nn.Conv2D(
                self.num_joints,
                final_kernel,
                padding=1 if final_kernel == 3 else 0,
                in_channels=channels,
                weight_initializer=init.Normal(0.001),
                bias_initializer=init.Zero(),
            )

    def prunable_channels(self) -> tuple[list[tuple[str, str]], str]:
        """For channel pruning: the (transposed convolution, norm) pairs by name in this head, each reading the one
        before (the first reads the backbone's feature map), and the layer that reads the last."""
        pairs = [(f"deconv_layers.{3 * i}", f"deconv_layers.{3 * i + 1}") for i in range(self.num_deconv_layers)]
        return pairs, "final_layer"

    @staticmethod
    def pruned_options(widths: Sequence[int]) -> dict[str, Any]:
        """The head options that build it with these widths of :meth:`prunable_channels`' layers."""
        return {"deconv_channels": [int(width) for width in widths]}

    def hybrid_forward(self, F, x):
        return self.final_layer(self.deconv_layers(x))
