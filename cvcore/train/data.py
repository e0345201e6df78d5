"""Loaders whose batches are a pure function of (seed, epoch, position), in any process.

The sampler yields :class:`SampleKey` ``(epoch, index)`` items instead of bare
indices. The dataset wrapper reads sample ``index`` and hands the task's
transform a Generator seeded from ``(seed, epoch, index)``, so worker
processes, which never see the main process's state, still draw exactly what
an uninterrupted run would. Resuming mid-epoch skips batches in the sampler,
without decoding a single skipped sample.
"""
from __future__ import annotations

import inspect
import itertools
import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple

import mxnet as mx
import numpy as np
from mxnet import gluon

from ..errors import ConfigError
from .seeding import ORDER, generator, sample_rng

if TYPE_CHECKING:
    from ..pipeline import Pipeline


class SampleKey(NamedTuple):
    """What the sampler hands the dataset: which sample, in which epoch."""

    epoch: int
    index: int


class EpochBatchSampler(gluon.data.Sampler):
    """Batches of :class:`SampleKey`; the order is a permutation seeded by ``(seed, epoch)``.

    With ``shard=(rank, count)`` each of ``count`` distributed workers takes
    every ``count``-th sample of the same permutation (all shards equally long).
    """

    def __init__(self, num_samples: int, batch_size: int, *, shuffle: bool, seed: int = 0,
                 drop_last: bool = False, shard: tuple[int, int] = (0, 1)) -> None:
        self.num_samples, self.batch_size = num_samples, batch_size
        self.shuffle, self.seed, self.drop_last, self.shard = shuffle, seed, drop_last, shard
        self.epoch, self.skip, self.start = 0, 0, 0

    def set_epoch(self, epoch: int, skip: int = 0, start: int = 0) -> None:
        """Iterate epoch ``epoch`` next: its permutation from position ``start`` on (the samples that workers of
        another sharding already took; see :meth:`cvcore.train.checkpoint.TrainState.reshard`), after this
        sharding's first ``skip`` batches."""
        self.epoch, self.skip, self.start = epoch, skip, start

    @property
    def batches_per_epoch(self) -> int:
        """Batches of a whole epoch (from its first sample)."""
        return self._batches(self.num_samples // self.shard[1])

    def _batches(self, samples: int) -> int:
        return samples // self.batch_size if self.drop_last else math.ceil(samples / self.batch_size)

    def _order(self) -> np.ndarray:
        """This shard's samples of the epoch from ``start``: every ``count``-th of one permutation, so that the
        workers' ``b``-th batches together are the permutation's ``b``-th run of ``batch_size * count`` samples."""
        order = generator(self.seed, ORDER, self.epoch).permutation(self.num_samples) if self.shuffle else np.arange(self.num_samples)
        rank, count = self.shard
        return order[self.start:self.start + self._per_shard() * count][rank::count]

    def _per_shard(self) -> int:
        """Samples each worker takes from ``start`` on (all shards equally long, or distributed steps would wait forever)."""
        return max(0, self.num_samples - self.start) // self.shard[1]

    def __len__(self) -> int:
        return max(0, self._batches(self._per_shard()) - self.skip)

    def __iter__(self) -> Iterator[list[SampleKey]]:
        order = self._order()
        for batch in range(self.skip, self._batches(len(order))):
            yield [SampleKey(self.epoch, int(i)) for i in order[batch * self.batch_size:(batch + 1) * self.batch_size]]


class SeededTransform(gluon.data.Dataset):
    """``dataset`` mapped through ``transform``; a transform taking ``rng`` gets one per (epoch, sample)."""

    def __init__(self, dataset: gluon.data.Dataset, transform: Callable[..., Any], seed: int) -> None:
        self.dataset, self.transform, self.seed = dataset, transform, seed
        self.takes_rng = accepts_rng(transform)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: SampleKey | int) -> Any:
        epoch, index = key if isinstance(key, SampleKey) else (0, key)
        sample = self.dataset[index]
        sample = sample if isinstance(sample, tuple) else (sample,)
        if self.takes_rng:
            return self.transform(*sample, rng=sample_rng(self.seed, epoch, index))
        return self.transform(*sample)


class Loader:
    """Batches one epoch at a time: ``loader.epoch(e, skip=k)`` replays epoch ``e`` from batch ``k``
    (and ``start=s`` from the permutation's sample ``s``, after a change in the number of workers).

    Built on a gluon DataLoader over a Dataset (exactly replayable), or on any
    iterable of batches the caller gives (its batches are skipped by reading
    them, and it replays exactly only if it is itself deterministic).
    """

    def __init__(self, batches: Iterable, sampler: EpochBatchSampler | None = None) -> None:
        self.batches, self.sampler = batches, sampler

    @property
    def batches_per_epoch(self) -> int | None:
        if self.sampler is not None:
            return self.sampler.batches_per_epoch
        return len(self.batches) if hasattr(self.batches, "__len__") else None

    def epoch(self, epoch: int, skip: int = 0, start: int = 0) -> Iterator:
        if self.sampler is None:
            if start:
                raise ConfigError("A run over an iterable of batches cannot change its number of workers when it resumes.")
            return itertools.islice(iter(self.batches), skip, None)
        self.sampler.set_epoch(epoch, skip, start)
        return iter(self.batches)

    def __iter__(self) -> Iterator:
        return self.epoch(0)


def accepts_rng(transform: Callable[..., Any]) -> bool:
    """Whether ``transform`` takes the keyword ``rng`` (see ``Task.sample_transform``)."""
    try:
        parameters = inspect.signature(transform).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "rng" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def make_loader(pipeline: "Pipeline", data: Any, *, train: bool, batch_size: int = 32, num_workers: int = 0,
                seed: int = 0, shard: tuple[int, int] = (0, 1)) -> Loader:
    """A :class:`Loader` over ``data``: a Dataset goes through the task's sample transform.

    Training shuffles with the seeded sampler and drops the last incomplete
    batch; evaluation keeps the dataset order and every sample. A DataLoader or
    any other iterable of batches is used as it is.
    """
    if isinstance(data, gluon.data.DataLoader) or not isinstance(data, gluon.data.Dataset):
        return Loader(data)
    if train and len(data) // shard[1] < batch_size:
        raise ConfigError(
            f"The training data has {len(data)} samples{f' ({len(data) // shard[1]} per worker)' if shard[1] > 1 else ''}, "
            f"fewer than one batch (batch_size = {batch_size}): lower batch_size."
        )
    dataset = SeededTransform(data, pipeline.task.sample_transform(pipeline, train=train), seed)
    sampler = EpochBatchSampler(len(data), batch_size, shuffle=train, seed=seed, drop_last=train,
                                shard=shard if train else (0, 1))
    return Loader(gluon.data.DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers), sampler)


def split_to_contexts(inputs: mx.nd.NDArray, targets: tuple, contexts: list[mx.Context]) -> list[tuple[Any, tuple]]:
    """``[(inputs slice, targets slices), ...]``, one pair per context."""
    if len(contexts) == 1:
        return [(inputs.as_in_context(contexts[0]), tuple(t.as_in_context(contexts[0]) for t in targets))]
    xs = gluon.utils.split_and_load(inputs, contexts, even_split=False)
    ts = [gluon.utils.split_and_load(t, contexts, even_split=False) for t in targets]
    return [(x, tuple(t[i] for t in ts)) for i, x in enumerate(xs)]
