"""GluonCV as an oracle: its parameter files and outputs, computed in a throwaway virtual environment.

GluonCV is never imported by cvcore or by the test process. :func:`run_gluoncv`
builds a venv layered over this environment's site-packages (so mxnet and
numpy are not installed again), installs GluonCV 0.10.5 into it without its
dependency pins, and runs a script there that builds each model with a fixed
seed, saves its parameters (``save_parameters``) and its output for a fixed
random input.

Run as a script, it writes the test data of ``tests/data/gluoncv`` for model
names: a name's table is copied from the shared reference when that has it,
and read off GluonCV (through :func:`run_gluoncv`) when it has not::

    python tests/gluoncv_oracle.py resnet34_v1b resnet50_v1e --reference PATH/TO/reference/gluoncv
"""
from __future__ import annotations

import argparse
import json
import site
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

import numpy

GLUONCV_PACKAGES = (
    "gluoncv==0.10.5",
    # what importing gluoncv.model_zoo needs beyond mxnet and numpy (GluonCV's own pins are too old)
    "portalocker",
    "yacs",
    "autocfg",
    "pillow",
    "scipy<1.12",  # later releases need numpy>=1.24 (numpy.exceptions)
)
DATA_DIR = Path(__file__).parent / "data" / "gluoncv"
GENERATED_SOURCE = "tests/gluoncv_oracle.py: GluonCV 0.10.5 on mxnet 1.9.1"

CHILD_SCRIPT = r'''
"""Runs inside the GluonCV venv: build, randomize, save and run each model."""
import json, sys
from pathlib import Path

import mxnet as mx
import numpy as np
from gluoncv.model_zoo import get_model

job = json.loads(Path(sys.argv[1]).read_text())
out = Path(job["out"])
seed = job["seed"]


class Xavier(mx.init.Xavier):
    """Xavier for weights; vectors GluonCV leaves to the default initializer (a SymbolBlock's biases) start at 0."""

    def _init_weight(self, name, arr):
        if arr.ndim < 2:
            arr[:] = 0
        else:
            super()._init_weight(name, arr)


x = np.random.RandomState(seed).uniform(-1, 1, size=job["input_shape"]).astype("float32")
np.save(out / "input.npy", x)
for name in job["models"]:
    mx.random.seed(seed)
    net = get_model(name, pretrained=False, **job["kwargs"].get(name, {}))
    net.initialize(Xavier(magnitude=2))
    net(mx.nd.array(x))  # settle deferred shapes
    # Randomize what initialization leaves constant (norm statistics, scales, shifts, biases) so that
    # every parameter shapes the output: a zero-initialized scale would hide a wrong branch.
    rng = np.random.RandomState(seed)
    for key, param in sorted(net._collect_params_with_prefix().items()):
        shape = param.shape
        if key.endswith(("gamma", "running_var", "moving_var")):  # moving_*: a SymbolBlock's norm statistics
            param.set_data(mx.nd.array(rng.uniform(0.5, 1.5, size=shape)))
        elif key.endswith(("beta", "running_mean", "moving_mean", "bias")):
            param.set_data(mx.nd.array(rng.normal(0.0, 0.1, size=shape)))
    outputs = net(mx.nd.array(x))
    outputs = [y.asnumpy() for y in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    net.save_parameters(str(out / f"{name}.params"))
    np.savez(out / f"{name}.outputs.npz", *outputs)
    params = net._collect_params_with_prefix()
    (out / f"{name}.json").write_text(json.dumps({
        "params": {key: list(param.shape) for key, param in sorted(params.items())},
        "input_shape": list(x.shape),
        "output_shapes": [list(y.shape) for y in outputs] if len(outputs) > 1 else list(outputs[0].shape),
        "param_count_total": int(sum(np.prod(p.shape) for p in params.values())),
        "param_count_trainable": int(sum(np.prod(p.shape) for p in params.values() if p.grad_req != "null")),
    }))
    print("gluoncv", name, [y.shape for y in outputs], flush=True)
'''


class OracleUnavailable(RuntimeError):
    """GluonCV could not be installed here (offline?), so there is no oracle to compare with."""


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)


def gluoncv_python(workdir: Path) -> Path:
    """The interpreter of a venv under ``workdir`` that can import GluonCV (built once per ``workdir``)."""
    env_dir = workdir / "gluoncv-venv"
    python = env_dir / "bin" / "python"
    ready = env_dir / ".ready"
    if ready.exists():
        return python
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True).stdout.strip()
    parent_sites = site.getsitepackages() + [sysconfig.get_paths()["purelib"]]
    (Path(purelib) / "_parent_env.pth").write_text("\n".join(dict.fromkeys(parent_sites)) + "\n")
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", *GLUONCV_PACKAGES])
    if installed.returncode != 0:
        raise OracleUnavailable(f"pip could not install {' '.join(GLUONCV_PACKAGES)}:\n{installed.stderr[-2000:]}")
    ready.touch()
    return python


def run_gluoncv(models: list[str], input_shape: tuple[int, ...], workdir: Path,
                kwargs: dict[str, dict] | None = None) -> dict[str, tuple[Path, numpy.ndarray, numpy.ndarray | tuple]]:
    """GluonCV's randomly initialized ``models``: name -> (its ``save_parameters`` file, the input, its output).

    A model with several outputs (a detector's ids, scores, boxes...) gives them as a tuple.

    ``kwargs`` gives a model's extra ``get_model`` arguments by name (e.g. ``pretrained_base=False``).

    Every model gets the same input, uniform in [-1, 1) with a fixed seed. The
    weights are Xavier-initialized with a fixed seed, then the norm statistics,
    scales, shifts and biases are randomized too. Files are written to
    ``workdir``, which also holds the venv (reused by later calls).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    python = gluoncv_python(workdir)
    out = workdir / "outputs"
    out.mkdir(exist_ok=True)
    script, job = workdir / "gluoncv_child.py", workdir / "job.json"
    script.write_text(CHILD_SCRIPT)
    job.write_text(json.dumps({"models": list(models), "input_shape": list(input_shape), "out": str(out), "seed": 0,
                               "kwargs": kwargs or {}}))
    ran = _run([python, script, job], cwd=workdir)
    if ran.returncode != 0:
        raise RuntimeError(f"The GluonCV script failed (exit {ran.returncode}):\n{ran.stdout[-2000:]}\n{ran.stderr[-4000:]}")
    x = numpy.load(out / "input.npy")
    return {name: (out / f"{name}.params", x, _outputs(out / f"{name}.outputs.npz")) for name in models}


def _outputs(path: Path) -> numpy.ndarray | tuple:
    with numpy.load(path) as saved:
        outputs = tuple(saved[f"arr_{index}"] for index in range(len(saved.files)))
    return outputs[0] if len(outputs) == 1 else outputs


def write_test_data(models: list[str], reference: Path | None, data_dir: Path = DATA_DIR) -> None:
    """Add the parameter tables and models.json entries of ``models`` to ``data_dir`` (read-modify-write)."""
    params_dir = data_dir / "params"
    params_dir.mkdir(parents=True, exist_ok=True)
    index_file = data_dir / "models.json"
    index = json.loads(index_file.read_text()) if index_file.exists() else {}
    reference_index = json.loads((reference / "models.json").read_text()) if reference else {}
    missing = []
    for name in models:
        table = reference / "params" / f"{name}.json" if reference else None
        if table is not None and table.exists() and reference_index.get(name, {}).get("param_count_total"):
            (params_dir / f"{name}.json").write_text(table.read_text())
            index[name] = reference_index[name]
        else:
            missing.append(name)
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            run_gluoncv(missing, (1, 3, 224, 224), Path(tmp))
            for name in missing:
                facts = json.loads((Path(tmp) / "outputs" / f"{name}.json").read_text())
                (params_dir / f"{name}.json").write_text(json.dumps(facts.pop("params")))
                index[name] = {
                    "n_save_parameters_keys": len(json.loads((params_dir / f"{name}.json").read_text())),
                    **facts,
                    "source": GENERATED_SOURCE,
                }
    index_file.write_text(json.dumps(dict(sorted(index.items())), indent=1) + "\n")
    print(f"{len(models) - len(missing)} copied from the reference, {len(missing)} read off GluonCV: {', '.join(missing) or '-'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write GluonCV parameter tables and model facts into tests/data/gluoncv.")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--reference", type=Path, help="a folder with models.json and params/<name>.json to copy from first")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    write_test_data(args.models, args.reference, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
