"""GluonCV's simple-pose parameter files load into cvcore's pose zoo and give GluonCV's heatmaps.

GluonCV runs in a throwaway venv (see ``tests/gluoncv_oracle.py``); this process never imports it.
One model per backbone structure (the 7x7 stem of v1b, the deep stem and average-pool shortcuts of v1d).
"""
from __future__ import annotations

import shutil

import pytest
from conftest import assert_gives_gluoncvs_output, gluoncv_or_skip

pytestmark = pytest.mark.slow

NAMES = ["simple_pose_resnet18_v1b", "simple_pose_resnet50_v1d"]
INPUT_SHAPE = (1, 3, 128, 96)


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv-pose")
    yield gluoncv_or_skip(NAMES, INPUT_SHAPE, workdir, kwargs={name: {"pretrained_base": False} for name in NAMES})
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", NAMES)
def test_gluoncv_pose_file_loads_and_gives_gluoncvs_heatmaps(name, gluoncv):
    assert_gives_gluoncvs_output(name, gluoncv[name], (1, 17, 32, 24), input_shape=list(INPUT_SHAPE))
