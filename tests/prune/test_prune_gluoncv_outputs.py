"""GluonCV's pruned ResNets: a parameter file GluonCV writes for each name loads into cvcore's and gives GluonCV's outputs.

GluonCV runs in a throwaway venv (see ``tests/gluoncv_oracle.py``); this process never imports it.
GluonCV builds these names at their pruned widths from shape files of its own, so no download is needed.
"""
from __future__ import annotations

import shutil

import pytest
from conftest import assert_gives_gluoncvs_output, gluoncv_or_skip

from cvcore_prune.zoo import PRUNED

pytestmark = pytest.mark.slow

NAMES = list(PRUNED)
INPUT_SHAPE = (1, 3, 64, 64)


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv-pruned")
    yield gluoncv_or_skip(NAMES, INPUT_SHAPE, workdir)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", NAMES)
def test_gluoncv_pruned_file_loads_and_gives_gluoncvs_output(name, gluoncv):
    assert_gives_gluoncvs_output(name, gluoncv[name], (1, 1000))
