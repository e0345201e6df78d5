"""Stick figures on cluttered backgrounds, written as a COCO 2017 person-keypoints set.

:func:`synthesize` writes::

    root/train/000000000001.jpg ...          root/val/000000000001.jpg ...
    root/annotations/person_keypoints_train.json
    root/annotations/person_keypoints_val.json
    root/annotations/detections_val.json     (with ``detections``: a simulated person detector)

An image is a gradient-and-noise background (now and then striped or
checkered) under random lines, rectangles and ellipses, then 1 to
``max_people`` articulated stick figures with COCO's 17 joints, farthest
first, then now and then a foreground object over them. A figure has thick
limbs, a filled torso and a head disk in its own colour: its left limbs in a
lighter tint and its right limbs in a darker shade, as clothing would show.
A figure facing the camera (most do) has a skin-coloured head with eyes and a
nose and its anatomical left on the image's right; one facing away has a plain
hair-coloured head and its left on the image's left.

Labels:

* Coordinates follow OpenCV's pixel-centre convention: a joint drawn at cv2
  point (x, y) (to 1/16 pixel) is labelled (x, y), and the centre of pixel
  column i is x = i, so a joint in the image has 0 <= x <= width - 1 and
  0 <= y <= height - 1.
* v = 2 where the joint's pixel still shows its own figure at the end; v = 1
  where a nearer figure or a foreground object covers it (and for the eyes
  and nose of a figure facing away); v = 0, with x = y = 0, outside the image.
* ``bbox`` [x, y, w, h] covers the figure's drawn pixels in the image
  (columns x .. x + w - 1), hidden ones included. ``area`` is 0.5 * w * h
  exactly, roughly a real person's silhouette in such a box: the thin
  figure's own pixel count would make OKS far stricter than on COCO.
* A figure whose box is under 8 pixels a side, with fewer than 3 labelled
  joints or with none visible, is drawn but not annotated.

Each image has its own generator seeded by ``(seed, split, index)``, so a
seed gives the same bytes on every run, train and val differ, and asking for
more images leaves the first ones unchanged.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from cvcore.data.image import write_image
from cvcore.data.synthetic import prepare_output
from cvcore.errors import ConfigError
from cvcore.progress import progress_bar

from .keypoints import JOINTS, NUM_JOINTS, coco_category

SPLITS = ("train", "val")
STANDING_HEIGHT = 3.3
"""A standing figure's height (top of the head to the ankles) in torso lengths."""
MIN_BOX = 8
MIN_JOINTS = 3
_SHIFT = 4  # cv2 drawing with 1/16-pixel precision; joints are rounded to that grid
_FOREGROUND = 255  # owner-map value of foreground objects (figures are 1, 2, ...)
_J = {name: index for index, name in enumerate(JOINTS)}
_FACE = [_J["nose"], _J["left_eye"], _J["right_eye"]]
# proportions in torso lengths (shoulder centre to hip centre); widths are half widths, head a radius
_LENGTHS = {"shoulder": 0.42, "hip": 0.28, "upper_arm": 0.62, "forearm": 0.55,
            "thigh": 0.85, "shin": 0.85, "neck": 0.2, "head": 0.2}
_SKIN = np.array([[255, 224, 196], [241, 194, 155], [224, 172, 125], [198, 134, 86], [141, 85, 54], [92, 58, 38]])
_HAIR = np.array([[20, 16, 14], [60, 40, 25], [110, 75, 40], [200, 170, 110], [140, 60, 30], [120, 120, 120]])


# -- pose sampling and forward kinematics ------------------------------------------
@dataclass(frozen=True)
class Pose:
    """Proportions (in torso lengths) and angles (radians) of one figure.

    ``arms`` and ``legs`` are (2, 4): rows left and right, columns the angle at
    the root joint from straight down (positive is away from the body's
    midline), the bend at the middle joint (positive turns further out), and
    the foreshortening of the two segments (1 is in the image plane).
    """

    facing_camera: bool
    yaw: float  # turn out of the image plane; narrows the shoulders and hips and shifts the face
    lean: float  # the upper body about the hips
    head_tilt: float
    arms: np.ndarray
    legs: np.ndarray
    lengths: dict[str, float]


@dataclass(frozen=True)
class Figure:
    """A posed figure in image coordinates: joints (17, 2), head centre and radius, torso length (pixels)."""

    joints: np.ndarray
    head: np.ndarray  # x, y, radius
    facing_camera: bool
    torso: float

    def moved(self, offset: np.ndarray) -> Figure:
        """The figure shifted by ``offset``, its points rounded to the 1/16-pixel drawing grid."""
        snap = lambda p: np.rint(p * (1 << _SHIFT)) / (1 << _SHIFT)  # noqa: E731
        head = np.append(snap(self.head[:2] + offset), snap(self.head[2]))
        return Figure(snap(self.joints + offset), head, self.facing_camera, self.torso)


def _foreshortening(rng: np.random.Generator, chance: float) -> float:
    return float(rng.uniform(0.55, 1.0)) if rng.random() < chance else 1.0


def _arm(rng: np.random.Generator) -> list[float]:
    ranges = ((-0.35, 0.9), (0.9, 2.1), (2.1, 3.05))  # down, out to the side, raised
    shoulder = rng.uniform(*ranges[rng.choice(3, p=[0.55, 0.3, 0.15])])
    elbow = np.clip(rng.normal(0, 0.8), -2.4, 2.4)
    return [shoulder, elbow, _foreshortening(rng, 0.15), _foreshortening(rng, 0.25)]


def _leg(rng: np.random.Generator, stance: int) -> list[float]:
    if stance == 3:  # sitting or crouching: thighs out and towards the camera, shins down
        hip = rng.uniform(0.9, 1.65)
        return [hip, rng.uniform(-0.2, 0.45) - hip, rng.uniform(0.35, 0.8), 1.0]
    hip_range, knee_range = (((-0.15, 0.35), (-0.25, 0.25)), ((0.25, 0.7), (-0.5, 0.15)), ((-0.35, 0.5), (-0.9, 0.9)))[stance]
    return [rng.uniform(*hip_range), rng.uniform(*knee_range), _foreshortening(rng, 0.2), 1.0]


def sample_pose(rng: np.random.Generator) -> Pose:
    """A random plausible pose: arms from down to raised, legs standing, spread, walking or sitting."""
    lengths = {name: length * float(rng.uniform(0.9, 1.1)) for name, length in _LENGTHS.items()}
    stance = int(rng.choice(4, p=[0.4, 0.2, 0.25, 0.15]))  # standing, spread, walking, sitting/crouching
    arms = np.array([_arm(rng), _arm(rng)])
    legs = np.array([_leg(rng, stance), _leg(rng, stance)])
    return Pose(
        facing_camera=bool(rng.random() < 0.75),
        yaw=float(rng.uniform(-0.9, 0.9)),
        lean=float(np.clip(rng.normal(0, 0.25 if stance == 3 else 0.12), -0.45, 0.45)),
        head_tilt=float(np.clip(rng.normal(0, 0.15), -0.4, 0.4)),
        arms=arms,
        legs=legs,
        lengths=lengths,
    )


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _direction(side: float, angle: float) -> np.ndarray:
    """Unit vector ``angle`` from straight down, turned towards image side ``side`` (+1 right, -1 left)."""
    return np.array([side * np.sin(angle), np.cos(angle)])


def forward_kinematics(pose: Pose, torso: float) -> Figure:
    """Joint positions of ``pose`` with a ``torso`` pixels long, the hip centre at the origin."""
    size = {name: length * torso for name, length in pose.lengths.items()}
    width, turn = np.cos(pose.yaw), np.sin(pose.yaw)
    left = 1.0 if pose.facing_camera else -1.0  # the image side of the anatomical left
    joints = np.zeros((NUM_JOINTS, 2))
    # upper body in the torso's frame, then leant about the hip centre
    head_frame = _rotation(pose.head_tilt)
    radius = size["head"]
    head = np.array([0.0, -torso]) + head_frame @ [0.0, -(size["neck"] + radius)]
    face = {"nose": (0.45 * turn, 0.3), "left_eye": (0.45 * turn + 0.38 * left * width, -0.1),
            "right_eye": (0.45 * turn - 0.38 * left * width, -0.1),
            "left_ear": (0.15 * turn + 0.8 * left * width, 0.05), "right_ear": (0.15 * turn - 0.8 * left * width, 0.05)}
    for name, offset in face.items():
        joints[_J[name]] = head + head_frame @ (np.array(offset) * radius)
    for side_name, side, (angle, bend, upper, fore) in zip(("left", "right"), (left, -left), pose.arms):
        shoulder = np.array([side * size["shoulder"] * width, -torso])
        elbow = shoulder + size["upper_arm"] * upper * _direction(side, angle)
        joints[_J[f"{side_name}_shoulder"]] = shoulder
        joints[_J[f"{side_name}_elbow"]] = elbow
        joints[_J[f"{side_name}_wrist"]] = elbow + size["forearm"] * fore * _direction(side, angle + bend)
        joints[_J[f"{side_name}_hip"]] = [side * size["hip"] * width, 0.0]
    lean = _rotation(pose.lean)
    joints = joints @ lean.T
    head = lean @ head
    # legs hang from the leant hips
    for side_name, side, (angle, bend, thigh, shin) in zip(("left", "right"), (left, -left), pose.legs):
        knee = joints[_J[f"{side_name}_hip"]] + size["thigh"] * thigh * _direction(side, angle)
        joints[_J[f"{side_name}_knee"]] = knee
        joints[_J[f"{side_name}_ankle"]] = knee + size["shin"] * shin * _direction(side, angle + bend)
    return Figure(joints, np.append(head, radius), pose.facing_camera, torso)


def _place_figure(rng: np.random.Generator, width: int, height: int) -> Figure:
    """A random pose, 40 px to 90% of the image height tall, somewhere in (or partly out of) the image."""
    tallest = 0.9 * height
    tall = np.exp(rng.uniform(np.log(min(40.0, 0.5 * tallest)), np.log(tallest)))
    figure = forward_kinematics(sample_pose(rng), tall / STANDING_HEIGHT)
    x, y, r = figure.head
    low = np.minimum(figure.joints.min(axis=0), [x - r, y - r])
    high = np.maximum(figure.joints.max(axis=0), [x + r, y + r])
    extent = high - low
    margin = 0.25 * extent if rng.random() < 0.8 else 0.6 * extent  # the part that may stick out
    start = rng.uniform(-margin, np.maximum([width, height] - extent + margin, -margin + 1e-3))
    return figure.moved(start - low)


# -- drawing -----------------------------------------------------------------------
def _point(p: np.ndarray) -> tuple[int, int]:
    """A point in cv2's fixed-point form for ``_SHIFT`` fractional bits."""
    return tuple(int(v) for v in np.rint(np.asarray(p) * (1 << _SHIFT)))


Draw = Callable[[np.ndarray, object, int], None]


def _paint(image: np.ndarray, owner: np.ndarray | None, value: int, colour: np.ndarray, draw: Draw) -> None:
    """``draw(target, colour, line_type)`` antialiased on ``image`` and, as ``value``, on the ``owner`` map."""
    draw(image, tuple(float(c) for c in colour), cv2.LINE_AA)
    if owner is not None:
        draw(owner, value, cv2.LINE_8)


def _polyline(points: list[np.ndarray], thickness: int) -> Draw:
    pts = np.array([_point(p) for p in points], np.int32)
    return lambda target, colour, kind: cv2.polylines(target, [pts], False, colour, thickness, kind, _SHIFT)


def _disk(centre: np.ndarray, radius: float) -> Draw:
    c, r = _point(centre), max(int(round(radius * (1 << _SHIFT))), 1 << _SHIFT)
    return lambda target, colour, kind: cv2.circle(target, c, r, colour, -1, kind, _SHIFT)


def _draw_figure(image: np.ndarray, owner: np.ndarray, figure: Figure, value: int, rng: np.random.Generator) -> None:
    """Draw ``figure`` on ``image`` and mark its pixels ``value`` in ``owner``."""
    base = rng.uniform(40, 230, 3)
    tint = {"left": base + (255 - base) * 0.5, "right": base * 0.5}
    head_colour = (_SKIN if figure.facing_camera else _HAIR)[rng.integers(6)] + rng.uniform(-12, 12, 3)
    limb, leg = max(2, round(0.16 * figure.torso)), max(2, round(0.2 * figure.torso))
    j = {name: figure.joints[index] for name, index in _J.items()}
    paint = functools.partial(_paint, image, owner, value)
    for side in ("left", "right"):
        paint(tint[side], _polyline([j[f"{side}_hip"], j[f"{side}_knee"], j[f"{side}_ankle"]], leg))
    corners = np.array([_point(j[name]) for name in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")], np.int32)
    paint(base, lambda target, colour, kind: cv2.fillConvexPoly(target, corners, colour, kind, _SHIFT))
    head, radius = figure.head[:2], figure.head[2]
    paint(base, _polyline([(j["left_shoulder"] + j["right_shoulder"]) / 2, head], limb))
    paint(head_colour, _disk(head, radius))
    if figure.facing_camera:
        for name in ("left_eye", "right_eye"):
            _paint(image, None, 0, np.full(3, 25.0), _disk(j[name], 0.13 * radius))
        _paint(image, None, 0, head_colour * 0.6, _disk(j["nose"], 0.12 * radius))
    for side in rng.permutation(["left", "right"]):
        paint(tint[side], _polyline([j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"]], limb))


def _shape(rng: np.random.Generator, width: int, height: int, reach: tuple[float, float], thickness: int) -> Draw:
    """A random line, rectangle or ellipse (filled, or outlined ``thickness`` thick)."""
    centre = rng.uniform(0, 1, 2) * [width, height]
    extent = rng.uniform(*reach, 2) * min(width, height)
    kind = rng.integers(3)
    fill = -1 if rng.random() < 0.6 else thickness
    if kind == 0:
        ends = [_point(centre - extent * rng.uniform(-1, 1, 2)), _point(centre + extent * rng.uniform(-1, 1, 2))]
        return lambda target, colour, line: cv2.line(target, *ends, colour, thickness, line, _SHIFT)
    if kind == 1:
        corners = _point(centre - extent), _point(centre + extent)
        return lambda target, colour, line: cv2.rectangle(target, *corners, colour, fill, line, _SHIFT)
    angle = float(rng.uniform(0, 180))
    return lambda target, colour, line: cv2.ellipse(
        target, _point(centre), _point(extent), angle, 0, 360, colour, fill, line, _SHIFT)


@functools.lru_cache(maxsize=4)
def _pixel_grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A uint8 RGB gradient with colour blotches, sometimes a stripe or checker texture, and clutter."""
    rows, cols = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    ys, xs = np.mgrid[0:rows, 0:cols] / [[[rows - 1]], [[cols - 1]]]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = xs * width * np.cos(angle) + ys * height * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    low, high = rng.uniform(0, 255, (2, 3))
    grid = low + ramp[..., None] * (high - low) + rng.uniform(-1, 1, (rows, cols, 3)) * rng.uniform(0, 60)
    image = cv2.resize(np.clip(grid, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.4:
        xs, ys = _pixel_grid(width, height)
        turn, period = rng.uniform(0, np.pi), rng.uniform(4, 30)
        cos, sin = np.float32(np.cos(turn) / period), np.float32(np.sin(turn) / period)
        u, v = xs * cos + ys * sin, ys * cos - xs * sin
        pattern = (u % 1 < 0.5) if rng.random() < 0.5 else ((np.floor(u) + np.floor(v)) % 2 == 1)
        shift = rng.uniform(-50, 50, 3)
        mask = pattern.view(np.uint8)
        cv2.add(image, (*np.maximum(shift, 0), 0), dst=image, mask=mask)
        cv2.subtract(image, (*np.maximum(-shift, 0), 0), dst=image, mask=mask)
    for _ in range(int(rng.integers(5, 16))):
        _paint(image, None, 0, rng.uniform(0, 255, 3), _shape(rng, width, height, (0.02, 0.3), int(rng.integers(1, 5))))
    return image


# -- occlusion bookkeeping ------------------------------------------------------------
def _label(figure: Figure, value: int, drawn: tuple[int, int, int, int], owner: np.ndarray) -> dict | None:
    """Keypoints (17, 3) and bbox of a figure from the final ``owner`` map, or None if too little shows.

    ``drawn`` is the box of the figure's pixels right after it was drawn.
    """
    height, width = owner.shape
    xy = figure.joints
    inside = (xy >= 0).all(axis=1) & (xy[:, 0] <= width - 1) & (xy[:, 1] <= height - 1)
    cols, rows = np.rint(xy[inside]).astype(int).T
    visibility = np.zeros(NUM_JOINTS, int)
    visibility[inside] = np.where(owner[rows, cols] == value, 2, 1)
    if not figure.facing_camera:
        visibility[_FACE] = np.minimum(visibility[_FACE], 1)  # behind the head
    if (visibility > 0).sum() < MIN_JOINTS or not (visibility == 2).any():
        return None
    x, y, w, h = drawn
    x0, y0 = min(x, cols.min()), min(y, rows.min())
    x1, y1 = max(x + w - 1, cols.max()), max(y + h - 1, rows.max())
    if min(x1 - x0, y1 - y0) + 1 < MIN_BOX:
        return None
    keypoints = np.column_stack([np.where(inside[:, None], xy, 0.0), visibility])
    return {"keypoints": keypoints, "bbox": [int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)]}


def render(width: int, height: int, max_people: int, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """One RGB uint8 image and its annotated people: dicts with ``keypoints`` (17, 3) and ``bbox``."""
    image = _background(width, height, rng)
    owner = np.zeros((height, width), np.uint8)
    count = int(rng.integers(1, max_people + 1))
    placed = [(_place_figure(rng, width, height), rng.uniform(0.8, 1.2)) for _ in range(count)]
    figures = [figure for figure, _ in sorted(placed, key=lambda f: f[0].torso * f[1])]  # bigger is nearer
    drawn = []
    for value, figure in enumerate(figures, 1):
        _draw_figure(image, owner, figure, value, rng)
        drawn.append(cv2.boundingRect((owner == value).view(np.uint8)))
    for _ in range(int(rng.choice(3, p=[0.45, 0.35, 0.2]))):
        shape = _shape(rng, width, height, (0.03, 0.15), int(rng.integers(3, 8)))
        _paint(image, owner, _FOREGROUND, rng.uniform(0, 255, 3), shape)
    people = [_label(figure, value, box, owner) for value, (figure, box) in enumerate(zip(figures, drawn), 1)]
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    amplitude = rng.uniform(0, 10)  # uniform sensor noise in [-amplitude, amplitude]
    noise = np.frombuffer(rng.bytes(image.size), np.uint8).reshape(image.shape)
    image = cv2.addWeighted(image, 1.0, noise, 2 * amplitude / 255, -amplitude)
    return image, [person for person in people if person is not None]


# -- COCO files ----------------------------------------------------------------------
def _annotation(annotation_id: int, image_id: int, person: dict) -> dict:
    x, y, w, h = person["bbox"]
    keypoints = person["keypoints"]
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": 1,
        "bbox": [float(x), float(y), float(w), float(h)],
        "area": 0.5 * w * h,
        "iscrowd": 0,
        "keypoints": [value for px, py, v in keypoints for value in (float(px), float(py), int(v))],
        "num_keypoints": int((keypoints[:, 2] > 0).sum()),
    }


def _detections(image_id: int, people: list[dict], width: int, height: int, rng: np.random.Generator) -> list[dict]:
    """A decent detector's output: most boxes a few % off with high scores, a few misses and false positives."""
    boxes = []
    for person in people:
        if rng.random() < 0.05:
            continue
        x, y, w, h = person["bbox"]
        centre = np.array([x + w / 2, y + h / 2]) + rng.normal(0, 0.03, 2) * [w, h]
        half = np.array([w, h]) * np.exp(rng.normal(0, 0.05, 2)) / 2
        boxes.append((centre - half, centre + half, rng.uniform(0.7, 0.99)))
    for _ in range(rng.poisson(0.3)):
        corner = rng.uniform(0, 1, 2) * [width, height]
        boxes.append((corner, corner + rng.uniform(0.05, 0.4, 2) * [width, height], rng.uniform(0.05, 0.45)))
    results = []
    for low, high, score in boxes:
        low, high = np.clip(low, 0, [width, height]), np.clip(high, 0, [width, height])
        if (high - low).min() >= 1:
            bbox = [round(float(v), 2) for v in (*low, *(high - low))]
            results.append({"image_id": image_id, "category_id": 1, "bbox": bbox, "score": round(float(score), 4)})
    return results


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")))


def synthesize(
    root: str | os.PathLike,
    *,
    train: int = 2000,
    val: int = 300,
    size: int | tuple[int, int] = (320, 240),
    max_people: int = 4,
    seed: int = 0,
    detections: bool = True,
    progress: bool = True,
    overwrite: bool = False,
) -> dict[str, dict[str, int]]:
    """Write the COCO layout described in the module docstring under ``root``.

    ``size`` is (width, height), or one number for square images. ``root``
    must be empty or missing unless ``overwrite`` (which replaces what an
    earlier run wrote there). Returns the counts written, e.g.
    ``{"train": {"images": 2000, "people": 5000}, "val": {"images": 300, "people": 750, "detections": 730}}``.
    """
    root = Path(root)
    width, height = (size, size) if isinstance(size, int) else (int(v) for v in size)
    if train < 1 or val < 0:
        raise ConfigError(f"train must be >= 1 and val >= 0, got {train} and {val}.")
    if min(width, height) < 32:
        raise ConfigError(f"size (width, height) must be at least 32 pixels each, got {size}.")
    if not 1 <= max_people <= 20:
        raise ConfigError(f"max_people must be between 1 and 20 (COCO evaluates 20 per image), got {max_people}.")
    prepare_output(root, "keypoints", (*SPLITS, "annotations"), overwrite)
    summary: dict[str, dict[str, int]] = {}
    for split_index, (split, count) in enumerate(zip(SPLITS, (train, val))):
        (root / split).mkdir(parents=True, exist_ok=True)
        images, annotations, results = [], [], []
        for index in progress_bar(range(count), desc=f"synth keypoints {split}", unit="img", disable=not progress):
            image_id = index + 1
            image, people = render(width, height, max_people, np.random.default_rng([seed, split_index, index]))
            name = f"{image_id:012d}.jpg"
            write_image(root / split / name, image, quality=90)
            images.append({"id": image_id, "file_name": name, "width": width, "height": height})
            annotations += [_annotation(i, image_id, person) for i, person in enumerate(people, len(annotations) + 1)]
            if detections and split == "val":
                detector = np.random.default_rng([seed, split_index, index, 1])
                results += _detections(image_id, people, width, height, detector)
        info = {"description": f"cvcore synthetic stick-figure keypoints, {split}", "version": "1.0", "seed": seed}
        coco = {"info": info, "licenses": [], "images": images, "annotations": annotations, "categories": [coco_category()]}
        _write_json(root / "annotations" / f"person_keypoints_{split}.json", coco)
        summary[split] = {"images": count, "people": len(annotations)}
        if detections and split == "val":
            _write_json(root / "annotations" / "detections_val.json", results)
            summary[split]["detections"] = len(results)
    return summary
