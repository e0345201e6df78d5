"""The contracts of losses and metrics, checked on a batch the plugin author gives."""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import mxnet as mx
import numpy as np
from mxnet import autograd

from ..plugins import get


def check_loss(name: str, outputs: mx.nd.NDArray, targets: Sequence[mx.nd.NDArray], *,
               soft_targets: Sequence[mx.nd.NDArray] | None = None, **options: Any) -> np.ndarray:
    """Loss ``name`` called as ``loss(outputs, *targets)`` gives one finite value per sample, and a gradient.

    A loss that claims soft labels (it has ``with_soft_labels()``, which mixup
    uses) must accept ``soft_targets``; for class-index targets of shape (N,)
    and outputs (N, classes) they default to the one-hot targets, which must
    give the same losses as the indices. Returns the per-sample losses.
    """
    loss = get("loss", name).build(**options)
    what = f"loss {name!r}"
    values = _per_sample(loss, outputs, targets, what)
    x = outputs.copy()
    x.attach_grad()
    with autograd.record():
        total = loss(x, *targets).sum()
    total.backward()
    gradient = x.grad.asnumpy()
    assert np.isfinite(gradient).all() and np.abs(gradient).max() > 0, f"{what}: no finite, non-zero gradient reaches the outputs"
    if hasattr(loss, "with_soft_labels"):
        soft = loss.with_soft_labels()
        one_hot = soft_targets is None
        if one_hot:
            classes_given = len(targets) == 1 and targets[0].ndim == 1 and outputs.ndim == 2
            assert classes_given, f"{what} claims soft labels (with_soft_labels()); give soft_targets= to check them"
            soft_targets = [mx.nd.one_hot(targets[0], outputs.shape[1])]
        soft_values = _per_sample(soft, outputs, soft_targets, f"{what} with soft labels")
        if one_hot:
            assert np.allclose(soft_values, values, rtol=1e-5, atol=1e-6), (
                f"{what}: one-hot soft labels give {soft_values}, class indices {values}")
    return values


def check_metric(name: str, targets: Any, outputs: Any, *, prepare: Callable[[Any], Any] | None = None,
                 **options: Any) -> dict[str, float]:
    """Metric ``name`` resets, updates with ``(targets, outputs)`` and reports real numbers by name, the same after a reset.

    ``prepare(metric)`` does what a task does before evaluating (binding ground
    truth, say). Returns the reported values.
    """
    metric = get("metric", name).build(**options)
    what = f"metric {name!r}"
    for method in ("reset", "update", "get"):
        assert callable(getattr(metric, method, None)), f"{what}: has no {method}() method"
    if prepare is not None:
        metric = prepare(metric) or metric
    metric.reset()
    metric.update(targets, outputs)
    first = metric.get()
    assert isinstance(first, dict) and first, f"{what}: get() returned {first!r}, not a dict of values by name"
    for key, value in first.items():
        assert isinstance(key, str), f"{what}: key {key!r} is not a string"
        assert isinstance(value, numbers.Real) and not isinstance(value, bool), f"{what}: {key} = {value!r} is not a real number"
    assert not all(math.isnan(float(v)) for v in first.values()), f"{what}: every value is NaN after an update: {first}"
    metric.reset()
    metric.update(targets, outputs)
    again = metric.get()
    same = {key: (first[key], again.get(key)) for key in first if not _same_number(first[key], again.get(key))}
    assert not same, f"{what}: after reset() the same update gives other values (first, again): {same}"
    return {key: float(value) for key, value in first.items()}


def _per_sample(loss: Any, outputs: mx.nd.NDArray, targets: Sequence[mx.nd.NDArray], what: str) -> np.ndarray:
    values = loss(outputs, *targets)
    assert isinstance(values, mx.nd.NDArray), f"{what}: returned a {type(values).__name__}, not an NDArray"
    values = values.asnumpy()
    assert values.ndim >= 1 and values.shape[0] == outputs.shape[0], (
        f"{what}: returned shape {values.shape}; one loss per sample ({outputs.shape[0]}) is expected")
    assert np.isfinite(values).all(), f"{what}: non-finite losses {values}"
    return values


def _same_number(a: Any, b: Any) -> bool:
    if b is None:
        return False
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
