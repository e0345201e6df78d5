"""The training engine every task shares.

``fit(pipeline, train_data, val_data, **options)`` trains with the ``[train]``
options of :class:`TrainConfig`; ``evaluate`` runs the pipeline's metric;
``make_loader`` builds the seeded, exactly replayable loaders both use.

Modules: ``engine`` (the loop), ``step`` (one update), ``config`` (options),
``schedules`` (learning rate), ``tricks`` (no bias decay, mixup, distillation),
``guards`` (clipping, divergence), ``checkpoint`` (atomic save, exact resume),
``data`` (seeded sampler and loaders), ``seeding``, ``logs``, ``interrupt``
(Ctrl-C, SIGTERM), ``optim`` (Trainer over a kvstore), ``evaluation``, ``launch``.
Names are imported lazily so that ``cvcore launch`` never loads MXNet.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "fit": "engine", "Callback": "engine", "ValidationFailedWarning": "engine",
    "evaluate": "evaluation",
    "make_loader": "data",
    "TrainConfig": "config",
    "LRSchedule": "schedules",
    "TrainState": "checkpoint",
    "TrainingDiverged": "guards",
    "TrainingInterrupted": "interrupt",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
