"""The ``pose`` task: top-down keypoints, from COCO-format data to OKS AP, predictions and drawings."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import mxnet as mx
import numpy as np

from cvcore.data.image import image_pixels
from cvcore.errors import ConfigError, CvcoreError
from cvcore.options import Option, check_keys
from cvcore.progress import progress_bar
from cvcore.task import Task, plain
from cvcore.typecheck import check_values

from .decode import REFINEMENTS, decode_instances, flip_average, flip_shift
from .draw import draw_keypoints, save_drawing
from .keypoints import NUM_JOINTS
from .transforms import TopDownEvalTransform, TopDownTrainTransform

if TYPE_CHECKING:
    from cvcore.pipeline import Pipeline

AUGMENT_DEFAULTS: dict[str, float] = {
    "scale_factor": 0.35, "rotation_factor": 40.0, "rotation_prob": 0.6, "flip_prob": 0.5, "half_body_prob": 0.0,
}
"""The ``[augment]`` table of a pose pipeline: Simple Baselines' training augmentation."""

SIGMA, SIGMA_HEATMAP_HEIGHT, SIGMA_MIN = 2.0, 64, 1.0
"""Simple Baselines' target Gaussian: sigma 2 on its 64x48 heatmaps; never narrower than one heatmap pixel by default."""

DETECTOR_INSTALL_HINT = (
    "No person detector is available: pass boxes (predict(image, boxes=[[x, y, w, h], ...]); "
    "on the command line --set boxes=[[x,y,w,h]]), name one with the pipeline option detector = \"MODEL or DIR\", "
    "or install a detection plugin such as cvcore-rcnn-fpn (pip install \"cvcore[rcnn]\")."
)


def augment_options(options: Mapping[str, Any] | None) -> dict[str, float]:
    """The ``[augment]`` table over :data:`AUGMENT_DEFAULTS`, with unknown keys refused."""
    options = dict(options or {})
    check_keys(options, AUGMENT_DEFAULTS, "pose [augment] option")
    check_values(options, dict.fromkeys(AUGMENT_DEFAULTS, float), "pose [augment] option")
    return {**AUGMENT_DEFAULTS, **{k: float(v) for k, v in options.items()}}


class PoseTask(Task):
    """Top-down human pose: person crops in, one heatmap per joint out.

    Pipeline options: ``input_shape`` (default 1x3x256x192), ``num_joints``
    (17), ``sigma`` (heatmap Gaussian in heatmap pixels; default
    :meth:`target_sigma`: 2 at 64x48 heatmaps, scaled with their height), ``subpixel_targets`` (true: each
    Gaussian centred on its joint, false: on the nearest heatmap pixel),
    ``decode`` (``"dark"`` or ``"quarter"``, see
    :func:`~cvcore_pose.decode.decode_heatmaps`), ``flip_test`` (true),
    ``flip_shift`` (pixels the flipped-back heatmaps move; default the exact
    ``1 - 1/stride``, GluonCV used 1), ``[augment]``
    (:data:`AUGMENT_DEFAULTS`), ``[data]`` (``dataset = "coco_keypoints"``,
    ``root``, and optionally ``boxes`` = a detection-results JSON for the val
    split) and ``detector`` (a model name or saved pipeline used by
    :meth:`predict` when no boxes are given).
    """

    name = "pose"
    default_head = "simple_pose"
    default_loss = "heatmap_mse"
    default_metric = "coco_keypoints"
    default_input_shape = (1, 3, 256, 192)
    default_dataset = "coco_keypoints"
    options = {
        "num_joints": Option("keypoints per person (17, COCO's)", int),
        "sigma": Option("width of the target Gaussians in heatmap pixels (default: scaled with the heatmap height)", float),
        "subpixel_targets": Option("centre each target Gaussian on its joint (true) or on the nearest heatmap pixel", bool),
        "decode": Option("how heatmap peaks are refined: 'dark' or 'quarter'", str),
        "flip_test": Option("average with the mirrored image's heatmaps when evaluating and predicting", bool),
        "flip_shift": Option("heatmap pixels the mirrored heatmaps move back (default exact for the stride)", float),
        "detector": Option("model name or saved pipeline that finds people for predict() without boxes", str),
        "augment": Option("the [augment] table of training augmentation (see AUGMENT_DEFAULTS)", Mapping[str, Any]),
    }

    def head_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"num_joints": int(options.get("num_joints", NUM_JOINTS))}

    def input_size(self, pipeline: "Pipeline") -> tuple[int, int]:
        """(height, width) of the network input; both must be multiples of the backbone's stride."""
        shape = pipeline.options.get("input_shape") or self.default_input_shape
        height, width = int(shape[-2]), int(shape[-1])
        strides = getattr(getattr(pipeline.net, "backbone", None), "strides", None) or (1,)
        stride = int(strides[-1])
        if height % stride or width % stride:
            raise ConfigError(
                f"input_shape {list(shape)}: height and width must be multiples of the backbone's stride {stride}, "
                "or the heatmaps would not line up with the targets "
                f"(e.g. {height // stride * stride or stride}x{width // stride * stride or stride})."
            )
        return height, width

    # -- data ----------------------------------------------------------------------------------
    def dataset(self, pipeline: "Pipeline", split: str):
        """The ``[data]`` dataset (:attr:`default_dataset` unless named); ``boxes`` applies to evaluation splits only."""
        data = dict(pipeline.options.get("data") or {})
        if split == "train":
            data.pop("boxes", None)
        return self.dataset_from(data, split)

    def sample_transform(self, pipeline: "Pipeline", train: bool):
        """Training: augmented crop, heatmaps and joint weights; evaluation: crop and its meta row."""
        size = self.input_size(pipeline)
        if train:
            return TopDownTrainTransform(size, heatmap_stride=self.heatmap_stride(pipeline), sigma=self.target_sigma(pipeline),
                                         subpixel_targets=bool(pipeline.options.get("subpixel_targets", True)),
                                         **augment_options(pipeline.options.get("augment")))
        return TopDownEvalTransform(size)

    def target_sigma(self, pipeline: "Pipeline") -> float:
        """The ``sigma`` option, by default :data:`SIGMA` heatmap pixels per :data:`SIGMA_HEATMAP_HEIGHT` rows of heatmap.

        The Gaussian then covers the same share of the person at every
        resolution: 2 at 256x192 (Simple Baselines), 3 at 384x288 (as HRNet's
        and MMPose's configs), 1 at 128x96. Below that it stays at :data:`SIGMA_MIN`:
        a narrower blob is little more than its one centre pixel, too sparse a
        target for a model to learn or for int8 to preserve.
        """
        sigma = pipeline.options.get("sigma")
        if sigma is None:
            return max(SIGMA_MIN, SIGMA * self.input_size(pipeline)[0] / self.heatmap_stride(pipeline) / SIGMA_HEATMAP_HEIGHT)
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma <= 0:
            raise ConfigError(f"sigma is the heatmap Gaussian's width in heatmap pixels, a positive number; got {sigma!r}.")
        return float(sigma)

    def heatmap_stride(self, pipeline: "Pipeline") -> int:
        """Input pixels per heatmap pixel, from the head (4 for the simple-pose head on a stride-32 backbone)."""
        stride = getattr(getattr(pipeline.net, "head", None), "stride", None)
        if stride is None:
            return 4
        if stride < 1 or stride != int(stride):
            raise ConfigError(
                f"The pose head's heatmaps are at stride {stride}; targets need a whole number of input pixels per heatmap pixel."
            )
        return int(stride)

    def refinement(self, pipeline: "Pipeline") -> str:
        """The ``decode`` option: how heatmap peaks are refined below a pixel."""
        refine = pipeline.options.get("decode", "dark")
        if refine not in REFINEMENTS:
            raise ConfigError(f"Unknown pose decode option {refine!r}; choose one of {', '.join(map(repr, REFINEMENTS))}.")
        return refine

    def flip_shift(self, pipeline: "Pipeline", stride: int) -> float:
        """The ``flip_shift`` option, by default exact for heatmaps at ``stride`` (:func:`~cvcore_pose.decode.flip_shift`)."""
        shift = pipeline.options.get("flip_shift")
        if shift is None:
            return flip_shift(stride)
        if isinstance(shift, bool) or not isinstance(shift, (int, float)) or not 0 <= shift <= 1:
            raise ConfigError(f"flip_shift is a number of heatmap pixels from 0 to 1, got {shift!r}.")
        return float(shift)

    # -- training ------------------------------------------------------------------------------
    def distillation_loss(self, pipeline: "Pipeline", loss: Any, *, temperature: float, hard_weight: float) -> Any:
        """The teacher's heatmaps as a second target of the heatmap loss (``temperature`` does not apply)."""
        from .loss import HeatmapDistillation

        return HeatmapDistillation(loss, hard_weight)

    # -- running -------------------------------------------------------------------------------
    def heatmaps(self, pipeline: "Pipeline", x: mx.nd.NDArray, flip_test: bool) -> np.ndarray:
        """The network's heatmaps for a batch, averaged with those of the mirrored batch when ``flip_test``."""
        heatmaps = pipeline.net(x).asnumpy()
        if flip_test:
            shift = self.flip_shift(pipeline, max(1, x.shape[3] // heatmaps.shape[3]))
            heatmaps = flip_average(heatmaps, pipeline.net(mx.nd.flip(x, axis=3)).asnumpy(), shift)
        return heatmaps

    def evaluate(self, pipeline: "Pipeline", data: Any, *, batch_size: int = 32, num_workers: int = 0, progress: bool = False,
                 flip_test: bool | None = None, results_file: str | Path | None = None) -> dict[str, float]:
        """COCO OKS AP/AR of the pipeline on a :class:`~cvcore_pose.coco.COCOKeypoints` dataset (its GT or detector boxes)."""
        from cvcore.train.data import make_loader

        coco = getattr(data, "coco", None)
        if coco is None:
            raise CvcoreError(f"Pose evaluation needs a COCO-format dataset with its ground truth (.coco); got {type(data).__name__}.")
        flip_test = bool(pipeline.options.get("flip_test", True)) if flip_test is None else flip_test
        metric = pipeline.metric.bind(coco, results_file, refine=self.refinement(pipeline))
        metric.reset()
        loader = make_loader(pipeline, data, train=False, batch_size=batch_size, num_workers=num_workers)
        ctx = pipeline.ctx[0]
        for batch in progress_bar(loader, total=loader.batches_per_epoch, desc="evaluate", disable=not progress, leave=False):
            inputs, (meta,) = self.split_batch(batch)
            metric.update((meta,), self.heatmaps(pipeline, inputs.as_in_context(ctx), flip_test))
        return metric.get()

    def predict(self, pipeline: "Pipeline", inputs: Any, *, boxes: Any = None, box_scores: Any = None, detector: Any = None,
                threshold: float = 0.2, flip_test: bool | None = None, out: str | Path | None = None, min_box_score: float = 0.5,
                channel_order: str = "rgb") -> list[dict]:
        """Keypoints of every person in each image (path or RGB uint8 array).

        People come from ``boxes`` (``[[x, y, w, h], ...]`` for one image, or one
        such list per image) or from a detector: ``detector``, else the pipeline
        option ``detector``, else the first ``detection`` model in the registry.
        A detector is any pipeline whose ``predict(image, threshold=min_box_score)``
        returns, for each image, a list of ``{"box": [x, y, w, h], "score": s, "label": "person"}``.
        An image is a path or an array (:func:`~cvcore.data.image.as_rgb_image`: HWC
        ``channel_order`` ``"rgb"`` or ``"bgr"``, grey, RGBA, uint8/uint16/float 0..1).
        Returns per image ``{"boxes", "box_scores", "keypoints" (P, J, 2),
        "scores" (P, J), "instance_scores" (P,), "threshold"}``; with ``out`` (a
        file for one image, else a directory) the drawn images are written there,
        showing the joints scoring above ``threshold``.
        """
        images = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        flip_test = bool(pipeline.options.get("flip_test", True)) if flip_test is None else flip_test
        per_image_boxes = _boxes_per_image(boxes, box_scores, len(images))
        all_pixels = [image_pixels(image, channel_order, index) for index, image in enumerate(images)]
        if per_image_boxes is None:
            finder = open_detector(detector if detector is not None else pipeline.options.get("detector"))
            per_image_boxes = [person_boxes(finder.predict(pixels, threshold=min_box_score)[0], min_box_score) for pixels in all_pixels]
        transform = TopDownEvalTransform(self.input_size(pipeline))
        results = []
        for index, (image, pixels, (image_boxes, scores)) in enumerate(zip(images, all_pixels, per_image_boxes)):
            name = str(image) if not isinstance(image, np.ndarray) else f"image {index}"
            result = {**self._predict_image(pipeline, pixels, image_boxes, scores, transform, flip_test), "threshold": threshold}
            results.append(result)
            if out is not None:
                target = Path(out) if len(images) == 1 and Path(out).suffix else Path(out) / f"{Path(name).stem or index}_pose.jpg"
                drawn = draw_keypoints(pixels, np.concatenate([result["keypoints"], result["scores"][..., None]], -1), threshold=threshold,
                                       boxes=result["boxes"])
                save_drawing(target, drawn)
                result["drawing"] = str(target)
        return results

    def _predict_image(self, pipeline: "Pipeline", image: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
                       transform: TopDownEvalTransform, flip_test: bool) -> dict:
        joints = pipeline.options.get("num_joints", NUM_JOINTS)
        empty = {"boxes": boxes, "box_scores": scores, "keypoints": np.zeros((0, joints, 2), np.float32),
                 "scores": np.zeros((0, joints), np.float32), "instance_scores": np.zeros(0, np.float32)}
        if len(boxes) == 0:
            return empty
        crops, metas = zip(*(transform(image, _box_record(box, score)) for box, score in zip(boxes, scores)))
        x = mx.nd.array(np.stack(crops), ctx=pipeline.ctx[0])
        points, maxvals, people = decode_instances(self.heatmaps(pipeline, x, flip_test), np.stack(metas),
                                                   refine=self.refinement(pipeline))
        return {**empty, "keypoints": points.astype(np.float32), "scores": maxvals.astype(np.float32),
                "instance_scores": people.astype(np.float32)}

    def format_prediction(self, prediction: dict) -> str:
        people = len(prediction["boxes"])
        if not people:
            return "no people"
        threshold = prediction.get("threshold", 0.2)
        confident = (prediction["scores"] > threshold).sum(axis=1)
        drawn = f"; drawn to {prediction['drawing']}" if "drawing" in prediction else ""
        return (f"{people} {'person' if people == 1 else 'people'}, joints above {threshold:g}: "
                f"{', '.join(str(int(c)) for c in confident)}{drawn}")

    def prediction_json(self, prediction: dict) -> dict[str, Any]:
        """Each person's box (x, y, w, h), box score, instance score and joints as ``[x, y, score]`` in image pixels."""
        people = [
            {"box": plain(box), "box_score": float(box_score), "score": float(score),
             "keypoints": plain(np.concatenate([points, joint_scores[:, None]], axis=1))}
            for box, box_score, score, points, joint_scores in zip(prediction["boxes"], prediction["box_scores"],
                                                                   prediction["instance_scores"], prediction["keypoints"],
                                                                   prediction["scores"])
        ]
        extra = {"drawing": prediction["drawing"]} if "drawing" in prediction else {}
        return {"people": people, "threshold": prediction.get("threshold", 0.2), **extra}

    def demo(self, out_dir: str = "runs/pose-demo", **options: Any) -> int:
        """Synthetic stick figures -> simple_pose_resnet18_v1b from scratch -> OKS AP, drawings, summary."""
        from . import demo

        result = demo.run(out_dir, **options)
        print(demo.report(result))
        return 0


def _box_record(box: Sequence[float], score: float) -> dict:
    return {"joints": np.zeros((NUM_JOINTS, 3), np.float32), "box": [float(v) for v in box], "score": float(score),
            "image_id": 0, "ann_id": -1, "file": ""}


def _boxes_per_image(boxes: Any, scores: Any, count: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """User boxes as ``[(boxes (P, 4), scores (P,)), ...]`` per image; None when none were given."""
    if boxes is None:
        return None
    if len(boxes) == 4 and all(np.ndim(v) == 0 for v in boxes):
        boxes = [boxes]  # one box, one image
    one_image = len(boxes) == 0 or np.ndim(boxes[0]) == 1
    groups, score_groups = ([boxes], [scores]) if one_image else (list(boxes), list(scores) if scores is not None else [None] * len(boxes))
    if len(groups) != count or len(score_groups) != count:
        raise ConfigError(f"boxes must be [[x, y, w, h], ...] for one image, or one such list per image ({count} images); got {boxes!r}.")
    result = []
    for group, group_scores in zip(groups, score_groups):
        try:
            array = np.asarray(group, dtype=np.float64) if len(group) else np.zeros((0, 4))
        except (TypeError, ValueError):
            array = np.zeros(0)
        if array.ndim != 2 or array.shape[1] != 4 or (array[:, 2:] <= 0).any():
            raise ConfigError(f"Every box is [x, y, w, h] with a positive width and height; got {group!r}.")
        weights = np.ones(len(array)) if group_scores is None else np.asarray(group_scores, dtype=np.float64).reshape(-1)
        if len(weights) != len(array):
            raise ConfigError(f"{len(weights)} box scores for {len(array)} boxes.")
        result.append((array, weights))
    return result


def open_detector(choice: Any = None) -> Any:
    """The person detector: a pipeline, a model name / saved directory, or the first detection model registered."""
    from cvcore.pipeline import Pipeline
    from cvcore.zoo import list_models

    if choice is not None and not isinstance(choice, (str, Path)):
        return choice
    if choice is None:
        candidates = list_models(task="detection")
        if not candidates:
            raise CvcoreError(DETECTOR_INSTALL_HINT)
        choice = _detector_on_this_machine(candidates)
    return Pipeline.open(choice, pretrained=True)


def _detector_on_this_machine(candidates: Sequence[str]) -> str:
    """The first detection zoo model whose weights are in the weight store (an implicit choice never downloads)."""
    from cvcore.weights import models_dir
    from cvcore.zoo import get_recipe

    wanted = {}
    for name in candidates:
        spec = get_recipe(name).weights
        if spec is not None:
            if (models_dir() / spec.file_name).exists():
                return name
            wanted[name] = spec.file_name
    listed = "; ".join(f"{name}: {file}" for name, file in wanted.items()) or "none of them has published weights"
    raise CvcoreError(f"No detection model has its weights on this machine ({listed}, looked up in {models_dir()}). "
                      "Put one of those files there, or name a trained detector with detector = \"MODEL or DIR\", "
                      "or pass boxes (--set boxes=[[x,y,w,h]]).")


def person_boxes(detections: Sequence[Mapping[str, Any]], min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes (P, 4) xywh, scores (P,))`` of the detections labelled ``person`` scoring at least ``min_score``."""
    people = [d for d in detections if str(d.get("label", "person")) == "person" and float(d.get("score", 1.0)) >= min_score]
    if not people:
        return np.zeros((0, 4)), np.zeros(0)
    return np.array([d["box"] for d in people], dtype=np.float64), np.array([float(d.get("score", 1.0)) for d in people])
