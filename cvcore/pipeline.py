"""Pipelines: parts from any plugin assembled at run time into one trainable network."""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import mxnet as mx
from mxnet import gluon

from . import provenance, weights
from .calibration import calibration_batches
from .config import PART_KINDS, merge_config, read_config, relative_paths
from .contracts import check_feature_maps, require_attributes, require_block, traced_output_shapes
from .errors import ConfigError, CvcoreError, IncompatiblePartsError, UnknownComponentError
from .files import require_writable
from .graphs import load_graph, write_graph
from .hookspecs import KINDS
from .nn.assembled import AssembledNet, PipelineNet
from .options import accepted_keywords, check_call, check_keys
from .plugins import available, get, host
from .provenance import PROVENANCE_KEY
from .task import Task
from .train import TrainingInterrupted, fit
from .typecheck import check_values
from .zoo import get_recipe

PIPELINE_KEYS = ("task", *PART_KINDS, "model", "input_shape", "data", "train")
NETWORK_KINDS = ("backbone", "neck", "head")
PIPELINE_TYPES = {"input_shape": list[int] | tuple[int, ...], "data": Mapping[str, Any], "train": Mapping[str, Any]}
RANDOM_WEIGHTS_KEY = "random_weights"
"""Written into a saved pipeline.toml whose parameters were never trained nor loaded."""


class RandomWeightsWarning(UserWarning):
    """A pipeline predicts or evaluates with weights that were never trained nor loaded."""
"""Top-level keys every pipeline takes; a task adds its own (:attr:`cvcore.Task.options`)."""
CONFIG_FILE = "pipeline.toml"
PARAMS_FILE = "model.params"
GRAPH_PREFIX = "deployed"


@dataclass
class Part:
    """One part as asked for: a registry name with options, or a ready object."""

    kind: str
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    obj: Any = None

    @classmethod
    def parse(cls, kind: str, spec: Any) -> "Part | None":
        if spec is None:
            return None
        if isinstance(spec, str):
            return cls(kind, spec)
        if isinstance(spec, Mapping):
            options = dict(spec)
            name = options.pop("name", None)
            if not isinstance(name, str):
                raise ConfigError(f"The {kind} table needs name = \"...\" (a registered {kind}); got {dict(spec)!r}")
            return cls(kind, name, options)
        return cls(kind, obj=spec)

    @property
    def label(self) -> str:
        return repr(self.name) if self.name else f"<{type(self.obj).__name__} object>"

    def config(self) -> dict[str, Any]:
        if self.name is None:
            raise CvcoreError(
                f"The {self.kind} was given as a {type(self.obj).__name__} object, so no config can name it; "
                f"register it through a plugin (cvcore.register_plugin) and pass its name instead."
            )
        return {"name": self.name, **self.options}


class Pipeline:
    """A task with its backbone, optional neck, head, loss and metric, as one network.

    Every part is a registry name (``"resnet50_v1b"``), a table of options with a
    ``name`` (``{"name": "resnet50_v1b", "norm_layer": "SyncBatchNorm"}``), or
    a ready object. Other keyword options (``classes=10``, ``data={...}``,
    ``train={...}``) are the same names as the top-level keys of a TOML config.
    ``initialize=False`` leaves the parameters unallocated, for loading them next;
    ``assemble=False`` builds no network at all (for a deployed graph loaded next).
    """

    def __init__(
        self,
        task: str | Task = "classification",
        backbone: Any = None,
        neck: Any = None,
        head: Any = None,
        loss: Any = None,
        metric: Any = None,
        *,
        ctx: mx.Context | list | None = None,
        initialize: bool = True,
        assemble: bool = True,
        **options: Any,
    ) -> None:
        self.task_name = task if isinstance(task, str) else (task.name or type(task).__name__)
        self.task: Task = get("task", task).build() if isinstance(task, str) else task
        if not isinstance(self.task, Task):
            raise TypeError(f"Task {self.task_name!r} built a {type(self.task).__name__}, not a cvcore.Task")
        if "deployed" in options:
            raise ConfigError("This configuration is a deployed pipeline's: open its folder with Pipeline.load (cvcore eval DIR ...).")
        self.model_name: str | None = options.pop("model", None)
        for record in (RANDOM_WEIGHTS_KEY, PROVENANCE_KEY):  # a saved pipeline's records; Pipeline.load reads them
            options.pop(record, None)
        where = f"pipeline option of task {self.task_name!r}"
        check_keys(options, (*PIPELINE_KEYS, *self.task.options), where)
        check_values(options, {**PIPELINE_TYPES, **{name: option.type for name, option in self.task.options.items()}}, where)
        _check_input_shape(options.get("input_shape"))
        self.options: dict[str, Any] = dict(options)
        if "data" in options:
            if not isinstance(options["data"], Mapping):
                raise ConfigError(f"data must be a table such as {{dataset = \"...\", root = \"...\"}}, got {options['data']!r}.")
            self.task.check_data(options["data"])
        self.ctx = [ctx] if isinstance(ctx, mx.Context) else list(ctx or [mx.cpu()])
        defaults = {"head": self.task.default_head, "loss": self.task.default_loss, "metric": self.task.default_metric}
        specs = {"backbone": backbone, "neck": neck, "head": head, "loss": loss, "metric": metric}
        self.parts: dict[str, Part | None] = {
            kind: Part.parse(kind, specs[kind] if specs[kind] is not None else defaults.get(kind)) for kind in PART_KINDS
        }
        self.deployed: list[dict[str, Any]] = []
        self.net: Any = self._build_network() if assemble else None
        self._source_net: PipelineNet | None = None
        self._kept_params: dict[str, mx.nd.NDArray] | None = None
        """A loaded graph-only pipeline's trainable parameters, written back unchanged by :meth:`save`."""
        self._loaded_provenance: dict[str, Any] = {}
        self._missing_network: str | None = None
        """Why a loaded deployed pipeline runs its graph without its parts (a plugin that is not available)."""
        self.loss = self._build_simple("loss")
        self.metric = self._build_simple("metric")
        self.random_weights = initialize and assemble
        """True while the weights are a random initialisation (a pretrained backbone under a new head included)."""
        if initialize and assemble:  # skipped when parameters are about to be loaded from a file
            _initialize(self.net, self.ctx)
            self._load_pretrained_backbone()

    # -- assembly ------------------------------------------------------------------
    def _build_network(self) -> PipelineNet:
        """The task's own network (:meth:`cvcore.Task.network`), else backbone -> (neck) -> head."""
        own = self.task.network(self)
        if own is not None:
            if not isinstance(own, PipelineNet):
                raise TypeError(f"Task {self.task_name!r} built a {type(own).__name__} network, not a cvcore.nn.PipelineNet")
            return own
        if self.parts["backbone"] is None:
            raise ConfigError(f"A {self.task_name} pipeline needs a backbone (a registered name or a HybridBlock).")
        if self.parts["head"] is None:
            raise ConfigError(f"Task {self.task_name!r} has no default head: pass head=...")
        return self._assemble()

    def _assemble(self) -> AssembledNet:
        neck_part, head_part = self.parts["neck"], self.parts["head"]
        first = neck_part or head_part
        wanted = _in_features(first)
        backbone = self._build_backbone(wanted, first)
        input_shape = tuple(self.options.get("input_shape") or self.task.default_input_shape)
        shapes = self._traced(backbone, "backbone", [input_shape], input_shape)[-wanted:]
        channels, strides = tuple(backbone.out_channels)[-wanted:], tuple(backbone.strides)[-wanted:]
        neck = None
        if neck_part is not None:
            neck = self._build_consumer(neck_part, channels, strides)
            shapes = self._traced(neck, "neck", shapes, input_shape)
            channels, strides = tuple(neck.out_channels), tuple(neck.strides)
            head_wants = _in_features(head_part)
            if len(channels) < head_wants:
                raise IncompatiblePartsError(
                    f"The head {head_part.label} needs {head_wants} feature maps but the neck {neck_part.label} "
                    f"gives {len(channels)}."
                )
            channels, strides, shapes = channels[-head_wants:], strides[-head_wants:], shapes[-head_wants:]
        else:
            head_wants = wanted
        head = self._build_consumer(head_part, channels, strides, self.task.head_options(self.options))
        self._traced(head, "head", shapes)
        return AssembledNet(backbone, head, neck, num_features=wanted, head_features=head_wants)

    def _traced(self, block: gluon.HybridBlock, kind: str, input_shapes: Any, image_shape: tuple | None = None) -> tuple:
        """The shapes ``block`` gives for inputs of ``input_shapes``; a feature extractor's are checked against its claims."""
        what = self._describe(kind)
        shapes = traced_output_shapes(block, list(input_shapes), what, single_allowed=image_shape is None)
        if image_shape is not None:
            check_feature_maps(shapes, block.out_channels, block.strides, image_shape[2:], what)
        return shapes

    def _describe(self, kind: str) -> str:
        """``backbone 'littlenet' (plugin 'littlenet')``: the part and who provided it, for error messages."""
        part = self.parts[kind]
        if part.name is None:
            return f"{kind} {part.label}"
        return f"{kind} {part.label} (plugin {host().registry.entry(kind, part.name).plugin!r})"

    def _build_backbone(self, wanted: int, consumer: Part) -> gluon.HybridBlock:
        part = self.parts["backbone"]
        if part.obj is not None:
            backbone = part.obj
        else:
            component = get("backbone", part.name)
            options = {key: value for key, value in part.options.items() if key != "pretrained"}
            backbone = component.build(**options)
            self._check_built(backbone, "backbone")
            names = tuple(getattr(backbone, "feature_names", ()))
            if len(backbone.out_channels) < wanted and "out_features" not in options and len(names) >= wanted:
                backbone = component.build(out_features=names[-wanted:], **options)
        self._check_built(backbone, "backbone")
        given = len(backbone.out_channels)
        if given < wanted:
            can = tuple(getattr(backbone, "feature_names", ()))
            raise IncompatiblePartsError(
                f"The {consumer.kind} {consumer.label} needs {wanted} feature maps but the backbone {part.label} "
                f"gives {given}" + (f" (it can give at most {len(can)}: {', '.join(can)})." if can else ".")
            )
        return backbone

    def _load_pretrained_backbone(self) -> None:
        """Load the backbone table's ``pretrained`` weights (fresh pipelines only; saved ones carry their own).

        ``pretrained = true`` takes the weight-store file of the zoo model named as
        the backbone (its ImageNet classifier); ``pretrained = "file.params"`` a
        local file, either a pipeline's (``backbone.*`` keys) or one published
        for that zoo model (GluonCV's names). Only the backbone's part is used.
        """
        part = self.parts["backbone"]
        source = part.options.get("pretrained") if part is not None and part.obj is None else None
        if not source:
            return
        try:
            recipe = get_recipe(part.name)
        except UnknownComponentError:
            recipe = None
        if source is True:
            if recipe is None or recipe.weights is None:
                raise weights.WeightsError(
                    f"The backbone {part.label} has no pretrained weights in the zoo; give a file instead: "
                    f'backbone = {{name = "{part.name}", pretrained = "path/to/file.params"}}.'
                )
            path = weights.fetch(recipe.weights, part.name)
        else:
            path = Path(source)
        params = weights.read_params(path)
        if recipe is not None and not any(name.startswith("backbone.") for name in params):
            params = weights.rename(params, recipe.name_map)  # the zoo file's own names
        weights.assign(self.net.backbone, weights.under(params, "backbone."), path, ctx=self.ctx)

    def _build_consumer(self, part: Part, channels: tuple, strides: tuple, defaults: Mapping | None = None):
        if part.obj is not None:
            built = part.obj
        else:
            options = {**(defaults or {}), **part.options}
            built = get(part.kind, part.name).build(in_channels=channels, in_strides=strides, **options)
        self._check_built(built, part.kind)
        return built

    def _check_built(self, part: Any, kind: str) -> None:
        """A backbone, neck or head is a ``HybridBlock``; a feature extractor also names its channels and strides."""
        hook = KINDS[kind]
        require_block(part, self._describe(kind), hook)
        if kind != "head":
            require_attributes(part, self._describe(kind), hook)

    def _build_simple(self, kind: str) -> Any:
        part = self.parts[kind]
        if part is None:
            return None
        return part.obj if part.obj is not None else get(kind, part.name).build(**part.options)

    # -- construction from files and the zoo ---------------------------------------------------
    @classmethod
    def from_config(cls, path: str | os.PathLike, **overrides: Any) -> "Pipeline":
        """Assemble the pipeline a TOML file describes; ``overrides`` merge over it."""
        return cls(**merge_config(read_config(path), overrides))

    @classmethod
    def from_model(cls, name: str, pretrained: bool | str = False, *, root: str | os.PathLike | None = None,
                   calib_data: Any = None, calib_split: str = "train", **overrides: Any) -> "Pipeline":
        """Assemble zoo model ``name``; ``pretrained`` is ``True`` (weight store) or a ``.params`` path.

        ``root`` is the folder the weight store looks in and downloads to
        (default ``$CVCORE_HOME/models``), as GluonCV's ``get_model(root=...)``.

        A deployed entry (``resnet50_v1_int8``) loads its graph from the weight
        store when ``pretrained=True``; given ``calib_data`` (a dataset, input
        batches, or a dataset root read as ``calib_split``) it is built instead
        from its FP32 base with ``pretrained`` weights, by its deploy steps.
        """
        recipe = get_recipe(name)
        if recipe.deploy:
            return cls._deployed_model(name, recipe, pretrained, root, calib_data, calib_split, overrides)
        config = recipe.config()
        if "classes" in overrides and "class_names" not in overrides:
            config.pop("class_names", None)  # the recipe's names are those of its own classes
        pipeline = cls(**merge_config(config, overrides), initialize=not pretrained)
        pipeline.model_name = name
        if pretrained:
            if pretrained is True:
                if recipe.weights is None:
                    raise weights.WeightsError(f"Model {name!r} has no pretrained weights in the zoo.")
                path = weights.fetch(recipe.weights, name, root)
            else:
                path = Path(pretrained)
            weights.load_into(pipeline.net, path, recipe.name_map, ctx=pipeline.ctx)
        return pipeline

    @classmethod
    def _deployed_model(cls, name: str, recipe: Any, pretrained: bool | str, root: str | os.PathLike | None, calib_data: Any,
                        calib_split: str, overrides: Mapping[str, Any]) -> "Pipeline":
        steps = [dict(step) for step in recipe.deploy]
        if calib_data is None:
            if pretrained is not True:
                raise ConfigError(
                    f"{name} is {recipe.base} after {' -> '.join(s['transform'] for s in steps)}: load its graph with "
                    f"pretrained=True, or build it from FP32 weights and calibration data: "
                    f"Pipeline.from_model({name!r}, pretrained='{recipe.base}.params', calib_data=dataset) "
                    f"(cvcore deploy {name} --pretrained FILE --calib DIR --out DIR)."
                )
            try:
                files = [weights.fetch(spec, name, root) for spec in recipe.graph]
            except weights.WeightsError as exc:
                raise weights.WeightsError(
                    f"{exc} Or build {name} from {recipe.base}'s FP32 weights and calibration data: "
                    f"Pipeline.from_model({name!r}, pretrained='{recipe.base}.params' or True, calib_data=dataset), "
                    f"or cvcore deploy {name} --pretrained FILE --calib DIR --out DIR."
                ) from exc
            pipeline = cls(**merge_config(recipe.config(), overrides), initialize=False)
            pipeline.net = graph_loader(steps)(files[0].parent / name, pipeline.ctx)
            pipeline.deployed, pipeline.model_name = steps, name
            return pipeline
        pipeline = cls.from_model(recipe.base, pretrained=pretrained, root=root, **overrides)
        if isinstance(calib_data, (str, os.PathLike)):
            calib_data = pipeline.dataset_at(calib_data, calib_split)
        for step in steps:
            pipeline.deploy(step.pop("transform"), calib_data=calib_data, **step)
        pipeline.model_name = name
        return pipeline

    def dataset_at(self, root: str | os.PathLike, split: str = "train") -> Any:
        """The task's ``split`` dataset read from ``root``, a directory in this pipeline's ``[data]`` format (now its data root)."""
        self.options["data"] = {**dict(self.options.get("data") or {}), "root": str(root)}
        return self.task.dataset(self, split)

    def config(self) -> dict[str, Any]:
        """The pipeline as a configuration (what ``save`` writes as TOML)."""
        config: dict[str, Any] = {"task": self.task_name}
        for kind, part in self.parts.items():
            if part is not None:
                config[kind] = part.config()
        config.update(self.options)
        if self.model_name:
            config["model"] = self.model_name
        return config

    # -- the task's verbs --------------------------------------------------------------
    def fit(self, train_data: Any = None, val_data: Any = None, **options: Any) -> dict[str, Any]:
        """Train with the shared engine; ``options`` override the config's ``[train]`` table.

        Without ``train_data`` the config's ``[data]`` train split is used, and its
        val split (when there is one) for validation after each epoch.
        """
        self._require_trainable("fit")
        _check_sync_batch_norm_on_cpus(self.net, self.ctx)
        options = {**dict(self.options.get("train") or {}), **options}
        if options.get("teacher") is not None:
            options["teacher"] = self._teacher(options["teacher"])
        if train_data is None:
            train_data = self.task.dataset(self, "train")
            if val_data is None:
                try:
                    val_data = self.task.dataset(self, "val")
                except ConfigError:
                    val_data = None  # no val split on disk: train without validation
        try:
            result = fit(self, train_data, val_data, **options)
        except TrainingInterrupted as exc:
            self.random_weights = self.random_weights and exc.checkpoint is None
            raise
        self.random_weights = False
        return result

    def _teacher(self, teacher: Any) -> "Pipeline":
        """The distillation teacher: a Pipeline as given, a saved pipeline folder, or a zoo model with its weights."""
        if isinstance(teacher, Pipeline):
            return teacher
        if not isinstance(teacher, (str, os.PathLike)):
            raise ConfigError(f"teacher must be a Pipeline, a saved pipeline directory or a zoo model name, not {teacher!r}.")
        if (Path(teacher) / CONFIG_FILE).is_file():
            return Pipeline.load(teacher, ctx=self.ctx)
        return Pipeline.from_model(str(teacher), pretrained=True, ctx=self.ctx)

    def evaluate(self, data: Any = None, **options: Any) -> dict[str, float]:
        """The metric's values on ``data`` (default: the config's validation split)."""
        check_call(self.task.evaluate, options, f"evaluate option of task {self.task_name!r}")
        self._warn_if_random("evaluates")
        data = data if data is not None else self.task.dataset(self, "val")
        return self.task.evaluate(self, data, **options)

    def predict(self, inputs: Any, **options: Any) -> Any:
        """The task's predictions for ``inputs`` (image paths or arrays); ``options`` are the task's predict options."""
        check_call(self.task.predict, options, f"predict option of task {self.task_name!r}")
        self._warn_if_random("predicts")
        return self.task.predict(self, inputs, **options)

    def _warn_if_random(self, verb: str) -> None:
        if self.random_weights:
            who = f"Zoo model {self.model_name!r}" if self.model_name else "This pipeline"
            warnings.warn(f"{who} {verb} with random weights (none were loaded and it was never trained): the results mean "
                          "nothing. Load trained weights (pretrained=True; on the command line --pretrained [FILE]) or train it first.",
                          RandomWeightsWarning, stacklevel=3)

    def example(self, batch_size: int | None = None) -> mx.nd.NDArray:
        """An input batch of the pipeline's input shape (for tracing and benchmarks)."""
        shape = list(self.options.get("input_shape") or self.task.default_input_shape)
        if batch_size is not None:
            shape[0] = batch_size
        return mx.nd.random.uniform(-1, 1, shape=tuple(shape), ctx=self.ctx[0])

    def deploy(self, transform: str, *, example: Any = None, calib_data: Any = None, **options: Any) -> "Pipeline":
        """Apply a deploy transform (``hybridize``, ``export``, ``int8``, ...) to ``self.net``, in place.

        ``calib_data`` (for transforms that calibrate) is a dataset of the
        task, read through its evaluation transform, an N x C x H x W array
        or an iterable of input batches; the transform receives it as
        :class:`~cvcore.calibration.CalibrationBatches`. A transform that
        takes a ``pipeline`` keyword also receives this pipeline (to read its
        configuration, as pruning does).
        """
        component = get("transform", transform)
        check_call(component.factory, options, f"option of transform {transform!r}")
        example = example if example is not None else self.example()
        if self._source_net is None and isinstance(self.net, PipelineNet):
            self._source_net = self.net  # kept: saved as model.params, the trainable form of the deployed graph
        if "pipeline" in (accepted_keywords(component.factory) or ()):
            options = {**options, "pipeline": self}
        self.net = component.factory(self.net, example=example, calib_data=calibration_batches(self, calib_data), **options)
        self.deployed.append({"transform": transform, **{k: v for k, v in options.items() if _is_plain(v)}})
        return self

    def reset_class(self, classes: Sequence[str], reuse_weights: Any = None) -> "Pipeline":
        """Give the trained model new classes, in place: its head's class-dependent layers start afresh,
        except the classes ``reuse_weights`` names, which keep their trained weights exactly.

        ``reuse_weights`` is a list of names kept, or a mapping new -> old class
        (names or indices; see :func:`cvcore.class_reuse.reuse_map`). A person
        detector from a COCO model: ``reset_class(["person"], reuse_weights=["person"])``.
        The head must offer ``reset_class(count, {new: old})``, returning the head
        options that rebuild it so (recorded in the saved config).
        """
        from .class_reuse import reuse_map
        from .data.class_names import resolve

        self._require_trainable("reset the classes")
        if isinstance(classes, str) or not classes or not all(isinstance(name, str) for name in classes):
            raise ConfigError(f"classes is a non-empty list of class names; got {classes!r}.")
        head = getattr(self.net, "head", None)
        if not callable(getattr(head, "reset_class", None)):
            what = f"The head {self.parts['head'].label}" if self.parts["head"] is not None else f"A {self.task_name} network"
            raise CvcoreError(f"{what} cannot change its classes (it has no reset_class).")
        old = resolve(self.options.get("class_names")) or [str(index) for index in range(int(self.options.get("classes", 0)))]
        recorded = head.reset_class(len(classes), reuse_map(list(classes), old, reuse_weights))
        self.parts["head"].options.update(recorded or {})
        self.net._clear_cached_op()
        self.options.update(classes=len(classes), class_names=list(classes))
        return self

    def materialize(self) -> None:
        """Give parameters whose shapes wait for data (deferred init) their shapes and values now.

        Saving needs it, and so does distributed training: a parameter initialized
        only at the first forward pass would reach the kvstore in the same step as
        the first gradients, and a worker could pull a gradient as its weights.
        """
        pending = [p for p in self.net.collect_params().values() if p._deferred_init]
        if pending:
            # symbolic shape inference, not a forward pass: an inference pass would leave
            # weights in oneDNN's layout, which the kvstore cannot read
            self.net.infer_shape(self.example())
            for param in pending:
                param._finish_deferred_init()

    def _require_trainable(self, verb: str) -> None:
        if not isinstance(self.net, PipelineNet):
            raise CvcoreError(
                f"Cannot {verb}: this pipeline's network is a deployed graph ({type(self.net).__name__}). "
                "Load the pipeline's trainable form (Pipeline.from_config) to train it."
            )

    # -- persistence ----------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the TOML config, the trainable parameters and, after deploy, the deployed graph.

        Every file is written into a staging folder and checked to load back
        before it replaces the old one, so neither an interrupted save nor a
        network that cannot be written whole leaves a file that would not load.
        """
        import tomli_w

        directory = require_writable(directory)
        config = relative_paths(self.config(), directory)
        if self.deployed:
            config["deployed"] = self.deployed
        if self.random_weights:
            config[RANDOM_WEIGHTS_KEY] = True
        config[PROVENANCE_KEY] = self._provenance()
        staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=directory))
        try:
            (staging / CONFIG_FILE).write_bytes(tomli_w.dumps(config).encode())
            if self.trainable_net is not None:
                self._write_parameters(self.trainable_net, staging / PARAMS_FILE)
            elif self._kept_params is not None:
                mx.nd.save(str(staging / PARAMS_FILE), self._kept_params)
            if self.deployed:
                self._write_graph(staging / GRAPH_PREFIX)
            for stale in (*directory.glob(f"{GRAPH_PREFIX}-*"), *directory.glob(f"{GRAPH_PREFIX}.*"), directory / PARAMS_FILE):
                stale.unlink(missing_ok=True)
            for item in staging.iterdir():
                os.replace(item, directory / item.name)
        except (OSError, mx.base.MXNetError) as exc:  # a full disk: what was there before stays as it was
            raise CvcoreError(f"Could not save the pipeline to {directory}: {str(exc).splitlines()[0]}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return directory

    def _provenance(self) -> dict[str, Any]:
        """Which plugin, distribution and version gave each named part and deploy transform (saved with the pipeline)."""
        named = [("task", self.task_name)] if isinstance(self.task_name, str) and self.task_name in available("task") else []
        named += [(kind, part.name) for kind, part in self.parts.items() if part is not None and part.name is not None]
        return provenance.record(named, dict.fromkeys(step["transform"] for step in self.deployed), self._loaded_provenance)

    def _write_parameters(self, net: PipelineNet, path: Path) -> None:
        if net is self.net:
            self.materialize()
        net.save_parameters(str(path))
        weights.check_fits(net, path)  # refuses non-finite values too: a diverged model is never saved as a result

    def _write_graph(self, prefix: Path) -> None:
        """The deployed network's files at ``prefix``: MXNet's symbol and parameters, or the network's own format."""
        if isinstance(self.net, gluon.HybridBlock):
            write_graph(self.net, prefix, self.example())
        else:
            self.net.export(str(prefix))
            graph_loader(self.deployed)(prefix, self.ctx)  # refuse files that would not load back

    @property
    def trainable_net(self) -> PipelineNet | None:
        """The assembled, trainable network: ``net`` itself, or the one a deployed graph was made from (None when unknown)."""
        return self.net if isinstance(self.net, PipelineNet) else self._source_net

    def trainable(self) -> "Pipeline":
        """An undeployed pipeline with this one's configuration and trainable weights (to train, re-deploy or compare)."""
        source = self.trainable_net
        if source is None and self._missing_network is not None:
            raise CvcoreError(f"This pipeline runs its deployed graph only: {self._missing_network}")
        if source is None:
            raise CvcoreError(
                "This deployed pipeline was loaded without its trainable parameters (its folder has no "
                f"{PARAMS_FILE}); open the run it was deployed from instead."
            )
        copy = type(self)(**self.config(), ctx=self.ctx, initialize=False)
        copy.model_name, copy.random_weights = self.model_name, self.random_weights
        params = {name: param.data(param.list_ctx()[0]) for name, param in source._collect_params_with_prefix().items()}
        weights.assign(copy.net, params, "the deployed pipeline's trainable network", ctx=self.ctx)
        return copy

    def copy(self) -> "Pipeline":
        """An independent pipeline with the same configuration and weights (through :meth:`save` and :meth:`load`)."""
        with tempfile.TemporaryDirectory(prefix="cvcore-copy-") as tmp:
            self.save(tmp)
            return type(self).load(tmp, ctx=self.ctx)

    @classmethod
    def open(cls, target: str | os.PathLike, pretrained: bool | str = False, **overrides: Any) -> "Pipeline":
        """A pipeline from a saved directory, a TOML config or a zoo model name (``overrides`` for the last two)."""
        check_target(target)
        path = Path(target)
        if (path / CONFIG_FILE).is_file():
            return cls.load(path)
        if path.suffix == ".toml":
            return cls.from_config(path, **overrides)
        return cls.from_model(str(target), pretrained=pretrained, **overrides)

    @classmethod
    def load(cls, directory: str | os.PathLike, *, ctx: mx.Context | list | None = None) -> "Pipeline":
        """Reload what :meth:`save` wrote; a deployed pipeline reloads its graph and, when saved, its trainable parameters.

        A part whose plugin is missing is an error naming the distribution that
        provided it (recorded in ``pipeline.toml``). A deployed pipeline whose
        graph is an MXNet symbol loads even without its network parts' plugins:
        it then predicts and evaluates with the graph, and keeps its trainable
        parameters for a later save, but cannot be trained.
        """
        directory = Path(directory)
        config = read_config(directory / CONFIG_FILE)
        deployed = config.pop("deployed", [])
        origins = config.pop(PROVENANCE_KEY, {})
        model_name = config.pop("model", None)
        random_weights = bool(config.pop(RANDOM_WEIGHTS_KEY, False))
        where = f"The pipeline saved in {directory}"
        named = _named_parts(config)
        network = [(kind, name) for kind, name in named if kind in NETWORK_KINDS]
        provenance.require([p for p in named if p not in network] + [("transform", s["transform"]) for s in deployed], origins, where)
        missing = next(((kind, name) for kind, name in network if name not in available(kind)), None) if deployed else None
        if missing is None:
            provenance.require(network, origins, where)
        pipeline = cls(**config, ctx=ctx, initialize=False, assemble=missing is None)
        pipeline.model_name, pipeline.random_weights, pipeline._loaded_provenance = model_name, random_weights, origins
        params = directory / PARAMS_FILE
        if missing is not None:
            try:
                provenance.require([missing], origins, where)
            except UnknownComponentError as exc:
                pipeline._missing_network = f"{exc} Install it to train or re-deploy this pipeline."
            pipeline._kept_params = weights.read_params(params) if params.is_file() else None
        elif not deployed or params.is_file():
            weights.load_into(pipeline.net, params, ctx=pipeline.ctx)
        else:
            pipeline.net = None  # a graph saved without the network it was made from
        if deployed:
            pipeline._source_net = pipeline.net
            pipeline.net = graph_loader(deployed)(directory / GRAPH_PREFIX, pipeline.ctx)
            pipeline.deployed = list(deployed)
        return pipeline


def get_model(name: str, pretrained: bool | str = False, root: str | os.PathLike | None = None, **options: Any) -> Any:
    """Build the network of zoo model ``name`` (a ``HybridBlock``), as GluonCV's ``get_model``.

    ``pretrained=True`` loads the zoo's weights from the weight store (the
    folder ``root``, default ``$CVCORE_HOME/models``), ``pretrained="file.params"``
    a local file. ``options`` override the recipe (``classes=10``,
    ``backbone={"norm_layer": "SyncBatchNorm"}``, ...).
    """
    return Pipeline.from_model(name, pretrained=pretrained, root=root, **options).net


def graph_loader(deployed: list[Mapping[str, Any]]) -> Callable[[Path, list], Any]:
    """How to reload the graph a deployed pipeline saved: the latest transform's ``meta["load_graph"]``, else MXNet's.

    A transform whose graph is not an MXNet symbol (OpenVINO IR, ...) names its
    loader there, so reloading needs its plugin installed, and the unknown-name
    error says which one.
    """
    for step in reversed(deployed):
        loader = get("transform", step["transform"]).meta.get("load_graph")
        if loader is not None:
            return loader
    return load_graph


def check_target(target: str | os.PathLike) -> None:
    """Refuse a target that names a path which is not there (or a weights file), instead of calling it an unknown zoo model."""
    path, target = Path(target), str(target)
    if path.suffix == ".params" and path.is_file():
        raise ConfigError(f"{target} is a parameter file, not a pipeline: name its zoo model and pass the file as pretrained "
                          f"(on the command line --pretrained={target}).")
    looks_like_path = "/" in target or os.sep in target or path.suffix in (".toml", ".params")
    if looks_like_path and not path.exists():
        raise ConfigError(f"{target} does not exist (a saved pipeline folder, a .toml config or a zoo model name was expected).")


def _named_parts(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, name)`` of the task and of every part a configuration names."""
    named = [("task", config.get("task", "classification"))]
    for kind in PART_KINDS:
        spec = config.get(kind)
        name = spec if isinstance(spec, str) else spec.get("name") if isinstance(spec, Mapping) else None
        if isinstance(name, str):
            named.append((kind, name))
    return named


def _check_input_shape(shape: Any) -> None:
    if shape is not None and (len(shape) != 4 or any(size < 1 for size in shape)):
        raise ConfigError(f"input_shape = {list(shape)!r} must be four positive sizes [N, C, H, W], e.g. [1, 3, 224, 224].")


def _in_features(part: Part) -> int:
    if part.obj is not None:
        return int(getattr(part.obj, "in_features", 1))
    return int(get(part.kind, part.name).meta.get("in_features", 1))


def _check_sync_batch_norm_on_cpus(net: gluon.Block, ctx: list) -> None:
    """Refuse a set-up that deadlocks inside MXNet 1.9 instead of hanging forever.

    MXNet shares CPU scratch space between all ``cpu(i)`` contexts, round robin over
    ``MXNET_CPU_TEMP_COPY`` buffers (default 4). A SyncBatchNorm waiting for its
    twin on another CPU context can hold the buffer that twin needs; eight buffers
    per SyncBatchNorm layer leave a margin of two over the fewest with which
    ResNet-18 trained. The variable is read when MXNet starts.
    """
    from mxnet.gluon.contrib.nn import SyncBatchNorm

    if len(ctx) < 2 or any(c.device_type != "cpu" for c in ctx):
        return
    layers = []
    net.apply(lambda block: layers.append(block) if isinstance(block, SyncBatchNorm) else None)
    needed = 8 * len(layers)
    have = int(os.environ.get("MXNET_CPU_TEMP_COPY", "4"))
    if layers and have < needed:
        raise ConfigError(
            f"Training {len(layers)} SyncBatchNorm layers across {len(ctx)} CPU contexts deadlocks in MXNet 1.9 "
            f"with MXNET_CPU_TEMP_COPY={have}; start the process with MXNET_CPU_TEMP_COPY={needed} or more "
            "(it costs memory only in such multi-context runs)."
        )


def _initialize(net: gluon.Block, ctx: list) -> None:
    pending = [p for p in net.collect_params().values() if p._data is None and not p._deferred_init]
    for param in pending:
        param.initialize(init=None, default_init=mx.init.Xavier(magnitude=2), ctx=ctx)


def _is_plain(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False
