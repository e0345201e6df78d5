"""INT8 zoo entries: an FP32 zoo model plus its calibration settings, its graph kept in the weight store."""
from __future__ import annotations

from typing import Any

from cvcore import Component
from cvcore.zoo import deployed_model

CALIBRATION: dict[str, Any] = {"transform": "int8", "backend": "mxnet", "calib_mode": "naive", "num_calib_examples": 256}
"""How every INT8 entry is made from its FP32 model (MXNet oneDNN, min/max calibration on 256 inputs)."""

CLASSIFIERS = ("resnet50_v1", "mobilenet1.0")
POSE = tuple(f"simple_pose_resnet{depth}" for depth in ("18_v1b", "50_v1b", "50_v1d", "101_v1b", "101_v1d", "152_v1b", "152_v1d"))
DETECTORS = ("ssd_300_vgg16_atrous_voc", "ssd_512_vgg16_atrous_voc", "ssd_512_resnet50_v1_voc", "ssd_512_mobilenet1.0_voc")
"""The SSD models of GluonCV's INT8 table (their FP32 recipes come from cvcore-ssd); decoding and NMS stay FP32."""


def int8_models() -> list[Component]:
    """``{base}_int8`` for the classifiers and SSD detectors GluonCV quantized, and for every simple-pose model."""
    entries = ([(base, "classification") for base in CLASSIFIERS] + [(base, "pose") for base in POSE]
               + [(base, "detection") for base in DETECTORS])
    return [
        deployed_model(f"{base}_int8", base, (CALIBRATION,), task,
                       doc=f"{base} in INT8 (oneDNN, VNNI); build it with cvcore deploy {base}_int8 --pretrained FP32.params --calib DIR")
        for base, task in entries
    ]
