"""Predict on pictures of any size and kind (grey, RGB, RGBA; odd sizes; tiles) through the API and the CLI."""
from __future__ import annotations

import cv2
import mxnet as mx
import numpy as np
import pytest
from conftest import run_cli

from cvcore import Pipeline
from cvcore.errors import ConfigError
from cvcore_gan.pixels import from_network, to_network
from cvcore_gan.sr_predict import super_resolve


@pytest.fixture(scope="module")
def sr():
    mx.random.seed(1)
    return Pipeline("super_resolution", generator={"blocks": 1, "channels": 8}, content_loss="mse")


@pytest.fixture(scope="module")
def translator():
    mx.random.seed(2)
    return Pipeline("image_translation", generator={"blocks": 1, "channels": 8}, crop=16)


def picture(height: int, width: int, channels: int | None = 3, seed: int = 0) -> np.ndarray:
    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_network_pixels_round_trip_exactly():
    image = picture(5, 7)
    assert np.array_equal(from_network(to_network(image)), image)


@pytest.mark.parametrize("channels, shape", [(3, (52, 76, 3)), (None, (52, 76)), (1, (52, 76)), (4, (52, 76, 4))])
def test_sr_keeps_the_kind_of_picture_and_an_odd_size(sr, channels, shape):
    image = picture(13, 19, channels)
    with pytest.warns(UserWarning, match="random weights"):
        (result,) = sr.predict(image)
    assert result.shape == shape and result.dtype == np.uint8
    if channels == 4:  # alpha: its own bicubic upscale, untouched by the network
        assert np.array_equal(result[:, :, 3], cv2.resize(image[:, :, 3], (76, 52), interpolation=cv2.INTER_CUBIC))


def test_sr_tiles_match_a_whole_image_pass(sr):
    image = picture(70, 90)
    whole = super_resolve(sr.net, image, scale=4, tile=128, ctx=mx.cpu()).pixels
    tiled = super_resolve(sr.net, image, scale=4, tile=40, ctx=mx.cpu()).pixels  # 8-pixel cores, 16-pixel margins
    assert tiled.shape == whole.shape == (280, 360, 3)
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1  # a rounding step at most


def test_sr_refuses_tiles_no_larger_than_their_margins(sr):
    with pytest.raises(ConfigError, match="tile = 32"):
        super_resolve(sr.net, picture(8, 8), scale=4, tile=32, ctx=mx.cpu())


def test_translation_runs_either_way_at_any_size(translator):
    image = picture(30, 45)
    with pytest.warns(UserWarning):
        (ab,) = translator.predict(image)
        (ba,) = translator.predict(image, direction="BtoA")
    assert ab.shape == ba.shape == (30, 45, 3) and not np.array_equal(ab, ba)
    with pytest.raises(ConfigError, match="direction = 'AB'"):
        translator.predict(image, direction="AB")


def test_cli_predict_writes_the_picture(sr, tmp_path, capsys):
    sr.save(tmp_path / "run")
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), picture(11, 9, 4))
    code, _, err = run_cli(capsys, "predict", "--model", tmp_path / "run", source, "--out", tmp_path / "big.png")
    assert code == 0, err
    written = cv2.imread(str(tmp_path / "big.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (44, 36, 4)


def test_cli_predict_translates_back_with_a_setting(translator, tmp_path, capsys):
    translator.save(tmp_path / "run")
    source = tmp_path / "day.png"
    cv2.imwrite(str(source), picture(16, 16))
    code, _, err = run_cli(capsys, "predict", "--model", tmp_path / "run", source, "--set", "direction=BtoA", "--out", tmp_path / "out")
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "out" / "day_BtoA.png")).shape == (16, 16, 3)
