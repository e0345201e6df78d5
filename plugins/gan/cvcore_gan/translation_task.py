"""The ``image_translation`` task: CycleGAN between two unpaired image folders."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import mxnet as mx
import numpy as np

from cvcore.errors import ConfigError
from cvcore.options import Option

from .cyclegan_nets import PatchDiscriminator, ResnetGenerator
from .gan_nets import GANNet
from .gan_task import GANTask
from .pictures import Result, finish, read_picture
from .pixels import from_network, to_network
from .unpaired_data import TranslationTransform

if TYPE_CHECKING:
    from cvcore import Pipeline

DIRECTIONS = {"AtoB": "generator_ab", "BtoA": "generator_ba"}


class ImageTranslationTask(GANTask):
    """CycleGAN (`arXiv:1703.10593 <https://arxiv.org/abs/1703.10593>`_): two ResNet generators, two 70x70 PatchGANs.

    Data: ``root/trainA`` and ``root/trainB`` (unpaired), ``testA``/``testB``
    for evaluation. The forward pass (what evaluates, exports and deploys) is
    A->B; ``predict(direction="BtoA")`` runs the other generator. Evaluation
    scores A->B against ``testB`` image by image (mean absolute error and PSNR):
    meaningful where ``testA[i]`` and ``testB[i]`` show the same scene.
    """

    name = "image_translation"
    default_metric = "translation_error"
    default_dataset = "unpaired_folders"
    default_input_shape = (1, 3, 256, 256)
    groups = {"generators": ("generator_ab", "generator_ba"), "discriminators": ("discriminator_a", "discriminator_b")}
    defaults = {"generator": {}, "crop": 256, "load_size": None, "cycle_weight": 10.0, "identity_weight": 0.5, "pool_size": 50}
    options = {
        "generator": Option("ResnetGenerator options: blocks (9 at 256 px, 6 at 128 px), channels", Mapping[str, Any]),
        "crop": Option("side of the training crop and of evaluation images, a multiple of 4 (default 256)", int),
        "load_size": Option("side images are resized to before the random crop (default crop x 1.117, CycleGAN's 286/256)", int),
        "cycle_weight": Option("weight of the cycle-consistency L1 losses (10)", float),
        "identity_weight": Option("identity loss weight, as a fraction of cycle_weight (0.5)", float),
        "pool_size": Option("generated images each discriminator's history pool keeps (50; 0: none)", int),
    }

    def network(self, pipeline: "Pipeline") -> GANNet:
        return GANNet({"generator_ab": self.build(pipeline, "generator", ResnetGenerator),
                       "generator_ba": self.build(pipeline, "generator", ResnetGenerator),
                       "discriminator_a": PatchDiscriminator(), "discriminator_b": PatchDiscriminator()})

    def sample_transform(self, pipeline: "Pipeline", train: bool) -> TranslationTransform:
        crop = int(self.setting(pipeline, "crop"))
        load = self.setting(pipeline, "load_size")
        return TranslationTransform(crop, int(load) if load is not None else round(crop * 286 / 256), train)

    def training_step(self, pipeline: "Pipeline", trainers: Mapping[str, Any], config: Any, guard: Any) -> Any:
        from .cyclegan_step import CycleGANStep

        pool = int(self.setting(pipeline, "pool_size"))
        if pool < 0:
            raise ConfigError(f"pool_size must be zero or more, got {pool}.")
        return CycleGANStep(pipeline, trainers, seed=config.seed, guard=guard, pool_size=pool,
                            cycle_weight=float(self.setting(pipeline, "cycle_weight")),
                            identity_weight=float(self.setting(pipeline, "identity_weight")))

    def predict(self, pipeline: "Pipeline", inputs: Any, *, out: str | Path | None = None, direction: str = "AtoB",
                channel_order: str = "rgb") -> list[np.ndarray]:
        """Each image translated A->B (``direction="BtoA"``: the other way), at its own size, grey or RGBA kept.

        An image is a path or an array (H x W [x C]); with ``out`` (a file for
        one image, else a directory) the results are written there.
        """
        if direction not in DIRECTIONS:
            raise ConfigError(f"direction = {direction!r} is not one of {', '.join(DIRECTIONS)}.")
        return self.predict_pictures(pipeline, inputs, out, channel_order, f"_{direction}", direction=direction)

    def run_picture(self, pipeline: "Pipeline", image: Any, name: str, channel_order: str, options: Mapping[str, Any]) -> Result:
        picture = read_picture(image, channel_order, name)
        height, width = picture.rgb.shape[:2]
        padded = np.pad(picture.rgb, ((0, -height % 4), (0, -width % 4), (0, 0)), mode="reflect")  # two stride-2 levels
        generator = getattr(pipeline.net, DIRECTIONS[options["direction"]])
        result = from_network(generator(mx.nd.array(to_network(padded)[None], ctx=pipeline.ctx[0]))[0])
        return finish(picture, np.ascontiguousarray(result[:height, :width]))
