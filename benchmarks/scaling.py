"""Distributed training on MXNet's parameter server: bytes and time per step measured here, scaling estimated from them.

For each model (ImageNet-size classifiers with random weights, 64x64 inputs,
batch 8 per worker) `cvcore launch` trains 12 steps of ``dist_sync`` with 1, 2
and 4 workers and one server on this machine. Every worker reads the bytes
the loopback interface has carried and the clock after each step; the later
half of the steps gives the bytes per step and the median step time. The workers
split the machine's cores between them, so the step time with more workers
here shows the cost of sharing 2 cores, not of the network.

The estimate: each of N workers pushes its gradients (P bytes) and pulls
the summed ones (P bytes) every step; S servers each receive and send
N * P / S. With full-duplex links of a stated bandwidth and servers on their
own machines, communication takes max(P, N * P / S) / bandwidth per step;
without overlap of computation and communication (pessimistic: MXNet pushes
each layer's gradients as backward reaches it) the efficiency is
compute / (compute + communication). Computation is given two ways: the
step time measured here with one worker, and a stated accelerator step.
Bytes are what the loopback interface carried per step (gradients pushed
plus weights pulled, ps-lite's headers included), shared out per worker;
half of it is taken as P.

    python benchmarks/scaling.py [--models resnet18_v1b,resnet50_v1b] [--workers 1,2,4] [--bandwidth-gbit 10]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import cvcore
from cvcore.data.synthetic.classification import synthesize
from cvcore.deploy.benchmark import write_report
from cvcore.deploy.machine import fingerprint
from cvcore.tables import table

RESULTS = Path(__file__).parent / "results"
MODELS = ("resnet18_v1b", "resnet50_v1b", "mobilenet1.0")
WORKER_COUNTS = (1, 2, 4)
BATCH, STEPS, SIZE = 8, 12, 64
MACHINES, SERVERS = (8, 32, 100), (1, 4, 16)
ACCELERATOR_STEP_S = 0.1
"""The stated compute time of a step on an accelerator (about a ResNet-50 step of 32 images on one V100-class GPU)."""

WORKER = textwrap.dedent("""
    import json, os, sys, time
    import cvcore
    import mxnet as mx
    import numpy as np
    from cvcore.pipeline import Pipeline
    from cvcore.train import Callback

    model, root, out, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def loopback_bytes():  # bytes sent over loopback so far by every process: ps-lite's messages, headers included
        with open("/proc/net/dev") as handle:
            for line in handle:
                name, _, fields = line.partition(":")
                if name.strip() == "lo":
                    return int(fields.split()[8])  # transmit bytes
        raise RuntimeError("no loopback interface in /proc/net/dev")

    marks = []

    class Clock(Callback):
        def on_step_end(self, state, record):
            mx.nd.waitall()
            marks.append((time.perf_counter(), loopback_bytes()))

    mx.random.seed(0)
    pipeline = Pipeline(backbone=model, classes=10, input_shape=[1, 3, 64, 64], data={"dataset": "image_folder", "root": root})
    workers = int(os.environ["DMLC_NUM_WORKER"])
    train = pipeline.task.dataset(pipeline, "train")
    history = pipeline.fit(train.take(batch * workers * 12), epochs=1, batch_size=batch, lr=0.01, kvstore="dist_sync",
                           progress=False, hybridize=True, callbacks=[Clock()])
    later = marks[len(marks) // 2:]
    steps = np.diff([m[0] for m in later])
    traffic = (later[-1][1] - later[0][1]) / (len(later) - 1) / workers  # this worker's share of the loopback bytes
    params = sum(p.data().size * 4 for p in pipeline.net.collect_params().values() if p.grad_req != "null")
    with open(os.path.join(out, f"rank{history['rank']}.json"), "w") as handle:
        json.dump({"step_s": float(np.median(steps)), "params_bytes": params, "traffic_bytes": traffic}, handle)
""")


def measure(model: str, workers: int, root: Path, work: Path) -> dict[str, Any]:
    """One ``cvcore launch`` of ``workers`` workers; their step time (median over workers) and bytes per step (worker 0's)."""
    out = work / f"{model}-{workers}"
    out.mkdir(parents=True, exist_ok=True)
    script = work / "worker.py"
    script.write_text(WORKER)
    cores = os.cpu_count() or 1
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, cores // workers))}
    command = [sys.executable, "-m", "cvcore.cli", "launch", "-n", str(workers), "-s", "1", "--timeout", "900", "--",
               sys.executable, str(script), model, str(root), str(out), str(BATCH)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{model} with {workers} workers failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    ranks = [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(workers)]
    step_s = sorted(r["step_s"] for r in ranks)[len(ranks) // 2]
    return {"workers": workers, "threads_per_worker": int(env["OMP_NUM_THREADS"]), "step_s": step_s,
            "params_bytes": ranks[0]["params_bytes"], "traffic_bytes": ranks[0]["traffic_bytes"]}


def efficiency(compute_s: float, gradient_bytes: float, machines: int, servers: int, bandwidth: float) -> float:
    """compute / (compute + communication), communication = max(worker link, busiest server link) / bandwidth."""
    communication = max(gradient_bytes, machines * gradient_bytes / servers) / bandwidth
    return compute_s / (compute_s + communication)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--workers", default=",".join(map(str, WORKER_COUNTS)))
    parser.add_argument("--bandwidth-gbit", type=float, default=10.0, help="the network link of every machine (Gbit/s)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    machine = fingerprint()
    print(f"{machine['cpu']} ({', '.join(machine['cpu_flags'])}), {machine['cores']} cores")
    bandwidth = args.bandwidth_gbit * 1e9 / 8
    measured: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "data"
        synthesize(root, classes=10, train_per_class=4 * BATCH * STEPS // 10 + 1, val_per_class=1, size=SIZE)
        for model in args.models.split(","):
            measured[model] = [measure(model, int(n), root, Path(work)) for n in args.workers.split(",")]
            print(f"  {model}: done", file=sys.stderr, flush=True)

    print(table([(model, r["workers"], r["threads_per_worker"], f"{r['params_bytes'] / 1e6:.1f}", f"{r['traffic_bytes'] / 1e6:.1f}",
                  f"{r['step_s']:.3f}") for model, rows in measured.items() for r in rows],
                ("model", "workers", "threads each", "weights MB", "sent MB/step/worker", "step s")))
    estimates = []
    for model, rows in measured.items():
        one = rows[0]
        computes = (("measured here, 1 worker", one["step_s"]), (f"stated accelerator, {ACCELERATOR_STEP_S} s", ACCELERATOR_STEP_S))
        for label, compute in computes:
            for servers in SERVERS:
                estimates.append({"model": model, "compute": label, "compute_s": compute, "servers": servers, **{
                    f"machines_{n}": efficiency(compute, one["traffic_bytes"] / 2, n, servers, bandwidth) for n in MACHINES}})
    print(table([(e["model"], e["compute"], e["servers"], *(f"{e[f'machines_{n}']:.0%}" for n in MACHINES)) for e in estimates],
                ("model", "compute per step", "servers", *(f"{n} machines" for n in MACHINES))))
    write_report(args.results / "scaling.json", "scaling", cvcore=cvcore.__version__, batch_per_worker=BATCH, input=SIZE,
                 steps=STEPS, bandwidth_gbit=args.bandwidth_gbit, accelerator_step_s=ACCELERATOR_STEP_S, measured=measured,
                 estimates=estimates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
