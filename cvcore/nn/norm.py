"""Normalization layers selectable by name: BatchNorm, or SyncBatchNorm across devices."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping

from mxnet.gluon import HybridBlock, nn
from mxnet.gluon.contrib.nn import SyncBatchNorm

NORM_LAYERS: dict[str, type] = {"BatchNorm": nn.BatchNorm, "SyncBatchNorm": SyncBatchNorm}


SYMBOLIC_BATCH_NORM: dict[str, Any] = {"epsilon": 1e-3, "scale": False}
"""``norm_kwargs`` that normalize as MXNet's symbolic ``BatchNorm`` (and ``SyncBatchNorm``) do at their defaults, which
GluonCV's symbol-built layers use (its R-CNN BatchNorm FPN, its SSD feature expander): epsilon 1e-3 (Gluon's is 1e-5)
and gamma fixed at 1 (its parameter is kept, and ignored)."""


def norm_factory(norm_layer: str | type = "BatchNorm", norm_kwargs: Mapping[str, Any] | None = None) -> Callable[..., HybridBlock]:
    """A callable that builds one normalization layer, ``factory(**layer_kwargs)``.

    ``norm_layer`` is ``"BatchNorm"``, ``"SyncBatchNorm"`` (give
    ``norm_kwargs={"num_devices": N}``) or a layer class.
    """
    if isinstance(norm_layer, str):
        if norm_layer not in NORM_LAYERS:
            raise ValueError(f"Unknown norm_layer {norm_layer!r}; use one of {', '.join(NORM_LAYERS)} or a layer class.")
        norm_layer = NORM_LAYERS[norm_layer]
    return partial(norm_layer, **dict(norm_kwargs or {}))
