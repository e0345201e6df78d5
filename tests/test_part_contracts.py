"""A part that breaks its kind's contract is refused at assembly with an error naming the part, its plugin and the breach."""
from __future__ import annotations

import pytest
from mxnet.gluon import nn

import cvcore
from cvcore import Pipeline

SMALL = {"classes": 2, "input_shape": [2, 3, 32, 32]}


class Claims(nn.HybridBlock):
    """One stride-2 convolution to ``gives`` channels, claiming ``claims`` channels and stride ``stride``."""

    def __init__(self, gives: int = 8, claims: int = 8, stride: int = 2, *, as_tuple: bool = True, **_):
        super().__init__()
        self.out_channels, self.strides, self.as_tuple = (claims,), (stride,), as_tuple
        with self.name_scope():
            self.conv = nn.Conv2D(gives, 3, strides=2, padding=1, in_channels=3)

    def hybrid_forward(self, F, x):
        y = self.conv(x)
        return (y,) if self.as_tuple else y


class Parts:
    """A plugin whose backbones each break the contract one way, and a head that ignores the channels it is given."""

    @cvcore.hookimpl
    def cvcore_backbones(self):
        return [
            cvcore.Component("says_hello", lambda **_: "hello"),
            cvcore.Component("claims_16_gives_8", lambda **_: Claims(gives=8, claims=16)),
            cvcore.Component("claims_stride_4", lambda **_: Claims(stride=4)),
            cvcore.Component("bare_array", lambda **_: Claims(as_tuple=False)),
            cvcore.Component("honest", lambda **_: Claims()),
        ]

    @cvcore.hookimpl
    def cvcore_heads(self):
        def head(*, in_channels, in_strides, classes=2):
            block = nn.HybridSequential()
            block.add(nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(classes, in_units=in_channels[-1] + 1))
            return block

        return [cvcore.Component("off_by_one", head)]


@pytest.fixture
def parts(cvcore_plugin_state):
    cvcore.register_plugin(Parts(), name="breaches")


def test_a_factory_returning_something_else_names_what_it_returned(parts):
    with pytest.raises(cvcore.IncompatiblePartsError) as caught:
        Pipeline(backbone="says_hello", **SMALL)
    message = str(caught.value)
    assert "backbone 'says_hello' (plugin 'breaches') built 'hello', not a mxnet.gluon.HybridBlock" in message
    assert "help(cvcore.hookspecs.cvcore_backbones)" in message


def test_claimed_channels_are_checked_against_the_traced_ones(parts):
    expected = r"backbone 'claims_16_gives_8' \(plugin 'breaches'\) claims 16 channels .* but gives 8 \(shape \(2, 8, 16, 16\)\)"
    with pytest.raises(cvcore.IncompatiblePartsError, match=expected):
        Pipeline(backbone="claims_16_gives_8", **SMALL)


def test_claimed_strides_are_checked_against_the_traced_ones(parts):
    with pytest.raises(cvcore.IncompatiblePartsError,
                       match=r"claims stride 4 .* 32x32 input should give about 8x8, but it gives 16x16"):
        Pipeline(backbone="claims_stride_4", **SMALL)


def test_a_backbone_returning_a_bare_array_instead_of_a_tuple_is_refused(parts):
    with pytest.raises(cvcore.IncompatiblePartsError, match=r"backbone 'bare_array' \(plugin 'breaches'\) returns a single Symbol "
                                                            r"where a tuple of feature maps is expected; return \(x,\)"):
        Pipeline(backbone="bare_array", **SMALL)


def test_a_head_that_does_not_fit_its_features_is_named_with_mxnets_reason(parts):
    with pytest.raises(cvcore.IncompatiblePartsError) as caught:
        Pipeline(backbone="honest", head="off_by_one", **SMALL)
    message = str(caught.value)
    assert message.startswith("The head 'off_by_one' (plugin 'breaches') does not run on inputs of shapes [(2, 8, 16, 16)]")
    assert "MXNet:" in message and "Traceback" not in message


def test_the_honest_part_of_the_same_plugin_assembles_and_runs(parts):
    pipeline = Pipeline(backbone="honest", **SMALL)
    assert pipeline.net(pipeline.example()).shape == (2, 2)


def test_a_ready_object_is_checked_too_and_named_by_its_type():
    with pytest.raises(cvcore.IncompatiblePartsError, match=r"backbone <Claims object> claims 16 channels"):
        Pipeline(backbone=Claims(gives=8, claims=16), **SMALL)
