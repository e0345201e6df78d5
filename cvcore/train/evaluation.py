"""Evaluate a pipeline's network with its metric."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mxnet as mx

from ..errors import CvcoreError
from ..progress import progress_bar
from .data import make_loader, split_to_contexts

if TYPE_CHECKING:
    from ..pipeline import Pipeline


def evaluate(pipeline: "Pipeline", data: Any, *, batch_size: int = 32, num_workers: int = 0,
             progress: bool = False) -> dict[str, float]:
    """Run the network over ``data`` (in order, every sample) and return ``pipeline.metric.get()``."""
    metric = pipeline.metric
    if metric is None:
        raise CvcoreError(f"The {pipeline.task_name} pipeline has no metric to evaluate with.")
    metric.reset()
    loader = make_loader(pipeline, data, train=False, batch_size=batch_size, num_workers=num_workers)
    for batch in progress_bar(loader, total=loader.batches_per_epoch, desc="evaluate", disable=not progress, leave=False):
        inputs, targets = pipeline.task.split_batch(batch)
        for x, t in split_to_contexts(inputs, targets, pipeline.ctx):
            metric.update(t, pipeline.net(x))
    mx.nd.waitall()
    return metric.get()
