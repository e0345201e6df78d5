"""What every built-in backbone shares: named stages and the selection of returned features."""
from __future__ import annotations

from typing import Mapping, Sequence

from mxnet.gluon import HybridBlock


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
