"""Super-resolution quality: PSNR and SSIM on Y against hand-computed values, the border crop, and the per-image metric."""
from __future__ import annotations

import math

import mxnet as mx
import numpy as np
import pytest

from cvcore_gan.quality import SuperResolutionQuality, psnr, ssim, to_y

C1 = (0.01 * 255) ** 2


def noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 240, size=shape).astype(np.float64)


def network(pixels: np.ndarray) -> np.ndarray:
    """N x H x W x 3 integer pixels -> NCHW network values in [-1, 1]."""
    return (pixels.transpose(0, 3, 1, 2) / 127.5 - 1.0).astype(np.float32)


def test_to_y_is_studio_range_luma_and_keeps_grey():
    white, black = np.full((2, 4, 5, 3), 255, np.uint8), np.zeros((4, 5, 3), np.uint8)
    assert to_y(white).shape == (2, 4, 5) and np.allclose(to_y(white), 235.0)
    assert to_y(black).dtype == np.float64 and np.allclose(to_y(black), 16.0)
    assert to_y(np.array([[[255.0, 0.0, 0.0]]]))[0, 0] == pytest.approx(16 + 65.481)
    grey = noise((6, 7)).astype(np.uint8)
    assert to_y(grey).dtype == np.float64 and np.array_equal(to_y(grey), grey)
    assert np.array_equal(to_y(grey[None, ..., None]), grey[None])
    with pytest.raises(ValueError, match="shape"):
        to_y(np.zeros((4, 5, 2)))


def test_psnr_of_a_constant_offset():
    image = noise((32, 32))
    assert psnr(image, image + 3, border=4) == pytest.approx(10 * math.log10(255 ** 2 / 9))
    assert psnr(image / 255, image / 255 + 3 / 255, border=0, data_range=1.0) == pytest.approx(10 * math.log10(255 ** 2 / 9))


def test_identical_images_give_infinite_psnr_and_ssim_one():
    image = noise((32, 40))
    assert psnr(image, image.copy(), border=4) == math.inf
    assert ssim(image, image.copy(), border=4) == pytest.approx(1.0, abs=1e-12)


def test_the_border_crop_excludes_the_border():
    image = noise((32, 32))
    framed = image.copy()
    framed[:4] += 50
    framed[:, -4:] -= 30
    assert psnr(image, framed, border=4) == math.inf
    assert ssim(image, framed, border=4) == pytest.approx(1.0, abs=1e-12)
    assert psnr(image, framed, border=3) < 30 and ssim(image, framed, border=3) < 1


def test_ssim_of_constant_images_is_the_luminance_term():
    dark, light = np.full((32, 32), 20.0), np.full((32, 32), 50.0)
    expected = (2 * 20 * 50 + C1) / (20 ** 2 + 50 ** 2 + C1)  # zero variances: the contrast-structure term is 1
    assert ssim(dark, light, border=4) == pytest.approx(expected, rel=1e-9)


def test_ssim_of_noise_against_itself_shifted_is_strictly_between_minus_one_and_one():
    image = noise((64, 64))
    value = ssim(image, np.roll(image, 1, axis=1), border=4)
    assert -1 < value < 0.5


def test_psnr_and_ssim_are_symmetric_and_reject_different_shapes():
    a, b = noise((40, 36), seed=1), noise((40, 36), seed=2)
    assert ssim(a, b, border=4) == ssim(b, a, border=4)
    assert psnr(a, b, border=4) == psnr(b, a, border=4)
    with pytest.raises(ValueError, match=r"\(40, 36\).*\(36, 40\)"):
        psnr(a, b.T, border=4)
    with pytest.raises(ValueError, match="11 x 11"):
        ssim(a[:16, :16], b[:16, :16], border=4)


def test_the_metric_averages_per_image_over_updates_of_different_sizes():
    small, large = noise((1, 24, 24, 3), seed=3), noise((2, 32, 40, 3), seed=4)
    offsets = np.array([2, 6, 10])[:, None, None, None]
    metric = SuperResolutionQuality()
    assert all(math.isnan(v) for v in metric.get().values())
    metric.update((mx.nd.array(network(small)),), mx.nd.array(network(small + offsets[:1])))  # the engine's targets tuple
    metric.update(network(large), network(large + offsets[1:]))
    per_image = [10 * math.log10(255 ** 2 / (k * 219 / 255) ** 2) for k in (2, 6, 10)]  # an RGB offset of k moves Y by 219 k / 255
    expected_ssim = np.mean([ssim(to_y(t), to_y(t + k), border=4) for t, k in zip([*small, *large], offsets)])
    result = metric.get()
    assert set(result) == {"psnr", "ssim"}
    assert result["psnr"] == pytest.approx(np.mean(per_image), rel=1e-6)  # not the PSNR of the pooled error
    assert result["ssim"] == pytest.approx(expected_ssim, rel=1e-9) and result["ssim"] < 1
    metric.reset()
    assert math.isnan(metric.get()["psnr"])


def test_the_metric_rounds_like_saved_images_and_can_score_rgb():
    image = noise((1, 24, 24, 3), seed=5)
    metric = SuperResolutionQuality(border=2, y_channel=False)
    metric.update(network(image), network(image + 4) + 0.3 / 127.5)  # under half a level: rounded away
    assert metric.get()["psnr"] == pytest.approx(10 * math.log10(255 ** 2 / 16), rel=1e-6)
    metric = SuperResolutionQuality()
    metric.update(network(image), network(image))
    assert metric.get() == {"psnr": math.inf, "ssim": pytest.approx(1.0, abs=1e-12)}


def test_the_metric_rejects_outputs_of_another_shape():
    with pytest.raises(ValueError, match=r"\(1, 3, 16, 16\).*\(1, 3, 20, 20\)"):
        SuperResolutionQuality().update(network(noise((1, 20, 20, 3))), network(noise((1, 16, 16, 3))))
