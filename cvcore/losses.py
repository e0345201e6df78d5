"""Built-in losses."""
from __future__ import annotations

from mxnet.gluon.loss import Loss


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy over class logits, with optional label smoothing.

    ``label`` holds class indices (``sparse_label=True``) or distributions
    over the classes (``sparse_label=False``, as mixup produces). With
    ``label_smoothing=eps`` the target becomes ``(1 - eps) * target + eps / classes``.
    Label smoothing is set here, in the pipeline's ``[loss]`` table, not in ``[train]``.
    """

    def __init__(self, label_smoothing: float = 0.0, sparse_label: bool = True, weight: float | None = None, batch_axis: int = 0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing
        self.sparse_label = sparse_label

    def with_soft_labels(self) -> "SoftmaxCrossEntropy":
        """The same loss taking class distributions (what mixup makes) instead of class indices."""
        return SoftmaxCrossEntropy(self.label_smoothing, sparse_label=False, weight=self._weight, batch_axis=self._batch_axis)

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


class DistillationLoss(Loss):
    """Knowledge distillation (Hinton et al., 2015) around any hard-label loss.

    ``loss(student, teacher, *labels) = hard_weight * hard_loss(student, *labels)
    + (1 - hard_weight) * T² * KL(softmax(teacher / T) || softmax(student / T))``;
    the ``T²`` keeps the soft term's gradients on the scale of the hard one.
    """

    def __init__(self, hard_loss: Loss, temperature: float = 20.0, hard_weight: float = 0.5, batch_axis: int = 0, **kwargs):
        super().__init__(None, batch_axis, **kwargs)
        if temperature <= 0 or not 0.0 <= hard_weight <= 1.0:
            raise ValueError(f"need temperature > 0 and hard_weight in [0, 1], got {temperature} and {hard_weight}")
        self.temperature, self.hard_weight = temperature, hard_weight
        self.hard_loss = hard_loss

    def hybrid_forward(self, F, student, teacher, *labels):
        t = self.temperature
        log_student = F.log_softmax(student / t, axis=-1)
        log_teacher = F.log_softmax(teacher / t, axis=-1)
        soft = F.sum(F.exp(log_teacher) * (log_teacher - log_student), axis=-1)
        return self.hard_weight * self.hard_loss(student, *labels) + (1.0 - self.hard_weight) * t * t * soft
