"""Run one process of a parameter-server job and watch over it: ``python -m cvcore.train.supervise ... -- COMMAND``.

`cvcore launch` starts every scheduler, server and worker through this
wrapper, on this machine, over ssh or under ``srun``. It prefixes each line of
the process's output with the process's role and host, keeps its last lines,
and when the process fails prints them with its role, host and exit code.
Ctrl-C, SIGTERM (what ``srun`` forwards) or, with ``--watch-stdin``, the end of
its standard input (the ssh connection closed by the launcher) stop the process:
SIGINT first, so that a worker can finish its step, then SIGKILL after
``--grace`` seconds. Under SLURM (``--slurm WORKERS SERVERS``) the role comes
from ``SLURM_PROCID``: task 0 is the scheduler, the next ``SERVERS`` tasks are
servers, the rest workers.
"""
from __future__ import annotations

import argparse
import collections
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Sequence

from .cluster import Process, address, expand_nodelist

SERVE = [sys.executable, "-c", "import mxnet"]
"""A scheduler or server: importing MXNet with ``DMLC_ROLE`` set runs its loop until the workers finish."""
TAIL_LINES = 20
RANK_HINT = "CVCORE_WORKER_RANK_HINT"
"""A worker's index in the launch order (MXNet assigns ``kvstore.rank`` by the order workers reach the scheduler)."""
PORT_VARIABLE = "CVCORE_PS_PORT"
"""The scheduler's port, chosen by the launcher and read by every task under SLURM."""


def slurm_process(workers: int, servers: int, environ: dict[str, str]) -> tuple[Process, dict[str, str]]:
    """This SLURM task's process and its DMLC variables, from ``SLURM_PROCID`` and the step's node list."""
    rank = int(environ["SLURM_PROCID"])
    role, index = ("scheduler", 0) if rank == 0 else ("server", rank - 1) if rank <= servers else ("worker", rank - 1 - servers)
    host = environ.get("SLURMD_NODENAME") or socket.gethostname()
    nodes = expand_nodelist(environ.get("SLURM_STEP_NODELIST") or environ["SLURM_JOB_NODELIST"])
    variables = {"DMLC_ROLE": role, "DMLC_PS_ROOT_URI": address(nodes[0]), "DMLC_PS_ROOT_PORT": environ[PORT_VARIABLE],
                 "DMLC_NUM_SERVER": str(servers), "DMLC_NUM_WORKER": str(workers), "DMLC_NODE_HOST": address(host)}
    return Process(role, index, host), variables


class Supervisor:
    """One running process, its output relayed with a prefix and its last lines kept."""

    def __init__(self, process: Process, command: Sequence[str], env: dict[str, str], grace: float) -> None:
        self.process, self.grace = process, grace
        self.prefix = f"[{process} @ {process.host}] "
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.child = subprocess.Popen(list(command), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
        self.stopping = False
        self.relay = threading.Thread(target=self._relay, daemon=True)
        self.relay.start()

    def _relay(self) -> None:
        for line in self.child.stdout:
            self.tail.append(line.rstrip("\n"))
            sys.stdout.write(self.prefix + line)
            sys.stdout.flush()

    def stop(self) -> None:
        """A worker: SIGINT now, SIGKILL if it is still running ``grace`` seconds later (or at a second request).
        A scheduler or server holds nothing to save: SIGKILL."""
        if self.child.poll() is not None:
            return
        if self.stopping or self.process.role != "worker":
            self.stopping = True
            self.child.kill()
            return
        self.stopping = True
        self.child.send_signal(signal.SIGINT)
        timer = threading.Timer(self.grace, lambda: self.child.poll() is None and self.child.kill())
        timer.daemon = True
        timer.start()

    def watch(self, fd: int) -> None:
        """Stop the process when file descriptor ``fd`` reaches its end (the launcher's ssh connection went away)."""
        def wait_for_end() -> None:
            while os.read(fd, 1024):  # unbuffered: a buffered stdin would hold its lock at interpreter shutdown
                pass
            self.stop()
        threading.Thread(target=wait_for_end, daemon=True).start()

    def wait(self) -> int:
        code = self.child.wait()
        self.relay.join(5)
        if code != 0 and not self.stopping:
            lines = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
            sys.stderr.write(f"cvcore launch: {self.process} on {self.process.host} exited with code {code}; "
                             f"its last lines:\n{lines}\n")
            sys.stderr.flush()
        return code if code >= 0 else 128 - code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cvcore.train.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("scheduler", "server", "worker"))
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--host", default=socket.gethostname())
    parser.add_argument("--slurm", type=int, nargs=2, metavar=("WORKERS", "SERVERS"))
    parser.add_argument("--watch-stdin", action="store_true")
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    env = dict(os.environ)
    if args.slurm:
        process, variables = slurm_process(*args.slurm, env)
        env.update(variables)
    else:
        process = Process(args.role or env.get("DMLC_ROLE", "worker"), args.index, args.host)
    if process.role != "worker":
        command = SERVE
    elif not command:
        parser.error("give the worker's command after --")
    else:
        env[RANK_HINT] = str(process.index)
    supervisor = Supervisor(process, command, env, args.grace)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: supervisor.stop())
    if args.watch_stdin:
        supervisor.watch(sys.stdin.fileno())
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
