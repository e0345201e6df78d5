"""The base class of tasks: how a family of pipelines is fed, trained, evaluated and run."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .errors import ConfigError, CvcoreError
from .options import Option, check_call

if TYPE_CHECKING:
    from mxnet.gluon.data import Dataset

    from .nn.assembled import PipelineNet
    from .pipeline import Pipeline
    from .train.step import Step


def plain(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars as lists and numbers, tuples as lists: what ``json`` writes."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def classes_head_option(options: Mapping[str, Any], names: Sequence[str] | None) -> dict[str, Any]:
    """The head's ``classes`` from the pipeline's ``classes`` option (none if absent), checked positive and against ``names``."""
    if "classes" not in options:
        return {}
    classes = int(options["classes"])
    if classes < 1:
        raise ConfigError(f"classes must be at least 1, got {options['classes']}.")
    if names is not None and len(names) != classes:
        raise ConfigError(f"class_names has {len(names)} names but classes = {options['classes']}.")
    return {"classes": classes}


class TaskError(CvcoreError):
    """The task cannot do what was asked (e.g. it has no demo)."""


class Task:
    """Subclass and register through ``cvcore_tasks``.

    A task names its default parts, turns dataset samples into network inputs
    and targets, and implements evaluation and prediction. Training itself is
    the shared engine in :mod:`cvcore.train`.
    """

    name: str = ""
    default_head: str | None = None
    default_loss: str | None = None
    default_metric: str | None = None
    default_input_shape: tuple[int, ...] = (1, 3, 224, 224)
    default_dataset: str | None = None
    """The dataset a ``[data]`` table without ``dataset`` reads (its format on disk)."""
    options: Mapping[str, Option] = {}
    """The task's own top-level pipeline options, name -> :class:`~cvcore.options.Option` (what it sets, its type).

    With the pipeline's own keys (:data:`cvcore.pipeline.PIPELINE_KEYS`) these are
    every key a config or ``Pipeline(...)`` may give; any other is refused by
    name, and a value of another type is refused naming the type it needs.
    """

    # -- assembly --------------------------------------------------------------
    def network(self, pipeline: "Pipeline") -> "PipelineNet | None":
        """The pipeline's network, when the task builds it from its own options; ``None`` (default):
        the pipeline assembles backbone -> (neck) -> head.

        A GAN task returns its generator and discriminator as one
        :class:`~cvcore.nn.PipelineNet` whose forward is the generator: that is
        what predicts, evaluates, exports and deploys.
        """
        return None

    def head_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options the head receives from the pipeline's options (e.g. ``classes``)."""
        return {}

    def input_size(self, pipeline: "Pipeline") -> tuple[int, int]:
        """(height, width) of the network input: the pipeline's ``input_shape``, else :attr:`default_input_shape`."""
        shape = pipeline.options.get("input_shape") or self.default_input_shape
        return int(shape[-2]), int(shape[-1])

    # -- data --------------------------------------------------------------------
    def check_data(self, data: Mapping[str, Any]) -> None:
        """Refuse ``[data]`` keys the dataset it names (or :attr:`default_dataset`) does not take."""
        from .plugins import get

        name = data.get("dataset", self.default_dataset)
        if name is not None:
            options = {key: value for key, value in data.items() if key not in ("dataset", "splits")}
            check_call(get("dataset", name).factory, options, f"[data] option of dataset {name!r}")

    def dataset(self, pipeline: "Pipeline", split: str) -> "Dataset":
        """The ``split`` of the dataset named in the pipeline's ``[data]`` options."""
        return self.dataset_from(dict(pipeline.options.get("data") or {}), split)

    def dataset_from(self, data: Mapping[str, Any], split: str) -> "Dataset":
        """The ``split`` of the dataset a ``[data]`` table describes (``dataset``, ``root`` and the dataset's options).

        ``splits`` renames the task's split names to the dataset's own, e.g.
        ``splits = {train = "train2017", val = "val2017"}``; without ``dataset``
        the task's :attr:`default_dataset` is read.
        """
        from .plugins import get

        data = dict(data)
        if self.default_dataset is not None:
            data.setdefault("dataset", self.default_dataset)
        if "dataset" not in data or "root" not in data:
            raise ConfigError(
                f"Task {self.name!r} needs a [data] table with 'dataset' (a registered dataset name) and 'root' "
                "(on the command line: --dataset NAME --data ROOT)."
            )
        name = data.pop("dataset")
        splits = data.pop("splits", None) or {}
        if not isinstance(splits, Mapping):
            raise ConfigError(f"[data] splits must be a table such as {{train = \"train2017\"}}, got {splits!r}.")
        return get("dataset", name).build(split=splits.get(split, split), **data)

    def sample_transform(self, pipeline: "Pipeline", train: bool) -> Callable[..., Any]:
        """A function mapping a dataset sample to ``(input, *targets)`` arrays.

        The training engine calls it as ``transform(*sample)`` or, when it takes
        a keyword ``rng``, as ``transform(*sample, rng=generator)``: a
        ``numpy.random.Generator`` seeded from ``(seed, epoch, sample index)``.
        Draw every random augmentation from that ``rng`` (never from a global or
        module-level generator) and training replays exactly on resume, with any
        number of loader worker processes. Keep the callable picklable.
        """
        raise TaskError(f"Task {self.name!r} does not define how to feed its dataset.")

    def split_batch(self, batch: Any) -> tuple[Any, tuple]:
        """A loader batch -> ``(inputs, targets)``. Default: first item is the input."""
        return batch[0], tuple(batch[1:])

    # -- training ----------------------------------------------------------------
    def network_targets(self, targets: tuple) -> tuple:
        """The targets the network itself takes in training: the engine runs ``net(inputs, *network_targets(targets))``.

        Default: none. A detector that matches regions to the ground truth inside
        its forward pass (a two-stage R-CNN) gets it from the detection task.
        """
        return ()

    def parameter_groups(self, pipeline: "Pipeline") -> dict[str, Any]:
        """Name -> the ``ParameterDict`` one optimizer trains; the engine makes one Trainer per group.

        Default: one group, ``""``, with every parameter. Two networks trained
        against each other (a generator and its discriminator) are two groups,
        each with its own optimizer state, checkpointed and resumed together.
        """
        return {"": pipeline.net.collect_params()}

    def training_step(self, pipeline: "Pipeline", trainers: Mapping[str, Any], config: Any, guard: Any) -> "Step | None":
        """The update the engine runs on every batch (a :class:`~cvcore.train.step.Step`); ``None`` (default):
        :class:`~cvcore.train.step.SupervisedStep`, the pipeline's loss on the task's ``(inputs, targets)``.

        ``trainers`` are :meth:`parameter_groups`' Trainers by name, ``config``
        the run's :class:`~cvcore.train.TrainConfig`, ``guard`` the divergence
        guard (``guard.check(what, value)`` stops a run whose value is not finite).
        The engine keeps everything else: the learning rate of every trainer,
        logs, progress, checkpoints, exact resume and Ctrl-C.
        """
        return None

    def training_callbacks(self, pipeline: "Pipeline", config: Any, val_data: Any) -> list[Any]:
        """:class:`~cvcore.train.Callback` objects the task adds to a run (e.g. sample grids written to its folder)."""
        return []

    def distillation_loss(self, pipeline: "Pipeline", loss: Any, *, temperature: float, hard_weight: float) -> Any:
        """The training loss with a teacher: ``loss(student, teacher_outputs, *targets)`` around the task's ``loss``.

        Default: :class:`~cvcore.losses.DistillationLoss`, the soft labels of a
        classifier (KL divergence at ``temperature``). A task whose outputs are not
        class scores overrides it with what its outputs mean (pose: heatmap MSE).
        """
        from .losses import DistillationLoss

        return DistillationLoss(loss, temperature, hard_weight)

    # -- running ---------------------------------------------------------------
    def evaluate(self, pipeline: "Pipeline", data: Any, *, batch_size: int = 32, num_workers: int = 0,
                 progress: bool = False) -> dict[str, float]:
        """Run the pipeline on ``data`` and return the metric's values."""
        from .train import evaluate

        return evaluate(pipeline, data, batch_size=batch_size, num_workers=num_workers, progress=progress)

    def predict(self, pipeline: "Pipeline", inputs: Any, **options: Any) -> Any:
        """The task's predictions for ``inputs`` (image paths or arrays), one per image (``Pipeline.predict``, ``cvcore predict``).

        Override it with each option a named keyword parameter: ``Pipeline.predict``
        checks a user's options against the signature, which ``**options`` would give up.
        """
        raise TaskError(f"Task {self.name!r} has no predict().")

    def format_prediction(self, prediction: Any) -> str:
        """One human-readable line for the CLI."""
        return str(prediction)

    def prediction_json(self, prediction: Any) -> dict[str, Any]:
        """One image's prediction as JSON-able data (``cvcore predict --json``); by default the prediction's arrays as lists."""
        return {"prediction": plain(prediction)}

    def demo(self, **options: Any) -> int:
        """Run the task's end-to-end demo; return a process exit code."""
        raise TaskError(f"Task {self.name!r} has no demo.")

    @property
    def has_demo(self) -> bool:
        return type(self).demo is not Task.demo

    def describe(self) -> Iterable[str]:
        yield f"default head: {self.default_head}, loss: {self.default_loss}, metric: {self.default_metric}"
