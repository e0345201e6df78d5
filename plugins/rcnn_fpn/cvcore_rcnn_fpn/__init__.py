"""cvcore-rcnn-fpn: FPN Faster/Mask R-CNN detection and instance segmentation."""

__version__ = "0.1.0"
