"""Training on MXNet's parameter-server kvstore, two workers started by `cvcore launch`."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

TINYNET = Path(__file__).parent / "fixtures" / "cvcore-tinynet"


def test_dist_sync_workers_share_every_update(tmp_path, color_folders):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(TINYNET)!r})
        import cvcore, cvcore.plugins, cvcore_tinynet.plugin
        import mxnet as mx
        cvcore.plugins.register_plugin(cvcore_tinynet.plugin, name="tinynet")
        from cvcore.pipeline import Pipeline

        mx.random.seed(0)
        pipeline = Pipeline(backbone="tinynet", classes=3, input_shape=[1, 3, 16, 16],
                            data={{"dataset": "image_folder", "root": {str(color_folders)!r}}})
        history = pipeline.fit(epochs=2, batch_size=6, lr=0.05, kvstore="dist_sync", progress=False,
                               out_dir={str(tmp_path / "run")!r})
        weights = [float(p.data().asnumpy().sum()) for p in pipeline.net.collect_params().values() if p.grad_req != "null"]
        rank = int(os.environ["CVCORE_WORKER_RANK_HINT"])  # a second kv.create would wait forever
        with open({str(tmp_path)!r} + f"/result{{rank}}.json", "w") as handle:  # one file each: stdout lines would interleave
            json.dump({{"rank": rank, "step": history["step"], "weights": weights}}, handle)
    """))
    result = subprocess.run([sys.executable, "-m", "cvcore.cli", "launch", "-n", "2", "--timeout", "150", "--",
                             sys.executable, str(script)], capture_output=True, text=True, timeout=200)
    assert result.returncode == 0, result.stderr[-3000:]
    results = [json.loads((tmp_path / f"result{rank}.json").read_text()) for rank in (0, 1)]
    assert [r["rank"] for r in results] == [0, 1]
    assert [r["step"] for r in results] == [6, 6]  # 36 samples: 18 per worker, 3 batches of 6 per epoch
    assert results[0]["weights"] == results[1]["weights"]
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-00000003", "step-00000006"]
