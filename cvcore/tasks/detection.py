"""Object detection and instance segmentation: COCO-format data in, boxes (and masks) out, COCO mAP.

The task is what every detector plugin shares (R-CNN, SSD, a third party's):
the data (COCO JSON through :class:`~cvcore.data.coco_detection.COCODetection`),
the network input (each image scaled to fit the pipeline's ``input_shape``
and padded at the bottom and right), evaluation (COCO bbox and segm mAP),
prediction and drawing. The network's inference outputs follow
:data:`cvcore.tasks.detection_outputs.OUTPUTS`; nothing here knows how a
detector computes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..data.class_names import resolve as resolve_class_names
from ..data.detection_transforms import flip_horizontal, resize_to
from ..data.image import image_pixels
from ..data.ssd_augment import SSDAugment
from ..data.transforms import IMAGENET_MEAN, IMAGENET_STD
from ..errors import ConfigError, CvcoreError
from ..options import Option
from ..progress import progress_bar
from ..task import Task, classes_head_option, plain
from .detection_outputs import Detections, batch_outputs, image_detections

if TYPE_CHECKING:
    from ..pipeline import Pipeline

AUGMENT_TYPES: dict[str, type | tuple[type, ...]] = {"photometric": bool, "expand": (int, float), "crop": bool}
AUGMENT_HELP = {"photometric": "true or false", "expand": "a zoom-out ratio >= 1 (1: none)", "crop": "true or false"}
"""The [augment] options of SSD's steps (:class:`~cvcore.data.ssd_augment.SSDAugment`), beside flip."""
META = ("image_id", "height", "width", "resized_height", "resized_width")
"""The last target of every sample: the image's id, its size (after any training augmentation), and its size in the network input."""


@dataclass(frozen=True)
class DetectionSampleTransform:
    """``(image, target, rng=None) -> (input 3xHxW, boxes (M, 4), labels (M,), meta (5,)[, masks (M, H, W)])``.

    In training, ``augment`` (SSD's colour, zoom-out and crop steps, or None)
    runs first. The image is scaled to fit ``canvas`` (height, width) keeping its aspect
    ratio, flipped with probability ``flip`` in training, normalized and padded
    at the bottom and right with zeros (the mean colour). Boxes (input pixels)
    and labels are padded to ``max_objects`` rows with label -1; crowd regions
    are left out of training targets (a detector learns from single objects) and
    kept in evaluation only through the dataset's COCO ground truth. ``meta`` is
    :data:`META`. With ``masks`` the instance masks (input pixels, uint8) follow.
    """

    canvas: tuple[int, int]
    train: bool
    flip: float = 0.5
    max_objects: int = 100
    masks: bool = False
    augment: SSDAugment | None = None

    def __call__(self, image: np.ndarray, target: Mapping[str, Any], rng: np.random.Generator | None = None) -> tuple[np.ndarray, ...]:
        rng = rng if rng is not None else np.random.default_rng()
        keep = ~np.asarray(target["crowd"], dtype=bool) if self.train else np.ones(len(target["labels"]), dtype=bool)
        target = {"boxes": np.asarray(target["boxes"], np.float32)[keep], "labels": np.asarray(target["labels"])[keep],
                  "image_id": target["image_id"], **({"masks": np.asarray(target["masks"])[keep]} if self.masks else {})}
        if self.train and self.augment is not None:
            image, target = self.augment(image, target, rng)
        height, width = image.shape[:2]
        if len(target["labels"]) > self.max_objects:
            raise ConfigError(f"Image {target['image_id']} has {len(target['labels'])} objects, more than max_objects = "
                              f"{self.max_objects}: raise the pipeline's max_objects option.")
        scale = min(self.canvas[0] / height, self.canvas[1] / width)
        pixels, target = resize_to(image, target, max(1, round(height * scale)), max(1, round(width * scale)))
        if self.train and rng.random() < self.flip:
            pixels, target = flip_horizontal(pixels, target)
        resized = pixels.shape[:2]
        x = np.zeros((3, *self.canvas), dtype=np.float32)
        x[:, : resized[0], : resized[1]] = ((pixels - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
        count = len(target["labels"])
        boxes = np.zeros((self.max_objects, 4), dtype=np.float32)
        boxes[:count] = target["boxes"]
        labels = np.full(self.max_objects, -1, dtype=np.float32)
        labels[:count] = target["labels"]
        meta = np.array([target["image_id"], height, width, *resized], dtype=np.float64)
        if not self.masks:
            return x, boxes, labels, meta
        masks = np.zeros((self.max_objects, *self.canvas), dtype=np.uint8)
        masks[:count, : resized[0], : resized[1]] = target["masks"]
        return x, boxes, labels, meta, masks


class DetectionTask(Task):
    name = "detection"
    default_metric = "coco_detection"
    default_dataset = "coco_detection"
    default_input_shape = (1, 3, 512, 512)
    options = {
        "classes": Option("number of object classes, background not counted (the head's outputs)", int),
        "class_names": Option("the name of each class in label order (read from the dataset's categories when absent), "
                              "or a shipped list such as 'coco80'", list[str] | str),
        "max_objects": Option("ground-truth objects per image a training batch carries (default 100)", int),
        "masks": Option("feed instance masks to training (Mask R-CNN); default false", bool),
        "augment": Option("the [augment] table: flip (probability, default 0.5); SSD's photometric (colour distortion), "
                          "expand (largest zoom-out ratio, 1: none) and crop (IoU-constrained), all off by default",
                          Mapping[str, Any]),
    }

    def head_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return classes_head_option(options, resolve_class_names(options.get("class_names")))

    # -- data --------------------------------------------------------------------
    def dataset(self, pipeline: "Pipeline", split: str):
        """The split, checked against the pipeline's classes; its category names become ``class_names`` when absent.

        A pipeline with ``masks`` reads the instance masks too (unless ``[data]`` says ``masks = false``).
        """
        data = dict(pipeline.options.get("data") or {})
        if pipeline.options.get("masks"):
            data.setdefault("masks", True)
        dataset = self.dataset_from(data, split)
        names = list(getattr(dataset, "classes", []))
        expected = pipeline.options.get("classes", getattr(getattr(pipeline.net, "head", None), "classes", None))
        if names and expected is not None and int(expected) != len(names):
            raise ConfigError(f"The pipeline has classes = {expected} but the {split} data has {len(names)} categories "
                              f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): set classes = {len(names)} to train on it.")
        known = resolve_class_names(pipeline.options.setdefault("class_names", names)) if names else None
        if known is not None and known != names:
            raise ConfigError(f"The {split} split's categories {names} differ from the pipeline's class_names {list(known)} "
                              "(labels are positions among the categories sorted by id, so they must match).")
        return dataset

    def sample_transform(self, pipeline: "Pipeline", train: bool) -> DetectionSampleTransform:
        augment = dict(pipeline.options.get("augment") or {})
        unknown = sorted(set(augment) - {"flip", *AUGMENT_TYPES})
        if unknown:
            raise ConfigError(f"Unknown [augment] option(s) {unknown} for detection; it takes: flip, {', '.join(AUGMENT_TYPES)}.")
        flip = augment.pop("flip", 0.5)
        flip = (0.5 if flip else 0.0) if isinstance(flip, bool) else float(flip)
        for name, value in augment.items():
            if not isinstance(value, AUGMENT_TYPES[name]) or (name == "expand" and (isinstance(value, bool) or value < 1)):
                raise ConfigError(f"[augment] {name} must be {AUGMENT_HELP[name]}, got {value!r}.")
        ssd = SSDAugment(photometric=augment.get("photometric", False), max_expand=float(augment.get("expand", 1)),
                         crop=augment.get("crop", False))
        return DetectionSampleTransform(self.input_size(pipeline), train, flip, int(pipeline.options.get("max_objects", 100)),
                                        bool(pipeline.options.get("masks", False)) and train,
                                        ssd if ssd.photometric or ssd.crop or ssd.max_expand > 1 else None)

    def network_targets(self, targets: tuple) -> tuple:
        """Every target (boxes, labels, meta[, masks]): a detector's head samples its training regions against them."""
        return tuple(targets)

    # -- running -----------------------------------------------------------------
    def evaluate(self, pipeline: "Pipeline", data: Any, *, batch_size: int = 8, num_workers: int = 0, progress: bool = False,
                 results_file: str | Path | None = None) -> dict[str, float]:
        """COCO mAP of the pipeline on a COCO-format dataset (its ``coco`` ground truth); the results JSON to ``results_file``."""
        from ..train.data import make_loader

        coco, category_ids = getattr(data, "coco", None), getattr(data, "category_ids", None)
        if coco is None or category_ids is None:
            raise CvcoreError(f"Detection evaluation needs a COCO-format dataset with its ground truth (.coco, .category_ids); "
                              f"got {type(data).__name__}.")
        metric = pipeline.metric.bind(coco, category_ids, results_file)
        metric.reset()
        loader = make_loader(pipeline, data, train=False, batch_size=batch_size, num_workers=num_workers)
        for batch in progress_bar(loader, total=loader.batches_per_epoch, desc="evaluate", disable=not progress, leave=False):
            inputs, targets = self.split_batch(batch)
            meta = targets[2].asnumpy()
            outputs = batch_outputs(pipeline.net(inputs.as_in_context(pipeline.ctx[0])))
            for index, (image_id, height, width, resized_height, resized_width) in enumerate(meta):
                found = image_detections(outputs, index, (int(height), int(width)), (int(resized_height), int(resized_width)))
                metric.update_image(int(image_id), found.boxes, found.scores, found.labels, found.masks)
        return metric.get()

    def predict(self, pipeline: "Pipeline", inputs: Any, *, threshold: float = 0.5, out: str | Path | None = None,
                channel_order: str = "rgb") -> list[list[dict[str, Any]]]:
        """Each image's detections scoring above ``threshold``, best first.

        A detection is ``{"box": [x, y, w, h], "score", "label" (class name), "label_id"}``
        in image pixels, with ``"mask"`` (H x W bool) from a detector with masks:
        what the pose plugin reads as a person detector. An image is a path or an
        array (:func:`~cvcore.data.image.as_rgb_image`). With ``out`` (a file for
        one image, else a directory) the drawn images are written there.
        """
        if not 0 <= threshold < 1:
            raise ConfigError(f"threshold is a score from 0 to 1, got {threshold}.")
        images = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        transform = DetectionSampleTransform(self.input_size(pipeline), train=False)
        names = resolve_class_names(pipeline.options.get("class_names")) or []
        results = []
        for index, image in enumerate(images):
            pixels = image_pixels(image, channel_order, index)
            empty = {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64), "crowd": np.zeros(0, bool), "image_id": 0}
            x, *_, meta = transform(pixels, empty)
            outputs = batch_outputs(pipeline.net(_batch(x, pipeline)))
            found = image_detections(outputs, 0, pixels.shape[:2], (int(meta[3]), int(meta[4])), threshold)
            results.append(_as_dicts(found, names))
            if out is not None:
                name = str(image) if not isinstance(image, np.ndarray) else f"image{index}"
                _draw(pixels, found, names, threshold, Path(out) if len(images) == 1 and Path(out).suffix
                      else Path(out) / f"{Path(name).stem}_detections.jpg")
        return results

    def format_prediction(self, prediction: list[dict[str, Any]]) -> str:
        if not prediction:
            return "no objects"
        shown = ", ".join(f"{d['label']} {d['score']:.2f}" for d in prediction[:10])
        return f"{len(prediction)} object{'s' if len(prediction) != 1 else ''}: {shown}{', ...' if len(prediction) > 10 else ''}"

    def prediction_json(self, prediction: list[dict[str, Any]]) -> dict[str, Any]:
        """Each detection's box (x, y, w, h), score and label; a mask as COCO's compressed RLE."""
        from pycocotools import mask as mask_utils

        detections = []
        for found in prediction:
            item = {key: plain(value) for key, value in found.items() if key != "mask"}
            if "mask" in found:
                rle = mask_utils.encode(np.asfortranarray(found["mask"].astype(np.uint8)))
                item["mask"] = {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}
            detections.append(item)
        return {"detections": detections}


def _batch(x: np.ndarray, pipeline: "Pipeline") -> Any:
    import mxnet as mx

    return mx.nd.array(x[None], ctx=pipeline.ctx[0])


def _as_dicts(found: Detections, names: Sequence[str]) -> list[dict[str, Any]]:
    detections = []
    for index, ((x1, y1, x2, y2), score, label) in enumerate(zip(found.boxes, found.scores, found.labels)):
        item = {"box": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)], "score": float(score),
                "label": names[label] if label < len(names) else str(int(label)), "label_id": int(label)}
        if found.masks is not None:
            item["mask"] = found.masks[index]
        detections.append(item)
    return detections


def _draw(pixels: np.ndarray, found: Detections, names: Sequence[str], threshold: float, path: Path) -> None:
    from ..data.draw_detections import draw_detections
    from ..data.image import write_image

    drawn = draw_detections(pixels, found.boxes, found.labels, found.scores, class_names=list(names) or None, masks=found.masks,
                            score_threshold=threshold)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, drawn)
