"""cvcore-pose: Top-down human pose estimation (simple pose): models, heatmap loss, COCO OKS evaluation, demo."""

import cvcore  # noqa: F401  (first: it sets MXNet's thread count and log switches before any module here imports mxnet)

__version__ = "0.1.0"
