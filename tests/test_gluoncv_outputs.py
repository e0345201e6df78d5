"""GluonCV's own parameter files load into cvcore's ResNets and give GluonCV's outputs.

GluonCV runs in a throwaway venv (see ``gluoncv_oracle.py``); this process never imports it.
One model of each structure is checked: the deeper and wider ones differ only in
unit counts and group widths, which test_backbones_resnet.py checks against
GluonCV's parameter tables. ``CVCORE_ORACLE_ALL=1`` checks every name (~6 min).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import assert_gives_gluoncvs_output, oracle_unavailable
from gluoncv_oracle import OracleUnavailable, run_gluoncv

from cvcore.nn.families import resnet_v1, resnet_v1b, resnext

pytestmark = pytest.mark.slow

ALL_NAMES = [component.name for family in (resnet_v1, resnet_v1b, resnext) for component in family.classification_models()]
ONE_PER_STRUCTURE = [
    "resnet18_v1", "resnet50_v1", "resnet18_v1b", "resnet50_v1b", "resnet50_v1c",
    "resnet50_v1d", "resnet50_v1e", "resnet50_v1s", "resnext50_32x4d", "se_resnext50_32x4d",
]
NAMES = ALL_NAMES if os.environ.get("CVCORE_ORACLE_ALL") == "1" else ONE_PER_STRUCTURE
INPUT_SHAPE = (1, 3, 64, 64)


class GluonCVOracle:
    """GluonCV's results by model name, computed a few models at a time.

    Parameter files are large (all of these together take ~5 GB), so a batch's
    files are deleted when the next batch is computed. Tests ask in ``NAMES``
    order, so each batch runs once.
    """

    def __init__(self, workdir: Path, batch: int = 4):
        self.workdir, self.batch = workdir, batch
        self.results: dict = {}

    def __getitem__(self, name: str):
        if name not in self.results:
            self.clear()
            start = NAMES.index(name)
            self.results = run_gluoncv(NAMES[start:start + self.batch], INPUT_SHAPE, self.workdir)
        return self.results[name]

    def clear(self) -> None:
        for params, _, _ in self.results.values():
            params.unlink(missing_ok=True)
        self.results = {}


@pytest.fixture(scope="module")
def gluoncv(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gluoncv")
    oracle = GluonCVOracle(workdir)
    try:
        oracle[NAMES[0]]  # builds the venv: skip everything at once when that is impossible here
    except OracleUnavailable as exc:
        oracle_unavailable(exc)
    yield oracle
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", NAMES)
def test_gluoncv_parameter_file_loads_and_gives_gluoncvs_output(name, gluoncv):
    assert_gives_gluoncvs_output(name, gluoncv[name], (1, 1000))


def test_gluoncv_stays_out_of_this_process():
    assert not [module for module in sys.modules if module.split(".")[0] == "gluoncv"]
