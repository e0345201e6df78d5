"""The ``super_resolution`` task: SRGAN 4x on folders of high-resolution images."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from cvcore.errors import ConfigError
from cvcore.options import Option

from .gan_nets import GANNet
from .gan_task import GANTask
from .pictures import Result
from .sr_data import SRSampleTransform
from .sr_predict import super_resolve
from .srgan_nets import SRDiscriminator, SRGenerator

if TYPE_CHECKING:
    from cvcore import Pipeline

SCALE = 4


class SuperResolutionTask(GANTask):
    """SRGAN (`arXiv:1609.04802 <https://arxiv.org/abs/1609.04802>`_): an SRResNet generator x4 and its discriminator.

    Data: ``root/train`` and ``root/val`` hold high-resolution images; each
    sample's low-resolution input is its bicubic downscale (:mod:`.sr_data`).
    Training runs ``pretrain_epochs`` of content loss only (default: half the
    epochs), then the GAN stage. Evaluation is PSNR and SSIM on the Y channel
    with a 4-pixel border crop, one whole image at a time.
    """

    name = "super_resolution"
    default_metric = "sr_quality"
    default_dataset = "sr_folder"
    default_input_shape = (1, 3, 24, 24)
    groups = {"generator": ("generator",), "discriminator": ("discriminator",)}
    defaults = {"generator": {}, "discriminator": {}, "crop": 96, "pretrain_epochs": None, "content_loss": "vgg19", "content_layer": "c5",
                "content_weights": True, "adversarial_weight": 1e-3}
    options = {
        "generator": Option("SRGenerator options: channels, blocks, activation ('prelu' or 'relu'), bicubic_skip", Mapping[str, Any]),
        "discriminator": Option("SRDiscriminator options: channels (64, GluonCV's; every width scales with it)", Mapping[str, Any]),
        "crop": Option("side of the random HR training patch, a multiple of 4 (default 96)", int),
        "pretrain_epochs": Option("epochs of content loss alone before the GAN stage (default: half the epochs)", int),
        "content_loss": Option("'vgg19' (default, needs ImageNet VGG19 weights), 'vgg19_bn' or 'mse' (pixels)", str),
        "content_layer": Option("VGG stage the content loss compares (c1..c5, default c5)", str),
        "content_weights": Option("VGG parameter file for the content loss (default: the weight store)", str),
        "adversarial_weight": Option("weight of the generator's adversarial loss (1e-3)", float),
    }

    def network(self, pipeline: "Pipeline") -> GANNet:
        return GANNet({"generator": self.build(pipeline, "generator", SRGenerator),
                       "discriminator": self.build(pipeline, "discriminator", SRDiscriminator)})

    def sample_transform(self, pipeline: "Pipeline", train: bool) -> SRSampleTransform:
        return SRSampleTransform(SCALE, int(self.setting(pipeline, "crop")), train)

    def training_step(self, pipeline: "Pipeline", trainers: Mapping[str, Any], config: Any, guard: Any) -> Any:
        from .content import content_loss
        from .sr_step import SRGANStep

        pretrain = self.setting(pipeline, "pretrain_epochs")
        pretrain = config.epochs // 2 if pretrain is None else int(pretrain)
        if pretrain < 0:
            raise ConfigError(f"pretrain_epochs must be zero or more, got {pretrain}.")
        content = content_loss(str(self.setting(pipeline, "content_loss")), layer=str(self.setting(pipeline, "content_layer")),
                               weights=self.setting(pipeline, "content_weights"), ctx=pipeline.ctx[0])
        return SRGANStep(pipeline, trainers, seed=config.seed, guard=guard, content=content, pretrain_epochs=pretrain,
                         adversarial_weight=float(self.setting(pipeline, "adversarial_weight")))

    def evaluate(self, pipeline: "Pipeline", data: Any, *, batch_size: int = 1, num_workers: int = 0,
                 progress: bool = False) -> dict[str, float]:
        """PSNR and SSIM over ``data``, one whole image at a time (images may differ in size; ``batch_size`` is ignored)."""
        from cvcore.train import evaluate

        return evaluate(pipeline, data, batch_size=1, num_workers=num_workers, progress=progress)

    def predict(self, pipeline: "Pipeline", inputs: Any, *, out: str | Path | None = None, tile: int = 128,
                channel_order: str = "rgb") -> list[np.ndarray]:
        """Each image 4x larger (``uint8``, as many channels as it had: grey, RGB, or RGBA with its alpha upscaled bicubically).

        An image is a path or an array (H x W [x C]); images larger than
        ``tile`` LR pixels run in overlapping tiles, so any size fits in memory.
        With ``out`` (a file for one image, else a directory) the results are written there.
        """
        return self.predict_pictures(pipeline, inputs, out, channel_order, f"_x{SCALE}", tile=tile)

    def run_picture(self, pipeline: "Pipeline", image: Any, name: str, channel_order: str, options: Mapping[str, Any]) -> Result:
        return super_resolve(pipeline.net, image, scale=SCALE, tile=options["tile"], ctx=pipeline.ctx[0],
                             channel_order=channel_order, name=name)
