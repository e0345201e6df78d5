"""How distributed workers share an epoch, and how an epoch goes on when their number changes at a resume."""
from __future__ import annotations

import pytest

from cvcore.train.checkpoint import TrainState
from cvcore.train.data import EpochBatchSampler


def batches(num_samples: int, batch_size: int, rank: int, count: int, *, skip: int = 0, start: int = 0, epoch: int = 3):
    sampler = EpochBatchSampler(num_samples, batch_size, shuffle=True, seed=7, shard=(rank, count))
    sampler.set_epoch(epoch, skip, start)
    found = [[key.index for key in batch] for batch in sampler]
    assert len(found) == len(sampler)
    return found


def test_the_workers_bth_batches_together_are_one_workers_bth_batch_of_their_combined_size():
    shards = [batches(36, 6, rank, 2) for rank in range(2)]
    alone = batches(36, 12, 0, 1)
    assert [sorted(a + b) for a, b in zip(*shards)] == [sorted(batch) for batch in alone]


@pytest.mark.parametrize("before, after, steps_done", [(2, 1, 1), (1, 2, 3), (2, 3, 2), (3, 2, 0)])
def test_a_resumed_epoch_takes_every_remaining_sample_once_whatever_the_number_of_workers(before, after, steps_done):
    num_samples, batch_size = 50, 4
    taken = [i for rank in range(before) for batch in batches(num_samples, batch_size, rank, before)[:steps_done] for i in batch]
    state = TrainState(batches_done=steps_done)
    state.reshard(batch_size, before)
    assert state.epoch_start == steps_done * batch_size * before and state.batches_done == 0
    rest = [i for rank in range(after) for batch in batches(num_samples, batch_size, rank, after, start=state.epoch_start)
            for i in batch]
    assert not set(taken) & set(rest) and len(set(rest)) == len(rest)
    assert len(taken) + len(rest) > num_samples - after  # only the remainder that cannot be split evenly is left out
    lengths = {len(batches(num_samples, batch_size, rank, after, start=state.epoch_start)) for rank in range(after)}
    assert len(lengths) == 1  # every worker takes as many steps, or the others would wait forever


def test_the_schedule_counts_steps_of_the_current_number_of_workers():
    state = TrainState(epochs_done=2, batches_done=3, global_step=23)
    assert state.schedule_step(10, 4, 2) == 23  # unchanged workers: the update count
    state.reshard(4, 2)  # 3 steps of 2 workers x 4 = 24 samples taken; now one worker
    state.batches_done = 1
    assert state.schedule_step(20, 4, 1) == 2 * 20 + 24 // 4 + 1
    assert state.schedule_step(None, 4, 1) == 23  # data without a length: the update count


def test_the_async_servers_schedule_counts_one_step_per_push_of_every_worker_and_pickles_without_mxnet():
    import pickle
    import subprocess
    import sys

    from cvcore.train.schedules import LRSchedule
    from cvcore.train.server_schedule import ServerSchedule

    schedule = LRSchedule(base_lr=0.1, total_steps=100, mode="cosine")
    served = pickle.loads(pickle.dumps(ServerSchedule(schedule, workers=4)))
    assert served(40) == schedule(10) and served(43) == schedule(10) and served.base_lr == schedule(0)
    probe = "import pickle, sys; pickle.loads(sys.stdin.buffer.read()); print('mxnet' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], input=pickle.dumps(served), capture_output=True, check=True)
    assert loaded.stdout.strip() == b"False"  # a server unpickles it while MXNet itself is still importing
