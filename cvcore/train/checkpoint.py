"""Atomic training checkpoints: everything an exact resume needs, in one directory per step.

``<out_dir>/checkpoints/step-00001200/`` holds

* ``model.params``: the network (``net.load_parameters`` reads it; BatchNorm
  statistics averaged over devices, as a single model wants them);
* ``replicas.params``: with several devices, each device's own copy of the
  parameters that are not trained (BatchNorm statistics differ per device);
* ``trainer.states``: the optimizer and its states (``Trainer.save_states``);
  a task training several parameter groups has one ``trainer-<group>.states`` each;
* ``step.nd``: the training step's own state when it has some (a GAN's pool of past outputs);
* ``state.json``: :class:`TrainState` (epoch, position in it, global step,
  which is also the learning-rate schedule's whole state) and the seed and
  data size that, with it, determine the data order and every random draw.

A checkpoint is written into a hidden temporary directory next to its final
name, every file and the directory are fsync'ed, and only then is it renamed
into place: a crash at any moment leaves the earlier checkpoints intact, and
the half-written one is invisible (and removed on the next start).
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import mxnet as mx
from mxnet import gluon

from ..errors import ConfigError, CvcoreError
from ..files import atomic_path
from ..weights import describe_non_finite, non_finite, read_params
from .optim import updates_on_servers

logger = logging.getLogger(__name__)

FORMAT = 1
NAME = re.compile(r"^step-(\d{8})$")
TEMP_PREFIX = ".writing-"
DIVERGED_SUFFIX = ".diverged"
PARAMS, REPLICAS, TRAINER, STATE, STEP = "model.params", "replicas.params", "trainer.states", "state.json", "step.nd"


def trainer_file(group: str) -> str:
    """The file of one parameter group's optimizer: ``trainer.states`` for the single unnamed group."""
    return f"trainer-{group}.states" if group else TRAINER


class CheckpointError(CvcoreError):
    """A checkpoint is missing, incomplete or does not fit the run resuming from it."""


@dataclass
class TrainState:
    """Where training stands. With the seed, enough to replay the data order and randomness exactly."""

    epochs_done: int = 0
    batches_done: int = 0  # of the epoch in progress
    global_step: int = 0  # updates applied so far; the LR schedule's whole state
    epoch_loss_sum: float = 0.0
    epoch_samples: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    epoch_start: int = 0  # samples of the epoch in progress taken before the number of workers changed

    def reshard(self, batch_size: int, workers_before: int) -> None:
        """Continue the epoch in progress with another number of workers: the samples taken so far
        (``batches_done`` global batches of ``batch_size * workers_before``) become ``epoch_start``."""
        self.epoch_start += self.batches_done * batch_size * workers_before
        self.batches_done = 0

    def schedule_step(self, steps_per_epoch: int | None, batch_size: int, workers: int) -> int:
        """Where the LR schedule stands: ``global_step``, unless the number of workers changed (then the
        steps of this many workers that the epochs done and the samples taken would have needed)."""
        if steps_per_epoch is None:
            return self.global_step
        return self.epochs_done * steps_per_epoch + self.epoch_start // (batch_size * workers) + self.batches_done

    def advance(self, loss_sum: float, samples: int) -> None:
        self.global_step += 1
        self.batches_done += 1
        self.epoch_loss_sum += loss_sum
        self.epoch_samples += samples

    def finish_epoch(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        self.epochs_done += 1
        self.batches_done, self.epoch_loss_sum, self.epoch_samples, self.epoch_start = 0, 0.0, 0, 0


class Checkpoints:
    """The checkpoints of one run in ``directory``; keeps the newest ``keep``."""

    def __init__(self, directory: str | os.PathLike, keep: int = 3) -> None:
        self.directory = Path(directory)
        self.keep = keep
        if self.directory.is_dir():
            for stale in self.directory.glob(f"{TEMP_PREFIX}*"):
                shutil.rmtree(stale, ignore_errors=True)

    def all(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        return find_checkpoints(self.directory)

    def latest(self) -> Path | None:
        found = self.all()
        return found[-1] if found else None

    def save(self, net: gluon.Block, trainers: Mapping[str, gluon.Trainer], contexts: list[mx.Context],
             state: TrainState, meta: dict[str, Any], step_arrays: Mapping[str, mx.nd.NDArray] | None = None) -> Path:
        """Write a checkpoint of ``state.global_step`` (once: a second save of one step is a no-op)."""
        final = self.directory / f"step-{state.global_step:08d}"
        if final.exists():
            return final
        try:
            self._write(final, net, trainers, contexts, state, meta, step_arrays or {})
        except (OSError, mx.base.MXNetError) as exc:  # a full disk, a folder made read-only under the run
            latest = self.latest()
            raise CheckpointError(
                f"Could not write checkpoint {final}: {str(exc).splitlines()[0]}. "
                + (f"The earlier checkpoints are intact (latest: {latest})." if latest else "No earlier checkpoint exists.")
            ) from exc
        for old in self.all()[:-self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def _write(self, final: Path, net: gluon.Block, trainers: Mapping[str, gluon.Trainer], contexts: list[mx.Context],
               state: TrainState, meta: dict[str, Any], step_arrays: Mapping[str, mx.nd.NDArray]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.directory))
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would make the checkpoint private
        try:
            params = net._collect_params_with_prefix()
            mx.nd.save(str(staging / PARAMS), {name: _single_copy(p, contexts[0]) for name, p in params.items()})
            if len(contexts) > 1:  # each device's own BatchNorm statistics, for an exact resume
                replicas = {f"{i}:{name}": p.data(ctx) for name, p in params.items() if p.grad_req == "null"
                            for i, ctx in enumerate(contexts)}
                mx.nd.save(str(staging / REPLICAS), replicas)
            for group, trainer in trainers.items():
                if not updates_on_servers(trainer):  # MXNet cannot fetch an async store's optimizer state
                    trainer.save_states(str(staging / trainer_file(group)))
            if step_arrays:
                mx.nd.save(str(staging / STEP), dict(step_arrays))
            (staging / STATE).write_text(json.dumps({"format": FORMAT, **meta, "state": asdict(state)}, indent=1))
            for item in staging.iterdir():
                _fsync(item)
            _fsync(staging)
            os.replace(staging, final)
            _fsync(self.directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


    def update_state(self, checkpoint: Path, state: dict[str, Any]) -> None:
        """Replace the training state recorded in ``checkpoint`` (the epoch's validation results, added after it was written)."""
        saved = json.loads((checkpoint / STATE).read_text())
        with atomic_path(checkpoint / STATE) as tmp:
            tmp.write_text(json.dumps({**saved, "state": state}, indent=1))

    def set_aside(self, checkpoint: Path) -> Path:
        """Rename a checkpoint known to be bad to ``NAME.diverged``: kept for a look, never resumed from."""
        target = checkpoint.with_name(f"{checkpoint.name}{DIVERGED_SUFFIX}")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(checkpoint, target)
        return target


def find_resume_point(resume: bool | str, directory: Path | None) -> Path | None:
    """The checkpoint ``resume`` names: ``True``, the latest in ``directory`` (None if none); a path, that
    checkpoint or the latest in that directory (or in its ``checkpoints/``)."""
    if resume is True:
        found = find_checkpoints(directory) if directory is not None else []
        return found[-1] if found else None
    path = Path(resume)
    if NAME.match(path.name) and (path / STATE).is_file():
        return path
    found = find_checkpoints(path / "checkpoints") or find_checkpoints(path)
    if not found:
        raise CheckpointError(f"resume = {str(resume)!r}: no checkpoint there (expected step-NNNNNNNN/{STATE}).")
    return found[-1]


def find_checkpoints(directory: Path) -> list[Path]:
    """The complete checkpoints in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.iterdir() if NAME.match(p.name)), key=lambda p: p.name)


def load(path: Path, net: gluon.Block, trainers: Mapping[str, gluon.Trainer], contexts: list[mx.Context],
         replay: dict[str, Any]) -> dict[str, Any]:
    """Restore parameters and trainer states; returns ``state.json``'s content, with ``step_arrays``
    (the training step's own state, see :meth:`cvcore.train.step.Step.state_arrays`).

    ``replay`` (seed, batch size, data size; ``workers`` may differ, see
    :meth:`TrainState.reshard`) must match what the checkpoint was written
    with, or the data order could not be replayed: then nothing is restored
    and :class:`ConfigError` says what differs. On as many
    devices as it was written with, each device gets its own copy of the
    untrained parameters back (exact resume); on another number, they all get
    the average (training continues, though not bit for bit).
    """
    kept = [trainer_file(group) for group, trainer in trainers.items() if not updates_on_servers(trainer)]
    missing = [name for name in (PARAMS, *kept, STATE) if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"Checkpoint {path} is incomplete: {', '.join(missing)} missing.")
    saved = json.loads((path / STATE).read_text())
    if saved.get("format") != FORMAT:
        raise CheckpointError(f"Checkpoint {path} has format {saved.get('format')!r}; this cvcore reads format {FORMAT}.")
    different = {key: (saved.get(key), value) for key, value in replay.items() if saved.get(key) != value and key != "workers"}
    if different:
        changes = ", ".join(f"{key} {was!r} -> {now!r}" for key, (was, now) in different.items())
        raise ConfigError(
            f"Checkpoint {path} cannot be resumed exactly: {changes}. "
            "Resume with the original settings, or start a new run in another out_dir."
        )
    params = read_params(path / PARAMS)
    broken = non_finite(params)
    if broken:
        raise CheckpointError(f"Checkpoint {path}: {describe_non_finite(broken, len(params))}; resume from an earlier one.")
    net.load_parameters(str(path / PARAMS), ctx=contexts)
    for group, trainer in trainers.items():
        if (path / trainer_file(group)).is_file() and not updates_on_servers(trainer):
            trainer.load_states(str(path / trainer_file(group)))  # starts the kvstore, which copies device 0's parameters everywhere
        else:
            logger.warning("Checkpoint %s holds no optimizer state%s: the optimizer's momenta start afresh.", path,
                           f" of group {group!r}" if group else "")
    if len(contexts) > 1 and saved.get("contexts") == len(contexts):
        params = net._collect_params_with_prefix()
        for key, value in mx.nd.load(str(path / REPLICAS)).items():
            index, name = key.split(":", 1)
            params[name].data(contexts[int(index)])[:] = value
    saved["step_arrays"] = mx.nd.load(str(path / STEP)) if (path / STEP).is_file() else {}
    return saved


def _single_copy(param: gluon.Parameter, ctx: mx.Context) -> mx.nd.NDArray:
    # Trained parameters are identical on every device; averaging them could round.
    return param._reduce() if param.grad_req == "null" else param.data(ctx)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
