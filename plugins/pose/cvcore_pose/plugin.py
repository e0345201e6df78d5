"""The face of cvcore-pose: every part it adds to cvcore is registered here.

Top-down human pose estimation (simple pose): models, heatmap loss, COCO OKS evaluation, demo.
It registers no parts yet; its issue fills it.
"""
