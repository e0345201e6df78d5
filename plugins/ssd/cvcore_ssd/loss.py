"""SSD's multibox loss: softmax cross-entropy on matched and hard negative default boxes, smooth L1 on matched offsets."""
from __future__ import annotations

from typing import Any

import mxnet as mx
from mxnet import gluon

from cvcore.errors import ConfigError

from .head import TrainingOutputs


class MultiBoxLoss(gluon.Block):
    """``loss(outputs, *targets) -> (N,)``: each image's classification and box loss over the batch's matched boxes.

    Negatives (background default boxes) are many: per image only the
    ``negative_ratio`` x (its matched count) with the highest background loss
    count (hard-negative mining, at least ``min_negatives``). Classification is
    the softmax cross-entropy of matched and mined boxes, localization the
    smooth L1 (``beta``) of matched boxes' offsets, weighted ``box_weight``;
    both are divided by the batch's matched boxes, as in SSD, and scaled by the
    batch size so that the engine's mean over images keeps that normalization.
    The targets are in ``outputs`` (the head matched them): the task's are not read again.
    """

    def __init__(self, negative_ratio: float = 3.0, min_negatives: int = 0, box_weight: float = 1.0, beta: float = 1.0) -> None:
        super().__init__()
        if negative_ratio < 0 or min_negatives < 0 or box_weight < 0 or beta <= 0:
            raise ConfigError(f"multibox needs negative_ratio >= 0, min_negatives >= 0, box_weight >= 0 and beta > 0; got "
                              f"{negative_ratio}, {min_negatives}, {box_weight}, {beta}.")
        self.negative_ratio, self.min_negatives, self.box_weight, self.beta = negative_ratio, min_negatives, box_weight, beta

    def forward(self, outputs: Any, *targets: Any) -> mx.nd.NDArray:
        if not isinstance(outputs, TrainingOutputs):
            raise TypeError("MultiBoxLoss reads the SSD head's training outputs: call the network with the ground truth "
                            "(net(x, boxes, labels, meta)), as the training engine does.")
        log_probabilities = mx.nd.log_softmax(outputs.class_logits, axis=-1)
        cross_entropy = -mx.nd.pick(log_probabilities, outputs.class_targets, axis=-1)  # (N, B)
        positive = outputs.class_targets > 0
        positives = positive.sum(axis=1)  # (N,)
        background_loss = mx.nd.where(positive, mx.nd.ones_like(cross_entropy) * -1, -log_probabilities[:, :, 0]).detach()
        rank = mx.nd.argsort(mx.nd.argsort(background_loss, axis=1, is_ascend=False), axis=1)  # 0 for the hardest negative
        allowed = mx.nd.maximum(positives * self.negative_ratio, self.min_negatives).expand_dims(1)
        mined = mx.nd.broadcast_lesser(rank, allowed) * (1 - positive)
        classification = (cross_entropy * (positive + mined)).sum(axis=1)
        difference = (outputs.offsets - outputs.offset_targets).abs()
        smooth = mx.nd.where(difference < self.beta, 0.5 * difference * difference / self.beta, difference - 0.5 * self.beta)
        localization = (smooth * positive.expand_dims(-1)).sum(axis=(1, 2))
        normalizer = mx.nd.maximum(positives.sum(), 1) / positives.shape[0]
        return (classification + self.box_weight * localization) / normalizer
