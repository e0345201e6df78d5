"""Start MXNet's parameter-server kvstore on this machine: a scheduler, servers and workers.

Each worker runs the given command with ``DMLC_ROLE=worker``; inside it,
``mx.kv.create("dist_sync")`` joins the group. The scheduler and servers are
MXNet itself (importing mxnet with ``DMLC_ROLE=server`` runs the server loop).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Sequence

from ..errors import CvcoreError

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def launch(command: Sequence[str], *, workers: int = 2, servers: int = 1, port: int | None = None, timeout: float | None = None) -> int:
    """Run ``command`` as ``workers`` processes of one ``dist_sync`` group; returns the worst exit code."""
    if workers < 1 or servers < 1:
        raise CvcoreError(f"Need at least one worker and one server, got workers={workers}, servers={servers}.")
    base = {
        **os.environ,
        "DMLC_PS_ROOT_URI": HOST,
        "DMLC_PS_ROOT_PORT": str(port or free_port()),
        "DMLC_NUM_SERVER": str(servers),
        "DMLC_NUM_WORKER": str(workers),
        "DMLC_NODE_HOST": HOST,
    }
    serve = [sys.executable, "-c", "import mxnet"]
    helpers = [subprocess.Popen(serve, env={**base, "DMLC_ROLE": "scheduler"})]
    helpers += [subprocess.Popen(serve, env={**base, "DMLC_ROLE": "server"}) for _ in range(servers)]
    procs = [
        subprocess.Popen(list(command), env={**base, "DMLC_ROLE": "worker", "CVCORE_WORKER_RANK_HINT": str(rank)})
        for rank in range(workers)
    ]
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        code = _wait_workers(procs, deadline)
        if code == 0:
            # the scheduler and servers exit once every worker has finalized its kvstore
            joined = all(_wait(helper, time.monotonic() + 10) != 124 for helper in helpers)
            if not joined:
                print(
                    "cvcore launch: the workers finished but the parameter servers were still waiting for them: "
                    "did the command create a dist_sync kvstore (e.g. [train] kvstore = \"dist_sync\")?",
                    file=sys.stderr,
                )
        return code
    finally:
        for proc in procs + helpers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_workers(procs: list[subprocess.Popen], deadline: float | None) -> int:
    """0 when every worker succeeds; the first failure's code at once (the others would wait forever)."""
    while True:
        codes = [p.poll() for p in procs]
        failed = [c for c in codes if c not in (None, 0)]
        if failed:
            return failed[0]
        if all(c == 0 for c in codes):
            return 0
        if deadline is not None and time.monotonic() > deadline:
            return 124
        time.sleep(0.1)


def _wait(proc: subprocess.Popen, deadline: float | None) -> int:
    try:
        return proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return 124
