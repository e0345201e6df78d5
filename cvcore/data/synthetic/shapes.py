"""Textured shapes scattered on cluttered scenes, written as a COCO detection and instance-segmentation set.

Each image holds 0 to ``max_objects`` shapes (circle, square, triangle, cross,
star) at scales from about 12 pixels to half the image, any rotation and a
random texture and colour, so the class is the silhouette. Shapes are drawn in
order and later ones occlude earlier ones: an annotation describes what stays
visible (its box, area and mask), and a shape with under a fifth of itself in
view is left as clutter. Unoccluded shapes are polygons, occluded ones
compressed RLE; now and then a cluster of tiny shapes of one class is one
crowd annotation (``iscrowd = 1``), and some images hold nothing. Category ids
have gaps, as COCO's do, so a reader must map them to labels.

Each image has its own generator seeded by ``(seed, split, index)``: a seed
gives the same set on every machine, and asking for more images leaves the
existing ones unchanged.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ...errors import ConfigError
from ...progress import progress_bar
from ..image import write_image
from . import prepare_output
from .classification import POLYGONS, TEXTURES, draw_clutter, shape_colors, texture_pattern

CATEGORIES = ({"id": 1, "name": "circle"}, {"id": 2, "name": "square"}, {"id": 4, "name": "triangle"},
              {"id": 7, "name": "cross"}, {"id": 9, "name": "star"})
SPLITS = ("train", "val")
MIN_VISIBLE = 0.2
"""The fraction of a shape that must stay in view for it to be annotated."""


def synthesize(root: str | os.PathLike, *, train: int = 200, val: int = 50, size: tuple[int, int] = (256, 256), max_objects: int = 6,
               empty_fraction: float = 0.08, crowd_fraction: float = 0.1, seed: int = 0, overwrite: bool = False,
               progress: bool = True) -> Path:
    """Write ``root/{train,val}/*.jpg`` and ``root/annotations/instances_{train,val}.json``; return ``root``.

    ``size`` is (width, height); ``empty_fraction`` of the images hold no shape
    and ``crowd_fraction`` get a crowd. ``root`` must be empty or missing unless
    ``overwrite``.
    """
    root = Path(root)
    width, height = (int(s) for s in size)
    if min(width, height) < 64 or train < 1 or val < 0 or max_objects < 1:
        raise ConfigError(f"need size >= 64 x 64, train >= 1, val >= 0 and max_objects >= 1; got size={tuple(size)}, "
                          f"train={train}, val={val}, max_objects={max_objects}.")
    if not (0 <= empty_fraction <= 1 and 0 <= crowd_fraction <= 1):
        raise ConfigError(f"empty_fraction and crowd_fraction are fractions, got {empty_fraction} and {crowd_fraction}.")
    prepare_output(root, "shapes", (*SPLITS, "annotations"), overwrite)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for split_index, (split, count) in enumerate(zip(SPLITS, (train, val))):
        (root / split).mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for index in progress_bar(range(count), total=count, desc=f"shapes {split}", disable=not progress):
            rng = np.random.default_rng([seed, split_index, index])
            image_id = split_index * 10_000_000 + index + 1
            pixels, instances = scene(rng, height, width, max_objects, empty_fraction, crowd_fraction)
            file_name = f"{image_id:012d}.jpg"
            write_image(root / split / file_name, pixels, quality=int(rng.integers(85, 96)))
            images.append({"id": image_id, "file_name": file_name, "width": width, "height": height})
            for category, mask, polygon, crowd, _ in instances:
                annotations.append(_annotation(len(annotations) + 1, image_id, category, mask, polygon, crowd))
        data = {"info": {"description": f"cvcore synthetic shapes (seed {seed})"}, "images": images,
                "annotations": annotations, "categories": [{**c, "supercategory": "shape"} for c in CATEGORIES]}
        (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(data))
    return root


def scene(rng: np.random.Generator, height: int, width: int, max_objects: int, empty_fraction: float,
          crowd_fraction: float) -> tuple[np.ndarray, list[tuple[int, np.ndarray, list | None, bool, float]]]:
    """One image and its visible instances ``(category index, mask, polygon or None, crowd, fraction in view)``."""
    image = _background(rng, height, width)
    drawn: list[tuple[int, np.ndarray, np.ndarray]] = []  # category, full mask, vertices
    owner = np.full((height, width), -1, np.int32)
    if rng.random() >= empty_fraction:
        for _ in range(int(rng.integers(1, max_objects + 1))):
            category = int(rng.integers(len(CATEGORIES)))
            radius = min(height, width) * float(np.exp(rng.uniform(np.log(0.05), np.log(0.25))))
            vertices = _place(rng, category, radius, height, width)
            mask = _paint(image, rng, category, vertices)
            owner[mask] = len(drawn)
            drawn.append((category, mask, vertices))
    crowd = _crowd(image, rng, owner, height, width) if rng.random() < crowd_fraction else None
    draw_clutter(image, rng, lines=int(rng.integers(0, 2)), blobs=0)  # now and then a line over the shapes
    image += rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(0, 6)
    instances = []
    for index, (category, mask, vertices) in enumerate(drawn):
        visible = owner == index
        if visible.sum() < MIN_VISIBLE * mask.sum():
            continue
        whole = visible.sum() == mask.sum()
        instances.append((category, visible, [_polygon(vertices)] if whole else None, False, float(visible.sum() / max(mask.sum(), 1))))
    if crowd is not None:
        category, members = crowd
        instances.append((category, owner == members, None, True, 1.0))
    return np.clip(image, 0, 255).astype(np.uint8), instances


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A two-colour gradient under random lines and blobs, float32 (height, width, 3)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    low, high = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = xs * np.cos(angle) + ys * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    image = low + ramp[..., None] * (high - low)
    canvas = np.zeros((max(height, width),) * 2 + (3,), np.float32)
    canvas[:height, :width] = image
    draw_clutter(canvas, rng, lines=int(rng.integers(2, 6)), blobs=int(rng.integers(2, 7)))
    return np.ascontiguousarray(canvas[:height, :width])


def _place(rng: np.random.Generator, category: int, radius: float, height: int, width: int) -> np.ndarray:
    """The vertices of a shape of ``radius`` at a random aspect, rotation and position inside the image."""
    aspect = np.sqrt(rng.uniform(0.75, 1.33))
    turn = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    vertices = (POLYGONS[CATEGORIES[category]["name"]] * [radius * aspect, radius / aspect]) @ rotation.T
    low, high = -vertices.min(axis=0), np.array([width, height]) - vertices.max(axis=0)
    return (vertices + rng.uniform(low, np.maximum(low, high))).astype(np.float32)


def _paint(image: np.ndarray, rng: np.random.Generator, category: int, vertices: np.ndarray) -> np.ndarray:
    """Fill the polygon with a textured colour pair standing out from what lies under it; return its boolean mask."""
    height, width = image.shape[:2]
    inside = _raster(vertices, height, width)
    if not inside.any():
        return inside
    first, second = shape_colors(rng, image[inside].mean(axis=0))
    side = max(height, width)
    pattern = texture_pattern(TEXTURES[int(rng.integers(len(TEXTURES)))], side, rng)[:height, :width, None]
    image[inside] = (first + pattern * (second - first))[inside]
    return inside


def _raster(vertices: np.ndarray, height: int, width: int) -> np.ndarray:
    """The pixels COCO's own tools give the polygon (as annotated: to 1/100 pixel), so drawing and annotation agree exactly."""
    return mask_utils.decode(mask_utils.frPyObjects([_polygon(vertices)], height, width))[..., 0].astype(bool)


def _polygon(vertices: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in vertices.ravel()]


def _crowd(image: np.ndarray, rng: np.random.Generator, owner: np.ndarray, height: int, width: int) -> tuple[int, int]:
    """A cluster of 8 to 15 tiny shapes of one class drawn on top; their pixels get one owner id. Returns (category, owner id)."""
    category = int(rng.integers(len(CATEGORIES)))
    members = -2  # the crowd's pixels in ``owner``
    center = rng.uniform([0.2 * width, 0.2 * height], [0.8 * width, 0.8 * height])
    for _ in range(int(rng.integers(8, 16))):
        radius = rng.uniform(2.5, 4.5)
        vertices = _place(rng, category, radius, height, width)
        vertices += (center + rng.normal(0, 0.06 * min(height, width), 2)) - vertices.mean(axis=0)
        owner[_paint(image, rng, category, vertices)] = members
    return category, members


def _annotation(ann_id: int, image_id: int, category: int, mask: np.ndarray, polygon: list | None, crowd: bool) -> dict[str, Any]:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    segmentation = polygon if polygon is not None else {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}
    return {"id": ann_id, "image_id": image_id, "category_id": CATEGORIES[category]["id"], "bbox": [x, y, w, h],
            "area": float(mask.sum()), "iscrowd": int(crowd), "segmentation": segmentation}
