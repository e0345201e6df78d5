"""The generators deploy as every other network: hybridize, export, ONNX, OpenVINO and INT8, saved and loaded back."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from cvcore import Pipeline

SR = dict(discriminator={"channels": 8}, content_loss="mse", input_shape=[1, 3, 24, 24])
PIPELINES = {
    "srgan": ("super_resolution", dict(SR, generator={"blocks": 2, "channels": 16})),
    "srgan_bicubic_skip": ("super_resolution", dict(SR, generator={"blocks": 2, "channels": 16, "bicubic_skip": True})),
    "cyclegan": ("image_translation", dict(generator={"blocks": 1, "channels": 8}, crop=32, input_shape=[1, 3, 32, 32])),
}
TOLERANCE = {"hybridize": 1e-5, "export": 1e-5, "onnx": 1e-4, "openvino": 1e-4, "int8": 0.15}


@pytest.mark.parametrize("transform", list(TOLERANCE))
@pytest.mark.parametrize("model", list(PIPELINES))
def test_generator_deploys_and_reloads(model, transform, tmp_path):
    mx.random.seed(0)
    task, options = PIPELINES[model]
    pipeline = Pipeline(task, **options)
    x = pipeline.example()
    expected = pipeline.net(x).asnumpy()
    calib = {"calib_data": mx.nd.random.uniform(-1, 1, (4, *x.shape[1:]))} if transform == "int8" else {}
    pipeline.deploy(transform, **calib)
    deployed = pipeline.net(x).asnumpy()
    assert deployed.shape == expected.shape
    assert np.abs(deployed - expected).max() <= TOLERANCE[transform]
    pipeline.save(tmp_path)
    assert np.array_equal(Pipeline.load(tmp_path).net(x).asnumpy(), deployed)
