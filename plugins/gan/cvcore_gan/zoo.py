"""The GAN zoo entries (GluonCV published training scripts for them, no weights: these start from random weights).

Each carries its paper's optimizer: SRGAN Adam 1e-4; CycleGAN Adam 2e-4 with beta1 0.5,
constant for the first half of training and then linearly to zero. No weight decay.
"""
from __future__ import annotations

from cvcore.component import Component
from cvcore.zoo import ModelRecipe, model_component

CYCLEGAN_TRAIN = {"optimizer": "adam", "lr": 2e-4, "optimizer_params": {"beta1": 0.5}, "lr_mode": "linear", "wd": 0.0}


def gan_models() -> list[Component]:
    return [
        model_component(
            "srgan_4x",
            ModelRecipe("super_resolution", options={"generator": {"blocks": 16, "channels": 64, "activation": "prelu"},
                                                     "train": {"optimizer": "adam", "lr": 1e-4, "wd": 0.0}}),
            "SRGAN 4x: SRResNet generator (16 residual blocks, PReLU, two pixel shuffles) and discriminator.",
        ),
        *(model_component(
            f"cyclegan_resnet{blocks}_{size}",
            ModelRecipe("image_translation", options={"generator": {"blocks": blocks}, "crop": size, "input_shape": [1, 3, size, size],
                                                      "train": CYCLEGAN_TRAIN}),
            f"CycleGAN at {size} px: ResNet generators with {blocks} residual blocks, 70x70 PatchGAN discriminators.",
        ) for blocks, size in ((9, 256), (6, 128))),
    ]
