"""FLOP counting and the machine's matmul ceiling used by the backbone benchmark."""
import pytest
from mxnet.gluon import nn

from cvcore import get_model
from cvcore.deploy import roofline
from cvcore.deploy.roofline import matmul_peak_gflops, network_flops


def test_flops_of_hand_counted_layers():
    net = nn.HybridSequential()
    net.add(
        nn.Conv2D(8, 3, padding=1, in_channels=3),  # 8x8x8 outputs, 27 MACs each
        nn.Conv2D(8, 3, padding=1, groups=4, in_channels=8),  # grouped: 2 input channels per output
        nn.Conv2DTranspose(4, 4, strides=2, padding=1, in_channels=8),  # 64 inputs x 8 channels x 4x4x4
        nn.Dense(5, in_units=4 * 16 * 16),
    )
    expected_macs = 8 * 8 * 8 * 27 + 8 * 8 * 8 * 18 + 64 * 8 * 4 * 16 + 4 * 16 * 16 * 5
    assert network_flops(net, (1, 3, 8, 8)) == 2 * expected_macs
    assert network_flops(net, (3, 3, 8, 8)) == 3 * 2 * expected_macs


@pytest.mark.parametrize("name, gmacs", [("resnet18_v1", 1.814), ("resnet50_v1b", 4.089), ("mobilenet1.0", 0.569)])
def test_flops_of_zoo_models_match_published_counts(name, gmacs):
    assert network_flops(get_model(name), (1, 3, 224, 224)) / 2e9 == pytest.approx(gmacs, rel=2e-3)


def test_matmul_peak_is_the_best_of_the_timed_products(monkeypatch):
    """2 n^3 FLOP per product over the fastest of the timed runs (the clock is scripted: 2 s, 0.5 s, 1 s)."""
    ticks = iter([10.0, 12.0, 20.0, 20.5, 30.0, 31.0])
    monkeypatch.setattr(roofline.time, "perf_counter", lambda: next(ticks))
    assert matmul_peak_gflops(size=64, repeats=3) == pytest.approx(2 * 64**3 / 0.5 / 1e9)
    with pytest.raises(StopIteration):
        next(ticks)  # each of the three runs was timed once
