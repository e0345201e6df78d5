"""The core's own parts, registered through the same hooks as any plugin."""
from __future__ import annotations

from .component import Component
from .hookspecs import hookimpl


@hookimpl
def cvcore_backbones():
    from .nn.families import family_modules

    return [component for module in family_modules() for component in module.backbones()]


@hookimpl
def cvcore_models():
    from .nn.families import family_modules

    return [component for module in family_modules() for component in module.classification_models()]


@hookimpl
def cvcore_heads():
    from .nn.families import family_modules
    from .nn.heads import ClassifierHead

    family_heads = [component for module in family_modules() for component in getattr(module, "heads", list)()]
    return [
        Component("classifier", ClassifierHead, "Global average pooling + dense layer to class logits.", {"in_features": 1})
    ] + family_heads


@hookimpl
def cvcore_losses():
    from .losses import SoftmaxCrossEntropy

    return [Component("softmax_cross_entropy", SoftmaxCrossEntropy, "Softmax cross-entropy with optional label smoothing.")]


@hookimpl
def cvcore_metrics():
    from .metrics.classification import TopKAccuracy
    from .metrics.detection import COCODetectionAP

    return [
        Component("accuracy", TopKAccuracy, "Top-1 and top-5 accuracy (top_k=(1, 5))."),
        Component("coco_detection", COCODetectionAP, "COCO box (and mask: iou_type) mAP through COCOeval."),
    ]


@hookimpl
def cvcore_deploy_transforms():
    from .deploy import transforms

    return [
        Component("hybridize", transforms.hybridize, "Static graph and memory, conv+bn+relu fused by oneDNN."),
        Component("export", transforms.export, "Symbol JSON + params that gluon.SymbolBlock.imports loads."),
    ]


@hookimpl
def cvcore_datasets():
    from .data.coco_detection import COCODetection
    from .data.folder import ImageFolderDataset
    from .data.synthetic import classification, shapes

    return [
        Component(
            "image_folder",
            ImageFolderDataset,
            "Classification images in root/<split>/<class>/<image>.",
            {"synthesize": classification.synthesize, "synth_name": "classification"},
        ),
        Component(
            "coco_detection",
            COCODetection,
            "COCO instances: root/annotations/instances_<split>.json and images in root/<split>/ (boxes, masks, crowds).",
            {"synthesize": shapes.synthesize, "synth_name": "shapes"},
        ),
    ]


@hookimpl
def cvcore_tasks():
    from .tasks.classification import ClassificationTask
    from .tasks.detection import DetectionTask

    return [
        Component("classification", ClassificationTask, "Image classification with top-1/top-5 accuracy."),
        Component("detection", DetectionTask, "Object detection and instance segmentation with COCO mAP."),
    ]
