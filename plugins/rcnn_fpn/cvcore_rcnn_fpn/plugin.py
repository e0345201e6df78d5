"""The face of cvcore-rcnn-fpn: every part it adds to cvcore is registered here.

FPN Faster/Mask R-CNN detection and instance segmentation.
It registers no parts yet; its issue fills it.
"""

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)
