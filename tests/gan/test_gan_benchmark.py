"""benchmarks/gan.py end to end in its quick form, and the README block it feeds."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_quick_gan_benchmark_writes_a_report_the_readme_renders(tmp_path):
    done = subprocess.run([sys.executable, str(BENCHMARKS / "gan.py"), "--quick", "--results", str(tmp_path)], cwd=BENCHMARKS,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "gan.json").read_text())
    assert len(report["verdicts"]) == 2 and report["srgan"]["bicubic"]["psnr"] > 0
    assert set(report["speed"]["srgan_4x"]["paths"]) == {"cvcore default", "OpenVINO FP32", "INT8 (MXNet)", "INT8 (OpenVINO)"}
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _readme_figures import gan
    finally:
        sys.path.remove(str(BENCHMARKS))
    block = gan(report)
    assert "SRGAN 4x" in block and "A->B error" in block and report["verdicts"][0].strip() in block
