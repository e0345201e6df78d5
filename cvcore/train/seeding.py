"""Every random draw of training as a pure function of ``(seed, stream, keys...)``.

Data order, per-sample augmentation, mixup and MXNet's own generator (dropout)
are each derived afresh from the run's seed and where training stands, so a
run resumed from a checkpoint replays exactly the draws of an uninterrupted
one, in any process and with any number of data workers.
"""
from __future__ import annotations

import numpy as np

#: Independent streams, so that e.g. epoch 3's order never equals step 3's mixup draw;
#: ``TASK`` is a training step's own (a GAN's pool of past outputs).
ORDER, SAMPLE, MIXUP, DEVICE, TASK = range(5)


def generator(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """A numpy Generator determined only by ``seed``, ``stream`` and ``keys`` (non-negative ints)."""
    return np.random.default_rng([int(seed), stream, *(int(k) for k in keys)])


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The Generator a sample's augmentation draws from in ``epoch``."""
    return generator(seed, SAMPLE, epoch, index)


def seed_devices(seed: int, global_step: int) -> None:
    """Seed MXNet's generators on every device for the update ``global_step``."""
    import mxnet as mx

    mx.random.seed(int(generator(seed, DEVICE, global_step).integers(2**31 - 1)))
