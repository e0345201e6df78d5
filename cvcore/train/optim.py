"""The gluon Trainer over a kvstore, for one device, several, or several machines.

Gradients are all-reduced through the kvstore and the update runs on every
worker (``update_on_kvstore=False``), so the engine can clip the reduced
gradients and set the learning rate of every step itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mxnet as mx
from mxnet import gluon

from ..errors import ConfigError
from .config import TrainConfig


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


def make_trainer(net: gluon.Block, config: TrainConfig, kvstore: Any) -> gluon.Trainer:
    """A Trainer with the configured optimizer; the learning rate is set every step by the schedule."""
    params: dict[str, Any] = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer in ("sgd", "nag"):
        params["momentum"] = config.momentum
    params.update(config.optimizer_params)
    try:
        trainer = gluon.Trainer(net.collect_params(), config.optimizer, params, kvstore=kvstore, update_on_kvstore=False)
    except (ValueError, TypeError, mx.MXNetError) as exc:
        raise ConfigError(f"optimizer = {config.optimizer!r} with {params}: {exc}") from exc
    if isinstance(kvstore, mx.kvstore.KVStore) and kvstore.type.startswith("dist"):
        _broadcast_weights_now(trainer)
    return trainer


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


def optimizer_states(trainer: gluon.Trainer) -> dict[str, mx.nd.NDArray]:
    """The optimizer's state arrays on the first device (momenta, Adam's moments), named ``state:<param index>:<k>``."""
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
        collect(f"state:{index}", state)
    return found
