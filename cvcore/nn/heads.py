"""Built-in heads."""
from __future__ import annotations

from typing import Sequence

from mxnet.gluon import HybridBlock, nn


class ClassifierHead(HybridBlock):
    """Global average pooling, optional dropout, then a dense layer to ``classes`` logits."""

    in_features = 1

    def __init__(self, in_channels: Sequence[int], in_strides: Sequence[int] = (), classes: int = 1000, dropout: float = 0.0):
        super().__init__()
        with self.name_scope():
            self.pool = nn.GlobalAvgPool2D()
            self.flat = nn.Flatten()
            self.drop = nn.Dropout(dropout) if dropout > 0 else None
            self.fc = nn.Dense(classes, in_units=int(in_channels[-1]))

    def hybrid_forward(self, F, x):
        x = self.flat(self.pool(x))
        if self.drop is not None:
            x = self.drop(x)
        return self.fc(x)
