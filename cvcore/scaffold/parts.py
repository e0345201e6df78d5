"""One working part of each kind, with its hook and its test, as ``cvcore new-plugin`` writes them.

``$name`` and ``$package`` are filled in (``string.Template``); each part
passes its own test as written.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartTemplate:
    module: str
    doc: str
    hook: str
    source: str
    test: str


BACKBONE = PartTemplate(
    "backbone",
    "A small CNN backbone for cvcore.",
    '''
from .backbone import Backbone


@cvcore.hookimpl
def cvcore_backbones():
    return [cvcore.Component("$name", Backbone, "A stem and four stride-2 conv-BN-ReLU stages (c2..c5, 16 to 128 channels).")]
''',
    '''"""A stem and four stride-2 conv-norm-ReLU stages; replace the layers with your network, keep the contract."""
from __future__ import annotations

from mxnet.gluon import HybridBlock, nn
from mxnet.gluon.contrib.nn import SyncBatchNorm

STAGES = {"c2": 16, "c3": 32, "c4": 64, "c5": 128}
"""Feature name -> channels; the stem and every stage halve the resolution, so c2 is 1/4 of the input and c5 1/32."""
NORM_LAYERS = {"BatchNorm": nn.BatchNorm, "SyncBatchNorm": SyncBatchNorm}


class Backbone(HybridBlock):
    """Returns a tuple with one feature map per name in ``out_features`` (default: the last stage)."""

    feature_names = tuple(STAGES)

    def __init__(self, *, out_features=None, norm_layer="BatchNorm", norm_kwargs=None, width: float = 1.0):
        super().__init__()
        if norm_layer not in NORM_LAYERS:
            raise ValueError(f"norm_layer must be one of {sorted(NORM_LAYERS)}, got {norm_layer!r}")
        chosen = tuple(out_features or self.feature_names[-1:])
        unknown = [name for name in chosen if name not in STAGES]
        if unknown:
            raise ValueError(f"no feature {unknown}; this backbone has {list(STAGES)}")
        self.out_features = tuple(sorted(chosen, key=self.feature_names.index))
        channels = {name: max(1, int(c * width)) for name, c in STAGES.items()}
        self.out_channels = tuple(channels[name] for name in self.out_features)
        self.strides = tuple(2 ** (self.feature_names.index(name) + 2) for name in self.out_features)
        norm = NORM_LAYERS[norm_layer]
        with self.name_scope():
            self.stem = self._stage(3, channels["c2"], norm, norm_kwargs)
            self.stages = nn.HybridSequential()
            previous = channels["c2"]
            for name in self.feature_names:
                self.stages.add(self._stage(previous, channels[name], norm, norm_kwargs))
                previous = channels[name]

    @staticmethod
    def _stage(in_channels, channels, norm, norm_kwargs):
        stage = nn.HybridSequential()
        stage.add(nn.Conv2D(channels, 3, strides=2, padding=1, use_bias=False, in_channels=in_channels),
                  norm(in_channels=channels, **(norm_kwargs or {})), nn.Activation("relu"))
        return stage

    def hybrid_forward(self, F, x):
        x = self.stem(x)
        features = []
        for name, stage in zip(self.feature_names, self.stages):
            x = stage(x)
            if name in self.out_features:
                features.append(x)
        return tuple(features)
''',
    '''"""The backbone keeps cvcore's backbone contract and assembles into a pipeline."""
from cvcore import Pipeline, testing


def test_the_backbone_keeps_the_contract():
    testing.check_backbone("$name")
    testing.check_backbone("$name", width=0.5)


def test_the_backbone_trains_saves_and_loads_under_a_classifier(tmp_path):
    pipeline = Pipeline("classification", backbone="$name", classes=3, input_shape=[2, 3, 64, 64])
    testing.check_save_load_round_trip(pipeline, tmp_path)
''',
)

HEAD = PartTemplate(
    "head",
    "A classification head for cvcore.",
    '''
from .head import Head


@cvcore.hookimpl
def cvcore_heads():
    return [cvcore.Component("$name", Head, "Average and max pooling of the last feature map, then a dense layer.", {"in_features": 1})]
''',
    '''"""A head adapts to the channels and strides it is given; this one pools two ways and classifies."""
from __future__ import annotations

from typing import Sequence

from mxnet.gluon import HybridBlock, nn


class Head(HybridBlock):
    """Concatenated global average and max pooling of the last feature map, dropout, then class logits."""

    def __init__(self, *, in_channels: Sequence[int], in_strides: Sequence[int] = (), classes: int = 1000, dropout: float = 0.0):
        super().__init__()
        with self.name_scope():
            self.average, self.maximum = nn.GlobalAvgPool2D(), nn.GlobalMaxPool2D()
            self.dropout = nn.Dropout(dropout) if dropout else None
            self.output = nn.Dense(classes, in_units=2 * in_channels[-1])

    def hybrid_forward(self, F, x):
        pooled = F.concat(F.flatten(self.average(x)), F.flatten(self.maximum(x)), dim=1)
        if self.dropout is not None:
            pooled = self.dropout(pooled)
        return self.output(pooled)
''',
    '''"""The head keeps cvcore's head contract and classifies under any backbone."""
from cvcore import Pipeline, testing


def test_the_head_keeps_the_contract():
    testing.check_head("$name", classes=5)


def test_the_head_sits_on_a_core_backbone():
    pipeline = Pipeline("classification", backbone="resnet18_v1b", head="$name", classes=5, input_shape=[2, 3, 64, 64])
    assert pipeline.net(pipeline.example()).shape == (2, 5)
''',
)

LOSS = PartTemplate(
    "loss",
    "A classification loss for cvcore.",
    '''
from .loss import FocalLoss


@cvcore.hookimpl
def cvcore_losses():
    return [cvcore.Component("$name", FocalLoss, "Focal loss over class logits: hard examples weigh more (gamma).")]
''',
    '''"""Focal loss: cross-entropy scaled by (1 - p)^gamma, so well-classified samples count less."""
from __future__ import annotations

from mxnet.gluon.loss import Loss


class FocalLoss(Loss):
    """One loss per sample; ``label`` holds class indices, or class distributions after :meth:`with_soft_labels`."""

    def __init__(self, gamma: float = 2.0, sparse_label: bool = True, weight: float | None = None, batch_axis: int = 0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.gamma, self.sparse_label = float(gamma), sparse_label

    def with_soft_labels(self) -> "FocalLoss":
        """The same loss taking class distributions (what mixup makes)."""
        return FocalLoss(self.gamma, sparse_label=False, weight=self._weight, batch_axis=self._batch_axis)

    def hybrid_forward(self, F, pred, label):
        log_prob = F.log_softmax(pred, axis=-1)
        focal = (1 - F.exp(log_prob)) ** self.gamma * log_prob
        loss = -(F.pick(focal, label, axis=-1) if self.sparse_label else F.sum(focal * label, axis=-1))
        return loss * self._weight if self._weight is not None else loss
''',
    '''"""The loss keeps cvcore's loss contract (per-sample values, soft labels for mixup)."""
import mxnet as mx
import numpy as np

from cvcore import testing


def test_the_loss_keeps_the_contract():
    logits, labels = mx.nd.random.normal(shape=(6, 4)), mx.nd.array([0, 1, 2, 3, 0, 1])
    testing.check_loss("$name", logits, [labels], gamma=2.0)


def test_gamma_zero_is_cross_entropy():
    logits, labels = mx.nd.random.normal(shape=(6, 4)), mx.nd.array([0, 1, 2, 3, 0, 1])
    focal = testing.check_loss("$name", logits, [labels], gamma=0.0)
    cross_entropy = testing.check_loss("softmax_cross_entropy", logits, [labels])
    assert np.allclose(focal, cross_entropy, atol=1e-6)
''',
)

METRIC = PartTemplate(
    "metric",
    "A classification metric for cvcore.",
    '''
from .metric import BalancedAccuracy


@cvcore.hookimpl
def cvcore_metrics():
    return [cvcore.Component("$name", BalancedAccuracy, "Balanced accuracy: the mean of the per-class recalls.")]
''',
    '''"""Balanced accuracy: every class counts the same, however rare."""
from __future__ import annotations

import numpy as np


class BalancedAccuracy:
    """``update(targets, outputs)`` with ``targets = (labels,)`` and ``outputs`` the class logits; ``get()`` by name."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.hits: dict[int, int] = {}
        self.seen: dict[int, int] = {}

    def update(self, targets, outputs) -> None:
        labels = np.asarray(_numpy(targets[0] if isinstance(targets, (tuple, list)) else targets)).astype(int).ravel()
        scores = _numpy(outputs[0] if isinstance(outputs, (tuple, list)) else outputs)
        predicted = scores.argmax(axis=1)
        for label, guess in zip(labels, predicted):
            self.seen[label] = self.seen.get(label, 0) + 1
            self.hits[label] = self.hits.get(label, 0) + int(guess == label)

    def get(self) -> dict[str, float]:
        recalls = [self.hits[label] / count for label, count in self.seen.items()]
        return {"balanced_accuracy": float(np.mean(recalls)) if recalls else float("nan")}


def _numpy(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)
''',
    '''"""The metric keeps cvcore's metric contract and weighs every class the same."""
import mxnet as mx

from cvcore import testing


def test_the_metric_keeps_the_contract_and_counts_classes_equally():
    labels = mx.nd.array([0, 0, 0, 1])
    logits = mx.nd.array([[1, 0], [1, 0], [1, 0], [1, 0]])  # always class 0: recall 1 for class 0, 0 for class 1
    assert testing.check_metric("$name", (labels,), logits) == {"balanced_accuracy": 0.5}
''',
)

TRANSFORM = PartTemplate(
    "transforms",
    "A deploy transform for cvcore.",
    '''
from .transforms import static_graph


@cvcore.hookimpl
def cvcore_deploy_transforms():
    return [cvcore.Component("$name", static_graph, "A static graph with static memory, without operator fusion.")]
''',
    '''"""A deploy transform takes the network and returns one with the same inputs and outputs, run once on the example."""
from __future__ import annotations

from typing import Any

import mxnet as mx
from mxnet import gluon


def static_graph(net: Any, *, example: mx.nd.NDArray, calib_data: Any = None, static_memory: bool = True) -> Any:
    """Hybridize ``net`` with static memory and shapes (no fusion): a graph other tools can export unchanged."""
    if not isinstance(net, gluon.HybridBlock):
        return net  # already a deployed graph of another runtime
    net.hybridize(static_alloc=static_memory, static_shape=static_memory)
    net(example)
    mx.nd.waitall()
    return net
''',
    '''"""The transform keeps cvcore's deploy-transform contract: same outputs, composes with hybridize and export, saves."""
from cvcore import testing


def test_the_transform_keeps_the_contract(tmp_path):
    testing.check_transform("$name", directory=tmp_path)
''',
)

DATASET = PartTemplate(
    "dataset",
    "A dataset format for cvcore.",
    '''
from .dataset import ListedImages, synthesize


@cvcore.hookimpl
def cvcore_datasets():
    return [cvcore.Component("$name", ListedImages, "Images listed with their class in root/<split>.csv (path,label).",
                             {"synthesize": synthesize})]
''',
    '''"""Images listed in a CSV file per split: ``root/<split>.csv`` with ``path,label`` rows, paths relative to root."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
from mxnet.gluon.data import Dataset

from cvcore.data.image import read_image, write_image
from cvcore.errors import CvcoreError


class ListedImages(Dataset):
    """Samples ``(image RGB uint8 HxWx3, class index)`` in the order of the CSV file."""

    def __init__(self, *, root: str | os.PathLike, split: str = "train"):
        self.root = Path(root)
        listing = self.root / f"{split}.csv"
        if not listing.is_file():
            raise CvcoreError(f"{listing} does not exist: a $name dataset lists each split's images in root/<split>.csv.")
        with listing.open(newline="") as handle:
            rows = list(csv.reader(handle))
        self.items = []
        for number, row in enumerate(rows, 1):
            if len(row) != 2 or not row[1].strip().lstrip("-").isdigit():
                raise CvcoreError(f"{listing}, line {number}: expected 'path,label' with an integer label, got {row!r}.")
            self.items.append((self.root / row[0], int(row[1])))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        path, label = self.items[index]
        return read_image(path), label


def synthesize(root: str | os.PathLike, *, per_class: int = 4, classes: int = 2, size: int = 32, seed: int = 0) -> None:
    """Write a small set of noisy solid-colour images, one colour per class, with train.csv and val.csv."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    colours = rng.integers(0, 256, size=(classes, 3))
    for split in ("train", "val"):
        rows = []
        for label in range(classes):
            for index in range(per_class):
                image = np.clip(colours[label] + rng.normal(0, 10, size=(size, size, 3)), 0, 255).astype(np.uint8)
                path = Path(split) / f"{label}-{index}.png"
                write_image(root / path, image)
                rows.append([path.as_posix(), label])
        with (root / f"{split}.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
''',
    '''"""The dataset keeps cvcore's dataset contract and says which line of a listing is wrong."""
import pytest

from cvcore import get, testing
from cvcore.errors import CvcoreError


def test_the_dataset_reads_what_its_synthesizer_writes():
    assert testing.check_dataset("$name", synthesize={"per_class": 3, "classes": 2}) == 6


def test_a_malformed_listing_names_the_file_and_line(tmp_path):
    (tmp_path / "train.csv").write_text("a.png,0\\nb.png,cat\\n")
    with pytest.raises(CvcoreError, match="train.csv, line 2"):
        get("dataset", "$name").build(root=tmp_path, split="train")
''',
)

TASK = PartTemplate(
    "task",
    "A task for cvcore.",
    '''
from .task import Task


@cvcore.hookimpl
def cvcore_tasks():
    return [cvcore.Component("$name", Task, "Image classification at 96x96 on image folders: start here, override what differs.")]
''',
    '''"""A task names its default parts, feeds its datasets and runs its predictions; this one starts from classification."""
from __future__ import annotations

from cvcore.tasks.classification import ClassificationTask


class Task(ClassificationTask):
    """Image classification with its own name and input size; override ``sample_transform``, ``predict``,
    ``evaluate`` or the defaults below to make it your own (see cvcore's Task class for each)."""

    name = "$name"
    default_input_shape = (1, 3, 96, 96)
    default_head = "classifier"
    default_loss = "softmax_cross_entropy"
    default_metric = "accuracy"
    default_dataset = "image_folder"
''',
    '''"""The task assembles, trains, evaluates and predicts on a synthesized image-folder set."""
from cvcore import Pipeline, get, testing


def test_the_task_trains_evaluates_predicts_and_saves(tmp_path):
    get("dataset", "image_folder").meta["synthesize"](tmp_path / "data", classes=2, train_per_class=4, val_per_class=2, size=32)
    pipeline = Pipeline("$name", backbone="resnet18_v1b", classes=2, input_shape=[1, 3, 32, 32],
                        data={"root": str(tmp_path / "data")})
    history = pipeline.fit(epochs=1, batch_size=4, progress=False, out_dir=str(tmp_path / "run"))
    assert history["loss"] > 0
    assert 0.0 <= pipeline.evaluate()["top1"] <= 1.0
    image = next((tmp_path / "data" / "val").rglob("*.jpg"))
    assert len(pipeline.predict([str(image)])) == 1
    testing.check_save_load_round_trip(pipeline, tmp_path / "saved")
''',
)

PARTS = {"backbone": BACKBONE, "head": HEAD, "loss": LOSS, "metric": METRIC, "transform": TRANSFORM, "dataset": DATASET, "task": TASK}
"""Kind -> what ``cvcore new-plugin --kind KIND`` writes."""
