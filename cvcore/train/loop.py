"""Fit and evaluate a pipeline on any dataset its task knows how to feed."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import mxnet as mx
from mxnet import autograd, gluon
from tqdm import tqdm

from ..errors import CvcoreError

if TYPE_CHECKING:
    from ..pipeline import Pipeline


class TrainingDiverged(CvcoreError):
    """The loss became NaN or infinite."""


def make_loader(pipeline: "Pipeline", data: Any, *, train: bool, batch_size: int = 32, num_workers: int = 0):
    """A DataLoader over ``data`` (a Dataset is wrapped with the task's sample transform)."""
    if isinstance(data, gluon.data.DataLoader) or not isinstance(data, gluon.data.Dataset):
        return data  # a loader or any iterable of batches
    dataset = data.transform(pipeline.task.sample_transform(pipeline, train=train))
    return gluon.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train,
        last_batch="rollover" if train else "keep",
        num_workers=num_workers,
    )


def _split(pipeline: "Pipeline", batch: Any) -> tuple[list, list[tuple]]:
    """Split a batch into per-device inputs and targets."""
    inputs, targets = pipeline.task.split_batch(batch)
    if len(pipeline.ctx) == 1:
        ctx = pipeline.ctx[0]
        return [inputs.as_in_context(ctx)], [tuple(t.as_in_context(ctx) for t in targets)]
    xs = gluon.utils.split_and_load(inputs, pipeline.ctx, even_split=False)
    ts = [gluon.utils.split_and_load(t, pipeline.ctx, even_split=False) for t in targets]
    return xs, [tuple(t[i] for t in ts) for i in range(len(xs))]


def fit(
    pipeline: "Pipeline",
    train_data: Any,
    val_data: Any = None,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: str = "sgd",
    lr: float = 0.01,
    momentum: float = 0.9,
    wd: float = 1e-4,
    num_workers: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``pipeline.net`` with ``pipeline.loss``; returns the last epoch's loss and validation metrics."""
    net, loss_fn = pipeline.net, pipeline.loss
    loader = make_loader(pipeline, train_data, train=True, batch_size=batch_size, num_workers=num_workers)
    optimizer_params: dict[str, Any] = {"learning_rate": lr, "wd": wd}
    if optimizer in ("sgd", "nag"):
        optimizer_params["momentum"] = momentum
    trainer = gluon.Trainer(net.collect_params(), optimizer, optimizer_params)
    history: dict[str, Any] = {}
    for epoch in range(epochs):
        total, count, started = 0.0, 0, time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for batch in bar:
            xs, ts = _split(pipeline, batch)
            with autograd.record():
                losses = [loss_fn(net(x), *t) for x, t in zip(xs, ts)]
            autograd.backward(losses)
            samples = sum(x.shape[0] for x in xs)
            trainer.step(samples)
            value = sum(float(l.sum().asscalar()) for l in losses)
            if value != value or value in (float("inf"), float("-inf")):
                raise TrainingDiverged(
                    f"The loss became {value} in epoch {epoch + 1}; lower the learning rate (now {lr})."
                )
            total, count = total + value, count + samples
            bar.set_postfix(loss=f"{total / count:.4f}")
        history = {"epoch": epoch + 1, "loss": total / max(count, 1), "seconds": time.perf_counter() - started}
        if val_data is not None:
            history.update({f"val_{k}": v for k, v in evaluate(pipeline, val_data, batch_size=batch_size).items()})
    return history


def evaluate(pipeline: "Pipeline", data: Any, *, batch_size: int = 32, num_workers: int = 0, progress: bool = False) -> dict[str, float]:
    """Run the network over ``data`` and return ``pipeline.metric.get()``."""
    metric = pipeline.metric
    if metric is None:
        raise CvcoreError(f"The {pipeline.task_name} pipeline has no metric to evaluate with.")
    metric.reset()
    loader = make_loader(pipeline, data, train=False, batch_size=batch_size, num_workers=num_workers)
    for batch in tqdm(loader, desc="evaluate", disable=not progress, leave=False):
        xs, ts = _split(pipeline, batch)
        for x, t in zip(xs, ts):
            metric.update(t, pipeline.net(x))
    mx.nd.waitall()
    return metric.get()
