"""The face of cvcore-rcnn-fpn: every part it adds to cvcore is registered here.

FPN Faster/Mask R-CNN detection and instance segmentation.
It registers no parts yet; its issue fills it.
"""
