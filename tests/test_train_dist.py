"""Training on MXNet's parameter-server kvstore, started by `cvcore launch` here, over (stand-in) ssh and under (stand-in) srun."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

TINYNET = Path(__file__).parent / "fixtures" / "cvcore-tinynet"
STANDINS = Path(__file__).parent / "fixtures" / "standins"
HOSTS = ("127.0.0.1", "127.0.0.2")  # two loopback addresses: two "hosts" on this machine


def worker_script(tmp_path: Path, root: Path, *, kvstore: str = "dist_sync", batch_size: int = 6, epochs: int = 2,
                  resume: bool = False, die: tuple[int, int] | None = None, name: str = "worker.py", lr: float = 0.05) -> Path:
    """A worker that trains TinyNet (BatchNorm on fixed statistics, so batches split across workers add up exactly)
    and writes ``result<rank>.json``: its rank, steps and every step's parameter sums. ``die=(rank, step)``: that
    worker prints a last line and kills itself after that step."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {str(TINYNET)!r})
        import cvcore, cvcore.plugins, cvcore_tinynet.plugin
        import mxnet as mx
        cvcore.plugins.register_plugin(cvcore_tinynet.plugin, name="tinynet")
        from cvcore.pipeline import Pipeline
        from cvcore.train import Callback

        rank_hint = int(os.environ.get("CVCORE_WORKER_RANK_HINT", "0"))
        DIE = {die!r}
        steps = []

        class Record(Callback):
            def on_step_end(self, state, record):
                steps.append([float(p.data().asnumpy().sum()) for p in pipeline.net.collect_params().values()
                              if p.grad_req != "null"])
                if DIE is not None and DIE == (rank_hint, state.global_step):
                    print("worker", rank_hint, "is going down at step", state.global_step, flush=True)
                    os.kill(os.getpid(), signal.SIGKILL)

        mx.random.seed(0)
        pipeline = Pipeline(backbone={{"name": "tinynet", "norm_kwargs": {{"use_global_stats": True}}}}, classes=3,
                            input_shape=[1, 3, 16, 16], data={{"dataset": "image_folder", "root": {str(root)!r}}})
        history = pipeline.fit(epochs={epochs}, batch_size={batch_size}, lr={lr}, kvstore={kvstore!r}, progress=False,
                               checkpoint_every=1, resume={resume!r}, out_dir={str(tmp_path / "run")!r}, callbacks=[Record()])
        print("worker", rank_hint, "trained", history["step"], "steps", flush=True)
        with open({str(tmp_path)!r} + f"/result{{history['rank']}}.json", "w") as handle:  # one file each
            json.dump({{"rank": history["rank"], "step": history["step"], "steps": steps}}, handle)
    """))
    return script


def launch(*args: str, env: dict[str, str] | None = None, timeout: float = 200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cvcore.cli", "launch", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def results(tmp_path: Path, workers: int) -> list[dict]:
    return [json.loads((tmp_path / f"result{rank}.json").read_text()) for rank in range(workers)]


def hostfile(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text("# two hosts, one worker each\n" + "".join(f"{host} slots=1\n" for host in HOSTS))
    return path


def test_dist_sync_workers_share_every_update(tmp_path, color_folders):
    script = worker_script(tmp_path, color_folders)
    result = launch("-n", "2", "--timeout", "150", "--", sys.executable, str(script))
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = results(tmp_path, 2)
    assert first["step"] == second["step"] == 6  # 36 samples: 18 per worker, 3 batches of 6 per epoch
    assert first["steps"] == second["steps"]  # equal after every step, not only at the end
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())[-1] == "step-00000006"
    assert "[worker 0 @ 127.0.0.1]" in result.stdout  # each process's output, prefixed


def test_two_hosts_over_ssh_train_as_one_worker_on_the_combined_batch(tmp_path, color_folders):
    """Two hosts x one worker + one server, through the ssh stand-in; then one worker alone on batches twice as large."""
    log = tmp_path / "ssh.log"
    result = launch("-n", "2", "-s", "2", "--hosts", str(hostfile(tmp_path)), "--ssh-command", str(STANDINS / "fake-ssh"),
                    "--timeout", "150", "--", sys.executable, str(worker_script(tmp_path, color_folders)),
                    env={"FAKE_SSH_LOG": str(log)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(log.read_text().split()) == sorted([HOSTS[0]] * 3 + [HOSTS[1]] * 2)  # scheduler, servers, workers
    assert f"[worker 1 @ {HOSTS[1]}]" in result.stdout
    distributed = results(tmp_path, 2)
    assert distributed[0]["steps"] == distributed[1]["steps"]

    alone = tmp_path / "alone"
    alone.mkdir()
    single = subprocess.run([sys.executable, str(worker_script(alone, color_folders, kvstore="device", batch_size=12))],
                            capture_output=True, text=True, timeout=200)
    assert single.returncode == 0, single.stderr[-3000:]
    combined = results(alone, 1)[0]
    assert len(combined["steps"]) == len(distributed[0]["steps"]) == 6
    np.testing.assert_allclose(distributed[0]["steps"], combined["steps"], rtol=1e-4, atol=1e-5)


def test_under_slurm_every_task_finds_its_role(tmp_path, color_folders):
    env = {"PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}", "SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "localhost"}
    result = launch("-n", "2", "--launcher", "slurm", "--timeout", "150", "--", sys.executable,
                    str(worker_script(tmp_path, color_folders, epochs=1)), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = results(tmp_path, 2)
    assert first["steps"] == second["steps"] and first["step"] == 3
    assert "[worker 0 @ localhost]" in result.stdout and "[worker 1 @ localhost]" in result.stdout


def test_slurm_outside_an_allocation_is_refused(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLURM_")}
    result = subprocess.run([sys.executable, "-m", "cvcore.cli", "launch", "--launcher", "slurm", "--", "true"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0 and "SLURM_JOB_ID" in result.stderr


def test_a_dead_worker_stops_the_job_and_the_run_resumes_with_fewer_workers(tmp_path, color_folders):
    hosts = hostfile(tmp_path)
    started = time.monotonic()
    result = launch("-n", "2", "-s", "2", "--hosts", str(hosts), "--ssh-command", str(STANDINS / "fake-ssh"), "--timeout", "150",
                    "--", sys.executable, str(worker_script(tmp_path, color_folders, epochs=2, die=(1, 4))))
    assert time.monotonic() - started < 120  # stopped, not left waiting for the dead worker's gradients
    assert result.returncode != 0
    assert f"worker 1 on {HOSTS[1]} exited with code" in result.stderr
    assert "worker 1 is going down at step 4" in result.stderr  # its last lines come with the message
    assert f"cvcore launch: worker 1 on {HOSTS[1]} failed" in result.stderr
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert checkpoints and checkpoints[-1] <= "step-00000004"

    alone = worker_script(tmp_path, color_folders, epochs=2, resume=True, kvstore="device", name="resume.py")
    resumed = subprocess.run([sys.executable, str(alone)], capture_output=True, text=True, timeout=200)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = [json.loads(line) for line in (tmp_path / "run" / "train.jsonl").read_text().splitlines()]
    resume = next(entry for entry in log if entry.get("event") == "resume")
    assert resume["workers_before"] == 2
    # epoch 2 went on from the samples the two workers had not taken: 36 - 12 * (step - 3) left, in batches of 6
    done_in_epoch_2 = int(checkpoints[-1][-8:]) - 3
    assert results(tmp_path, 1)[0]["step"] == int(checkpoints[-1][-8:]) + (36 - 12 * done_in_epoch_2) // 6


def start_long_job(tmp_path: Path, color_folders: Path, *options: str) -> tuple[subprocess.Popen, Path, Path]:
    """A job of 200 epochs, once worker 0 has checkpointed its second step: (the launcher, the checkpoints, the worker script)."""
    script = worker_script(tmp_path, color_folders, epochs=200, lr=0.01)
    proc = subprocess.Popen([sys.executable, "-m", "cvcore.cli", "launch", "-n", "2", *options, "--", sys.executable, str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoints = tmp_path / "run" / "checkpoints"
    deadline = time.monotonic() + 120
    while not (checkpoints.is_dir() and any(p.name >= "step-00000002" for p in checkpoints.glob("step-*"))):
        assert time.monotonic() < deadline and proc.poll() is None, "the job did not reach its second step"
        time.sleep(0.2)
    return proc, checkpoints, script


@pytest.mark.parametrize("over", ["local", "ssh"])
def test_ctrl_c_reaches_every_process_and_keeps_the_checkpoint(tmp_path, color_folders, over):
    hosts = ["-s", "2", "--hosts", str(hostfile(tmp_path)), "--ssh-command", str(STANDINS / "fake-ssh")] if over == "ssh" else []
    proc, checkpoints, script = start_long_job(tmp_path, color_folders, *hosts)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends to the launcher (its processes have sessions of their own)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr
    time.sleep(1)  # a supervisor whose connection closed stops its worker at once
    listing = subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True)
    assert listing.stdout.strip() == ""  # no worker left behind
    latest = sorted(checkpoints.glob("step-*"))[-1]
    assert (latest / "state.json").is_file() and json.loads((latest / "state.json").read_text())["state"]["global_step"] > 0


@pytest.mark.parametrize("args, message", [
    (["--hosts", "missing-file", "--", "true"], "Cannot read the host file"),
    (["--launcher", "ssh", "--", "true"], "needs hosts"),
    (["-n", "3", "--hosts", "{hosts}", "--", "true"], "3 workers do not fit the 2 worker slots"),
])
def test_launch_mistakes_are_named(tmp_path, args, message):
    args = [arg.replace("{hosts}", str(hostfile(tmp_path))) for arg in args]
    result = launch(*args, timeout=60)
    assert result.returncode != 0 and message in result.stderr


def test_dist_async_workers_train_with_the_servers_applying_updates(tmp_path, color_folders):
    result = launch("-n", "2", "--timeout", "150", "--", sys.executable,
                    str(worker_script(tmp_path, color_folders, kvstore="dist_async")))
    assert result.returncode == 0, result.stderr[-3000:]
    for worker in results(tmp_path, 2):
        steps = np.array(worker["steps"])
        assert worker["step"] == 6 and np.isfinite(steps).all()
        assert not np.allclose(steps[0], steps[-1])  # the weights the worker pulled back kept changing
    latest = sorted((tmp_path / "run" / "checkpoints").iterdir())[-1]
    assert (latest / "model.params").is_file() and not (latest / "trainer.states").exists()  # the servers own the optimizer


def test_dist_async_refuses_gradient_clipping():
    from cvcore.errors import ConfigError
    from cvcore.train import TrainConfig

    with pytest.raises(ConfigError, match="clip_gradient_norm does not work with kvstore"):
        TrainConfig.from_options({"kvstore": "dist_async", "clip_gradient_norm": 1.0})


def test_a_dead_server_stops_the_job_naming_it(tmp_path, color_folders):
    proc, checkpoints, script = start_long_job(tmp_path, color_folders)
    subprocess.run(["pkill", "-KILL", "-f", "cvcore.train.supervise --role server"], check=True)  # the server's machine is gone
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode != 0 and "cvcore launch: server 0 on 127.0.0.1 failed (exit code -9); stopping the job." in stderr
    assert subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True).stdout.strip() == ""
    latest = sorted(checkpoints.glob("step-*"))[-1]
    assert (latest / "model.params").is_file() and (latest / "state.json").is_file()
