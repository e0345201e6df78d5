"""Synthetic GAN data written as PNG folders: super-resolution sets and unpaired day/night translation sets.

Every image is a procedural scene from :func:`draw_scene`: a smooth gradient
behind textured patches (stripes, checkerboards, band-limited noise), sharp
filled shapes, polylines and text-like strokes, so that a 4x bicubic
downscale loses detail a super-resolution model can learn to restore. The
translation set draws scenes in a light "day" style A; style B is
:func:`to_style_b` of the same pixels, so a translated test image can be
scored against its true counterpart. Each image comes from its own generator
seeded by ``(seed, split, index)``.
"""
from __future__ import annotations

import json
import os
import string
from pathlib import Path

import cv2
import numpy as np

from cvcore.data.synthetic import prepare_output
from cvcore.errors import ConfigError

SR_SPLITS = ("train", "val")
UNPAIRED_FOLDERS = ("trainA", "trainB", "testA", "testB")
STYLE_B_MIX = np.array([[0.15, 0.25, 0.60], [0.65, 0.20, 0.15], [0.20, 0.70, 0.10]])
"""Style B is ``255 - STYLE_B_MIX @ rgb``: its rows are non-negative and sum to 1, so no value leaves 0..255; determinant 0.2275."""
FINEST_PERIOD = 8
"""Pixels per cycle of the finest texture: twice the 4x downscale, the low-resolution Nyquist limit."""
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
          cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
_CHARACTERS = np.array(list(string.ascii_letters + string.digits))


def synthesize_sr(root: str | os.PathLike, *, train: int = 64, val: int = 16, size: int = 128, seed: int = 0,
                  overwrite: bool = False) -> None:
    """Write ``root/train/00000.png, ...`` and ``root/val/...``: RGB scenes of ``size`` x ``size`` pixels.

    ``root`` must be empty or missing unless ``overwrite``.
    """
    root = Path(root)
    _check(size, train, val, "val")
    prepare_output(root, "sr", SR_SPLITS, overwrite)
    for split_index, (split, count) in enumerate(zip(SR_SPLITS, (train, val))):
        for index in range(count):
            _write(root / split / f"{index:05d}.png", draw_scene(np.random.default_rng([seed, split_index, index]), size))


def synthesize_unpaired(root: str | os.PathLike, *, train: int = 64, test: int = 16, size: int = 128, seed: int = 0,
                        overwrite: bool = False) -> None:
    """Write CycleGAN's ``root/{trainA,trainB,testA,testB}/00000.png, ...`` and ``root/truth.json``.

    ``trainA`` and ``trainB`` show different scenes (unpaired); ``testB[i]``
    is ``to_style_b(testA[i])``, the truth a translation of ``testA[i]`` is
    scored against. ``root`` must be empty or missing unless ``overwrite``.
    """
    root = Path(root)
    _check(size, train, test, "test")
    prepare_output(root, "unpaired", UNPAIRED_FOLDERS, overwrite)
    for index in range(train):
        _write(root / "trainA" / f"{index:05d}.png", draw_scene(np.random.default_rng([seed, 0, index]), size))
        _write(root / "trainB" / f"{index:05d}.png", to_style_b(draw_scene(np.random.default_rng([seed, 1, index]), size)))
    for index in range(test):
        scene = draw_scene(np.random.default_rng([seed, 2, index]), size)
        _write(root / "testA" / f"{index:05d}.png", scene)
        _write(root / "testB" / f"{index:05d}.png", to_style_b(scene))
    (root / "truth.json").write_text(json.dumps({
        "pairs": "testA[i] <-> testB[i]",
        "style": f"B = round(255 - M @ rgb_A) per pixel, M = {STYLE_B_MIX.tolist()} (A is day on light grounds, B a dark night)",
    }, indent=2) + "\n")


def to_style_b(image_a: np.ndarray) -> np.ndarray:
    """A style-A RGB ``uint8`` image -> its style-B counterpart: ``255 - STYLE_B_MIX @ rgb`` per pixel, rounded."""
    mixed = np.asarray(image_a, np.float64) @ STYLE_B_MIX.T
    return np.clip(np.rint(255.0 - mixed), 0, 255).astype(np.uint8)


def draw_scene(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size`` x ``size`` RGB ``uint8`` scene: light gradient, textured patches, shapes, polylines and text."""
    image = _gradient(rng, size)
    for _ in range(int(rng.integers(1, 3))):
        _texture_patch(rng, image)
    for _ in range(int(rng.integers(3, 8))):
        _shape(rng, image)
    for _ in range(int(rng.integers(1, 4))):
        points = rng.integers(0, size, size=(int(rng.integers(3, 7)), 2), dtype=np.int32)
        cv2.polylines(image, [points], False, _color(rng), int(rng.integers(1, 3)), _line_type(rng))
    for _ in range(int(rng.integers(2, 5))):
        _text(rng, image)
    return image


def _check(size: int, train: int, held_out: int, held_out_name: str) -> None:
    if size < 16 or train < 1 or held_out < 0:
        raise ConfigError(f"need size >= 16, train >= 1 and {held_out_name} >= 0; got size={size}, train={train}, "
                          f"{held_out_name}={held_out}.")


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def _color(rng: np.random.Generator, low: int = 0) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, 256, size=3))


def _line_type(rng: np.random.Generator) -> int:
    return cv2.LINE_AA if rng.random() < 0.5 else cv2.LINE_8


def _coordinates(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's position along a random direction and across it, in pixels."""
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    return x * np.cos(angle) + y * np.sin(angle), y * np.cos(angle) - x * np.sin(angle)


def _gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    along, _ = _coordinates(rng, size)
    t = (along - along.min()) / max(np.ptp(along), 1.0)
    start, end = np.array(_color(rng, 140), np.float64), np.array(_color(rng, 140), np.float64)
    return np.rint(start + t[..., None] * (end - start)).astype(np.uint8)


def _texture_patch(rng: np.random.Generator, image: np.ndarray) -> None:
    """Stripes, a checkerboard or band-limited noise in two random colors, inside a random rectangle or ellipse in view.

    Every pattern repeats no faster than every :data:`FINEST_PERIOD` pixels: finer ones alias
    in a 4x downscale, and what aliasing destroys no model can restore.
    """
    size = image.shape[0]
    kind = rng.integers(3)
    if kind == 0:
        period = rng.uniform(FINEST_PERIOD, 2.5 * FINEST_PERIOD)
        along, _ = _coordinates(rng, size)
        level = (np.sin(2 * np.pi * along / period + rng.uniform(0, 2 * np.pi)) > 0).astype(np.float64)
    elif kind == 1:
        period = rng.uniform(FINEST_PERIOD / 2, 2 * FINEST_PERIOD)  # a square's side: the pattern repeats every 2 periods
        along, across = _coordinates(rng, size)
        level = ((np.floor(along / period) + np.floor(across / period)) % 2).astype(np.float64)
    else:
        cells = max(2, int(size / rng.uniform(FINEST_PERIOD, 2 * FINEST_PERIOD)))
        noise = cv2.resize(rng.standard_normal((cells, cells)), (size, size), interpolation=cv2.INTER_LINEAR)
        level = np.clip(0.5 + noise / 3.0, 0.0, 1.0)
    first, second = np.array(_color(rng), np.float64), np.array(_color(rng), np.float64)
    pattern = np.rint(first + level[..., None] * (second - first)).astype(np.uint8)
    mask = np.zeros((size, size), np.uint8)
    extent = rng.integers(size // 3, size * 2 // 3 + 1, size=2)
    top_left = rng.integers(0, size - extent + 1)
    if rng.random() < 0.5:
        cv2.rectangle(mask, tuple(int(v) for v in top_left), tuple(int(v) for v in top_left + extent - 1), 1, -1)
    else:
        center, axes = top_left + extent // 2, extent // 2
        cv2.ellipse(mask, (int(center[0]), int(center[1])), (int(axes[0]), int(axes[1])), 0.0, 0.0, 360.0, 1, -1)
    image[mask > 0] = pattern[mask > 0]


def _shape(rng: np.random.Generator, image: np.ndarray) -> None:
    """A rectangle, circle or polygon in a random color, filled (mostly) or outlined."""
    size = image.shape[0]
    color, line_type = _color(rng), _line_type(rng)
    thickness = -1 if rng.random() < 0.75 else int(rng.integers(1, 3))
    center = rng.integers(0, size, size=2)
    radius = int(rng.integers(max(2, size // 16), max(3, size // 4)))
    kind = rng.integers(3)
    if kind == 0:
        half = rng.integers(2, radius + 1, size=2)
        cv2.rectangle(image, tuple(int(v) for v in center - half), tuple(int(v) for v in center + half), color, thickness, line_type)
    elif kind == 1:
        cv2.circle(image, (int(center[0]), int(center[1])), radius, color, thickness, line_type)
    else:
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(3, 8))))
        reach = radius * rng.uniform(0.4, 1.0, size=angles.size)
        points = np.rint(center + np.stack([reach * np.cos(angles), reach * np.sin(angles)], axis=1)).astype(np.int32)
        if thickness < 0:
            cv2.fillPoly(image, [points], color, line_type)
        else:
            cv2.polylines(image, [points], True, color, thickness, line_type)


def _text(rng: np.random.Generator, image: np.ndarray) -> None:
    """A short random string of letters and digits in a random Hershey font, scale and thickness."""
    size = image.shape[0]
    text = "".join(rng.choice(_CHARACTERS, size=int(rng.integers(1, 6))))
    scale = max(0.25, size / 128 * rng.uniform(0.35, 1.1))
    origin = (int(rng.integers(0, size * 3 // 4)), int(rng.integers(size // 8, size)))
    cv2.putText(image, text, origin, _FONTS[int(rng.integers(len(_FONTS)))], scale, _color(rng), int(rng.integers(1, 3)),
                _line_type(rng))
