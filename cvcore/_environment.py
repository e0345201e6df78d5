"""Settings MXNet reads once, when it is imported: chosen by cvcore first, unless the user chose them.

MXNet 1.9 defaults to half the visible cores (one thread on a 2-core machine),
which leaves half the CPU idle: cvcore sets ``OMP_NUM_THREADS`` to the number
of cores this process may run on. MXNet's C++ side prints a log line each time
a graph is partitioned for oneDNN ("Subgraph backend MKLDNN is activated"),
which tells a user nothing: ``MXNET_SUBGRAPH_VERBOSE=0`` keeps it quiet.
"""
from __future__ import annotations

import os
import sys
import warnings


def usable_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


QUIET = {"MXNET_SUBGRAPH_VERBOSE": "0"}
"""MXNet's log switches cvcore turns off by default."""


def set_mxnet_defaults() -> None:
    """The thread count (:func:`set_default_threads`) and quiet logs (:data:`QUIET`), where the user set neither."""
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    set_default_threads()


def set_default_threads() -> None:
    """Set ``OMP_NUM_THREADS`` to all usable cores unless it is already set."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    if "mxnet" in sys.modules:
        warnings.warn(
            "mxnet was imported before cvcore, so cvcore could not set OMP_NUM_THREADS; "
            "MXNet may use only half of the cores. Import cvcore first or set OMP_NUM_THREADS.",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    os.environ["OMP_NUM_THREADS"] = str(usable_cores())
