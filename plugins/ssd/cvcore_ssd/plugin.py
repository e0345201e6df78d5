"""The face of cvcore-ssd: every part it adds to cvcore is registered here.

Single-shot multibox detectors for the core's ``detection`` task: the
``ssd_extras`` neck on any backbone's last two maps, the ``ssd`` head (default
boxes, class and box predictors, per-class NMS), the ``multibox`` loss (with
hard-negative mining), and GluonCV's four Pascal VOC models.
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_necks():
    from .zoo import parts

    return parts()["neck"]


@cvcore.hookimpl
def cvcore_heads():
    from .zoo import parts

    return parts()["head"]


@cvcore.hookimpl
def cvcore_losses():
    from .zoo import parts

    return parts()["loss"]


@cvcore.hookimpl
def cvcore_models():
    from .zoo import ssd_models

    return ssd_models()
