"""The face of cvcore-rcnn-fpn: every part it adds to cvcore is registered here.

FPN Faster/Mask R-CNN for the core's ``detection`` task: the ``fpn`` neck on
any backbone, the ``rcnn_fpn`` head (RPN, multi-level ROIAlign, box and mask
heads), the ``rcnn`` loss, and GluonCV's five COCO models (and 0.4's name of
the BatchNorm one).
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
    from .zoo import rcnn_models

    return rcnn_models()
