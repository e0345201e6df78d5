"""Drawing skeletons: limbs and joints where they are, nothing elsewhere, the threshold, saving."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore.data.image import read_image
from cvcore_pose.draw import CENTER_COLOR, LEFT_COLOR, RIGHT_COLOR, draw_keypoints, save_drawing
from cvcore_pose.keypoints import JOINTS, NUM_JOINTS, SKELETON

H, W = 240, 200
RADIUS, THICKNESS = 3, 2


def person() -> np.ndarray:
    """A standing person's 17 joints (x, y) in a 200x240 image."""
    spots = {
        "nose": (100, 30), "left_eye": (108, 24), "right_eye": (92, 24), "left_ear": (118, 28), "right_ear": (82, 28),
        "left_shoulder": (130, 60), "right_shoulder": (70, 60), "left_elbow": (150, 100), "right_elbow": (50, 100),
        "left_wrist": (160, 140), "right_wrist": (40, 140), "left_hip": (120, 130), "right_hip": (80, 130),
        "left_knee": (125, 175), "right_knee": (75, 175), "left_ankle": (128, 220), "right_ankle": (72, 220),
    }
    return np.array([spots[name] for name in JOINTS], dtype=np.float64)


def near(points: np.ndarray, shown: np.ndarray, margin: float) -> np.ndarray:
    """(H, W) mask of pixels within ``margin`` of a shown joint or of a limb with both ends shown."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    mask = np.zeros((H, W), dtype=bool)
    for joint in np.flatnonzero(shown):
        mask |= np.hypot(xs - points[joint, 0], ys - points[joint, 1]) <= margin
    for a, b in SKELETON:
        if shown[a] and shown[b]:
            (ax, ay), (bx, by) = points[a], points[b]
            t = np.clip(((xs - ax) * (bx - ax) + (ys - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)
            mask |= np.hypot(xs - (ax + t * (bx - ax)), ys - (ay + t * (by - ay))) <= margin
    return mask


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return (before != after).any(axis=2)


@pytest.fixture
def canvas() -> np.ndarray:
    return np.full((H, W, 3), 30, dtype=np.uint8)


def test_limbs_and_joints_are_drawn_where_they_are_and_nowhere_else(canvas):
    points = person()
    scores = np.ones((1, NUM_JOINTS))
    low = [JOINTS.index("right_wrist"), JOINTS.index("left_ankle")]
    scores[0, low] = 0.1
    drawn = draw_keypoints(canvas, points[None], scores, radius=RADIUS, thickness=THICKNESS)
    assert drawn is not canvas and (canvas == 30).all() and drawn.dtype == np.uint8 and drawn.shape == canvas.shape
    shown = scores[0] > 0.2
    diff = changed(canvas, drawn)
    assert not (diff & ~near(points, shown, RADIUS + THICKNESS)).any()  # nothing beyond the limbs and joints

    def mid(a, b):
        x, y = (points[JOINTS.index(a)] + points[JOINTS.index(b)]) / 2
        return drawn[round(y), round(x)]

    assert tuple(mid("left_shoulder", "left_elbow")) == LEFT_COLOR
    assert tuple(mid("right_hip", "right_knee")) == RIGHT_COLOR
    assert tuple(mid("left_hip", "right_hip")) == CENTER_COLOR  # a limb joining the sides
    assert tuple(drawn[30, 100]) == CENTER_COLOR  # the nose's dot
    # joints under the threshold: neither their dots nor their limbs
    for joint in low:
        x, y = points[joint].astype(int)
        assert not diff[y - 1:y + 2, x - 1:x + 2].any()
    assert (mid("right_elbow", "right_wrist") == 30).all() and (mid("left_knee", "left_ankle") == 30).all()


def test_scores_can_be_the_third_column_and_default_to_all_shown(canvas):
    points = person()
    scores = np.full((1, NUM_JOINTS), 0.9)
    scores[0, 3] = 0.0
    with_scores = draw_keypoints(canvas, points[None], scores, radius=RADIUS, thickness=THICKNESS)
    third = draw_keypoints(canvas, np.concatenate([points, scores[0, :, None]], axis=1)[None], radius=RADIUS, thickness=THICKNESS)
    np.testing.assert_array_equal(with_scores, third)
    everything = draw_keypoints(canvas, points[None], radius=RADIUS, thickness=THICKNESS)
    assert changed(canvas, everything).sum() > changed(canvas, with_scores).sum()
    stricter = draw_keypoints(canvas, points[None], scores, threshold=0.95, radius=RADIUS, thickness=THICKNESS)
    np.testing.assert_array_equal(stricter, canvas)


def test_boxes_several_people_and_bad_coordinates(canvas):
    points = person()
    bad = points.copy()
    bad[0] = np.nan
    drawn = draw_keypoints(canvas, np.stack([points * 0.5, bad]), boxes=[[10, 10, 80, 100], [0, 0, 0, np.nan]], thickness=1)
    assert (drawn[10, 40:60] != 30).any(axis=1).all() and (drawn[60:80, 90] != 30).any(axis=1).all()  # top and right edges
    assert changed(canvas, drawn)[13:18, 48:53].any()  # the half-size person's nose
    assert (drawn[28:33, 98:103] == 30).all()  # the other person's nose is not a number: not drawn
    assert (drawn[120:125, 180:190] == 30).all()


def test_default_sizes_follow_the_image_size():
    point = np.array([[[50.0, 50.0]]])
    small = draw_keypoints(np.zeros((100, 100, 3), np.uint8), point, skeleton=())
    big = draw_keypoints(np.zeros((1000, 1000, 3), np.uint8), point * 10, skeleton=())
    assert changed(np.zeros_like(big), big).sum() > 4 * changed(np.zeros_like(small), small).sum()


def test_bad_inputs_are_refused(canvas):
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_keypoints(canvas.astype(np.float32), person()[None])
    with pytest.raises(ValueError, match="keypoints"):
        draw_keypoints(canvas, np.zeros((1, NUM_JOINTS, 4)))


def test_save_drawing_writes_the_image_and_nothing_else(canvas, tmp_path):
    drawn = draw_keypoints(canvas, person()[None])
    path = save_drawing(tmp_path / "out" / "pose.png", drawn)
    assert path == tmp_path / "out" / "pose.png"
    np.testing.assert_array_equal(read_image(path), drawn)
    assert [p.name for p in path.parent.iterdir()] == ["pose.png"]
