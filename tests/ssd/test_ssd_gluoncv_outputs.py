"""GluonCV's SSD models: a parameter file GluonCV writes for each name loads into cvcore's and gives GluonCV's detections.

GluonCV runs in a throwaway venv (see ``tests/gluoncv_oracle.py``); this process never imports it.
Every default box of a randomly initialized SSD scores some class above 0.01,
so the comparison covers the 100 best of thousands of candidates after NMS:
equal labels, scores and boxes (in any order among equal scores) mean equal
default boxes, decoding, softmax, thresholds and suppression.
"""
from __future__ import annotations

import shutil

import mxnet as mx
import numpy as np
import pytest
from conftest import gluoncv_or_skip

from cvcore.pipeline import Pipeline
from cvcore.tasks.detection_outputs import detection_differences

pytestmark = pytest.mark.slow

SIZES = {"ssd_300_vgg16_atrous_voc": 300, "ssd_512_vgg16_atrous_voc": 512, "ssd_512_resnet50_v1_voc": 512,
         "ssd_512_mobilenet1.0_voc": 512}


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv-ssd")
    found = {}
    for size in sorted(set(SIZES.values())):
        names = [name for name, its in SIZES.items() if its == size]
        found.update(gluoncv_or_skip(names, (1, 3, size, size), workdir, {name: {"pretrained_base": False} for name in names}))
    yield found
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", list(SIZES))
def test_gluoncv_ssd_file_loads_and_gives_gluoncvs_detections(name, gluoncv):
    params, x, (ids, scores, boxes) = gluoncv[name]
    pipeline = Pipeline.from_model(name, pretrained=str(params))
    ours = tuple(y.asnumpy() for y in pipeline.net(mx.nd.array(x)))
    assert ids.shape == (1, 100, 1) and (ids >= 0).sum() == 100 and len(np.unique(boxes[0], axis=0)) > 50  # 100 distinct boxes
    # a fresh MobileNet SSD scores many boxes alike (16 distinct scores in 100): ties may come in either order
    problems, worst = detection_differences(ours, (ids[..., 0], scores[..., 0], boxes), rtol=1e-4, atol=1e-5)
    assert not problems, problems[:5]
    assert worst < 0.05
