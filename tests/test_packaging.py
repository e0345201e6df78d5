"""Packaging facts: one true Python range in every distribution and in the README, and the declared licence shipped."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECTS = [ROOT / "pyproject.toml", *sorted((ROOT / "plugins").glob("*/pyproject.toml")),
              ROOT / "tests" / "fixtures" / "cvcore-tinynet" / "pyproject.toml"]


def project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def test_every_distribution_declares_the_python_that_runs_it():
    ranges = {str(path.relative_to(ROOT)): project(path)["requires-python"] for path in PYPROJECTS}
    assert len(set(ranges.values())) == 1, ranges
    declared = SpecifierSet(next(iter(ranges.values())))
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in declared
    assert "3.10" not in declared  # tomllib is 3.11+
    assert "3.12" not in declared  # numpy<1.24, which mxnet 1.9.1 needs, has no wheels there
    readme = (ROOT / "README.md").read_text()
    assert f'requires-python = "{declared}"' in readme or f'requires-python = "{ranges["pyproject.toml"]}"' in readme


def test_the_declared_licence_is_shipped():
    licences = {project(path).get("license") for path in PYPROJECTS if path.parent.name != "cvcore-tinynet"}
    assert licences == {"Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
