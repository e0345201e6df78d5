"""The INT8 plugin's transforms keep the deploy-transform contract, checked with cvcore.testing as any plugin author would."""
from __future__ import annotations

import mxnet as mx
import pytest

from cvcore import testing

# The check's network is untrained: its four logits are small and close together, so 8-bit rounding moves them by
# up to ~20% of the largest (MXNet, seeds 0-2) or ~2% (NNCF's calibration). INT8 accuracy is measured on trained
# models in test_int8_pose.py and the benchmarks.
CASES = [
    ("onnx", {}, 1e-4),
    ("openvino", {}, 1e-3),
    ("int8", {"num_calib_examples": 16}, 0.35),
    ("int8", {"backend": "openvino", "num_calib_examples": 16}, 0.05),
]


@pytest.mark.parametrize("name, options, tolerance", CASES)
def test_int8_plugin_transforms_keep_the_transform_contract(name, options, tolerance, tmp_path):
    mx.random.seed(0)
    pipeline = testing.small_pipeline()
    calibration = mx.nd.random.uniform(-1, 1, shape=(16, 3, 64, 64))
    testing.check_transform(name, pipeline, calib_data=calibration, tolerance=tolerance, directory=tmp_path, **options)
