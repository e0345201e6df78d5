"""What every built-in backbone shares: named stages and the selection of returned features."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from mxnet.gluon import HybridBlock, nn


class Backbone(HybridBlock):
    """A ``HybridBlock`` whose stages are named (``c1``..``c5``) and which returns the selected ones.

    Subclasses call :meth:`select_features` in ``__init__`` with each stage's
    channels and stride, and return ``self.pick(stage_outputs)`` from
    ``hybrid_forward`` where ``stage_outputs`` maps stage names to tensors.
    """

    feature_names: tuple[str, ...] = ()
    out_features: tuple[str, ...] = ()
    out_channels: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()

    def select_features(self, out_features: Sequence[str] | None, channels: Mapping[str, int], strides: Mapping[str, int]) -> None:
        self.feature_names = tuple(channels)
        chosen = tuple(out_features) if out_features else self.feature_names[-1:]
        unknown = [name for name in chosen if name not in channels]
        if unknown:
            raise ValueError(f"{type(self).__name__} has no feature {', '.join(unknown)}; it has {', '.join(self.feature_names)}.")
        self.out_features = tuple(sorted(chosen, key=self.feature_names.index))
        self.out_channels = tuple(int(channels[name]) for name in self.out_features)
        self.strides = tuple(int(strides[name]) for name in self.out_features)

    @property
    def last_feature(self) -> str:
        """The deepest stage that must be computed."""
        return self.out_features[-1]

    def pick(self, outputs: Mapping[str, object]) -> tuple:
        return tuple(outputs[name] for name in self.out_features)


class SequentialBackbone(Backbone):
    """A backbone whose layers form one flat ``features`` sequence, as GluonCV lays out its classifiers.

    Subclasses create their layers inside ``self.name_scope()``, pass them to
    :meth:`add_layers`, call :meth:`end_stage` right after the last layer of
    each resolution, and finally :meth:`finish`. Only the layers up to the end
    of the deepest requested stage are kept: deeper ones would never run, so
    their parameters would never get a gradient. Kept layers keep their indices.
    """

    def __init__(self) -> None:
        super().__init__()
        self._layers: list[HybridBlock] = []
        self._stage_end: dict[str, int] = {}
        self._stage_channels: dict[str, int] = {}
        self._stage_strides: dict[str, int] = {}
        self._taps: dict[int, str] = {}

    def add_layers(self, *layers: HybridBlock) -> None:
        self._layers.extend(layers)

    def end_stage(self, channels: int, stride: int) -> None:
        """Mark the last layer added as the end of stage ``c{log2(stride)}``."""
        name = f"c{int(math.log2(stride))}"
        self._stage_end[name] = len(self._layers) - 1
        self._stage_channels[name] = channels
        self._stage_strides[name] = stride

    def finish(self, out_features: Sequence[str] | None) -> None:
        """Choose the returned stages and put the layers they need into ``features``."""
        self.select_features(out_features, self._stage_channels, self._stage_strides)
        self._taps = {self._stage_end[name]: name for name in self.out_features}
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(*self._layers[: self._stage_end[self.last_feature] + 1])
        self._layers = []

    def hybrid_forward(self, F, x):
        outputs = {}
        for index in range(len(self.features)):
            x = self.features[index](x)
            if index in self._taps:
                outputs[self._taps[index]] = x
        return self.pick(outputs)
