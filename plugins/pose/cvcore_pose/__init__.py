"""cvcore-pose: Top-down human pose estimation (simple pose): models, heatmap loss, COCO OKS evaluation, demo."""

__version__ = "0.1.0"
