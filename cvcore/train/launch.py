"""Start MXNet's parameter-server job: a scheduler, servers and workers, on this machine, over ssh, or under SLURM.

Each worker runs the given command with ``DMLC_ROLE=worker``; inside it,
``mx.kv.create("dist_sync")`` joins the group. The scheduler and servers are
MXNet itself (importing mxnet with ``DMLC_ROLE`` set runs their loop). Every
process runs under :mod:`cvcore.train.supervise`, which prefixes its output
and reports its last lines if it fails; the first process that fails stops the
whole job.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from typing import Iterator, Sequence

from ..errors import ConfigError, CvcoreError
from .cluster import Host, Process, address, place
from .supervise import PORT_VARIABLE

LAUNCHERS = ("local", "ssh", "slurm")
HELPERS = ("scheduler", "server")
"""The roles that serve the workers: they never end before the workers do, and hold nothing to save."""
LOCAL = "127.0.0.1"
SSH = "ssh -o BatchMode=yes"
FORWARDED = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "HOME", "DMLC_INTERFACE")
FORWARDED_PREFIXES = ("MXNET_", "CVCORE_", "PS_", "KMP_")
"""The caller's environment a remote process gets (besides the DMLC variables): its Python, threads and settings."""
GRACE_S = 30.0
"""How long a stopped worker may take to finish its step and exit before it is killed."""
HELPERS_EXIT_S = 10.0


def free_port(host: str = LOCAL) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def launch(command: Sequence[str], *, workers: int = 2, servers: int = 1, port: int | None = None, timeout: float | None = None,
           hosts: list[Host] | None = None, launcher: str = "local", ssh: str = SSH) -> int:
    """Run ``command`` as ``workers`` processes of one parameter-server group; returns the job's exit code.

    ``launcher="local"`` starts everything here; ``"ssh"`` starts each process on
    its host of ``hosts`` (see :func:`cvcore.train.cluster.place`) with
    ``ssh HOST 'cd CWD && env ... COMMAND'``; ``"slurm"`` runs ``srun`` inside the
    current allocation. 0 when every worker succeeds; otherwise the first
    failure's code, 124 after ``timeout`` seconds, 130 after Ctrl-C.
    """
    if launcher not in LAUNCHERS:
        raise ConfigError(f"launcher = {launcher!r}: use one of {', '.join(LAUNCHERS)}.")
    if launcher == "slurm":
        return _launch_slurm(command, workers, servers, port, timeout)
    if launcher == "ssh" and not hosts:
        raise ConfigError("The ssh launcher needs hosts: cvcore launch --hosts FILE (one host per line).")
    processes = place(hosts if launcher == "ssh" else [Host(LOCAL, workers)], workers, servers)
    root = address(processes[0].host)
    base = {"DMLC_PS_ROOT_URI": root, "DMLC_PS_ROOT_PORT": str(port or free_port(root if launcher == "local" else "")),
            "DMLC_NUM_SERVER": str(servers), "DMLC_NUM_WORKER": str(workers)}
    job = Job()
    for process in processes:
        env = {**base, "DMLC_ROLE": process.role, "DMLC_NODE_HOST": address(process.host)}
        argv = supervised(process, command, watch_stdin=launcher == "ssh")
        if launcher == "local":
            job.start(process, argv, {**os.environ, **env})
        else:
            job.start(process, [*shlex.split(ssh), process.host, remote_command(argv, {**forwarded(os.environ), **env})],
                      None, remote=True)
    return job.run(timeout)


def supervised(process: Process, command: Sequence[str], *, watch_stdin: bool = False) -> list[str]:
    """The argv that runs ``process`` (``command`` for a worker) under :mod:`cvcore.train.supervise`."""
    argv = [sys.executable, "-m", "cvcore.train.supervise", "--role", process.role, "--index", str(process.index),
            "--host", process.host]
    return argv + (["--watch-stdin"] if watch_stdin else []) + ["--", *command]


def forwarded(environ: dict[str, str]) -> dict[str, str]:
    """The part of the caller's environment a remote process needs to run the same Python with the same settings."""
    return {key: value for key, value in environ.items() if key in FORWARDED or key.startswith(FORWARDED_PREFIXES)}


def remote_command(argv: Sequence[str], env: dict[str, str], cwd: str | None = None) -> str:
    """One shell line for ssh: the caller's working directory, ``env``, then ``argv``."""
    assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in sorted(env.items()))
    return f"cd {shlex.quote(cwd or os.getcwd())} && exec env {assignments} {shlex.join(argv)}"


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt here, even where the launcher was started with them ignored
    (a background job of a non-interactive shell, nohup): stopping the job must always reach every process."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Job:
    """The processes of one job: started, watched until the workers finish or one fails, and stopped together."""

    def __init__(self) -> None:
        self.running: list[tuple[Process, subprocess.Popen, bool]] = []
        self.stop_signal = signal.SIGINT

    def start(self, process: Process, argv: list[str], env: dict[str, str] | None, *, remote: bool = False) -> None:
        stdin = subprocess.PIPE if remote else subprocess.DEVNULL  # a remote supervisor stops its process when this closes
        popen = subprocess.Popen(argv, env=env, stdin=stdin, start_new_session=True)
        self.running.append((process, popen, remote))

    def run(self, timeout: float | None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with interruptible():
                code = self._watch(deadline)
        except KeyboardInterrupt:
            print("cvcore launch: interrupted; stopping every process (the workers save a checkpoint first)", file=sys.stderr)
            self.stop(GRACE_S)
            return 130
        if code == 0:
            return self._join_helpers()
        self.stop(0.0)
        return code

    def _watch(self, deadline: float | None) -> int:
        workers = [(p, popen) for p, popen, _ in self.running if p.role not in HELPERS]
        helpers = [(p, popen) for p, popen, _ in self.running if p.role in HELPERS]
        while True:
            for process, popen in workers:
                code = popen.poll()
                if code not in (None, 0):
                    return self._failed(process, code)
            if all(popen.poll() == 0 for _, popen in workers):
                return 0
            for process, popen in helpers:
                code = popen.poll()
                if code not in (None, 0):  # it also ends, with 0, as the last workers exit
                    return self._failed(process, code)
            if deadline is not None and time.monotonic() > deadline:
                print("cvcore launch: timed out; stopping every process", file=sys.stderr)
                return 124
            time.sleep(0.1)

    @staticmethod
    def _failed(process: Process, code: int) -> int:
        print(f"cvcore launch: {process} on {process.host} failed (exit code {code}); stopping the job.", file=sys.stderr)
        return code

    def _join_helpers(self) -> int:
        """The scheduler and servers exit once every worker has finalized its kvstore."""
        deadline = time.monotonic() + HELPERS_EXIT_S
        for _, popen, _ in self.running:
            try:
                popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print("cvcore launch: the workers finished but the parameter servers were still waiting for them: "
                      "did the command create a dist kvstore (e.g. [train] kvstore = \"dist_sync\")?", file=sys.stderr)
                break
        self.stop(0.0)
        return 0

    def stop(self, grace: float) -> None:
        """Ask the workers to stop (SIGINT, or closing a remote one's input) and give them ``grace`` seconds to
        finish their step, which needs the servers; then kill what is left, servers and scheduler included."""
        workers = [(popen, remote) for process, popen, remote in self.running if process.role not in HELPERS]
        for popen, remote in workers:
            if popen.poll() is None:
                if remote:
                    popen.stdin.close()
                else:
                    popen.send_signal(self.stop_signal)
        deadline = time.monotonic() + grace
        for popen, _ in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(max(0.0, deadline - time.monotonic()))
        for _, popen, remote in self.running:
            if popen.poll() is None:
                if remote and not popen.stdin.closed:
                    popen.stdin.close()  # its supervisor kills the remote process when the connection ends
                with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()


def _launch_slurm(command: Sequence[str], workers: int, servers: int, port: int | None, timeout: float | None) -> int:
    """``srun`` one task per process of the job inside the current allocation; each task finds its role itself."""
    if "SLURM_JOB_ID" not in os.environ:
        raise CvcoreError("--launcher slurm runs inside a SLURM allocation (salloc or an sbatch script): SLURM_JOB_ID is not set.")
    if workers < 1 or servers < 1:
        raise ConfigError(f"Need at least one worker and one server, got workers={workers}, servers={servers}.")
    tasks = 1 + servers + workers
    argv = ["srun", f"--ntasks={tasks}", "--kill-on-bad-exit=1", sys.executable, "-m", "cvcore.train.supervise",
            "--slurm", str(workers), str(servers), "--", *command]
    job = Job()
    job.stop_signal = signal.SIGTERM  # srun forwards it to every task (a first SIGINT only makes srun print the tasks' states)
    job.start(Process("srun", 0, socket.gethostname()), argv, {**os.environ, PORT_VARIABLE: str(port or free_port(""))})
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        with interruptible():
            code = _wait_one(job.running[0][1], deadline)
    except KeyboardInterrupt:
        print("cvcore launch: interrupted; stopping the job step", file=sys.stderr)
        job.stop(GRACE_S)
        return 130
    if code != 0:
        job.stop(0.0)
    return code


def _wait_one(popen: subprocess.Popen, deadline: float | None) -> int:
    try:
        return popen.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        print("cvcore launch: timed out; stopping the job step", file=sys.stderr)
        return 124
