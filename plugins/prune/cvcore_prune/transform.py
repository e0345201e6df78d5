"""The ``prune`` deploy transform: one-shot pruning (no fine-tuning) in a deploy chain such as prune -> int8 -> export."""
from __future__ import annotations

from typing import Any

import mxnet as mx

from cvcore.deploy.transforms import hybridize
from cvcore.pipeline import Pipeline

from .pruning import prune


def prune_transform(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, pipeline: Pipeline, target: float = 0.5,
                    measure: str = "macs", criterion: str = "bn_scale", multiple: int = 8) -> Any:
    """The pipeline's network pruned to ``target`` of its ``measure`` (see :func:`cvcore_prune.prune`), hybridized, unfused.

    Chain ``hybridize`` after it for oneDNN's fused kernels. The pipeline keeps
    its unpruned trainable form; to fine-tune a pruned network use ``cvcore
    prune`` (or :func:`cvcore_prune.prune`), which saves it as a pipeline of its own.
    """
    pruned = prune(pipeline, target, measure=measure, criterion=criterion, calib_data=calib_data, multiple=multiple)
    return hybridize(pruned.net, example=example, fuse=False)
