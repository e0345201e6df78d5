"""Host files, SLURM node lists, the placement of a job's processes and the command line ssh runs."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cvcore.errors import ConfigError
from cvcore.train.cluster import Host, Process, expand_nodelist, place, read_hostfile
from cvcore.train.launch import forwarded, remote_command, supervised
from cvcore.train.supervise import PORT_VARIABLE, slurm_process


def test_a_host_file_takes_names_slots_and_comments(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# the cluster\nnode-a\n\nnode-b slots=4   # the big one\n10.0.0.7:2\n")
    assert read_hostfile(path) == [Host("node-a"), Host("node-b", 4), Host("10.0.0.7", 2)]


@pytest.mark.parametrize("text, message", [
    ("node-a\nnode b c\n", r"hosts:2: 'node b c' is not a host line"),
    ("node-a slots=0\n", r"hosts:1: 'node-a slots=0' is not a host line"),
    ("# nobody\n\n", "names no host"),
])
def test_a_bad_host_file_names_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "hosts"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_hostfile(path)


def test_slurm_node_lists_expand_in_order_with_their_zero_padding():
    assert expand_nodelist("node[01-03,07],gpu5,rack2-[8-9]") == ["node01", "node02", "node03", "node07", "gpu5", "rack2-8", "rack2-9"]
    with pytest.raises(ConfigError, match="cannot read the range"):
        expand_nodelist("node[a-c]")


def test_placement_puts_the_scheduler_first_spreads_servers_and_fills_slots():
    processes = place([Host("a", 2), Host("b", 1)], workers=3, servers=2)
    assert processes == [Process("scheduler", 0, "a"), Process("server", 0, "a"), Process("server", 1, "b"),
                         Process("worker", 0, "a"), Process("worker", 1, "a"), Process("worker", 2, "b")]
    assert [str(p) for p in processes[:2]] == ["scheduler", "server 0"]
    with pytest.raises(ConfigError, match="4 workers do not fit the 3 worker slots of 2 hosts"):
        place([Host("a", 2), Host("b", 1)], workers=4, servers=1)
    with pytest.raises(ConfigError, match="at least one worker and one server"):
        place([Host("a")], workers=1, servers=0)


def test_the_ssh_command_line_runs_the_callers_python_in_its_folder_with_the_job_environment(tmp_path):
    """What ssh would hand the remote shell, run by a local shell."""
    probe = [sys.executable, "-c", "import os, sys; print(os.getcwd(), os.environ['DMLC_ROLE'], os.environ['ODD'], sys.argv[1])",
             "it's quoted"]
    line = remote_command(probe, {"DMLC_ROLE": "worker", "ODD": "a b'c"}, cwd=str(tmp_path))
    out = subprocess.run(["sh", "-c", line], capture_output=True, text=True, check=True, cwd="/").stdout.split()
    assert out == [str(tmp_path), "worker", "a", "b'c", "it's", "quoted"]


def test_only_the_environment_a_remote_process_needs_is_forwarded():
    env = {"PATH": "/bin", "OMP_NUM_THREADS": "2", "MXNET_ENGINE_TYPE": "x", "CVCORE_HOME": "y", "SECRET_TOKEN": "z",
           "DMLC_ROLE": "stale"}
    assert forwarded(env) == {"PATH": "/bin", "OMP_NUM_THREADS": "2", "MXNET_ENGINE_TYPE": "x", "CVCORE_HOME": "y"}


def test_supervised_processes_carry_their_role_and_host():
    argv = supervised(Process("worker", 1, "node-b"), ["cvcore", "train", "cfg.toml"], watch_stdin=True)
    assert argv[:3] == [sys.executable, "-m", "cvcore.train.supervise"]
    assert argv[3:] == ["--role", "worker", "--index", "1", "--host", "node-b", "--watch-stdin", "--", "cvcore", "train", "cfg.toml"]


@pytest.mark.parametrize("procid, expected", [("0", ("scheduler", 0)), ("1", ("server", 0)), ("2", ("server", 1)),
                                              ("3", ("worker", 0)), ("5", ("worker", 2))])
def test_a_slurm_task_takes_its_role_from_its_rank(procid, expected):
    environ = {"SLURM_PROCID": procid, "SLURM_STEP_NODELIST": "localhost", "SLURMD_NODENAME": "localhost", PORT_VARIABLE: "9123"}
    process, variables = slurm_process(3, 2, environ)
    assert (process.role, process.index) == expected
    assert variables == {"DMLC_ROLE": expected[0], "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": "9123",
                         "DMLC_NUM_SERVER": "2", "DMLC_NUM_WORKER": "3", "DMLC_NODE_HOST": "127.0.0.1"}


def test_a_failing_process_reports_its_role_host_code_and_last_lines():
    probe = "import sys; [print('line', i) for i in range(30)]; sys.exit(3)"
    result = subprocess.run([sys.executable, "-m", "cvcore.train.supervise", "--role", "worker", "--index", "2", "--host", "node-c",
                             "--", sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=os.environ)
    assert result.returncode == 3
    assert "[worker 2 @ node-c] line 0" in result.stdout
    assert "worker 2 on node-c exited with code 3; its last lines:\n    line 10\n" in result.stderr
    assert "line 9\n" not in result.stderr and result.stderr.rstrip().endswith("line 29")
