"""cvcore new-plugin writes a package whose own test, using cvcore.testing, passes as written, for every kind of part."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from cvcore.cli import main
from cvcore.scaffold import KINDS, new_plugin


@pytest.mark.parametrize("kind", KINDS)
def test_the_written_plugin_passes_its_own_test(kind, tmp_path, capsys):
    name = f"my_{kind}"
    assert main(["new-plugin", name, str(tmp_path / "pkg"), "--kind", kind]) == 0
    assert f"wrote {tmp_path / 'pkg'}" in capsys.readouterr().out
    folder = tmp_path / "pkg"
    project = tomllib.loads((folder / "pyproject.toml").read_text())
    assert project["project"]["name"] == f"cvcore-{name}"
    assert project["project"]["entry-points"]["cvcore.plugins"] == {name: f"cvcore_{name}.plugin"}
    assert "testing.check_" in (folder / "tests" / f"test_{name}.py").read_text()
    env = {**os.environ, "PYTHONPATH": str(folder)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests"],
                            cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize("name", ["My-Plugin", "2fast", "class", "cvcore"])
def test_a_name_that_cannot_be_a_package_is_refused(name, tmp_path, capsys):
    assert main(["new-plugin", name, str(tmp_path / "pkg")]) == 1
    assert "cvcore new-plugin: error:" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()


def test_a_folder_that_is_not_empty_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="exists and is not empty"):
        new_plugin("littlenet", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_default_folder_is_named_after_the_distribution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert new_plugin("littlenet").resolve() == (tmp_path / "cvcore-littlenet").resolve()
    assert (tmp_path / "cvcore-littlenet" / "cvcore_littlenet" / "plugin.py").read_text().count("@cvcore.hookimpl") == 1
