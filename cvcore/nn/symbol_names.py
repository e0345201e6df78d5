"""GluonCV's symbol-graph parameter names -> a network's structural ones.

Where GluonCV builds a backbone as one symbol graph (the feature extractors of
its detectors), its parameters carry MXNet's old flat names: a scope, the
layer's kind and a counter per scope and kind, in the order the layers were
created (``resnetv10_stage1_conv3_weight``, ``mobilenet0_batchnorm12_gamma``).
cvcore's networks create their layers in the same order, so the map follows
from a network's own structural keys and a rule naming each layer's scope.
"""
from __future__ import annotations

from typing import Callable, Iterable

NORM_SUFFIXES = ("gamma", "beta", "running_mean", "running_var")


def symbol_name_map(keys: Iterable[str], scope: Callable[[str], str], *, source: str = "features.", target: str = "backbone.",
                    norm: str = "batchnorm") -> dict[str, str]:
    """``{"<source><scope><conv|norm><n>_": "<target><module>."}`` for every module of the structural ``keys``.

    ``scope(module)`` gives a module's symbol scope with its trailing ``_``
    (e.g. ``"resnetv10_stage1_"``); convolutions (and dense layers) and
    normalizations (``norm``: ``batchnorm``, ``syncbatchnorm``) are counted
    per scope in the order of ``keys``.
    """
    kinds: dict[str, str] = {}
    for key in keys:
        module, _, suffix = key.rpartition(".")
        kinds.setdefault(module, "norm" if suffix in NORM_SUFFIXES else "conv")
    counters: dict[tuple[str, str], int] = {}
    mapping = {}
    for module, kind in kinds.items():
        group = scope(module)
        number = counters.get((group, kind), 0)
        counters[group, kind] = number + 1
        mapping[f"{source}{group}{'conv' if kind == 'conv' else norm}{number}_"] = f"{target}{module}."
    return mapping
