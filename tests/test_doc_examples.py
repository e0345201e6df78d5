"""The documentation's examples run as written and print what their comments say (tests/doc_examples.py)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from doc_examples import ROOT, code_blocks, files_of, matches_sample, run_python, write_files

TUTORIAL = ROOT / "docs" / "writing-a-plugin.md"
HOOKS = ROOT / "docs" / "hooks.md"
README = ROOT / "README.md"


def installed_tutorial_plugin(tmp_path: Path) -> Path:
    """The tutorial's package, as pip would lay it out: its modules and a dist-info with its entry points."""
    write_files(TUTORIAL, tmp_path / "src")
    project = tomllib.loads((tmp_path / "src" / "cvcore-littlenet" / "pyproject.toml").read_text())["project"]
    site = tmp_path / "site"
    shutil.copytree(tmp_path / "src" / "cvcore-littlenet" / "cvcore_littlenet", site / "cvcore_littlenet")
    dist_info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    entry_points = "".join(f"{name} = {target}\n" for name, target in project["entry-points"]["cvcore.plugins"].items())
    (dist_info / "entry_points.txt").write_text(f"[cvcore.plugins]\n{entry_points}")
    return site


def cli(site: Path, cwd: Path, *argv: str) -> str:
    env = {"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    result = subprocess.run([sys.executable, "-m", "cvcore.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def sample(path: Path, first_line: str) -> str:
    return next(block for block in code_blocks(path) if block.startswith(first_line))


def test_the_tutorial_shows_its_whole_package():
    assert set(files_of(TUTORIAL)) == {"cvcore-littlenet/pyproject.toml", "cvcore-littlenet/cvcore_littlenet/__init__.py",
                                       "cvcore-littlenet/cvcore_littlenet/plugin.py", "cvcore-littlenet/cvcore_littlenet/backbone.py"}


@pytest.mark.first_party
def test_the_tutorials_plugin_lists_as_documented(tmp_path):
    site = installed_tutorial_plugin(tmp_path)
    plugins = cli(site, tmp_path, "plugins")
    assert matches_sample(sample(TUTORIAL, "plugin     distribution"), plugins), plugins
    assert matches_sample(sample(TUTORIAL, "littlenet  (backbone"), cli(site, tmp_path, "info", "littlenet"))


def test_the_tutorials_python_examples_run_as_documented(tmp_path):
    site = installed_tutorial_plugin(tmp_path)
    examples = [b for b in code_blocks(TUTORIAL, "python") if not b.startswith("# cvcore-littlenet/") and "register_plugin" not in b]
    assert len(examples) >= 2
    for block in examples:
        run_python(block, tmp_path, [site])


def test_the_tutorials_register_plugin_example_runs_without_installing(tmp_path):
    write_files(TUTORIAL, tmp_path)
    [block] = [b for b in code_blocks(TUTORIAL, "python") if "cvcore.register_plugin(" in b]
    run_python(block, tmp_path, [tmp_path / "cvcore-littlenet"])


def test_the_hook_references_examples_make_one_working_plugin(tmp_path):
    *parts, usage = code_blocks(HOOKS, "python")
    (tmp_path / "hook_examples.py").write_text("\n\n".join(parts))
    run_python('import cvcore\nimport hook_examples\n\ncvcore.register_plugin(hook_examples, "examples")\n' + usage, tmp_path, [tmp_path])


def test_the_readmes_python_tour_runs_as_documented(tmp_path):
    tour = next(b for b in code_blocks(README, "python") if "cvcore.list_models(" in b)
    printed = run_python(tour, tmp_path, [])
    assert "hybridize" in printed and (tmp_path / "runs" / "tiny-copy" / "model.params").is_file()
