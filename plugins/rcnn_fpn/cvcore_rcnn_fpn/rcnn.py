"""The two-stage R-CNN head on a feature pyramid: proposals, then per-region classes, boxes and masks.

In inference it is one hybridizable graph returning the detection task's
outputs. In training it is called with the ground truth too and runs
imperatively: anchors and sampled regions are matched to the ground truth in
NumPy (:mod:`.targets`) between the two stages.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import mxnet as mx
import numpy as np
from mxnet import init
from mxnet.gluon import HybridBlock, nn

from cvcore.errors import ConfigError
from cvcore.nn.class_reset import class_rows, merge_absorbed, resized_layer

from . import targets as T
from .coder import decode_boxes
from .heads import MaskHead, box_features
from .roi import pyramid_roi_align
from .rpn import RPN

ANCHOR_SIZES = (32, 64, 128, 256, 512)
"""One anchor size per level, P2 to P6."""
BOX_STDS = (0.1, 0.1, 0.2, 0.2)
"""Scales of the second stage's box deltas."""
MASK_SIZE = 28


class TrainingOutputs(NamedTuple):
    """What the head returns in training: predictions beside the targets they were matched to (what the loss reads)."""

    rpn_logits: mx.nd.NDArray  # (N, A)
    rpn_deltas: mx.nd.NDArray  # (N, A, 4)
    rpn_labels: mx.nd.NDArray  # (N, A) 1 object, 0 background, -1 not sampled
    rpn_targets: mx.nd.NDArray  # (N, A, 4)
    class_logits: mx.nd.NDArray  # (N, S, classes + 1)
    roi_labels: mx.nd.NDArray  # (N, S) 0 background, c + 1 class c, -1 padding
    box_deltas: mx.nd.NDArray  # (N, S, 4) the deltas predicted for each region's labelled class
    box_targets: mx.nd.NDArray  # (N, S, 4)
    mask_logits: mx.nd.NDArray | None = None  # (P, 28, 28) positive regions' masks of their class
    mask_targets: mx.nd.NDArray | None = None  # (P, 28, 28)
    mask_images: mx.nd.NDArray | None = None  # (P,) the image each positive region belongs to


class RCNNHead(HybridBlock):
    """Faster R-CNN (and with ``masks``, Mask R-CNN) over P2-P6 of an FPN neck.

    The RPN proposes regions from anchors on all five levels (``rpn_pre_nms``
    and ``rpn_post_nms`` are ``[training, inference]`` counts before and after
    its NMS; ``rpn_per_level`` counts and suppresses per level, see
    :class:`.rpn.RPN`); each region is
    pooled (ROIAlign, ``roi_size``) from P2-P5 by its size; ``box_head``
    (see :func:`.heads.box_features`) feeds a ``classes + 1``-way classifier
    and class-specific box regression; detections are the classes scoring over
    ``score_threshold``, NMS per class at ``nms_threshold``, the best
    ``max_detections`` kept (NMS sees the best ``nms_candidates`` of all
    classes' candidates, -1 for all: GluonCV's models take all, which costs
    seconds when a barely trained model scores every class). With ``masks`` each kept detection's region
    (pooled again) gives a 28x28 mask of its class. ``absorbed`` counts
    classifier rows that score as background (classes dropped by :meth:`reset_class`).
    """

    def __init__(self, in_channels: Sequence[int], in_strides: Sequence[int], *, classes: int = 80, masks: bool = False,
                 roi_size: int = 7, box_head: str = "fc", norm_layer: str = "BatchNorm", norm_kwargs: Mapping[str, Any] | None = None,
                 rpn_channels: int = 1024, anchor_sizes: Sequence[float] = ANCHOR_SIZES, anchor_ratios: Sequence[float] = (0.5, 1, 2),
                 anchor_alloc: int = 384, clip: float = 4.14, rpn_nms_threshold: float = 0.7,
                 rpn_pre_nms: Sequence[int] = (12000, 6000), rpn_post_nms: Sequence[int] = (2000, 1000), rpn_min_size: float = 1,
                 rpn_per_level: bool = False,
                 rpn_samples: int = 256, rpn_positive_fraction: float = 0.5, roi_samples: int = 512,
                 roi_positive_fraction: float = 0.25, nms_threshold: float = 0.5, score_threshold: float = 0.01,
                 nms_candidates: int = 1000, max_detections: int = 100, absorbed: int = 0) -> None:
        super().__init__()
        if len(in_channels) != 5 or len(set(in_channels)) != 1:
            raise ConfigError("The R-CNN head takes five equally wide pyramid levels (P2-P6 of an FPN neck); "
                              f"got channels {list(in_channels)}.")
        if classes < 1:
            raise ConfigError(f"classes must be at least 1, got {classes}.")
        for name, pair in (("rpn_pre_nms", rpn_pre_nms), ("rpn_post_nms", rpn_post_nms)):
            if len(pair) != 2 or min(pair) < 1:
                raise ConfigError(f"{name} is [training, inference] proposal counts, both positive; got {list(pair)}.")
        if max_detections < 1:
            raise ConfigError(f"max_detections must be at least 1, got {max_detections}.")
        width = in_channels[0]
        self.classes, self.masks, self.roi_size = classes, masks, roi_size
        self.strides = tuple(in_strides)
        self.pre_nms, self.post_nms = tuple(rpn_pre_nms), tuple(min(p, q) for p, q in zip(rpn_post_nms, rpn_pre_nms))
        self.rpn_samples, self.rpn_positive_fraction = rpn_samples, rpn_positive_fraction
        self.roi_samples, self.roi_positive_fraction = roi_samples, roi_positive_fraction
        self.clip, self.nms_threshold, self.score_threshold = clip, nms_threshold, score_threshold
        self.nms_candidates, self.max_detections = nms_candidates, max_detections
        self.absorbed = absorbed
        with self.name_scope():
            self.rpn = RPN(width, in_strides, anchor_sizes, anchor_ratios, channels=rpn_channels, alloc=anchor_alloc, clip=clip,
                           nms_threshold=rpn_nms_threshold, min_size=rpn_min_size, per_level=rpn_per_level)
            self.box_features = box_features(box_head, width, roi_size, norm_layer=norm_layer, norm_kwargs=norm_kwargs)
            self.class_predictor = _class_layer(classes + 1 + absorbed)
            self.box_predictor = _box_layer(classes)
            if masks:
                self.mask = MaskHead(width, classes)

    # -- inference -----------------------------------------------------------------
    def hybrid_forward(self, F, p2, p3, p4, p5, p6):
        """``(labels (N, K), scores (N, K), boxes (N, K, 4)[, masks (N, K, 28, 28)])``: the detection task's outputs."""
        features = (p2, p3, p4, p5, p6)
        regions = self.post_nms[1]
        logits, deltas, anchors = self.rpn.raw(features)
        _, proposals = self.rpn.proposals(F, logits, deltas, anchors, p2, pre_nms=self.pre_nms[1], post_nms=regions)
        rois = _with_image_index(F, proposals)
        class_logits, box_deltas = self._classify(F, features, rois)
        probabilities = F.slice_axis(F.softmax(class_logits.reshape((-1, regions, self.classes + 1)), axis=-1), axis=-1, begin=1, end=None)
        class_ids = F.broadcast_like(F.arange(self.classes).reshape((1, 1, -1)), probabilities)
        found = probabilities > self.score_threshold
        labels = F.where(found, class_ids, -F.ones_like(class_ids)).transpose((0, 2, 1)).expand_dims(-1)
        scores = F.where(found, probabilities, F.zeros_like(probabilities)).transpose((0, 2, 1)).expand_dims(-1)
        per_class = box_deltas.reshape((-1, regions, self.classes, 4)).transpose((0, 2, 1, 3))  # (N, classes, regions, 4)
        references = F.broadcast_like(proposals.expand_dims(1), per_class)
        boxes = decode_boxes(F, per_class.reshape((0, -1, 4)), references.reshape((0, -1, 4)), BOX_STDS, self.clip)
        candidates = F.concat(labels.reshape((0, -1, 1)), scores.reshape((0, -1, 1)), boxes, dim=-1)
        kept = F.contrib.box_nms(F.stop_gradient(candidates), overlap_thresh=self.nms_threshold, topk=self.nms_candidates,
                                 valid_thresh=1e-4, id_index=0, score_index=1, coord_start=2, force_suppress=False)
        kept = F.slice_axis(kept, axis=1, begin=0, end=min(self.max_detections, regions * self.classes))
        labels = F.slice_axis(kept, axis=-1, begin=0, end=1).reshape((0, -1))
        scores = F.slice_axis(kept, axis=-1, begin=1, end=2).reshape((0, -1))
        boxes = F.slice_axis(kept, axis=-1, begin=2, end=6)
        if not self.masks:
            return labels, scores, boxes
        mask_logits = self.mask(pyramid_roi_align(F, features[:4], _with_image_index(F, boxes), self.roi_size, self.strides[:4]))
        picked = _of_class(F, mask_logits, F.clip(labels.reshape((-1,)), 0, self.classes - 1), self.classes, 2)
        masks = F.sigmoid(picked).reshape((-1, min(self.max_detections, regions * self.classes), MASK_SIZE, MASK_SIZE))
        return labels, scores, boxes, masks

    def reset_class(self, classes: int, reuse: Mapping[int, int]) -> dict[str, Any]:
        """``classes`` classes from now on; new class ``i`` keeps old class ``reuse[i]``'s weights exactly
        (classifier row, four box rows, mask channel), the other new classes start afresh.

        The old classes not reused keep their classifier rows as background: their
        probability adds to the background's, so a reused class scores exactly as
        before (a person detector cut from a COCO model finds the same people with
        the same scores). Returns the head options to record (``absorbed``).
        """
        if classes < 1:
            raise ConfigError(f"classes must be at least 1, got {classes}.")
        rows, absorbed = class_rows(classes, self.classes, self.absorbed, reuse)
        boxes = {4 * new + k: 4 * old + k for new, old in reuse.items() for k in range(4)}
        with self.name_scope():
            self.class_predictor = resized_layer(self.class_predictor, _class_layer(classes + 1 + absorbed), rows)
            self.box_predictor = resized_layer(self.box_predictor, _box_layer(classes), boxes)
        if self.masks:
            with self.mask.name_scope():
                self.mask.mask = resized_layer(self.mask.mask, self.mask.predictor(classes), dict(reuse))
        self.classes, self.absorbed = classes, absorbed
        return {"absorbed": self.absorbed}

    def _class_logits(self, F, raw):
        """The classifier's rows -> ``[background, class 1 .. classes]`` logits; absorbed rows join the background."""
        return merge_absorbed(F, raw, self.classes) if self.absorbed else raw

    def _classify(self, F, features: Sequence, rois):
        """Class logits (R, classes + 1) and box deltas (R, classes * 4) of regions ``rois`` (R, 5)."""
        pooled = pyramid_roi_align(F, features[:4], rois, self.roi_size, self.strides[:4])
        hidden = self.box_features(pooled)
        return self._class_logits(F, self.class_predictor(hidden)), self.box_predictor(hidden)

    # -- training ------------------------------------------------------------------
    def forward(self, *inputs):
        """Inference on the five levels; with the ground truth after them, the training pass (:meth:`training_outputs`)."""
        if len(inputs) > 5:
            return self.training_outputs(inputs[:5], *inputs[5:])
        return super().forward(*inputs)

    def training_outputs(self, features: Sequence[mx.nd.NDArray], boxes: mx.nd.NDArray, labels: mx.nd.NDArray,
                         meta: mx.nd.NDArray, masks: mx.nd.NDArray | None = None) -> TrainingOutputs:
        """Predictions and their targets for a batch with ground truth ``boxes`` (N, M, 4), ``labels`` (N, M) (-1 pads), ``meta`` (N, 5).

        ``meta`` holds each image's size in the input at columns 3-4 (the detection
        task's ``META``); ``masks`` (N, M, H, W) train the mask head.
        """
        if self.masks and masks is None:
            raise ConfigError("This R-CNN head predicts masks: train it on data with masks (the pipeline option masks = true).")
        F, ctx = mx.nd, features[0].context
        rng = np.random.default_rng(int(mx.nd.random.randint(0, 2**31 - 1, shape=(1,)).asscalar()))
        logits, deltas, anchors = self.rpn.raw(features)
        _, proposals = self.rpn.proposals(F, logits, deltas, anchors, features[0], pre_nms=self.pre_nms[0], post_nms=self.post_nms[0])
        all_anchors = F.concat(*anchors, dim=1)[0].asnumpy()
        gt_boxes, gt_labels, sizes = boxes.asnumpy(), labels.asnumpy(), meta.asnumpy()[:, 3:5]
        gt_masks = masks.asnumpy() if self.masks else None
        per_image = []
        for index, proposal in enumerate(proposals.asnumpy()):
            real = gt_labels[index] >= 0
            truth, classes = gt_boxes[index][real], gt_labels[index][real].astype(np.int64)
            rpn_labels, rpn_targets = T.rpn_targets(all_anchors, truth, tuple(sizes[index]), rng, num_sample=self.rpn_samples,
                                                    positive_fraction=self.rpn_positive_fraction)
            proposal = proposal[proposal[:, 2] >= 0]
            rois, roi_labels, matched = T.sample_rois(proposal, truth, classes, rng, num_sample=self.roi_samples,
                                                      positive_fraction=self.roi_positive_fraction)
            box_targets = T.rcnn_box_targets(rois, truth, matched, BOX_STDS)
            mask_targets = T.mask_targets(rois, gt_masks[index][real], matched, MASK_SIZE) if self.masks else None
            per_image.append((rpn_labels, rpn_targets, rois, roi_labels, box_targets, mask_targets))
        stacked = [np.stack(column) if column[0] is not None else None for column in zip(*per_image)]
        rpn_labels, rpn_targets, rois, roi_labels, box_targets, mask_targets = stacked
        count, samples = len(rois), self.roi_samples
        image_index = np.repeat(np.arange(count, dtype=np.float32), samples)[:, None]
        roi_array = F.array(np.concatenate([image_index, rois.reshape(-1, 4)], axis=1), ctx=ctx)
        class_logits, box_deltas = self._classify(F, features, roi_array)
        label_array = F.array(roi_labels, ctx=ctx)
        chosen = F.clip(label_array.reshape((-1,)) - 1, 0, self.classes - 1)
        box_deltas = _of_class(F, box_deltas.reshape((-1, self.classes, 4)), chosen, self.classes, 1)
        outputs = TrainingOutputs(
            F.concat(*logits, dim=1), F.concat(*deltas, dim=1), F.array(rpn_labels, ctx=ctx), F.array(rpn_targets, ctx=ctx),
            class_logits.reshape((count, samples, -1)), label_array, box_deltas.reshape((count, samples, 4)),
            F.array(box_targets, ctx=ctx))
        if not self.masks:
            return outputs
        return outputs._replace(**self._mask_outputs(features, rois, roi_labels, mask_targets, ctx))

    def _mask_outputs(self, features: Sequence, rois: np.ndarray, roi_labels: np.ndarray, mask_targets: np.ndarray, ctx) -> dict:
        """The positive regions' mask logits of their class, with targets and image indices."""
        images, slots = np.nonzero(roi_labels > 0)
        owners = images.astype(np.float32)
        if len(images) == 0:  # no positive region in the batch: one region that counts for no image (the loss skips -1)
            images, slots, owners = np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, -1, np.float32)
        positive = np.concatenate([images[:, None].astype(np.float32), rois[images, slots]], axis=1)
        pooled = pyramid_roi_align(mx.nd, features[:4], mx.nd.array(positive, ctx=ctx), self.roi_size, self.strides[:4])
        logits = self.mask(pooled)
        classes = mx.nd.array(np.clip(roi_labels[images, slots] - 1, 0, self.classes - 1), ctx=ctx)
        picked = _of_class(mx.nd, logits, classes, self.classes, 2)
        return {"mask_logits": picked, "mask_targets": mx.nd.array(mask_targets[images, slots], ctx=ctx),
                "mask_images": mx.nd.array(owners, ctx=ctx)}


def _class_layer(rows: int) -> nn.Dense:
    """The classifier: background, each class, and any absorbed rows."""
    return nn.Dense(rows, in_units=1024, weight_initializer=init.Normal(0.01))


def _box_layer(classes: int) -> nn.Dense:
    """Class-specific box deltas, four per class."""
    return nn.Dense(classes * 4, in_units=1024, weight_initializer=init.Normal(0.001))


def _of_class(F, x, classes, count: int, trailing: int):
    """``x`` (R, count, *T) with ``trailing`` = len(T) -> (R, *T): each row's slice of its class in ``classes`` (R,)."""
    chosen = F.one_hot(classes, depth=count)
    for _ in range(trailing):
        chosen = chosen.expand_dims(-1)
    return F.sum(F.broadcast_mul(x, chosen), axis=1)


def _with_image_index(F, boxes):
    """``(N, R, 4)`` boxes -> ``(N * R, 5)`` ROIAlign regions ``[image index, x1, y1, x2, y2]``.

    Empty rows (all -1, as NMS pads) get image index -1, which ROIAlign skips
    (its backward pass would write outside the feature map for them).
    """
    x2 = F.slice_axis(boxes, axis=-1, begin=2, end=3)
    index = F.broadcast_like(F.contrib.arange_like(boxes, axis=0).reshape((-1, 1, 1)), x2)
    index = F.where(x2 < 0, -F.ones_like(index), index)
    return F.concat(index, boxes, dim=-1).reshape((-1, 5))
