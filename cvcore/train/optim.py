"""The gluon Trainer over a kvstore, for one device, several, or several machines.

Gradients are all-reduced through the kvstore and the update runs on every
worker (``update_on_kvstore=False``), so the engine can clip the reduced
gradients and set the learning rate of every step itself. An async store is
the exception: its servers run the optimizer, with the engine's schedule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import mxnet as mx
from mxnet import gluon

from ..errors import ConfigError
from .config import TrainConfig
from .server_schedule import ServerSchedule


@dataclass(frozen=True)
class Workers:
    """This process's place among distributed workers (rank 0 of 1 when training alone)."""

    rank: int = 0
    count: int = 1


def create_kvstore(name: str | None, contexts: list[mx.Context]) -> tuple[Any, Workers]:
    """The kvstore argument for the Trainer and this process's rank among the workers."""
    if name is None:
        if len(contexts) > 1:
            raise ConfigError(
                f'kvstore = "none" cannot train on {len(contexts)} devices (their gradients would never be summed): '
                'use kvstore = "device" or "local".'
            )
        return None, Workers()
    if name.startswith("dist"):
        kvstore = mx.kv.create(name)
        return kvstore, Workers(kvstore.rank, kvstore.num_workers)
    return name, Workers()  # gluon makes the local store itself (none for one device)


def make_trainers(groups: Mapping[str, gluon.ParameterDict], config: TrainConfig, kvstore: Any) -> dict[str, gluon.Trainer]:
    """One Trainer per parameter group (:meth:`cvcore.Task.parameter_groups`), each with the configured optimizer."""
    if len(groups) > 1 and kvstore is not None and not isinstance(kvstore, str):  # a store object: a distributed one
        raise ConfigError(
            f"kvstore = {kvstore.type!r} trains one parameter group; this task trains {len(groups)} "
            f"({', '.join(groups)}) with one optimizer each: train it on one machine (kvstore = \"device\")."
        )
    return {name: make_trainer(params, config, kvstore) for name, params in groups.items()}


def make_trainer(trained: gluon.ParameterDict, config: TrainConfig, kvstore: Any) -> gluon.Trainer:
    """A Trainer with the configured optimizer; the learning rate is set every step by the schedule."""
    params: dict[str, Any] = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer in ("sgd", "nag"):
        params["momentum"] = config.momentum
    params.update(config.optimizer_params)
    if is_async(kvstore):  # the servers keep the gradient scale they got first: a fixed 1 / batch_size
        params["rescale_grad"] = 1.0 / config.batch_size
    try:
        trainer = gluon.Trainer(trained, config.optimizer, params, kvstore=kvstore, update_on_kvstore=is_async(kvstore))
    except (ValueError, TypeError, mx.MXNetError) as exc:
        raise ConfigError(f"optimizer = {config.optimizer!r} with {params}: {exc}") from exc
    if isinstance(kvstore, mx.kvstore.KVStore) and kvstore.type.startswith("dist") and not is_async(kvstore):
        _broadcast_weights_now(trainer)  # an async store starts in start_server_schedule, once the schedule is known
    return trainer


def is_async(kvstore: Any) -> bool:
    """Whether the servers update the weights themselves, as each worker's gradients arrive."""
    return isinstance(kvstore, mx.kvstore.KVStore) and "async" in kvstore.type


def updates_on_servers(trainer: gluon.Trainer) -> bool:
    """Whether ``trainer``'s optimizer runs on the parameter servers (an async store): its state is theirs, not ours."""
    return is_async(trainer._kvstore_params.get("kvstore"))


def start_server_schedule(trainers: Mapping[str, gluon.Trainer], schedule: Callable[[int], float], workers: int) -> None:
    """Give an async store's servers the learning-rate schedule, then every worker the initial weights."""
    for trainer in trainers.values():
        trainer._optimizer.lr_scheduler = ServerSchedule(schedule, workers)
        _broadcast_weights_now(trainer)


def _broadcast_weights_now(trainer: gluon.Trainer) -> None:
    """Give every worker rank 0's weights before any gradient is pushed.

    Gluon does it lazily inside the first ``allreduce_grads``, where the pull of
    the initial weights and the push of the first gradients use the same keys
    but different arrays, so MXNet does not order them: a worker whose gradient
    push overtakes its weight pull receives the summed gradients as weights
    (seen in about a third of two-worker runs). Pulling first, and waiting,
    closes that race.
    """
    trainer._init_kvstore()
    trainer._init_params()
    mx.nd.waitall()


def optimizer_states(trainers: Mapping[str, gluon.Trainer]) -> dict[str, mx.nd.NDArray]:
    """The optimizers' state arrays on the first device (momenta, Adam's moments), named
    ``state:<param index>:<k>`` (``state:<group>:<param index>:<k>`` for a named group)."""
    found: dict[str, mx.nd.NDArray] = {}
    for group, trainer in trainers.items():
        found.update(_states(trainer, f"state:{group}:" if group else "state:"))
    return found


def _states(trainer: gluon.Trainer, prefix: str) -> dict[str, mx.nd.NDArray]:
    if not trainer._updaters:
        return {}
    found: dict[str, mx.nd.NDArray] = {}

    def collect(prefix: str, state: Any) -> None:
        if isinstance(state, mx.nd.NDArray):
            found[prefix] = state
        elif isinstance(state, (list, tuple)):
            for k, item in enumerate(state):
                collect(f"{prefix}:{k}", item)

    for index, state in trainer._updaters[0].states.items():
        collect(f"{prefix}{index}", state)
    return found
