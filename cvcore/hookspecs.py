"""The contract between cvcore and its plugins: one hook per kind of part, and one for CLI verbs.

Every hook takes no arguments and returns an iterable of
:class:`cvcore.Component`. A plugin implements any subset of them with
``@cvcore.hookimpl``. The docstring of each hook is the contract for what the
component's ``factory`` must build; the registry checks the structural parts of
it when a pipeline is assembled.
"""
from __future__ import annotations

from typing import Iterable

import pluggy

from .component import Component

PROJECT = "cvcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def cvcore_backbones() -> Iterable[Component]:
    """Feature extractors.

    ``factory(*, out_features=None, norm_layer="BatchNorm", norm_kwargs=None, **options)``
    returns a ``gluon.HybridBlock`` whose forward takes an image batch (NCHW) and
    returns a tuple of feature maps, one per name in ``out_features`` (default:
    the backbone's last stage). The block exposes ``feature_names`` (the
    features it can give, e.g. ``("c2", "c3", "c4", "c5")``), ``out_features``
    (those it gives), and ``out_channels`` / ``strides`` (one int per given
    feature). ``norm_layer`` is ``"BatchNorm"`` or ``"SyncBatchNorm"``
    (``norm_kwargs={"num_devices": N}``).
    """


@hookspec
def cvcore_necks() -> Iterable[Component]:
    """Feature-to-feature blocks such as FPN.

    ``factory(*, in_channels, in_strides, **options)`` returns a ``HybridBlock``
    whose forward takes the feature maps as positional inputs and returns a
    tuple of feature maps; it exposes ``out_channels`` and ``strides``.
    ``meta["in_features"]`` (int) is how many feature maps it consumes.
    """


@hookspec
def cvcore_heads() -> Iterable[Component]:
    """Task heads: feature maps to task outputs.

    ``factory(*, in_channels, in_strides, **options)`` returns a ``HybridBlock``
    whose forward takes the feature maps as positional inputs. Given the
    channels and strides it adapts to any backbone. ``meta["in_features"]``
    (int, default 1) is how many feature maps it consumes: the last ones the
    backbone (or neck) gives.
    """


@hookspec
def cvcore_losses() -> Iterable[Component]:
    """Training objectives.

    ``factory(**options)`` returns a ``gluon.loss.Loss``-like block called as
    ``loss(outputs, *targets)`` and returning per-sample losses.
    """


@hookspec
def cvcore_metrics() -> Iterable[Component]:
    """Evaluation metrics.

    ``factory(**options)`` returns an object with ``reset()``,
    ``update(targets, outputs)`` and ``get() -> dict[str, float]``.
    """


@hookspec
def cvcore_deploy_transforms() -> Iterable[Component]:
    """Deployment transforms (hybridize, export, int8, prune, ...).

    ``factory`` *is* the transform: ``factory(net, *, example, calib_data=None,
    **options) -> net``. It returns a block with the same inputs and outputs as
    ``net``, hybridized and already run once on ``example`` (so it can be
    exported). ``calib_data`` is ``None`` or a re-iterable of input batches
    (:class:`cvcore.calibration.CalibrationBatches`). A factory that takes
    a ``pipeline`` keyword also receives the :class:`~cvcore.Pipeline` being
    deployed (pruning rebuilds its parts from its configuration). Transforms
    compose: prune -> int8 -> export.

    The returned net need not be an MXNet block (an OpenVINO model, say): it
    must be callable on an input ``NDArray``, returning ``NDArray`` outputs,
    and have ``export(prefix)`` writing its files; ``meta["load_graph"]``
    is then ``load_graph(prefix, ctx) -> net``, which reads them back.
    """


@hookspec
def cvcore_datasets() -> Iterable[Component]:
    """Datasets readable from disk.

    ``factory(*, root, split="train", **options)`` returns a
    ``gluon.data.Dataset``. ``meta["synthesize"]``, when present, is a function
    ``synthesize(root, **options) -> None`` that writes a small dataset of this
    format to ``root`` (used by ``cvcore data synth NAME DIR``).
    """


@hookspec
def cvcore_models() -> Iterable[Component]:
    """Named zoo recipes, e.g. ``simple_pose_resnet50_v1b``.

    ``factory()`` returns a :class:`cvcore.zoo.ModelRecipe`: the task, the parts
    with their options, and where the pretrained weights live. Use
    :func:`cvcore.zoo.model_component` to build one.
    """


@hookspec
def cvcore_tasks() -> Iterable[Component]:
    """Families of pipelines: how they are assembled, trained, evaluated, run.

    ``factory()`` returns a :class:`cvcore.Task` instance. The task names its
    default head, loss and metric, reads its datasets from a config, and owns
    the CLI verbs ``train``/``eval``/``predict``/``demo`` for its models.
    """


@hookspec
def cvcore_commands() -> Iterable[Component]:
    """Verbs of the ``cvcore`` command (``cvcore NAME ...``).

    ``factory`` *is* the verb: ``run(args: argparse.Namespace) -> int`` returns
    the exit status. ``meta["arguments"]`` (optional) is ``configure(parser:
    argparse.ArgumentParser) -> None``, which adds the verb's arguments to its
    parser. A name one of the core's verbs has is refused with a warning (the
    core's verb is kept); a ``CvcoreError`` that ``run`` raises is reported as
    ``cvcore NAME: error: ...`` with exit status 1, as the core's verbs do.
    """


KINDS: dict[str, str] = {
    "backbone": "cvcore_backbones",
    "neck": "cvcore_necks",
    "head": "cvcore_heads",
    "loss": "cvcore_losses",
    "metric": "cvcore_metrics",
    "transform": "cvcore_deploy_transforms",
    "dataset": "cvcore_datasets",
    "model": "cvcore_models",
    "task": "cvcore_tasks",
    "command": "cvcore_commands",
}
"""Kind of part (and ``command``, the CLI verbs) -> the hook that provides it."""

API_VERSION = 1
"""The hook API's version, bumped when a hook's contract changes incompatibly; a plugin declares its own as ``CVCORE_API``."""
