"""Checks for plugin authors' test suites: does a part keep cvcore's contract when it is really run?

Call them from your own tests, one per part your plugin registers::

    from cvcore import testing

    def test_littlenet_keeps_the_backbone_contract():
        testing.check_backbone("littlenet", width=0.5)

Each check builds the part through the registry (so the plugin must be
installed or registered with :func:`cvcore.register_plugin`), runs it and
raises ``AssertionError`` (or cvcore's own error for a broken contract) saying
what broke, so it reads as a failed test under pytest or any runner.
"""
from .datasets import check_dataset
from .deploy import check_transform, small_pipeline
from .networks import check_backbone, check_head
from .objectives import check_loss, check_metric
from .outputs import assert_close_outputs, assert_same_outputs, outputs_of
from .round_trip import check_save_load_round_trip

__all__ = [
    "assert_close_outputs",
    "assert_same_outputs",
    "check_backbone",
    "check_dataset",
    "check_head",
    "check_loss",
    "check_metric",
    "check_save_load_round_trip",
    "check_transform",
    "outputs_of",
    "small_pipeline",
]
