"""Drawing detections: boxes in their class's colour, masks only where they are, labels inside the image, the input kept."""
from __future__ import annotations

import numpy as np
import pytest

from cvcore.data.draw_detections import class_color, draw_detections

H, W = 120, 160


@pytest.fixture
def canvas() -> np.ndarray:
    return np.full((H, W, 3), 40, dtype=np.uint8)


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return (before != after).any(axis=2)


def longest_run(image: np.ndarray, color: tuple[int, int, int]) -> int:
    """The longest horizontal run of ``color`` pixels in any row (a label's filled background, when wider than the box)."""
    hits = (image == np.array(color, np.uint8)).all(axis=2)
    best = 0
    for row in hits:
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(np.int8), 0]))
        best = max(best, int(np.max(edges[1::2] - edges[0::2], initial=0)))
    return best


def test_the_output_is_a_new_image_of_the_same_shape_and_the_input_is_untouched(canvas):
    canvas.flags.writeable = False  # a read-only image draws too
    kept = canvas.copy()
    drawn = draw_detections(canvas, [[20, 30, 80, 90]], [1], [0.93], class_names=["cat", "dog"],
                            masks=np.ones((1, H, W), dtype=bool))
    assert drawn.shape == canvas.shape and drawn.dtype == np.uint8 and drawn is not canvas
    assert np.array_equal(canvas, kept) and changed(canvas, drawn).any()


def test_box_edges_take_the_class_colour_and_classes_differ(canvas):
    drawn = draw_detections(canvas, [[20, 30, 80, 90], [100, 40, 150, 110]], [0, 2], [0.9, 0.8], thickness=1)
    first, third = class_color(0), class_color(2)
    assert first != third and len({class_color(label) for label in range(20)}) == 20
    assert tuple(drawn[90, 50]) == first and tuple(drawn[60, 20]) == first and tuple(drawn[60, 80]) == first  # bottom, left, right
    assert tuple(drawn[110, 125]) == third and tuple(drawn[75, 150]) == third
    assert tuple(drawn[60, 50]) == (40, 40, 40)  # inside the box nothing is drawn without a mask


def test_a_mask_changes_the_masked_region_only(canvas):
    mask = np.zeros((1, H, W), dtype=np.uint8)
    mask[0, 40:80, 30:70] = 1
    boxes, labels, scores = [[30, 40, 70, 80]], [1], [0.9]
    plain = draw_detections(canvas, boxes, labels, scores)
    overlaid = draw_detections(canvas, boxes, labels, scores, masks=mask)
    difference = changed(plain, overlaid)
    assert difference[41:79, 31:69].all()  # every masked pixel inside the box's edges is tinted (or outlined)
    assert not difference[mask[0] == 0].any()
    tint = overlaid[60, 50].astype(int)
    assert np.abs(tint - canvas[60, 50]).sum() > 0 and np.abs(tint - class_color(1)).sum() > 0  # blended, not painted over


def test_labels_near_the_border_stay_whole_inside_the_image(canvas):
    def label_width(box: list[float]) -> int:
        drawn = draw_detections(canvas, [box], [0], [0.93], class_names=["person"], thickness=1, font_scale=0.4)
        return longest_run(drawn, class_color(0))

    free = label_width([70, 60, 80, 70])  # room above and to the right
    assert free > 30  # wider than the 10-pixel box: it is the label's background
    corners = {"top left": [0, 0, 10, 10], "top right": [W - 10, 0, W, 10],
               "bottom left": [0, H - 10, 10, H], "bottom right": [W - 10, H - 10, W, H]}
    for where, box in corners.items():
        assert label_width(box) == free, where


def test_the_score_threshold_names_and_empty_slots(canvas):
    boxes = [[10, 10, 40, 40], [60, 60, 90, 90], [100, 10, 130, 40]]
    drawn = draw_detections(canvas, boxes, [0, 1, -1], [0.9, 0.3, 0.95], score_threshold=0.5)
    assert changed(canvas, drawn)[:50, :50].any()
    assert not changed(canvas, drawn)[55:, 55:95].any()  # below the threshold
    assert not changed(canvas, drawn)[:50, 95:].any()  # label -1: an empty slot
    truth = draw_detections(canvas, boxes[:1], [0], None, class_names=["cat"])  # ground truth: names without scores
    assert changed(canvas, truth).any()


def test_mistakes_are_named(canvas):
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_detections(canvas.astype(np.float32), [], [], [])
    with pytest.raises(ValueError, match="2 labels"):
        draw_detections(canvas, [[0, 0, 1, 1]], [0, 1], [0.5])
    with pytest.raises(ValueError, match=r"\(1, 120, 160\)"):
        draw_detections(canvas, [[0, 0, 1, 1]], [0], [0.5], masks=np.zeros((1, 10, 10)))
