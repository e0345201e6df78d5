"""cvcore picks OMP_NUM_THREADS before MXNet starts, unless the user chose."""
from __future__ import annotations

import os
import subprocess
import sys

from cvcore._environment import usable_cores


def python(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env, check=True)


def test_default_is_every_usable_core():
    out = python("import cvcore, os; print(os.environ['OMP_NUM_THREADS'])").stdout
    assert int(out) == usable_cores()


def test_the_users_choice_is_kept():
    assert python("import cvcore, os; print(os.environ['OMP_NUM_THREADS'])", OMP_NUM_THREADS="1").stdout.strip() == "1"


def test_importing_mxnet_first_warns():
    result = python("import mxnet, cvcore, os; print(os.environ.get('OMP_NUM_THREADS'))")
    assert result.stdout.strip() == "None"
    assert "mxnet was imported before cvcore" in result.stderr
