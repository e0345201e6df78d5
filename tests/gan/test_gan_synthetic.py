"""The synthetic GAN sets: PNG layout, determinism, detail a 4x bicubic round trip loses, and the day/night truth."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvcore.data.image import read_image
from cvcore.errors import ConfigError
from cvcore_gan.quality import psnr, to_y
from cvcore_gan.synthetic import draw_scene, synthesize_sr, synthesize_unpaired, to_style_b


def decoded(folder: Path) -> list[np.ndarray]:
    return [read_image(path) for path in sorted(folder.glob("*.png"))]


@pytest.fixture(scope="module")
def unpaired(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("unpaired")
    synthesize_unpaired(root, train=4, test=3, size=64)
    return root


def test_sr_writes_rgb_pngs_named_in_order(tmp_path):
    synthesize_sr(tmp_path, train=5, val=2, size=48)
    for split, count in (("train", 5), ("val", 2)):
        files = sorted((tmp_path / split).iterdir())
        assert [path.name for path in files] == [f"{index:05d}.png" for index in range(count)]
        for path in files:
            raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            assert raw.shape == (48, 48, 3) and raw.dtype == np.uint8


def test_same_seed_same_images_other_seed_other_images(tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        synthesize_sr(tmp_path / name, train=3, val=1, size=32, seed=seed)
    first, again, other = (decoded(tmp_path / name / "train") for name in "abc")
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    assert not any(np.array_equal(x, y) for x, y in zip(first, other))
    assert not np.array_equal(first[0], first[1])


def test_a_4x_bicubic_round_trip_loses_detail(tmp_path):
    synthesize_sr(tmp_path, train=1, val=16, size=128)
    values = []
    for image in decoded(tmp_path / "val"):
        low = cv2.resize(image, (32, 32), interpolation=cv2.INTER_CUBIC)
        values.append(psnr(to_y(image), to_y(cv2.resize(low, (128, 128), interpolation=cv2.INTER_CUBIC)), border=4))
    assert max(values) < 32 and np.mean(values) < 26  # measured: at most about 31 dB over 600 scenes, 23 dB on average


def test_a_written_root_is_kept_unless_overwrite(tmp_path):
    synthesize_sr(tmp_path, train=3, val=1, size=32)
    with pytest.raises(ConfigError, match="overwrite"):
        synthesize_sr(tmp_path, train=2, val=1, size=32)
    synthesize_sr(tmp_path, train=2, val=1, size=32, overwrite=True)
    assert len(list((tmp_path / "train").iterdir())) == 2
    with pytest.raises(ConfigError, match="size"):
        synthesize_sr(tmp_path / "tiny", size=8)


def test_unpaired_layout_and_truth_file(unpaired):
    for folder, count in (("trainA", 4), ("trainB", 4), ("testA", 3), ("testB", 3)):
        images = decoded(unpaired / folder)
        assert len(images) == count and all(image.shape == (64, 64, 3) for image in images)
    truth = json.loads((unpaired / "truth.json").read_text())
    assert truth["pairs"] == "testA[i] <-> testB[i]" and truth["style"]


def test_test_b_is_style_b_of_test_a(unpaired):
    for image_a, image_b in zip(decoded(unpaired / "testA"), decoded(unpaired / "testB")):
        assert np.array_equal(to_style_b(image_a), image_b)
        assert not np.array_equal(image_a, image_b)


def test_train_b_shows_other_scenes_than_train_a(unpaired):
    styled = [to_style_b(image) for image in decoded(unpaired / "trainA")]
    train_b = decoded(unpaired / "trainB")
    assert not any(np.array_equal(a, b) for a in styled for b in train_b)


def test_style_b_is_a_dark_invertible_color_map():
    scene = draw_scene(np.random.default_rng(7), 64)
    night = to_style_b(scene)
    assert night.dtype == np.uint8 and night.shape == scene.shape
    assert to_y(night).mean() < to_y(scene).mean() - 40
    assert np.array_equal(to_style_b(np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)), [[[255, 255, 255], [0, 0, 0]]])
