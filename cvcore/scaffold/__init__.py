"""``cvcore new-plugin``: a ready plugin package with one part of a chosen kind and a test that checks its contract."""
from __future__ import annotations

import keyword
import os
import re
from pathlib import Path
from string import Template

from ..errors import ConfigError
from ..files import write_text_atomic
from .parts import PARTS

KINDS = tuple(PARTS)


def new_plugin(name: str, directory: str | os.PathLike | None = None, *, kind: str = "backbone") -> Path:
    """Write the package ``cvcore-<name>`` into ``directory`` (default ``./cvcore-<name>``); returns its folder.

    The package has a ``pyproject.toml`` whose ``cvcore.plugins`` entry point
    names ``cvcore_<name>.plugin``, one part of ``kind`` registered under
    ``name``, and a test running :mod:`cvcore.testing` on it. Refuses to write
    into a folder that is not empty.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ConfigError(f"Plugin name {name!r}: use lower-case letters, digits and '_', starting with a letter (e.g. littlenet).")
    if name == "cvcore":
        raise ConfigError("The plugin name 'cvcore' belongs to the core's own parts; choose another.")
    if kind not in PARTS:
        raise ConfigError(f"Unknown kind {kind!r}; new-plugin writes one of: {', '.join(KINDS)}.")
    target = Path(directory) if directory is not None else Path(f"cvcore-{name}")
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} exists and is not empty; give a new folder.")
    part = PARTS[kind]
    values = {"name": name, "package": f"cvcore_{name}", "kind": kind, "module": part.module, "doc": part.doc}
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"cvcore_{name}/__init__.py": '"""cvcore-$name: $doc"""\n',
        f"cvcore_{name}/plugin.py": PLUGIN_HEADER + part.hook,
        f"cvcore_{name}/{part.module}.py": part.source,
        "tests/conftest.py": CONFTEST,
        f"tests/test_{name}.py": part.test,
    }
    for relative, text in files.items():
        write_text_atomic(target / relative, Template(text).substitute(values))
    return target


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "cvcore-$name"
version = "0.1.0"
description = "$doc"
requires-python = ">=3.11,<3.12"
dependencies = ["cvcore"]

[project.optional-dependencies]
test = ["pytest"]

# This table makes it a cvcore plugin: plugin "$name", hooks in $package.plugin.
[project.entry-points."cvcore.plugins"]
$name = "$package.plugin"

[tool.setuptools.packages.find]
include = ["$package*"]
"""

README = """\
# cvcore-$name

$doc

    pip install -e .[test]     # cvcore finds the plugin through its entry point
    cvcore plugins $name       # shows what it registers
    pytest tests               # checks the $kind's contract with cvcore.testing

The $kind is in `$package/$module.py`, registered in `$package/plugin.py`.
See cvcore's docs/writing-a-plugin.md and docs/hooks.md for the contract of each kind of part.
"""

PLUGIN_HEADER = '''\
"""The face of cvcore-$name: everything it adds to cvcore is registered here."""
import cvcore

CVCORE_API = 1
"""The cvcore hook API this plugin was written for (cvcore.hookspecs.API_VERSION)."""

'''

CONFTEST = '''\
"""Registers the plugin by hand when it is not installed, so the tests run from a plain checkout too."""
import pytest

import cvcore


@pytest.fixture(autouse=True, scope="session")
def plugin_registered():
    if "$name" not in cvcore.plugins.host().plugins:  # an installed package registers through its entry point
        import $package.plugin

        cvcore.register_plugin($package.plugin, "$name")
'''
