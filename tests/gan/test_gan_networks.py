"""The GAN plugin's networks: GluonCV's parameter names and shapes, output shapes and ranges, sub-pixel order, padding."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import HybridBlock

from cvcore.errors import ConfigError
from cvcore_gan.cyclegan_nets import PatchDiscriminator, ResnetGenerator
from cvcore_gan.srgan_nets import GAN_INIT, BicubicUpscale, SRDiscriminator, SRGenerator, pixel_shuffle

TABLES = Path(__file__).parent.parent / "data" / "gluoncv" / "params"
NETWORKS = {
    "SRGenerator": lambda: SRGenerator(activation="relu"),
    "SRDiscriminator": SRDiscriminator,
    "CycleGAN_G_resnet_9blocks": lambda: ResnetGenerator(blocks=9),
    "CycleGAN_G_resnet_6blocks": lambda: ResnetGenerator(blocks=6),
    "CycleGAN_D_basic": PatchDiscriminator,
}


def table(name: str) -> dict[str, tuple]:
    return {key: tuple(shape) for key, shape in json.loads((TABLES / f"gan_v0.4.0_{name}.json").read_text()).items()}


def shapes(net: HybridBlock) -> dict[str, tuple]:
    return {key: tuple(param.shape) for key, param in net._collect_params_with_prefix().items()}


def initialized(net: HybridBlock) -> HybridBlock:
    mx.random.seed(0)
    net.initialize()
    return net


@pytest.mark.parametrize("name", NETWORKS)
def test_networks_have_gluoncvs_parameter_names_and_shapes(name):
    assert shapes(NETWORKS[name]()) == table(name)


def test_prelu_generator_adds_only_one_alpha_per_activation():
    ours = shapes(SRGenerator())
    alphas = {key: shape for key, shape in ours.items() if key.endswith(".alpha")}
    assert {key: shape for key, shape in ours.items() if key not in alphas} == table("SRGenerator")
    assert alphas == {key: (1,) for key in ("act1.alpha", "subpix_block1.act.alpha", "subpix_block2.act.alpha",
                                            *(f"res_block.{i}.conv_block.2.alpha" for i in range(16)))}


def test_an_unknown_activation_is_named():
    with pytest.raises(ConfigError, match="prelu, relu"):
        SRGenerator(activation="swish")


@pytest.mark.parametrize("net, size, expected", [
    (SRGenerator, 24, (2, 3, 96, 96)),
    (lambda: ResnetGenerator(blocks=9), 64, (2, 3, 64, 64)),
    (lambda: ResnetGenerator(blocks=6), 64, (2, 3, 64, 64)),
], ids=["SRGenerator", "resnet_9blocks", "resnet_6blocks"])
def test_generators_give_images_in_minus_one_to_one(net, size, expected):
    out = initialized(net())(mx.nd.random.uniform(-1, 1, shape=(2, 3, size, size))).asnumpy()
    assert out.shape == expected
    assert np.isfinite(out).all() and np.abs(out).max() <= 1 and out.std() > 0


@pytest.mark.parametrize("net, size, expected", [
    (SRDiscriminator, 96, (2, 1)),
    (SRDiscriminator, 128, (2, 1)),
    (PatchDiscriminator, 64, (2, 1, 6, 6)),  # 32, 16, 8, then two stride-1 4x4 convs with padding 1 take one cell each
], ids=["SRDiscriminator96", "SRDiscriminator128", "PatchDiscriminator"])
def test_discriminators_give_logits(net, size, expected):
    out = initialized(net())(mx.nd.random.uniform(-1, 1, shape=(2, 3, size, size))).asnumpy()
    assert out.shape == expected and np.isfinite(out).all()


def test_pixel_shuffle_is_the_standard_sub_pixel_order():
    channels, factor, rows, cols = 3, 2, 2, 5
    x = np.arange(channels * factor * factor * rows * cols, dtype=np.float32).reshape(1, -1, rows, cols)
    out = pixel_shuffle(mx.nd, mx.nd.array(x), channels, factor).asnumpy()
    assert out.shape == (1, channels, rows * factor, cols * factor)
    for c, h, w, i, j in np.ndindex(channels, rows, cols, factor, factor):
        assert out[0, c, factor * h + i, factor * w + j] == x[0, c * factor * factor + i * factor + j, h, w]
    symbol = pixel_shuffle(mx.sym, mx.sym.var("x"), channels, factor)
    assert (symbol.eval(x=mx.nd.array(x))[0].asnumpy() == out).all()


@pytest.mark.parametrize("hybridize", [False, True])
def test_bicubic_upscale_is_opencvs_inter_cubic(hybridize):
    image = np.random.default_rng(0).uniform(0, 255, size=(13, 17, 3)).astype(np.float32)  # odd sides: edges on every phase
    upscale = BicubicUpscale(3, 4)
    upscale.initialize()
    if hybridize:
        upscale.hybridize()
    ours = upscale(mx.nd.array(image.transpose(2, 0, 1)[None])).asnumpy()[0].transpose(1, 2, 0)
    np.testing.assert_allclose(ours, cv2.resize(image, (68, 52), interpolation=cv2.INTER_CUBIC), atol=2e-3)


def test_the_bicubic_skip_starts_the_generator_at_bicubic_with_a_fixed_saved_kernel(tmp_path):
    net = initialized(SRGenerator(blocks=1, channels=8, bicubic_skip=True))
    params = net._collect_params_with_prefix()
    assert params["bicubic.kernel"].grad_req == "null" and params["bicubic.kernel"].shape == (48, 3, 5, 5)
    for key in ("conv4.weight", "conv4.bias"):
        params[key].set_data(mx.nd.zeros(params[key].shape))
    x = mx.nd.random.uniform(-1, 1, shape=(1, 3, 9, 11))
    np.testing.assert_allclose(net(x).asnumpy(), net.bicubic(x).asnumpy(), atol=1e-6)
    net.save_parameters(str(tmp_path / "g.params"))
    assert "bicubic.kernel" in mx.nd.load(str(tmp_path / "g.params"))
    without = initialized(SRGenerator(blocks=1, channels=8))
    assert "bicubic.kernel" not in without._collect_params_with_prefix()


@pytest.mark.parametrize("net, size", [(SRGenerator, 16), (lambda: SRGenerator(bicubic_skip=True), 16),
                                       (lambda: ResnetGenerator(blocks=6), 32)], ids=["SRGenerator", "bicubic_skip", "resnet"])
def test_hybridized_generators_give_the_imperative_outputs(net, size):
    net = initialized(net())
    x = mx.nd.random.uniform(-1, 1, shape=(1, 3, size, size))
    imperative = net(x).asnumpy()
    net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), imperative, rtol=1e-5, atol=1e-6)


def test_the_resnet_generators_padding_reflects_without_repeating_the_edge():
    x = np.random.RandomState(0).uniform(-1, 1, size=(1, 3, 8, 8)).astype(np.float32)
    out = ResnetGenerator(blocks=6).model[0](mx.nd.array(x)).asnumpy()
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (3, 3), (3, 3)), mode="reflect"))
    np.testing.assert_array_equal(out[..., 0, 0], x[..., 3, 3])
    np.testing.assert_array_equal(out[..., 3:-3, -1], x[..., :, -4])


def test_convolutions_start_from_the_papers_normal_and_norm_layers_from_identity():
    net = initialized(ResnetGenerator(blocks=6))
    params = net._collect_params_with_prefix()
    assert all(param.init is GAN_INIT for key, param in params.items() if key.endswith("weight"))
    assert abs(params["model.10.conv_block.1.weight"].data().asnumpy().std() - 0.02) < 0.001
    assert (params["model.10.conv_block.2.gamma"].data().asnumpy() == 1).all()
    assert not params["model.10.conv_block.1.bias"].data().asnumpy().any()


@pytest.mark.parametrize("task, options, message", [
    ("super_resolution", {"generator": {"bicubic_skipp": True}, "content_loss": "mse"}, "did you mean 'bicubic_skip'"),
    ("super_resolution", {"discriminator": {"width": 8}, "content_loss": "mse"}, "'discriminator' key: 'width'"),
    ("image_translation", {"generator": {"block": 2}}, "did you mean 'blocks'"),
])
def test_a_typo_in_a_network_option_is_named(task, options, message):
    from cvcore import Pipeline

    with pytest.raises(ConfigError, match=message):
        Pipeline(task, **options)
