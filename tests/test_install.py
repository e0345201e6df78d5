"""Real installs: the third-party fixture plugin into a venv, and cvcore[pose,int8] from a wheelhouse."""
from __future__ import annotations

import shutil
import site
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "cvcore-tinynet"
PLUGIN_DIRS = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))

pytestmark = pytest.mark.install


def sh(*argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def layered_venv(path: Path) -> Path:
    """A new venv that sees this environment's packages (so mxnet is not installed again) but has its own site-packages."""
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    child_site = Path(sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (child_site / "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def test_third_party_plugin_installs_and_composes_with_the_core_head(tmp_path):
    source = tmp_path / "cvcore-tinynet"
    shutil.copytree(FIXTURE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    python = layered_venv(tmp_path / "venv")
    sh(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", source)

    plugins = sh(python, "-m", "cvcore.cli", "plugins", "tinynet").stdout
    assert plugins.splitlines()[0] == "tinynet (cvcore-tinynet 0.3.0, ok)" and "  backbone: tinynet" in plugins

    script = textwrap.dedent(f"""
        import numpy as np, cvcore
        from cvcore.pipeline import Pipeline
        p = Pipeline("classification", backbone="tinynet", head="classifier", classes=4, input_shape=[2, 3, 32, 32])
        x = p.example()
        y = p.net(x).asnumpy()
        assert y.shape == (2, 4), y.shape
        p.save(r"{tmp_path / 'saved'}")
        q = Pipeline.load(r"{tmp_path / 'saved'}")
        np.testing.assert_allclose(q.net(x).asnumpy(), y, rtol=1e-6)
        print("provider", cvcore.plugins.host().registry.entry("backbone", "tinynet").plugin)
    """)
    out = sh(python, "-c", script).stdout
    assert "provider tinynet" in out
    assert (tmp_path / "saved" / "pipeline.toml").read_text().count('name = "tinynet"') == 1


def test_wheelhouse_installs_cvcore_with_pose_and_int8_extras(tmp_path):
    wheelhouse = tmp_path / "wheelhouse"
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheelhouse, ROOT, *PLUGIN_DIRS)
    wheels = sorted(p.name.split("-")[0] for p in wheelhouse.glob("*.whl"))
    assert wheels == ["cvcore", "cvcore_gan", "cvcore_int8_vnni", "cvcore_pose", "cvcore_prune", "cvcore_rcnn_fpn"]
    for wheel in wheelhouse.glob("*.whl"):  # what pip reads: the range this interpreter is in, and the licence file
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            shipped = [n for n in archive.namelist() if n.endswith("LICENSE")]
        assert "Requires-Python: <3.12,>=3.11" in metadata, wheel.name
        assert shipped, f"{wheel.name} ships no LICENSE"

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = [env_dir / "bin" / "python", "-m", "pip"]
    sh(*pip, "install", "--quiet", "--find-links", wheelhouse, "cvcore[pose,int8]", timeout=900)

    out = sh(env_dir / "bin" / "cvcore", "--version", cwd=tmp_path).stdout
    assert out.splitlines() == ["cvcore 0.1.0", "  cvcore-int8-vnni 0.1.0 (ok)", "  cvcore-pose 0.1.0 (ok)"]
    location = sh(env_dir / "bin" / "python", "-c", "import cvcore; print(cvcore.__file__)", cwd=tmp_path).stdout
    assert str(env_dir) in location  # the wheel, not this checkout
