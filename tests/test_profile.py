"""cvcore.deploy.profile: parameters, multiply-adds and peak activation memory; and what `cvcore info` prints of them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import write_classification_config
from mxnet import gluon
from mxnet.gluon import nn

from cvcore import ConfigError, CvcoreError, get_model
from cvcore.cli import main
from cvcore.deploy.profile import Layer, profile
from cvcore.deploy.transforms import has_onednn
from cvcore.pipeline import Pipeline

GLUONCV = Path(__file__).parent / "data" / "gluoncv" / "models.json"


def conv_then_dense() -> nn.HybridSequential:
    """1x4x4 input -> 3x3 conv to 4 channels (padding 1) -> ReLU -> dense to 2 outputs."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, in_channels=1), nn.Activation("relu"), nn.Dense(2, in_units=4 * 4 * 4))
    return net


class Residual(gluon.HybridBlock):
    """x + relu(conv(x)): the input is read again after the conv and the ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        with self.name_scope():
            self.conv = nn.Conv2D(channels, 3, padding=1, in_channels=channels)

    def hybrid_forward(self, F, x):
        return x + F.relu(self.conv(x))


# -- multiply-adds ---------------------------------------------------------------
def test_multiply_adds_of_one_conv_and_one_dense_counted_by_hand():
    found = profile(conv_then_dense(), (1, 1, 4, 4))
    conv, dense = found.layers
    assert (conv.op, conv.macs, conv.output_shape) == ("Convolution", 16 * 4 * 9, (1, 4, 4, 4))  # 16 positions x 4 maps x 3x3
    assert (dense.op, dense.macs, dense.output_shape) == ("FullyConnected", 2 * 64, (1, 2))
    assert found.macs == 576 + 128


class SharedConv(gluon.HybridBlock):
    """One conv applied to the input and to its 2x-pooled copy, as an RPN head is to every pyramid level."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.conv = nn.Conv2D(4, 3, padding=1, in_channels=1)

    def hybrid_forward(self, F, x):
        return self.conv(x), self.conv(F.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max"))


def test_a_layer_called_twice_counts_each_call_at_its_own_size():
    found = profile(SharedConv(), (1, 1, 4, 4))
    assert [(layer.macs, layer.output_shape) for layer in found.layers] == [(16 * 4 * 9, (1, 4, 4, 4)), (4 * 4 * 9, (1, 4, 2, 2))]


def test_figures_are_per_image_whatever_the_batch():
    net = conv_then_dense()
    assert profile(net, (8, 1, 4, 4)) == profile(net, (1, 1, 4, 4))
    assert profile(net, (8, 1, 4, 4)).input_shape == (1, 1, 4, 4)


def test_multiply_adds_of_grouped_depthwise_and_transposed_convolutions():
    net = nn.HybridSequential()
    net.add(
        nn.Conv2D(8, 3, padding=1, in_channels=3),  # 8x8x8 outputs, 27 MACs each
        nn.Conv2D(8, 3, padding=1, groups=4, in_channels=8),  # grouped: 2 input channels per output
        nn.Conv2D(8, 3, padding=1, groups=8, in_channels=8),  # depthwise: 1 input channel per output
        nn.Conv2DTranspose(4, 4, strides=2, padding=1, in_channels=8),  # 64 inputs x 8 channels scatter into 4 maps x 4x4
        nn.Dense(5, in_units=4 * 16 * 16),
    )
    found = profile(net, (1, 3, 8, 8))
    assert [layer.macs for layer in found.layers] == [512 * 27, 512 * 18, 512 * 9, 64 * 8 * 4 * 16, 4 * 16 * 16 * 5]
    assert [layer.op for layer in found.layers] == ["Convolution"] * 3 + ["Deconvolution", "FullyConnected"]


def test_dense_layer_on_every_position_of_a_sequence():
    net = nn.Dense(5, flatten=False, in_units=4)
    assert profile(net, (1, 3, 4)).macs == 3 * 5 * 4


def test_top_lists_the_costliest_layers_first():
    found = profile(conv_then_dense(), (1, 1, 4, 4))
    assert [layer.op for layer in found.top(1)] == ["Convolution"]
    assert found.top() == sorted(found.layers, key=lambda layer: layer.macs, reverse=True)
    assert all(isinstance(layer, Layer) for layer in found.top())


# -- peak activation memory ----------------------------------------------------------
def test_peak_activation_memory_of_a_chain():
    """Input 16 floats, conv 64, ReLU 64, dense 2: the peak is the conv's and the ReLU's outputs together."""
    found = profile(conv_then_dense(), (1, 1, 4, 4))
    # conv: input 64 B + its output 256 B = 320; relu: the conv's 256 + its own 256 = 512 (input freed);
    # dense: the ReLU's 256 + 8 = 264
    assert found.peak_activation_bytes == 512


def test_peak_activation_memory_keeps_an_input_alive_until_its_last_reader():
    """x (2x4x4 floats, 128 B) is read by the conv and again by the sum, so it stays alive through the ReLU."""
    found = profile(Residual(2), (1, 2, 4, 4))
    # conv: x + conv = 256; relu: x + conv + relu = 384, then the conv is freed; sum: x + relu + sum = 384
    assert found.peak_activation_bytes == 3 * 128


# -- parameters ------------------------------------------------------------------------
def test_trainable_and_total_parameters_counted_by_hand():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, in_channels=1), nn.BatchNorm(in_channels=4), nn.Dense(2, in_units=4 * 2 * 2))
    found = profile(net, (1, 1, 4, 4))
    conv, gamma_beta, running, dense = 4 * 9 + 4, 2 * 4, 2 * 4, 2 * 16 + 2
    assert (found.trainable_params, found.total_params) == (conv + gamma_beta + dense, conv + gamma_beta + running + dense)

    net[0].collect_params().setattr("grad_req", "null")  # a frozen layer still counts in the total
    assert (profile(net, (1, 1, 4, 4)).trainable_params, profile(net, (1, 1, 4, 4)).total_params) == (
        gamma_beta + dense, conv + gamma_beta + running + dense)


@pytest.mark.parametrize("name", ["resnet18_v1", "resnet50_v1", "resnet50_v1b", "resnext50_32x4d", "se_resnext50_32x4d",
                                  "mobilenet1.0", "mobilenet0.25", "vgg16"])
def test_zoo_models_have_gluoncvs_parameter_counts(name):
    reference = json.loads(GLUONCV.read_text())[name]
    found = profile(get_model(name), reference["input_shape"])
    assert (found.trainable_params, found.total_params) == (reference["param_count_trainable"], reference["param_count_total"])


# -- published figures ---------------------------------------------------------------------
@pytest.mark.parametrize("name, gmacs, rel", [
    ("resnet18_v1", 1.8, 0.01),  # He et al. 2016: 1.8 G multiply-adds
    ("resnet50_v1", 3.8, 0.02),  # He et al. 2016: 3.8 G (stride 2 in the first 1x1 conv of a stage, as v1)
    ("resnet50_v1b", 4.09, 0.002),  # torchvision's ResNet-50 (stride 2 in the 3x3 conv, as v1b): 4.09 GMACs
    ("mobilenet1.0", 0.569, 0.002),  # Howard et al. 2017: 569 M multiply-adds
    ("vgg16", 15.5, 0.005),  # 15.5 G multiply-adds (VGG-16 at 224)
])
def test_zoo_models_multiply_adds_match_published_figures(name, gmacs, rel):
    assert profile(get_model(name), (1, 3, 224, 224)).macs / 1e9 == pytest.approx(gmacs, rel=rel)


# -- pipelines and deployed graphs ----------------------------------------------------------
def test_a_pipeline_is_profiled_at_its_own_input_shape_through_its_trainable_network():
    pipeline = Pipeline.from_model("resnet18_v1", input_shape=[4, 3, 64, 64], classes=5)
    found = profile(pipeline)
    assert found.input_shape == (1, 3, 64, 64)
    assert found == profile(pipeline.net, (1, 3, 64, 64))
    pipeline.deploy("hybridize")
    assert profile(pipeline) == found
    assert profile(pipeline, (1, 3, 128, 128)).macs > found.macs


@pytest.mark.skipif(not has_onednn(), reason="oneDNN fusion needs an MXNet built with oneDNN")
def test_a_fused_deployed_graph_counts_the_same_multiply_adds(tmp_path):
    pipeline = Pipeline.from_model("resnet18_v1", input_shape=[1, 3, 64, 64])
    trainable = profile(pipeline)
    pipeline.deploy("hybridize").deploy("export", path=str(tmp_path / "graph"))
    deployed = profile(pipeline.net, (1, 3, 64, 64))
    assert isinstance(pipeline.net, gluon.SymbolBlock)
    assert {layer.op for layer in deployed.layers} == {"_sg_mkldnn_conv", "_sg_mkldnn_fully_connected"}
    assert deployed.macs == trainable.macs and deployed.trainable_params == trainable.trainable_params
    assert 0 < deployed.peak_activation_bytes < trainable.peak_activation_bytes  # fused BN and ReLU write no tensors of their own


# -- errors ---------------------------------------------------------------------------------
def test_a_bare_network_needs_its_input_shape():
    with pytest.raises(ConfigError, match=r"needs its input shape: profile\(net, \(1, 3, 224, 224\)\)"):
        profile(conv_then_dense())


def test_an_input_shape_the_network_does_not_take_is_named(capsys):
    with pytest.raises(ConfigError, match=r"does not take inputs of shape \[1, 3, 4, 4\]: .*Shape inconsistent.*--shape"):
        profile(conv_then_dense(), (1, 3, 4, 4))
    assert capsys.readouterr().out == ""  # MXNet's own printout of the failed inference is not shown
    with pytest.raises(ConfigError, match="positive sizes with the batch first"):
        profile(conv_then_dense(), (1, 0, 4, 4))


def test_a_network_that_cannot_be_traced_is_refused():
    class Imperative(gluon.Block):
        def forward(self, x):
            return x

    with pytest.raises(CvcoreError, match="needs a gluon.HybridBlock.*got a Imperative"):
        profile(Imperative(), (1, 3, 4, 4))


# -- cvcore info ----------------------------------------------------------------------------
def info(capsys, *argv):
    code = main(["info", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def profile_lines(out: str) -> dict[str, str]:
    return dict(re.findall(r"^  (input shape|parameters|multiply-adds|peak activation memory): (.*)$", out, re.M))


def test_info_on_a_zoo_model_prints_what_it_costs(capsys):
    code, out, _ = info(capsys, "resnet50_v1b")
    assert code == 0
    assert "resnet50_v1b  (model, from plugin cvcore)" in out and "  task: classification" in out
    found = profile(get_model("resnet50_v1b"), (1, 3, 224, 224))
    assert profile_lines(out) == {
        "input shape": "1x3x224x224",
        "parameters": "25.6 M (25,557,032 trainable, 25,610,152 in all, BatchNorm running statistics included)",
        "multiply-adds": "4.09 GMACs per image",
        "peak activation memory": f"{found.peak_activation_bytes / 1e6:.2f} MB (float32, batch 1)",
    }


def test_info_profiles_at_the_shape_asked_for(capsys):
    code, out, _ = info(capsys, "mobilenet1.0", "--shape", "1,3,112,112")
    expected = profile(get_model("mobilenet1.0"), (1, 3, 112, 112)).macs / 1e9
    assert code == 0 and profile_lines(out)["input shape"] == "1x3x112x112"
    assert profile_lines(out)["multiply-adds"] == f"{expected:.3f} GMACs per image"


def test_info_on_a_part_that_is_no_model_prints_no_profile(capsys, tinynet):
    code, out, _ = info(capsys, "tinynet")
    assert code == 0 and out.startswith("tinynet  (backbone, from plugin tinynet)") and profile_lines(out) == {}
    code, _, err = info(capsys, "tinynet", "--shape", "1,3,32,32")
    assert code == 1 and "--shape applies to models and pipelines; 'tinynet' is a backbone" in err


def test_info_refuses_a_malformed_shape(capsys):
    code, _, err = info(capsys, "resnet18_v1", "--shape", "3,224,224")
    assert code == 1 and "--shape '3,224,224' must be four positive sizes N,C,H,W" in err


def test_info_on_a_saved_pipeline_and_on_a_config(capsys, tmp_path, tinynet):
    config = write_classification_config(tmp_path / "tiny.toml", tmp_path / "data", size=32)
    # tinynet: 3->16 (16x16 outputs), 16->32 (8x8), 32->64 (4x4), all 3x3 without bias; classifier 64->3
    macs = 16 * 16 * 16 * 27 + 8 * 8 * 32 * 144 + 4 * 4 * 64 * 288 + 64 * 3
    code, out, _ = info(capsys, str(config))
    assert code == 0 and out.startswith(f"{config}  (pipeline config, task classification)") and "  backbone: " in out
    assert profile_lines(out)["input shape"] == "1x3x32x32"
    assert profile_lines(out)["multiply-adds"] == f"{macs / 1e9:.6f} GMACs per image"

    run = tmp_path / "run"
    Pipeline.from_config(config).save(run)
    code, out, _ = info(capsys, str(run), "--shape", "1,3,64,64")
    assert code == 0 and out.startswith(f"{run}  (saved pipeline, task classification)")
    assert profile_lines(out)["input shape"] == "1x3x64x64"
    assert profile_lines(out)["multiply-adds"] == f"{4 * (macs - 64 * 3) / 1e9 + 64 * 3 / 1e9:.5f} GMACs per image"
