"""The face of cvcore-gan: every part it adds to cvcore is registered here.

GANs as first-class tasks on the shared training engine: ``super_resolution``
(SRGAN 4x: SRResNet generator, its discriminator, VGG19 or pixel content loss)
with the ``sr_folder`` dataset (``cvcore data synth sr DIR``) and the
``sr_quality`` metric (PSNR and SSIM on Y); ``image_translation`` (CycleGAN:
two ResNet generators, two PatchGANs, LSGAN, cycle and identity losses, history
pools) with the ``unpaired_folders`` dataset (``cvcore data synth unpaired DIR``)
and the ``translation_error`` metric; the zoo entries ``srgan_4x``,
``cyclegan_resnet9_256`` and ``cyclegan_resnet6_128``.
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_tasks():
    from .sr_task import SuperResolutionTask
    from .translation_task import ImageTranslationTask

    return [
        cvcore.Component("super_resolution", SuperResolutionTask,
                         "SRGAN 4x super-resolution: content pre-training, then generator vs discriminator; PSNR/SSIM on Y."),
        cvcore.Component("image_translation", ImageTranslationTask,
                         "CycleGAN unpaired translation A<->B; A->B error against known counterparts."),
    ]


@cvcore.hookimpl
def cvcore_metrics():
    from .quality import SuperResolutionQuality
    from .translation_metric import TranslationError

    return [
        cvcore.Component("sr_quality", SuperResolutionQuality, "PSNR (dB) and SSIM on the Y channel, border cropped."),
        cvcore.Component("translation_error", TranslationError, "Mean absolute error (0..255) and PSNR against the true counterparts."),
    ]


@cvcore.hookimpl
def cvcore_datasets():
    from .sr_data import HRImageFolder
    from .synthetic import synthesize_sr, synthesize_unpaired
    from .unpaired_data import UnpairedFolders

    return [
        cvcore.Component("sr_folder", HRImageFolder, "High-resolution images in root/<split>/ (LR inputs are their bicubic downscales).",
                         {"synthesize": synthesize_sr, "synth_name": "sr"}),
        cvcore.Component("unpaired_folders", UnpairedFolders, "Two unpaired domains: root/trainA, root/trainB (testA, testB).",
                         {"synthesize": synthesize_unpaired, "synth_name": "unpaired"}),
    ]


@cvcore.hookimpl
def cvcore_models():
    from .zoo import gan_models

    return gan_models()
