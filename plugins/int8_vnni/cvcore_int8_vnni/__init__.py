"""cvcore-int8-vnni: INT8 deployment for Intel VNNI CPUs (MXNet oneDNN and OpenVINO backends)."""

__version__ = "0.1.0"
