"""The machine's matmul ceiling used by the backbone benchmark (its FLOP counts: test_profile.py)."""
import pytest

from cvcore.deploy import roofline
from cvcore.deploy.roofline import matmul_peak_gflops


def test_matmul_peak_is_the_best_of_the_timed_products(monkeypatch):
    """2 n^3 FLOP per product over the fastest of the timed runs (the clock is scripted: 2 s, 0.5 s, 1 s)."""
    ticks = iter([10.0, 12.0, 20.0, 20.5, 30.0, 31.0])
    monkeypatch.setattr(roofline.time, "perf_counter", lambda: next(ticks))
    assert matmul_peak_gflops(size=64, repeats=3) == pytest.approx(2 * 64**3 / 0.5 / 1e9)
    with pytest.raises(StopIteration):
        next(ticks)  # each of the three runs was timed once
