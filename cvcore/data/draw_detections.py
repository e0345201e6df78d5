"""Drawing detections on images: a box and a "name 0.93" label per object, instance masks as translucent overlays."""
from __future__ import annotations

import colorsys
from typing import Any, Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
GOLDEN_RATIO_CONJUGATE = 0.6180339887498949


def class_color(label: int) -> tuple[int, int, int]:
    """The RGB colour of class ``label``: hues a golden-ratio turn apart, so neighbouring labels differ most."""
    hue = (0.08 + int(label) * GOLDEN_RATIO_CONJUGATE) % 1.0
    return tuple(round(255 * c) for c in colorsys.hsv_to_rgb(hue, 0.85, 0.95))  # type: ignore[return-value]


def draw_detections(
    image: np.ndarray,
    boxes: Any,
    labels: Any,
    scores: Any = None,
    class_names: Sequence[str] | None = None,
    masks: Any = None,
    score_threshold: float = 0.0,
    *,
    thickness: int | None = None,
    font_scale: float | None = None,
    mask_alpha: float = 0.45,
) -> np.ndarray:
    """A copy of ``image`` (RGB ``uint8`` HxWx3) with each detection's mask, box and label drawn in its class's colour.

    ``boxes`` (K, 4) are ``x1, y1, x2, y2`` in image pixels, ``labels`` (K,)
    class indices (negative ones are empty slots, not drawn), ``scores`` (K,)
    or None (labels then show only the name, e.g. for ground truth).
    Detections scoring below ``score_threshold`` are left out; the rest are
    drawn lowest score first, so the best ends on top. A label reads
    ``class_names[label]`` (or the index) and the score, on a filled
    background placed above the box, or inside it at the top edge, and moved
    to stay inside the image. ``masks`` (K, H, W), bool or 0/1 (probabilities
    at 0.5), are blended in at ``mask_alpha`` with their outline, both inside
    the mask only. ``thickness`` (box lines) and ``font_scale`` grow with the
    image by default.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"draw_detections needs an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}.")
    height, width = image.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    count = len(boxes)
    scores_given = scores is not None
    scores = np.asarray(scores, dtype=np.float64).reshape(-1) if scores_given else np.full(count, np.inf)
    if not len(labels) == len(scores) == count:
        raise ValueError(f"draw_detections got {count} boxes, {len(labels)} labels and {len(scores)} scores; one of each per detection.")
    if masks is not None:
        masks = np.asarray(masks)
        if masks.shape != (count, height, width):
            raise ValueError(f"masks must be (K, H, W) = ({count}, {height}, {width}), one full-image mask per box, got {masks.shape}.")
        masks = masks >= 0.5 if masks.dtype.kind == "f" else masks.astype(bool)
    longer = max(height, width)
    thickness = int(thickness) if thickness is not None else max(1, round(0.003 * longer))
    font_scale = float(font_scale) if font_scale is not None else max(0.35, 0.0008 * longer)
    text_thickness = max(1, round(font_scale * 1.5))

    shown = [i for i in np.argsort(scores, kind="stable") if labels[i] >= 0 and scores[i] >= score_threshold
             and np.isfinite(boxes[i]).all()]
    out = np.ascontiguousarray(image.copy())
    if masks is not None:
        for i in shown:
            _overlay_mask(out, masks[i], class_color(labels[i]), mask_alpha, thickness)
    for i in shown:
        x1, y1, x2, y2 = boxes[i]
        corner1 = (int(np.clip(round(x1), 0, width - 1)), int(np.clip(round(y1), 0, height - 1)))
        corner2 = (int(np.clip(round(x2), 0, width - 1)), int(np.clip(round(y2), 0, height - 1)))
        cv2.rectangle(out, corner1, corner2, class_color(labels[i]), thickness, cv2.LINE_8)
    for i in shown:
        label = int(labels[i])
        name = class_names[label] if class_names is not None and label < len(class_names) else str(label)
        text = f"{name} {scores[i]:.2f}" if scores_given else name
        _draw_label(out, text, boxes[i], class_color(label), font_scale, text_thickness)
    return out


def _overlay_mask(out: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], alpha: float, thickness: int) -> None:
    """Blend ``color`` into ``out`` over ``mask`` and draw the mask's outline, changing no pixel outside it."""
    if not mask.any():
        return
    region = out[mask].astype(np.float32)
    out[mask] = np.round(region * (1 - alpha) + np.array(color, np.float32) * alpha).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outlined = out.copy()
    cv2.drawContours(outlined, contours, -1, color, max(1, 2 * thickness - 1), cv2.LINE_8)
    out[mask] = outlined[mask]  # a thick outline is centred on the edge: keep only its inner half


def _draw_label(out: np.ndarray, text: str, box: np.ndarray, color: tuple[int, int, int], font_scale: float,
                text_thickness: int) -> None:
    """``text`` on a filled ``color`` rectangle above the box's top-left corner (inside the box if no room), within the image."""
    height, width = out.shape[:2]
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, font_scale, text_thickness)
    pad = max(1, text_thickness)
    label_w, label_h = text_w + 2 * pad, text_h + baseline + 2 * pad
    x1, y1 = round(box[0]), round(box[1])
    top = y1 - label_h if y1 - label_h >= 0 else y1
    left = int(np.clip(x1, 0, max(0, width - label_w)))
    top = int(np.clip(top, 0, max(0, height - label_h)))
    cv2.rectangle(out, (left, top), (left + label_w - 1, top + label_h - 1), color, cv2.FILLED)
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(out, text, (left + pad, top + pad + text_h), FONT, font_scale, ink, text_thickness, cv2.LINE_AA)
