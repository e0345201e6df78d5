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
    from .metrics.voc import factory as voc_metric

    return [
        Component("accuracy", TopKAccuracy, "Top-1 and top-5 accuracy (top_k=(1, 5))."),
        Component("coco_detection", COCODetectionAP, "COCO box (and mask: iou_type) mAP through COCOeval."),
        Component("voc07_map", voc_metric(eleven_point=True), "Pascal VOC2007 mAP: 11-point AP at IoU > 0.5, difficult objects ignored."),
        Component("voc12_map", voc_metric(eleven_point=False), "Pascal VOC2010-12 mAP: area under the precision envelope at IoU > 0.5."),
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
    from .data.synthetic import classification, shapes, voc
    from .data.voc_detection import VOCDetection

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
        Component(
            "voc_detection",
            VOCDetection,
            "Pascal VOC: root/ImageSets/Main/<split>.txt, Annotations/<id>.xml, JPEGImages/<id>.jpg (difficult flags honoured).",
            {"synthesize": voc.synthesize, "synth_name": "voc"},
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
