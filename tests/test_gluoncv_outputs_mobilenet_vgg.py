"""GluonCV as the oracle: its MobileNet and VGG parameter files load into cvcore's models, which then give its outputs.

GluonCV runs in a throwaway virtual environment (see ``gluoncv_oracle.py``);
this process never imports it.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from conftest import gluoncv_or_skip, oracle_unavailable
from gluoncv_oracle import OracleUnavailable, gluoncv_python

from cvcore.pipeline import Pipeline
from cvcore.plugins import get
from cvcore.weights import load_into

pytestmark = pytest.mark.slow

TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}

# SSD's VGG16 base (GluonCV's VGGAtrousBase) is not a zoo model, so the oracle's script cannot build it:
# this one builds GluonCV's SSD feature extractor and keeps its first two outputs (conv4_3 and fc7).
ATROUS_SCRIPT = r'''
import json, sys
from pathlib import Path

import mxnet as mx
import numpy as np
from gluoncv.model_zoo.ssd.vgg_atrous import vgg16_atrous_300

out = Path(sys.argv[1])
seed = 0
x = np.random.RandomState(seed).uniform(-1, 1, size=(1, 3, 300, 300)).astype("float32")
mx.random.seed(seed)
net = vgg16_atrous_300(pretrained=False)
net.initialize(mx.init.Xavier(magnitude=2))
rng = np.random.RandomState(seed)
for key, param in sorted(net._collect_params_with_prefix().items()):
    if key.endswith("bias"):
        param.set_data(mx.nd.array(rng.normal(0.0, 0.1, size=param.shape)))
    elif key == "norm4.scale":
        param.set_data(mx.nd.array(rng.uniform(10, 30, size=param.shape)))
conv4_3, fc7 = net(mx.nd.array(x))[:2]
# the base network alone: without the extra layers SSD stacks on fc7
base = {key: param.data() for key, param in net._collect_params_with_prefix().items() if not key.startswith("extras.")}
mx.nd.save(str(out / "vgg16_atrous.params"), base)
np.save(out / "vgg16_atrous.input.npy", x)
np.save(out / "vgg16_atrous.conv4_3.npy", conv4_3.asnumpy())
np.save(out / "vgg16_atrous.fc7.npy", fc7.asnumpy())
'''


@pytest.fixture(scope="module")
def oracle_dir(tmp_path_factory) -> Path:
    """One folder (and one GluonCV venv) for the whole module."""
    return tmp_path_factory.mktemp("gluoncv-oracle")


@pytest.mark.parametrize(
    "name, input_shape",
    [
        ("mobilenet1.0", (2, 3, 96, 96)),
        ("mobilenet0.75", (2, 3, 96, 96)),
        ("mobilenet0.5", (2, 3, 96, 96)),
        ("mobilenet0.25", (2, 3, 96, 96)),
        ("vgg16", (1, 3, 224, 224)),  # fc6 takes exactly 7x7 maps
        ("vgg16_bn", (1, 3, 224, 224)),
    ],
)
def test_gluoncv_params_give_gluoncvs_outputs(name, input_shape, oracle_dir):
    params, x, expected = gluoncv_or_skip([name], input_shape, oracle_dir)[name]
    pipeline = Pipeline.from_model(name, pretrained=str(params))
    np.testing.assert_allclose(pipeline.net(mx.nd.array(x)).asnumpy(), expected, **TOLERANCE)
    params.unlink()  # VGG's files are half a gigabyte


def test_vgg16_atrous_gives_gluoncv_ssds_conv4_3_and_fc7(oracle_dir):
    try:
        python = gluoncv_python(oracle_dir)
    except OracleUnavailable as exc:
        oracle_unavailable(exc)
    out = oracle_dir / "atrous"
    out.mkdir(exist_ok=True)
    (oracle_dir / "atrous_child.py").write_text(ATROUS_SCRIPT)
    ran = subprocess.run([str(python), str(oracle_dir / "atrous_child.py"), str(out)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-4000:]
    backbone = get("backbone", "vgg16_atrous").build(out_features=["conv4_3", "fc7"])
    load_into(backbone, out / "vgg16_atrous.params")
    conv4_3, fc7 = backbone(mx.nd.array(np.load(out / "vgg16_atrous.input.npy")))
    assert conv4_3.shape == (1, 512, 38, 38) and fc7.shape == (1, 1024, 19, 19)
    np.testing.assert_allclose(conv4_3.asnumpy(), np.load(out / "vgg16_atrous.conv4_3.npy"), **TOLERANCE)
    np.testing.assert_allclose(fc7.asnumpy(), np.load(out / "vgg16_atrous.fc7.npy"), **TOLERANCE)
