"""The ``[train]`` options, checked once with errors that name the fix."""
from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from ..options import check_keys
from ..typecheck import check_values

LR_MODES = ("step", "poly", "cosine", "linear")
KVSTORES = ("local", "device", "dist_sync", "dist_device_sync", "dist_async")

#: Names users coming from elsewhere try, and where the option lives here.
MOVED = {
    "label_smoothing": 'label smoothing is an option of the loss: [loss] name = "softmax_cross_entropy", label_smoothing = 0.1',
    "mixup_alpha_off_epoch": "it is called 'mixup_off_epochs' here",
    "warmup_lr_start": "it is called 'warmup_lr' here",
    "target_lr": "it is called 'final_lr' here",
    "lr_decay_epoch": "it is called 'lr_steps' here",
    "lr_decay": "it is called 'lr_factor' here",
    "clip_gradient": "it is called 'clip_gradient_norm' here",
    "no_wd": "it is called 'no_bias_decay' here",
}


@dataclass(frozen=True)
class TrainConfig:
    """Every ``[train]`` option (TOML table or ``Pipeline.fit`` keyword), with its default.

    Optimisation
        ``epochs``, ``batch_size`` (per process, split over ``pipeline.ctx``),
        ``optimizer`` (any MXNet optimizer name), ``lr``, ``momentum`` (sgd/nag),
        ``wd``, ``optimizer_params`` (extra optimizer arguments, e.g. ``{beta1 = 0.9}``),
        ``kvstore`` (``"local"``, ``"device"``, ``"dist_sync"``, ``"dist_device_sync"``,
        ``"dist_async"`` (the servers update the weights as each worker's gradients arrive:
        no gradient clipping, not reproducible), or ``"none"`` for one context), ``hybridize`` (static graph: faster),
        ``num_workers`` (data worker processes), ``seed``.
    Learning rate (stepped every iteration, see :mod:`cvcore.train.schedules`)
        ``lr_mode`` (``"step"``, ``"poly"``, ``"cosine"``, ``"linear"``), ``lr_steps`` (epochs at
        which step mode multiplies by ``lr_factor``; for linear, the epoch its decay
        starts, default half-way), ``power`` (poly), ``final_lr`` (poly/cosine/linear),
        ``warmup_epochs`` (linear from ``warmup_lr``).
    Tricks (label smoothing is the loss's own option)
        ``no_bias_decay``, ``mixup`` with ``mixup_alpha`` and ``mixup_off_epochs``,
        ``teacher`` (a Pipeline, saved pipeline directory or zoo name) with
        ``temperature`` and ``hard_weight`` (what distilling means is the task's:
        :meth:`cvcore.task.Task.distillation_loss`).
    Guards
        ``clip_gradient_norm`` (cap on the global L2 norm of the mean gradient),
        ``max_loss_ratio`` (a batch loss above this multiple of the largest of the
        first 10 steps stops training as diverged; 0 turns the check off).
    Output
        ``out_dir`` (checkpoints and ``train.jsonl``), ``log_file``, ``log_every``
        (steps), ``progress``, ``checkpoint_every`` (steps; epochs always end
        with one), ``keep_checkpoints``, ``resume`` (``True``: the latest in
        ``out_dir``; or a checkpoint path), ``val_every`` (epochs), ``callbacks``.
    """

    epochs: int = 1
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    wd: float = 1e-4
    optimizer_params: Mapping[str, Any] = field(default_factory=dict)
    kvstore: str | None = "device"
    hybridize: bool = False
    num_workers: int = 0
    seed: int = 0

    lr_mode: str = "step"
    lr_steps: Sequence[float] = ()
    lr_factor: float = 0.1
    power: float = 0.9
    final_lr: float = 0.0
    warmup_epochs: float = 0.0
    warmup_lr: float = 0.0

    no_bias_decay: bool = False
    mixup: bool = False
    mixup_alpha: float = 0.2
    mixup_off_epochs: int = 0
    teacher: Any = None
    temperature: float = 20.0
    hard_weight: float = 0.5

    clip_gradient_norm: float | None = None
    max_loss_ratio: float = 1000.0

    out_dir: str | os.PathLike | None = None
    log_file: str | os.PathLike | None = None
    log_every: int = 50
    progress: bool = True
    checkpoint_every: int = 0
    keep_checkpoints: int = 3
    resume: bool | str | os.PathLike = False
    val_every: int = 1
    callbacks: Sequence[Any] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "TrainConfig":
        """Check ``options`` (unknown names get the closest known ones) and build the config."""
        check_keys(options, {f.name for f in fields(cls)}, "[train] option", MOVED)
        check_values(options, typing.get_type_hints(cls), "[train] option")
        values = dict(options)
        if isinstance(values.get("kvstore"), str) and values["kvstore"].lower() == "none":
            values["kvstore"] = None
        for name in ("lr_steps", "callbacks"):
            if name in values:
                values[name] = tuple(values[name])
        config = cls(**values)
        config._check()
        return config

    def _check(self) -> None:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "log_every": self.log_every,
                    "keep_checkpoints": self.keep_checkpoints, "val_every": self.val_every,
                    "temperature": self.temperature, "mixup_alpha": self.mixup_alpha}
        positive.update({"lr": self.lr, "lr_factor": self.lr_factor, "power": self.power})
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"Training option {name} must be positive, got {value!r}.")
        non_negative = {"num_workers": self.num_workers, "checkpoint_every": self.checkpoint_every,
                        "warmup_epochs": self.warmup_epochs, "mixup_off_epochs": self.mixup_off_epochs, "seed": self.seed,
                        "wd": self.wd, "final_lr": self.final_lr, "warmup_lr": self.warmup_lr}
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigError(f"Training option {name} must be zero or more, got {value!r}.")
        if self.lr_mode not in LR_MODES:
            raise ConfigError(f"lr_mode = {self.lr_mode!r} is not one of {', '.join(LR_MODES)}.")
        if self.kvstore is not None and self.kvstore not in KVSTORES:
            raise ConfigError(f"kvstore = {self.kvstore!r} is not one of {', '.join(KVSTORES)} or \"none\".")
        if self.kvstore == "dist_async" and self.clip_gradient_norm is not None:
            raise ConfigError("clip_gradient_norm does not work with kvstore = \"dist_async\": the servers apply each "
                              "worker's gradients as they arrive, and no process sees a whole step's gradient to clip. "
                              "Use dist_sync, or train without clipping.")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum}.")
        if not 0.0 <= self.hard_weight <= 1.0:
            raise ConfigError(f"hard_weight must be in [0, 1], got {self.hard_weight}.")
        if not self.max_loss_ratio >= 0:
            raise ConfigError(f"max_loss_ratio must be zero (off) or positive, got {self.max_loss_ratio}.")
        if self.clip_gradient_norm is not None and not self.clip_gradient_norm > 0:
            raise ConfigError(f"clip_gradient_norm must be positive, got {self.clip_gradient_norm}.")
        if self.resume is True and not self.out_dir:
            raise ConfigError("resume = true continues the latest checkpoint in out_dir: set out_dir (or resume = \"path\").")
