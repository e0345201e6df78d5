"""The training loop every task shares: ``fit(pipeline, train_data, val_data, **options)``.

The loop owns what is the same for every task: the learning-rate schedule,
progress bars and JSON-lines logs, validation, checkpoints, exact resume and
Ctrl-C. One update is the task's :class:`~cvcore.train.step.Step`
(:meth:`cvcore.Task.training_step`), by default a :class:`~cvcore.train.step.SupervisedStep`,
with one Trainer per parameter group (:meth:`cvcore.Task.parameter_groups`).
"""
from __future__ import annotations

import logging
import signal
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from tqdm import tqdm

from ..errors import ConfigError
from ..files import require_writable
from ..progress import progress_bar
from ..weights import describe_non_finite, non_finite
from .checkpoint import Checkpoints, TrainState, find_resume_point, load
from .config import TrainConfig
from .data import make_loader
from .guards import ADVICE, DivergenceGuard, TrainingDiverged
from .interrupt import StopRequest, TrainingInterrupted
from .logs import JsonLinesLog, Throughput, epoch_summary
from .optim import create_kvstore, is_async, make_trainers, optimizer_states, start_server_schedule
from .schedules import LRSchedule
from .seeding import seed_devices
from .step import SupervisedStep
from .tricks import no_bias_decay

if TYPE_CHECKING:
    from ..pipeline import Pipeline

logger = logging.getLogger(__name__)

LOG_FILE = "train.jsonl"
CHECKPOINT_DIR = "checkpoints"


class ValidationFailedWarning(UserWarning):
    """Validation raised an error after an epoch; training went on from that epoch's checkpoint."""


class Callback:
    """Hooks into the training loop; subclass and override what you need.

    A callback may raise ``KeyboardInterrupt`` to stop training: a checkpoint
    is saved first, as on Ctrl-C.
    """

    def on_step_end(self, state: TrainState, record: Mapping[str, Any]) -> None:
        """After every update; ``record`` has epoch, step, loss (this batch), lr and grad_norm when clipping."""

    def on_epoch_end(self, state: TrainState, record: Mapping[str, Any]) -> None:
        """After every epoch (and its validation); ``record`` is the epoch's entry of the history."""


def fit(pipeline: "Pipeline", train_data: Any, val_data: Any = None, **options: Any) -> dict[str, Any]:
    """Train ``pipeline.net`` with ``pipeline.loss``; ``options`` are :class:`TrainConfig`'s.

    Returns the last epoch's record (epoch, step, loss, lr, samples_per_sec,
    seconds, ``val_<metric>``) with ``history`` (every epoch's record) and
    ``checkpoint`` (the last one saved, or None).
    """
    return Engine(pipeline, TrainConfig.from_options(options)).run(train_data, val_data)


class Engine:
    """One training run of a pipeline with a fixed configuration."""

    def __init__(self, pipeline: "Pipeline", config: TrainConfig) -> None:
        self.pipeline, self.config = pipeline, config
        seed_devices(config.seed, 0)  # parameters whose shapes waited for data are drawn from the run's seed
        pipeline.materialize()  # every parameter must reach the kvstore initialized
        kvstore, self.workers = create_kvstore(config.kvstore, pipeline.ctx)
        self.trainers = make_trainers(pipeline.task.parameter_groups(pipeline), config, kvstore)
        self.on_servers = is_async(kvstore)  # the servers update the weights and own the schedule
        self.writes = self.workers.rank == 0
        out = Path(config.out_dir) if config.out_dir else None
        if out is not None and self.writes:
            require_writable(out)
        self.checkpoints = Checkpoints(out / CHECKPOINT_DIR, config.keep_checkpoints) if out and self.writes else None
        self.log = JsonLinesLog((config.log_file or (out / LOG_FILE if out else None)) if self.writes else None)
        self.state = TrainState()
        self.last_checkpoint: Path | None = None
        self.good_checkpoint: Path | None = None
        """The latest checkpoint whose weights then gave a sane loss: where a diverged run can resume from."""
        self.guard = DivergenceGuard(self._where, config.max_loss_ratio)

    def run(self, train_data: Any, val_data: Any = None) -> dict[str, Any]:
        config, pipeline = self.config, self.pipeline
        self.loader = make_loader(pipeline, train_data, train=True, batch_size=config.batch_size,
                                  num_workers=config.num_workers, seed=config.seed,
                                  shard=(self.workers.rank, self.workers.count))
        self.steps_per_epoch = self.loader.batches_per_epoch
        self.schedule = LRSchedule.from_config(config, self.steps_per_epoch)
        teacher = config.teacher
        if teacher is not None and not (hasattr(teacher, "net") and hasattr(teacher, "ctx")):
            raise ConfigError(f"teacher = {teacher!r}: the engine takes a teacher pipeline; Pipeline.fit turns a saved "
                              "pipeline folder or a zoo model name into one.")
        own = pipeline.task.training_step(pipeline, self.trainers, config, self.guard)
        if own is not None and (teacher is not None or config.mixup):
            raise ConfigError(f"{'teacher' if teacher is not None else 'mixup'}: the {pipeline.task_name} task trains with its own "
                              "step, which takes neither a teacher nor mixup.")
        self.step = own or SupervisedStep(pipeline, self.trainers[""], config, self.guard, teacher=teacher,
                                          num_workers=self.workers.count)
        self.callbacks = [*config.callbacks, *pipeline.task.training_callbacks(pipeline, config, val_data)]
        self.replay = {"seed": config.seed, "batch_size": config.batch_size,
                       "num_samples": len(train_data) if hasattr(train_data, "__len__") else None,
                       "workers": self.workers.count}
        if config.hybridize:
            pipeline.net.hybridize(static_alloc=True)
        self._start()
        if self.on_servers:
            start_server_schedule(self.trainers, self.schedule, self.workers.count)
        with no_bias_decay(pipeline.net, config.no_bias_decay), StopRequest() as stop:
            try:
                while self.state.epochs_done < config.epochs:
                    self._train_epoch(val_data, stop)
                self._check_finite()
            except TrainingInterrupted:
                raise
            except KeyboardInterrupt:
                raise self._interrupted() from None
            except TrainingDiverged as exc:
                self._diverged(exc)
                raise
        history = list(self.state.history)
        return {**history[-1], "history": history, "rank": self.workers.rank,
                "checkpoint": str(self.last_checkpoint) if self.last_checkpoint else None}

    # -- the loop ------------------------------------------------------------------------
    def _start(self) -> None:
        config = self.config
        directory = Path(config.out_dir) / CHECKPOINT_DIR if config.out_dir else None
        path = find_resume_point(config.resume, directory) if config.resume else None
        if path is not None:
            saved = load(path, self.pipeline.net, self.trainers, self.pipeline.ctx, self.replay)
            self.step.load_state_arrays(saved["step_arrays"])
            self.state = TrainState(**saved["state"])
            self.last_checkpoint = path
            before = saved.get("workers", self.workers.count)
            if before != self.workers.count:
                self.state.reshard(config.batch_size, before)
                logger.info("the checkpoint was written by %d workers, this run has %d: the epoch in progress goes on "
                            "from its sample %d, shared among them", before, self.workers.count, self.state.epoch_start)
            self.log.write("resume", checkpoint=str(path), workers_before=before, **self._position())
            logger.info("resumed from %s (epoch %d, batch %d, step %d)", path, self.state.epochs_done + 1,
                        self.state.batches_done, self.state.global_step)
            return
        if config.resume:
            logger.info("no checkpoint in %s to resume from; starting afresh", directory)
        elif self.checkpoints is not None and self.checkpoints.latest() is not None:
            raise ConfigError(
                f"{self.checkpoints.directory} already holds checkpoints of an earlier run (latest: "
                f"{self.checkpoints.latest().name}): pass resume=True (cvcore train --resume) to continue it, "
                "or train into another out_dir."
            )
        self.log.write("start", epochs=config.epochs, batch_size=config.batch_size, steps_per_epoch=self.steps_per_epoch,
                       lr=config.lr, lr_mode=config.lr_mode, optimizer=config.optimizer, kvstore=config.kvstore,
                       contexts=[str(c) for c in self.pipeline.ctx], workers=self.workers.count, seed=config.seed)

    def _train_epoch(self, val_data: Any, stop: StopRequest) -> None:
        config, state = self.config, self.state
        epoch = state.epochs_done
        mix = config.mixup and epoch < config.epochs - config.mixup_off_epochs
        epoch_meter, interval_meter, interval_loss = Throughput(), Throughput(), 0.0
        done = state.batches_done + state.epoch_start // (config.batch_size * self.workers.count)
        bar = progress_bar(self.loader.epoch(epoch, skip=state.batches_done, start=state.epoch_start), total=self.steps_per_epoch,
                           initial=done, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                           disable=not (config.progress and self.writes), leave=False)
        for batch in bar:
            lr = self.schedule(self._schedule_step())
            for trainer in self.trainers.values() if not self.on_servers else ():
                trainer.set_learning_rate(lr)
            loss_sum, samples = self.step.forward_backward(batch, global_step=state.global_step, epoch=epoch, mix=mix)
            self.guard.check_loss(loss_sum / samples)
            self.good_checkpoint = self.last_checkpoint  # its weights just gave this sane loss
            grad_norm = self.step.update(samples)
            state.advance(loss_sum, samples)

            epoch_meter.add(samples)
            interval_meter.add(samples)
            interval_loss += loss_sum
            record = {"epoch": epoch + 1, "step": state.global_step, "loss": loss_sum / samples, "lr": lr, **self.step.values}
            if grad_norm is not None:
                record["grad_norm"] = grad_norm
            bar.set_postfix(loss=f"{state.epoch_loss_sum / state.epoch_samples:.4f}", lr=f"{lr:.3g}",
                            samples_per_sec=f"{epoch_meter.rate:.1f}", refresh=False)
            if state.global_step % config.log_every == 0:
                self.log.write("train", **{**record, "loss": interval_loss / interval_meter.samples,
                                           "samples_per_sec": interval_meter.rate})
                interval_meter.reset()
                interval_loss = 0.0
            for callback in self.callbacks:
                callback.on_step_end(state, record)
            ends_epoch = self.steps_per_epoch is not None and state.batches_done >= self.steps_per_epoch
            if config.checkpoint_every and state.global_step % config.checkpoint_every == 0 and not ends_epoch:
                self._save()  # the epoch's own checkpoint follows at once otherwise
            if stop.requested:
                raise self._interrupted(stop.requested)
        bar.close()
        self._finish_epoch(val_data, epoch_meter)
        if stop.requested:  # a signal during validation or the checkpoint: the epoch is saved, stop now (even after the last)
            raise self._interrupted(stop.requested)

    def _schedule_step(self) -> int:
        return self.state.schedule_step(self.steps_per_epoch, self.config.batch_size, self.workers.count)

    def _finish_epoch(self, val_data: Any, meter: Throughput) -> None:
        config, state = self.config, self.state
        epoch = state.epochs_done + 1
        record: dict[str, Any] = {
            "epoch": epoch, "step": state.global_step,
            "loss": state.epoch_loss_sum / state.epoch_samples if state.epoch_samples else float("nan"),
            "lr": self.schedule(max(self._schedule_step() - 1, 0)),
            "samples_per_sec": meter.rate, "seconds": meter.seconds,
        }
        state.finish_epoch(record)
        self._save()  # the epoch's training is safe before validation runs
        if val_data is not None and (epoch % config.val_every == 0 or epoch == config.epochs):
            record.update(self._validate(val_data))  # record is the history's entry: the checkpoint gets it next
            if self.last_checkpoint is not None and self.writes:
                self.checkpoints.update_state(self.last_checkpoint, asdict(state))
        self.log.write("epoch", **record)
        if config.progress and self.writes:
            minutes = sum(entry.get("seconds", 0.0) for entry in state.history) / 60
            tqdm.write(epoch_summary(record, config.epochs, minutes), file=sys.stdout)
        for callback in self.callbacks:
            callback.on_epoch_end(state, record)

    def _validate(self, val_data: Any) -> dict[str, Any]:
        """``val_<metric>`` values; a validation that fails is reported (``val_error``) and training goes on."""
        try:
            values = self.pipeline.task.evaluate(self.pipeline, val_data, batch_size=self.config.batch_size,
                                                 num_workers=self.config.num_workers)
        except Exception as exc:  # a bad val file must not cost the epoch just trained (its checkpoint is written)
            message = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"Validation after epoch {self.state.epochs_done} failed and was skipped; training goes on "
                          f"(checkpoint {self.last_checkpoint or 'not kept: no out_dir'}). {message}", ValidationFailedWarning,
                          stacklevel=2)
            return {"val_error": message}
        return {f"val_{name}": value for name, value in values.items()}

    # -- checkpoints, interruption, messages -------------------------------------------------------
    def _check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` when a weight or an optimizer state is no longer finite.

        A finite loss does not prove finite weights: the update after it can overflow. So this runs
        before every checkpoint and at the end of training, and no checkpoint or result holds such weights.
        """
        arrays = {name: param.data(self.pipeline.ctx[0]) for name, param in self.pipeline.net._collect_params_with_prefix().items()}
        arrays.update(optimizer_states(self.trainers))
        broken = non_finite(arrays)
        if broken:
            message = (f"Training diverged: after {self._describe()} {describe_non_finite(broken, len(arrays))}; "
                       "nothing was saved from this point")
            message += self._good_checkpoint()
            raise TrainingDiverged(f"{message}. {ADVICE}.")

    def _save(self) -> None:
        if self.checkpoints is not None and self.state.global_step > 0:
            self._check_finite()
            self.last_checkpoint = self.checkpoints.save(self.pipeline.net, self.trainers, self.pipeline.ctx, self.state,
                                                         {**self.replay, "contexts": len(self.pipeline.ctx)},
                                                         self.step.state_arrays())

    def _diverged(self, error: TrainingDiverged) -> None:
        """Log the divergence; a checkpoint whose weights gave the diverged step is set aside, so resume skips it."""
        if self.checkpoints is not None and self.last_checkpoint not in (None, self.good_checkpoint):
            self.checkpoints.set_aside(self.last_checkpoint)
        self.log.write("diverged", message=str(error))

    def _interrupted(self, signum: int = signal.SIGINT) -> TrainingInterrupted:
        self._save()
        where = self._describe()
        if signum != signal.SIGINT:
            where += f" by {signal.Signals(signum).name}"
        if self.last_checkpoint is not None:
            message = (f"Training interrupted at {where}; saved checkpoint {self.last_checkpoint}. "
                       f"Continue with resume=True (same out_dir) or resume={str(self.last_checkpoint)!r}.")
        else:
            reason = ("worker rank 0 saves the checkpoints" if not self.writes else
                      "set out_dir to keep checkpoints" if self.checkpoints is None else "no step was trained yet")
            message = f"Training interrupted at {where}; nothing was saved ({reason})."
        self.log.write("interrupted", checkpoint=str(self.last_checkpoint) if self.last_checkpoint else None, **self._position())
        return TrainingInterrupted(message, str(self.last_checkpoint) if self.last_checkpoint else None, signum)

    def _position(self) -> dict[str, int]:
        return {"epoch": self.state.epochs_done + 1, "batch": self.state.batches_done, "step": self.state.global_step}

    def _describe(self) -> str:
        of = f"/{self.steps_per_epoch}" if self.steps_per_epoch else ""
        s = self.state
        return f"epoch {s.epochs_done + 1}, batch {s.batches_done}{of} (global step {s.global_step})"

    def _where(self) -> str:
        """The step in progress, for divergence messages."""
        of = f"/{self.steps_per_epoch}" if self.steps_per_epoch else ""
        s = self.state
        where = (f"epoch {s.epochs_done + 1}, batch {s.batches_done + 1}{of} (global step {s.global_step + 1}, "
                 f"lr {self.schedule(s.global_step):.4g})")
        return where + self._good_checkpoint()

    def _good_checkpoint(self) -> str:
        if self.good_checkpoint is not None:
            return f"; the last good checkpoint is {self.good_checkpoint} (resume from it after the change)"
        return "; no checkpoint of this run is known to be good (start afresh after the change)" if self.last_checkpoint else ""
