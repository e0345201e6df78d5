"""cvcore-int8-vnni: INT8 deployment for Intel VNNI CPUs (MXNet oneDNN and OpenVINO backends)."""

import cvcore  # noqa: F401  (first: it sets MXNet's thread count and log switches before any module here imports mxnet)

__version__ = "0.1.0"
