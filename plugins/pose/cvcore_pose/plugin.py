"""The face of cvcore-pose: every part it adds to cvcore is registered here.

Top-down human pose estimation (simple pose): the ``pose`` task, the
``simple_pose`` head on any backbone, the ``heatmap_mse`` loss, the
``coco_keypoints`` metric (OKS AP) and dataset (with the ``keypoints``
synthesizer), and the seven ``simple_pose_resnet*`` zoo models.
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_tasks():
    from .task import PoseTask

    return [cvcore.Component("pose", PoseTask, "Top-down human keypoints: heatmaps per joint, COCO OKS AP, flip test, drawing.")]


@cvcore.hookimpl
def cvcore_heads():
    from .zoo import heads

    return heads()


@cvcore.hookimpl
def cvcore_losses():
    from .loss import HeatmapMSE

    return [cvcore.Component("heatmap_mse", HeatmapMSE, "Target-weighted mean squared error between predicted and Gaussian heatmaps.")]


@cvcore.hookimpl
def cvcore_metrics():
    from .metric import CocoKeypointsAP

    return [cvcore.Component("coco_keypoints", CocoKeypointsAP, "COCO keypoint AP/AR (OKS) through pycocotools' COCOeval.")]


@cvcore.hookimpl
def cvcore_datasets():
    from .coco import COCOKeypoints
    from .synthetic import synthesize

    return [
        cvcore.Component(
            "coco_keypoints",
            COCOKeypoints,
            "COCO person keypoints: root/annotations/person_keypoints_<split>.json and root/<split>/ images.",
            {"synthesize": synthesize, "synth_name": "keypoints"},
        )
    ]


@cvcore.hookimpl
def cvcore_models():
    from .zoo import pose_models

    return pose_models()
