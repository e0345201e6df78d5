"""cvcore picks OMP_NUM_THREADS before MXNet starts, unless the user chose."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def python(code: str, cpus: set[int] | None = None, **env_changes) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter without OMP_NUM_THREADS, on the CPUs ``cpus`` (as ``taskset`` would)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(env_changes)
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None
    return subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env, check=True, timeout=300,
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


@pytest.mark.first_party
def test_importing_a_benchmark_or_a_plugin_module_first_still_sets_the_defaults():
    """Scripts and plugin modules import cvcore before MXNet (isort must not reorder them: see their `isort: split`)."""
    root = Path(__file__).resolve().parents[1]
    scripts = sorted(p for p in (root / "benchmarks").glob("*.py") if not p.name.startswith("_"))
    code = ("import importlib.util, os, sys\n"
            "sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"  # as `python SCRIPT` does: the folder's helpers import
            "spec = importlib.util.spec_from_file_location('bench', sys.argv[1])\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            "print('mxnet' in sys.modules, os.environ.get('OMP_NUM_THREADS'), os.environ.get('MXNET_SUBGRAPH_VERBOSE'))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    started = {script: subprocess.Popen([sys.executable, "-W", "always", "-c", code, str(script)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env) for script in scripts}  # side by side
    for script, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, (script, stderr[-2000:])
        uses_mxnet, threads, verbose = stdout.split()
        if uses_mxnet == "True":  # run.py only starts the others
            assert [threads, verbose] == [str(len(os.sched_getaffinity(0))), "0"], script
        assert "imported before cvcore" not in stderr, script
    for module in ("cvcore_pose.coco", "cvcore_int8_vnni.machine"):
        found = python(f"import {module}, os; print(os.environ['OMP_NUM_THREADS'])").stdout.strip()
        assert found == str(len(os.sched_getaffinity(0))), module
