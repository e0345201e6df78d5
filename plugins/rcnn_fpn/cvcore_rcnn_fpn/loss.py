"""The R-CNN training loss: RPN objectness and boxes, region classes and boxes, and masks, per image."""
from __future__ import annotations

from typing import Any

import mxnet as mx
from mxnet import gluon

from .rcnn import TrainingOutputs


def _smooth_l1(x: mx.nd.NDArray, beta: float) -> mx.nd.NDArray:
    absolute = x.abs()
    return mx.nd.where(absolute < beta, 0.5 * absolute * absolute / beta, absolute - 0.5 * beta)


def _bce(logits: mx.nd.NDArray, labels: mx.nd.NDArray) -> mx.nd.NDArray:
    """Binary cross-entropy on logits, element-wise and stable."""
    return mx.nd.relu(logits) - logits * labels + mx.nd.log1p(mx.nd.exp(-logits.abs()))


class RCNNLoss(gluon.Block):
    """``loss(outputs, *targets) -> (N,)``: each image's sum of five terms, each a mean over its sampled anchors or regions.

    RPN: binary cross-entropy of sampled anchors and smooth-L1 (beta 1/9) of the
    positive ones' deltas, both over the sampled count; regions: softmax
    cross-entropy and smooth-L1 (beta 1) of the labelled class's deltas over the
    sampled regions; masks: per-pixel binary cross-entropy, mean over the image's
    positive regions. The targets are in ``outputs`` (the head matched them), so
    the task's targets are not read again.
    """

    def __init__(self, rpn_box_beta: float = 1.0 / 9, box_beta: float = 1.0, mask_weight: float = 1.0) -> None:
        super().__init__()
        self.rpn_box_beta, self.box_beta, self.mask_weight = rpn_box_beta, box_beta, mask_weight

    def forward(self, outputs: Any, *targets: Any) -> mx.nd.NDArray:
        if not isinstance(outputs, TrainingOutputs):
            raise TypeError("RCNNLoss reads the R-CNN head's training outputs: call the network with the ground truth "
                            "(net(x, boxes, labels, meta[, masks])), as the training engine does.")
        o = outputs
        sampled = o.rpn_labels >= 0
        count = mx.nd.maximum(sampled.sum(axis=1), 1)
        rpn_class = (_bce(o.rpn_logits, mx.nd.maximum(o.rpn_labels, 0)) * sampled).sum(axis=1) / count
        positive = (o.rpn_labels > 0).expand_dims(-1)
        rpn_box = (_smooth_l1(o.rpn_deltas - o.rpn_targets, self.rpn_box_beta) * positive).sum(axis=(1, 2)) / count
        regions = o.roi_labels >= 0
        region_count = mx.nd.maximum(regions.sum(axis=1), 1)
        log_probabilities = mx.nd.log_softmax(o.class_logits, axis=-1)
        picked = mx.nd.pick(log_probabilities, mx.nd.maximum(o.roi_labels, 0), axis=-1)
        region_class = -(picked * regions).sum(axis=1) / region_count
        foreground = (o.roi_labels > 0).expand_dims(-1)
        region_box = (_smooth_l1(o.box_deltas - o.box_targets, self.box_beta) * foreground).sum(axis=(1, 2)) / region_count
        total = rpn_class + rpn_box + region_class + region_box
        if o.mask_logits is None:
            return total
        pixel_loss = _bce(o.mask_logits, o.mask_targets).mean(axis=(1, 2))
        images = mx.nd.one_hot(o.mask_images, depth=total.shape[0])  # (P, N); rows of index -1 are all zero
        per_image = mx.nd.dot(pixel_loss.expand_dims(0), images)[0] / mx.nd.maximum(images.sum(axis=0), 1)
        return total + self.mask_weight * per_image
