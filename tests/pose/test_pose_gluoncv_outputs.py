"""GluonCV's simple-pose parameter files load into cvcore's pose zoo and give GluonCV's heatmaps.

GluonCV runs in a throwaway venv (see ``tests/gluoncv_oracle.py``); this process never imports it.
One model per backbone structure (the 7x7 stem of v1b, the deep stem and average-pool shortcuts of v1d).
"""
from __future__ import annotations

import shutil

import mxnet as mx
import numpy as np
import pytest
from conftest import oracle_unavailable
from gluoncv_oracle import OracleUnavailable, run_gluoncv

from cvcore.pipeline import Pipeline

pytestmark = pytest.mark.slow

NAMES = ["simple_pose_resnet18_v1b", "simple_pose_resnet50_v1d"]
INPUT_SHAPE = (1, 3, 128, 96)


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv-pose")
    try:
        yield run_gluoncv(NAMES, INPUT_SHAPE, workdir, kwargs={name: {"pretrained_base": False} for name in NAMES})
    except OracleUnavailable as exc:
        oracle_unavailable(exc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", NAMES)
def test_gluoncv_pose_file_loads_and_gives_gluoncvs_heatmaps(name, gluoncv):
    params, x, expected = gluoncv[name]
    pipeline = Pipeline.from_model(name, pretrained=str(params), input_shape=list(INPUT_SHAPE))
    out = pipeline.net(mx.nd.array(x)).asnumpy()
    assert out.shape == expected.shape == (1, 17, 32, 24)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max()))
