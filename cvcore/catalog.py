"""What cvcore's first-party plugins provide, so a missing part names its extra.

This is data, not code: the core never imports a plugin. When a lookup fails,
the registry checks these patterns to tell the user which extra to install.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Mapping, Sequence


@dataclass(frozen=True)
class FirstPartyPlugin:
    entry_point: str
    distribution: str
    extra: str
    provides: Mapping[str, Sequence[str]]

    @property
    def install_hint(self) -> str:
        return f'pip install "cvcore[{self.extra}]"'


FIRST_PARTY: tuple[FirstPartyPlugin, ...] = (
    FirstPartyPlugin(
        "pose",
        "cvcore-pose",
        "pose",
        {
            "model": ("simple_pose_*",),
            "head": ("simple_pose*",),
            "loss": ("heatmap_*",),
            "metric": ("coco_keypoints*", "oks*"),
            "dataset": ("coco_keypoints*", "*keypoints*"),
            "task": ("pose", "keypoints"),
        },
    ),
    FirstPartyPlugin(
        "rcnn-fpn",
        "cvcore-rcnn-fpn",
        "rcnn",
        {
            "model": ("faster_rcnn_*", "mask_rcnn_*"),
            "neck": ("fpn*",),
            "head": ("*rcnn*", "rpn*"),
            "loss": ("rcnn*",),
        },
    ),
    FirstPartyPlugin(
        "ssd",
        "cvcore-ssd",
        "ssd",
        {
            "model": ("ssd_*_voc", "ssd_*_coco"),
            "neck": ("ssd*",),
            "head": ("ssd*",),
            "loss": ("multibox*",),
        },
    ),
    FirstPartyPlugin(
        "gan",
        "cvcore-gan",
        "gan",
        {
            "model": ("srgan*", "cyclegan*"),
            "task": ("super_resolution", "image_translation"),
            "dataset": ("*unpaired*", "*textures*", "sr_*"),
            "metric": ("sr_*", "translation*"),
        },
    ),
    FirstPartyPlugin(
        "prune",
        "cvcore-prune",
        "prune",
        {
            "model": ("resnet*_v1?_0.*",),
            "transform": ("prune",),
        },
    ),
    FirstPartyPlugin(
        "int8-vnni",
        "cvcore-int8-vnni",
        "int8",
        {
            "model": ("*_int8",),
            "transform": ("int8", "onnx", "openvino"),
        },
    ),
)


def first_party_provider(kind: str, name: str) -> FirstPartyPlugin | None:
    """The first-party plugin expected to provide ``name`` of ``kind``, if any."""
    for plugin in FIRST_PARTY:
        if any(fnmatchcase(name, pattern) for pattern in plugin.provides.get(kind, ())):
            return plugin
    return None
