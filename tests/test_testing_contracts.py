"""cvcore.testing on the core's own parts (they keep their contracts) and on broken parts (each breach is caught)."""
from __future__ import annotations

import mxnet as mx
import pytest
from mxnet.gluon import nn

import cvcore
from cvcore import testing


@pytest.mark.parametrize("name", ["resnet18_v1", "resnet18_v1b", "resnet50_v1d", "resnext50_32x4d", "se_resnext50_32x4d",
                                  "mobilenet0.25", "vgg16_bn"])
def test_core_backbones_keep_the_backbone_contract(name):
    testing.check_backbone(name)


def test_core_head_keeps_the_head_contract():
    testing.check_head("classifier", classes=3)


def test_core_loss_keeps_the_loss_contract_with_soft_labels():
    logits, labels = mx.nd.random.normal(shape=(4, 5)), mx.nd.array([0, 1, 4, 2])
    values = testing.check_loss("softmax_cross_entropy", logits, [labels], label_smoothing=0.1)
    assert values.shape == (4,)


def test_core_metric_keeps_the_metric_contract():
    values = testing.check_metric("accuracy", [mx.nd.array([0, 1, 2])], [mx.nd.array([[3, 1, 0], [0, 2, 1], [1, 0, 0]])], top_k=(1, 2))
    assert values == {"top1": 2 / 3, "top2": 2 / 3}


def test_core_dataset_keeps_the_dataset_contract():
    assert testing.check_dataset("image_folder", synthesize={"classes": 2, "train_per_class": 3, "val_per_class": 1, "size": 16}) == 6


@pytest.mark.parametrize("name", ["hybridize", "export"])
def test_core_transforms_keep_the_transform_contract(name, tmp_path):
    testing.check_transform(name, directory=tmp_path)


class Breaches:
    """A plugin with one part of each kind that breaks its contract in one way."""

    @cvcore.hookimpl
    def cvcore_backbones(self):
        class NoSyncBatchNorm(nn.HybridBlock):
            feature_names = out_features = ("c2",)
            out_channels, strides = (8,), (2,)

            def __init__(self, **_):
                super().__init__()
                with self.name_scope():
                    self.conv, self.norm = nn.Conv2D(8, 3, strides=2, padding=1), nn.BatchNorm()

            def hybrid_forward(self, F, x):
                return (self.norm(self.conv(x)),)

        return [cvcore.Component("ignores_norm_layer", NoSyncBatchNorm)]

    @cvcore.hookimpl
    def cvcore_heads(self):
        def flat(*, in_channels, in_strides, classes=2):  # its output grows with the input channels
            block = nn.HybridSequential()
            block.add(nn.Flatten())
            return block

        return [cvcore.Component("flattens", flat)]

    @cvcore.hookimpl
    def cvcore_losses(self):
        class Mean(nn.HybridBlock):
            def hybrid_forward(self, F, pred, label):
                return F.mean(F.square(pred - F.one_hot(label, 3)))  # one value for the batch

        return [cvcore.Component("batch_mean", Mean)]

    @cvcore.hookimpl
    def cvcore_metrics(self):
        class Accumulates:
            def __init__(self):
                self.seen = 0

            def reset(self):
                pass  # forgets to forget

            def update(self, targets, outputs):
                self.seen += len(targets)

            def get(self):
                return {"seen": self.seen}

        return [cvcore.Component("never_resets", Accumulates)]


@pytest.fixture
def breaches(cvcore_plugin_state):
    cvcore.register_plugin(Breaches(), name="breaches")


def test_a_backbone_that_ignores_sync_batch_norm_is_caught(breaches):
    with pytest.raises(AssertionError, match=r"norm_layer='SyncBatchNorm'.*1 of its 1 BatchNorm layers are not SyncBatchNorm"):
        testing.check_backbone("ignores_norm_layer")


def test_a_head_that_does_not_adapt_its_output_is_caught(breaches):
    with pytest.raises(AssertionError, match=r"head 'flattens': outputs of shapes"):
        testing.check_head("flattens")


def test_a_loss_without_per_sample_values_is_caught(breaches):
    with pytest.raises(AssertionError, match=r"loss 'batch_mean': returned shape \(1,\); one loss per sample \(4\)"):
        testing.check_loss("batch_mean", mx.nd.zeros((4, 3)), [mx.nd.array([0, 1, 2, 0])])


def test_a_metric_that_does_not_reset_is_caught(breaches):
    with pytest.raises(AssertionError, match=r"metric 'never_resets': after reset\(\) the same update gives other values"):
        testing.check_metric("never_resets", [1, 2], [3, 4])


def test_an_unknown_part_names_the_closest():
    with pytest.raises(cvcore.UnknownComponentError, match="resnet18_v1b"):
        testing.check_backbone("resnet18_v1x")
