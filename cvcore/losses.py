"""Built-in losses."""
from __future__ import annotations

from mxnet.gluon.loss import Loss


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy over class logits, with optional label smoothing.

    ``label`` holds class indices (``sparse_label=True``) or distributions
    over the classes (``sparse_label=False``, as mixup produces). With
    ``label_smoothing=eps`` the target becomes ``(1 - eps) * target + eps / classes``.
    """

    def __init__(self, label_smoothing: float = 0.0, sparse_label: bool = True, weight: float | None = None, batch_axis: int = 0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing
        self.sparse_label = sparse_label

    def hybrid_forward(self, F, pred, label):
        log_prob = F.log_softmax(pred, axis=-1)
        if self.sparse_label:
            true_class = F.pick(log_prob, label, axis=-1)
        else:
            true_class = F.sum(log_prob * label, axis=-1)
        loss = -(1.0 - self.label_smoothing) * true_class
        if self.label_smoothing:
            loss = loss - self.label_smoothing * F.mean(log_prob, axis=-1)
        if self._weight is not None:
            loss = loss * self._weight
        return loss
