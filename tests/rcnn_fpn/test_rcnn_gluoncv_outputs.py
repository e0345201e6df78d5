"""GluonCV's R-CNN FPN models: a parameter file GluonCV writes for each name loads into cvcore's and gives GluonCV's detections.

GluonCV runs in a throwaway venv (see ``tests/gluoncv_oracle.py``); this process never imports it.
Its models keep every class's detections after per-class NMS (80 x 1000 rows, -1
where suppressed; Mask R-CNN the best 1000 with masks), so cvcore's head is set
to keep as many: the comparison is of every detection, not only the best 100.
"""
from __future__ import annotations

import shutil

import mxnet as mx
import numpy as np
import pytest
from conftest import gluoncv_or_skip

from cvcore.pipeline import Pipeline

pytestmark = pytest.mark.slow

NAMES = ["faster_rcnn_fpn_resnet50_v1b_coco", "faster_rcnn_fpn_syncbn_resnet50_v1b_coco", "faster_rcnn_fpn_resnet101_v1d_coco",
         "mask_rcnn_fpn_resnet50_v1b_coco", "mask_rcnn_fpn_resnet101_v1d_coco"]
INPUT_SHAPE = (1, 3, 256, 256)


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv-rcnn")
    yield gluoncv_or_skip(NAMES, INPUT_SHAPE, workdir, {name: {"pretrained_base": False} for name in NAMES})
    shutil.rmtree(workdir, ignore_errors=True)


def detections(outputs) -> list[np.ndarray]:
    """The valid detections of image 0, as ``[labels, scores, boxes(, masks)]`` in one canonical order (class, then box)."""
    labels = outputs[0][0].reshape(-1)
    valid = labels >= 0
    boxes = outputs[2][0][valid]
    order = np.lexsort((*np.round(boxes, 1).T[::-1], labels[valid]))
    return [labels[valid][order], outputs[1][0].reshape(-1)[valid][order], boxes[order],
            *(masks[0][valid][order] for masks in outputs[3:])]


@pytest.mark.parametrize("name", NAMES)
def test_gluoncv_rcnn_file_loads_and_gives_gluoncvs_detections(name, gluoncv):
    params, x, expected = gluoncv[name]
    rows = expected[0].shape[1]
    pipeline = Pipeline.from_model(name, pretrained=str(params), input_shape=list(INPUT_SHAPE),
                                   head={"nms_candidates": -1, "max_detections": rows})
    theirs = detections(expected)
    ours = detections([y.asnumpy() for y in pipeline.net(mx.nd.array(x))])
    assert len(ours) == len(theirs) == (4 if name.startswith("mask") else 3)
    assert len(theirs[0]) >= 1000 and len(set(theirs[0])) > 1  # random weights: every region scores some class over 0.01
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=0, atol=1e-3)
    if len(theirs) == 4:
        np.testing.assert_allclose(ours[3], theirs[3], rtol=0, atol=1e-4)
