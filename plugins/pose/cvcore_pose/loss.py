"""The heatmap loss of Simple Baselines (target-weighted mean squared error), and distillation through it."""
from __future__ import annotations

from mxnet.gluon.loss import Loss


class HeatmapMSE(Loss):
    """Per-sample ``0.5 * mean_{j,y,x} (w_j * (pred - target))**2``.

    ``loss(pred, target, target_weight)``: ``pred`` and ``target`` are heatmaps
    ``(N, J, h, w)``; ``target_weight`` is ``(N, J)`` (``(N, J, 1)`` and
    ``(N, J, 1, 1)`` are accepted too), 1 for a labelled joint and 0 for one
    that must not be learned. The result has shape ``(N,)``: for each sample,
    the squared weighted difference summed over joints and pixels, divided by
    ``J * h * w`` (every joint counts in the denominator, weighted or not),
    times 0.5. This is the original's ``JointsMSELoss`` per sample (its mean
    over the batch is the original's value), and with 0/1 weights it equals
    GluonCV's ``L2Loss()(pred, target, target_weight)``. ``weight`` (a float)
    scales the whole loss.
    """

    def __init__(self, weight: float | None = None, batch_axis: int = 0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, target, target_weight):
        weight = F.reshape(target_weight, shape=(0, 0, 1, 1))
        diff = F.broadcast_mul(pred - target, weight)
        loss = 0.5 * F.square(diff)
        if self._weight is not None:
            loss = loss * self._weight
        return F.mean(loss, axis=self._batch_axis, exclude=True)


class HeatmapDistillation(Loss):
    """Distillation of a pose network from a teacher's heatmaps (Zhang et al., "Fast Human Pose Estimation", CVPR 2019).

    ``loss(pred, teacher, target, target_weight) = hard_weight * heatmap_loss(pred, target, target_weight)
    + (1 - hard_weight) * heatmap_loss(pred, teacher, 1)``: the teacher's heatmaps
    are targets for every joint, labelled or not. Shape ``(N,)``.
    """

    def __init__(self, heatmap_loss: Loss, hard_weight: float = 0.5, batch_axis: int = 0, **kwargs):
        super().__init__(None, batch_axis, **kwargs)
        if not 0.0 <= hard_weight <= 1.0:
            raise ValueError(f"hard_weight must be in [0, 1], got {hard_weight}")
        self.hard_weight = hard_weight
        self.heatmap_loss = heatmap_loss

    def hybrid_forward(self, F, pred, teacher, target, target_weight):
        soft = self.heatmap_loss(pred, teacher, F.ones_like(target_weight))
        return self.hard_weight * self.heatmap_loss(pred, target, target_weight) + (1.0 - self.hard_weight) * soft
