"""The INT8 plugin's transforms keep the deploy-transform contract, checked with cvcore.testing as any plugin author would,
on a pipeline whose head comes from a third party's plugin (so no path may rely on knowing the head)."""
from __future__ import annotations

import mxnet as mx
import pytest

import cvcore
from cvcore import testing
from cvcore.pipeline import Pipeline

# The check's network is untrained: its four logits are small and close together, so 8-bit rounding moves them by
# up to ~20% of the largest (MXNet, seeds 0-2) or ~2% (NNCF's calibration). INT8 accuracy is measured on trained
# models in test_int8_mxnet.py, test_int8_openvino.py and the benchmarks.
CASES = [
    ("onnx", {}, 1e-4),
    ("openvino", {}, 1e-3),
    ("int8", {"num_calib_examples": 16}, 0.35),
    ("int8", {"backend": "openvino", "num_calib_examples": 16}, 0.05),
]


class AvgMaxHead(mx.gluon.HybridBlock):
    """A stranger's classifier head: average and max pooling concatenated, then a dense layer."""

    def __init__(self, *, in_channels, in_strides, classes=4):
        super().__init__()
        with self.name_scope():
            self.fc = mx.gluon.nn.Dense(classes, in_units=2 * in_channels[-1])

    def hybrid_forward(self, F, x):
        pooled = F.concat(F.mean(x, axis=(2, 3), keepdims=True), F.max(x, axis=(2, 3), keepdims=True), dim=1)
        return self.fc(F.flatten(pooled))


class Stranger:
    @cvcore.hookimpl
    def cvcore_heads(self):
        return [cvcore.Component("avg_max_classifier", AvgMaxHead, "Average and max pooling, concatenated.")]


@pytest.mark.parametrize("name, options, tolerance", CASES)
def test_int8_plugin_transforms_keep_the_transform_contract_with_a_strangers_head(name, options, tolerance,
                                                                                   cvcore_plugin_state, tmp_path):
    cvcore.register_plugin(Stranger(), "stranger")
    mx.random.seed(0)
    pipeline = Pipeline("classification", backbone="resnet18_v1b", head="avg_max_classifier", classes=4,
                        input_shape=[2, 3, 64, 64])
    calibration = mx.nd.random.uniform(-1, 1, shape=(16, 3, 64, 64))
    testing.check_transform(name, pipeline, calib_data=calibration, tolerance=tolerance, directory=tmp_path, **options)
