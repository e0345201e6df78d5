"""The deploy round trip shared by the core's and the INT8 plugin's tests: deploy, save, load, save, load, then use."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from cvcore.cli import main
from cvcore.pipeline import Pipeline
from cvcore.testing import check_save_load_round_trip, outputs_of

Step = tuple[str, Mapping[str, Any]]


def deploy_chain(pipeline: Pipeline, chain: Sequence[Step], calib: Any) -> Pipeline:
    for transform, options in chain:
        pipeline.deploy(transform, calib_data=calib, **options)
    return pipeline


def check_chain(pipeline: Pipeline, chain: Sequence[Step], further: Step, data_root: Path, tmp_path: Path, capsys,
                calib: Any = None, tolerance: float = 1e-5) -> None:
    """``chain`` survives save -> load -> save -> load, and the CLI's bench, eval, predict and a ``further`` deploy work on it."""
    deploy_chain(pipeline, chain, calib)
    loaded = check_save_load_round_trip(pipeline, tmp_path / "rounds", rtol=tolerance, atol=tolerance)
    run = tmp_path / "rounds" / "second"
    assert loaded.deployed == pipeline.deployed

    def cli(*argv: str) -> str:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, f"cvcore {' '.join(argv)} exited {code}: {err}"
        return out

    bench = json.loads(Path(_written(cli("bench", str(run), "--batch-size", "2", "--runs", "1", "--seconds", "0.05",
                                         "--json", str(tmp_path / "bench.json")), tmp_path / "bench.json")).read_text())
    assert any(path.startswith("deployed") for path in bench["paths"]), bench["paths"]
    assert all(result["median"] > 0 for result in bench["paths"].values())
    metrics = json.loads(_written(cli("eval", str(run), "--json", str(tmp_path / "eval.json")), tmp_path / "eval.json").read_text())
    assert 0.0 <= metrics["top1"] <= 1.0
    image = next((data_root / "val").glob("*/*.png"))
    assert cli("predict", str(run), str(image)).startswith(f"{image}: ")
    further_options = [f"--set={key}={json.dumps(value)}" for key, value in further[1].items()]
    cli("deploy", str(run), "--transform", further[0], "--out", str(tmp_path / "further"), *further_options,
        *(["--calib", str(data_root)] if further[0] == "int8" else []))
    redeployed = Pipeline.load(tmp_path / "further")
    assert [step["transform"] for step in redeployed.deployed] == [t for t, _ in chain] + [further[0]]
    x = pipeline.example(2)
    assert [o.shape for o in outputs_of(redeployed.net, x)] == [o.shape for o in outputs_of(pipeline.net, x)]


def _written(output: str, path: Path) -> Path:
    assert path.is_file(), f"nothing written to {path}; the command printed {output!r}"
    return path
