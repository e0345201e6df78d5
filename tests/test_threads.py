"""cvcore picks OMP_NUM_THREADS before MXNet starts, unless the user chose."""
from __future__ import annotations

import os
import subprocess
import sys


def python(code: str, cpus: set[int] | None = None, **env_changes) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter without OMP_NUM_THREADS, on the CPUs ``cpus`` (as ``taskset`` would)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(env_changes)
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None
    return subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env, check=True,
                          preexec_fn=pin)


def test_default_is_every_core_the_process_may_run_on():
    code = "import cvcore, os; print(os.environ['OMP_NUM_THREADS'])"
    first = min(os.sched_getaffinity(0))
    assert python(code, cpus={first}).stdout.strip() == "1"  # pinned to one core, as taskset -c N does
    assert int(python(code).stdout) == len(os.sched_getaffinity(0)) >= 1


def test_the_users_choice_is_kept():
    assert python("import cvcore, os; print(os.environ['OMP_NUM_THREADS'])", OMP_NUM_THREADS="1").stdout.strip() == "1"


def test_importing_mxnet_first_warns():
    result = python("import mxnet, cvcore, os; print(os.environ.get('OMP_NUM_THREADS'))")
    assert result.stdout.strip() == "None"
    assert "mxnet was imported before cvcore" in result.stderr
