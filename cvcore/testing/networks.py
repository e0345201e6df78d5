"""The contracts of backbones and heads, checked by building and running them."""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import mxnet as mx
from mxnet import autograd, gluon
from mxnet.gluon.contrib.nn import SyncBatchNorm

from ..contracts import check_feature_maps, require_attributes, require_block, traced_output_shapes
from ..plugins import get
from .outputs import assert_finite, assert_same_outputs, outputs_of

BACKBONE_ATTRIBUTES = ("feature_names", "out_features", "out_channels", "strides")
NORM_LAYERS = {"BatchNorm": None, "SyncBatchNorm": {"num_devices": 1}}


def check_backbone(name: str, *, input_size: int = 64, batch_size: int = 2, **options: Any) -> None:
    """Build backbone ``name`` (with ``options``) and check its contract by running it.

    For the default features, each single feature and all of them: the forward
    returns a tuple whose shapes match ``out_channels`` and ``strides``. Built
    with all features under ``BatchNorm`` and ``SyncBatchNorm``: the asked-for
    normalization is used, a training step runs, and hybridizing, exporting and
    re-importing, and saving and loading the parameters all give the same outputs.
    ``input_size`` must be a multiple of the backbone's largest stride.
    """
    component = get("backbone", name)
    what = f"backbone {name!r}"
    probe = component.build(**options)
    require_block(probe, what, "cvcore_backbones")
    require_attributes(probe, what, "cvcore_backbones", BACKBONE_ATTRIBUTES)
    names = tuple(probe.feature_names)
    assert names, f"{what}: feature_names is empty"
    assert tuple(probe.out_features) == names[-1:], f"{what}: by default gives {probe.out_features}, expected the last stage {names[-1:]}"
    shape = (batch_size, 3, input_size, input_size)
    x = mx.nd.random.uniform(-1, 1, shape=shape)
    for choice in dict.fromkeys([names[-1:], *((feature,) for feature in names), names]):
        built = component.build(**{**options, "out_features": choice})
        label = f"{what} with out_features={choice}"
        assert tuple(built.out_features) == choice, f"{label}: gives {tuple(built.out_features)}"
        traced = traced_output_shapes(built, [shape], label)
        check_feature_maps(traced, built.out_channels, built.strides, shape[2:], label)
        _initialize(built)
        outputs = built(x)
        assert isinstance(outputs, tuple), f"{label}: forward returned a {type(outputs).__name__}, not a tuple"
        got = tuple(o.shape for o in outputs)
        assert got == traced, f"{label}: forward gives shapes {got}, traced {traced}"
    for norm_layer, norm_kwargs in NORM_LAYERS.items():
        label = f"{what} with norm_layer={norm_layer!r}"
        settings = {**options, "out_features": names, "norm_layer": norm_layer, "norm_kwargs": norm_kwargs}
        make = lambda settings=settings: component.build(**settings)  # noqa: E731
        net = make()
        _check_norm_layers(net, norm_layer, label)
        _check_runs_and_persists(net, make, [x], label)


def check_head(name: str, *, in_channels: Sequence[int] = (32, 64, 128, 256), in_strides: Sequence[int] = (4, 8, 16, 32),
               input_size: int = 64, batch_size: int = 2, **options: Any) -> None:
    """Build head ``name`` (with ``options``, e.g. ``classes``) for two sets of channels and check it adapts to both.

    The head takes the last ``meta["in_features"]`` of ``in_channels`` /
    ``in_strides``; for each set it runs on feature maps of those shapes with
    outputs of the same shapes, and hybridizing and saving and loading give the
    same outputs.
    """
    component = get("head", name)
    wanted = int(component.meta.get("in_features", 1))
    assert len(in_channels) >= wanted, f"head {name!r} takes {wanted} feature maps; give that many in_channels"
    strides = tuple(in_strides)[-wanted:]
    output_shapes = []
    for channels in (tuple(in_channels)[-wanted:], tuple(2 * c for c in in_channels)[-wanted:]):
        label = f"head {name!r} for in_channels={channels}"
        make = lambda channels=channels: component.build(**{"in_channels": channels, "in_strides": strides, **options})  # noqa: E731
        head = make()
        require_block(head, label, "cvcore_heads")
        shapes = [(batch_size, c, input_size // s, input_size // s) for c, s in zip(channels, strides)]
        output_shapes.append(traced_output_shapes(head, shapes, label, single_allowed=True))
        features = [mx.nd.random.uniform(0, 1, shape=s) for s in shapes]
        _check_runs_and_persists(head, make, features, label)
    assert output_shapes[0] == output_shapes[1], (
        f"head {name!r}: outputs of shapes {output_shapes[0]} for the first in_channels but {output_shapes[1]} for the second")


def _check_norm_layers(net: gluon.Block, norm_layer: str, label: str) -> None:
    found: list[gluon.Block] = []
    net.apply(lambda block: found.append(block) if isinstance(block, gluon.nn.BatchNorm) else None)
    sync = [block for block in found if isinstance(block, SyncBatchNorm)]
    if norm_layer == "SyncBatchNorm":
        assert len(sync) == len(found), f"{label}: {len(found) - len(sync)} of its {len(found)} BatchNorm layers are not SyncBatchNorm"
    else:
        assert not sync, f"{label}: has {len(sync)} SyncBatchNorm layers"


def _check_runs_and_persists(net: gluon.HybridBlock, make: Callable[[], gluon.HybridBlock], inputs: list, label: str) -> None:
    """A training step runs; hybridized, exported and re-imported, and saved and loaded, the outputs stay the same."""
    _initialize(net)
    tracked = [x.copy() for x in inputs]
    for x in tracked:
        x.attach_grad()  # a part without parameters still gets a backward pass
    with autograd.record():
        outputs = net(*tracked)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        total = sum(o.sum() for o in outputs)
    total.backward()
    expected = outputs_of(net, *inputs)
    assert_finite(expected, label)
    net.hybridize()
    assert_same_outputs(expected, outputs_of(net, *inputs), f"{label}, hybridized", rtol=1e-4, atol=1e-4)
    with tempfile.TemporaryDirectory(prefix="cvcore-check-") as tmp:
        prefix = Path(tmp) / "net"
        net.export(str(prefix))
        names = ["data"] if len(inputs) == 1 else [f"data{index}" for index in range(len(inputs))]
        with warnings.catch_warnings():  # MXNet cannot tell the inputs' dtype before a first call; float32 it is
            warnings.simplefilter("ignore", UserWarning)
            imported = gluon.SymbolBlock.imports(f"{prefix}-symbol.json", names, f"{prefix}-0000.params")
        assert_same_outputs(expected, outputs_of(imported, *inputs), f"{label}, exported and imported", rtol=1e-4, atol=1e-4)
        net.save_parameters(str(prefix) + ".params")
        fresh = make()
        fresh.load_parameters(str(prefix) + ".params")
        assert_same_outputs(expected, outputs_of(fresh, *inputs), f"{label}, saved and loaded into a new one", rtol=1e-4, atol=1e-4)


def _initialize(net: gluon.Block) -> None:
    for param in net.collect_params().values():
        if param._data is None and not param._deferred_init:
            param.initialize(init=None, default_init=mx.init.Xavier(magnitude=2))
