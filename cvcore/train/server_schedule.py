"""The engine's learning-rate schedule as run by the parameter servers of an async kvstore.

It is pickled to the servers with the optimizer, and a server unpickles it
while MXNet is still importing: so this module imports no MXNet.
"""
from __future__ import annotations

from typing import Callable


class ServerSchedule:
    """``schedule`` counted in steps of all workers: a server counts one update per worker's push."""

    def __init__(self, schedule: Callable[[int], float], workers: int) -> None:
        self.schedule, self.workers = schedule, workers
        self.base_lr = schedule(0)  # MXNet's optimizer sets this attribute of its scheduler

    def __call__(self, num_update: int) -> float:
        return self.schedule(num_update // self.workers)
