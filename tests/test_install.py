"""Real installs: the third-party fixture plugin into a venv, and cvcore[pose,int8] from a wheelhouse."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import textwrap
import tomllib
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
    # an executable .pth line: the parent's site directories with their own .pth files (its editable installs)
    (child_site / "_parent_env.pth").write_text(f"import site; list(map(site.addsitedir, {site.getsitepackages()!r}))\n")
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
    saved = tomllib.loads((tmp_path / "saved" / "pipeline.toml").read_text())
    assert saved["backbone"] == {"name": "tinynet"}
    assert saved["provenance"]["backbone"] == {"name": "tinynet", "plugin": "tinynet", "distribution": "cvcore-tinynet", "version": "0.3.0"}


def documented_shell(tmp_path: Path, python: Path) -> dict[str, str]:
    """The environment in which the docs' shell lines run in the layered venv: pip (without resolving dependencies,
    which the venv sees already), cvcore and pytest on its PATH."""
    bin_dir = python.parent
    shims = {"pip": f'exec "{sys.executable}" -m pip --python "{python}" "$@" --no-deps --quiet',
             "cvcore": f'exec "{python}" -m cvcore.cli "$@"', "pytest": f'exec "{python}" -m pytest -p no:cacheprovider "$@"'}
    for name, line in shims.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def run_documented_lines(block: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a documented shell block line by line in ``cwd``; returns the output of the last line."""
    output = ""
    for line in filter(None, (line.split("  #")[0].strip() for line in block.splitlines())):
        output = sh("bash", "-c", line, cwd=cwd, env=env).stdout
    return output


def test_the_tutorials_shell_examples_run_as_documented(tmp_path):
    from doc_examples import code_blocks, matches_sample, write_files

    tutorial = ROOT / "docs" / "writing-a-plugin.md"
    python = layered_venv(tmp_path / "venv")
    env = documented_shell(tmp_path, python)
    quick, install = code_blocks(tutorial, "sh")[:2]
    (tmp_path / "quick").mkdir()
    run_documented_lines(quick, tmp_path / "quick", env)
    write_files(tutorial, tmp_path / "manual")
    shown = run_documented_lines(install, tmp_path / "manual", env)
    sample = next(block for block in code_blocks(tutorial) if block.startswith("plugin     distribution"))
    assert matches_sample(sample, shown), shown


def test_a_new_plugin_installs_and_passes_its_own_test(tmp_path):
    python = layered_venv(tmp_path / "venv")
    sh(python, "-m", "cvcore.cli", "new-plugin", "littlenet", tmp_path / "cvcore-littlenet")
    sh(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", tmp_path / "cvcore-littlenet")
    plugins = sh(python, "-m", "cvcore.cli", "plugins", "littlenet").stdout
    assert plugins.splitlines()[0] == "littlenet (cvcore-littlenet 0.1.0, ok)" and "  backbone: littlenet" in plugins
    shutil.rmtree(tmp_path / "cvcore-littlenet" / "cvcore_littlenet")  # the tests must use the installed package
    core = {**os.environ, "PYTHONPATH": str(ROOT)}  # the layered venv sees cvcore's source as the other tests do, from ROOT
    result = sh(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests",
                cwd=tmp_path / "cvcore-littlenet", env=core)
    assert " passed" in result.stdout


def test_wheelhouse_installs_cvcore_with_pose_and_int8_extras(tmp_path):
    wheelhouse = tmp_path / "wheelhouse"
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheelhouse, ROOT, *PLUGIN_DIRS)
    wheels = sorted(p.name.split("-")[0] for p in wheelhouse.glob("*.whl"))
    assert wheels == ["cvcore", "cvcore_gan", "cvcore_int8_vnni", "cvcore_pose", "cvcore_prune", "cvcore_rcnn_fpn", "cvcore_ssd"]
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
