"""The core's modules form layers (docs/architecture.md): a module imports only from its own layer or below, at run time.

Every import counts, function-level ones included; only imports under ``if TYPE_CHECKING:`` (types for the
reader and the type checker) may point up.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "cvcore"
LAYERS = [
    ("base", ["errors", "component", "options", "typecheck", "files", "progress", "tables", "_environment", "gluoncv_hashes"]),
    ("contract", ["hookspecs", "catalog", "registry"]),
    ("host", ["plugins"]),
    ("parts", ["nn", "data", "losses", "metrics", "weights", "graphs", "zoo", "config", "contracts", "class_reuse"]),
    ("training", ["train"]),
    ("task", ["task"]),
    ("pipeline", ["pipeline", "calibration", "provenance"]),
    ("uses", ["deploy", "tasks", "testing", "scaffold"]),
    ("top", ["builtins", "cli"]),
]
"""Bottom to top; a name is a module of cvcore or a subpackage with all its modules."""


def module_name(path: Path) -> str:
    parts = ["cvcore", *path.relative_to(CORE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def layer_of(module: str) -> int:
    first = module.split(".")[1]
    for index, (_, names) in enumerate(LAYERS):
        if first in names:
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and to docs/architecture.md")


def runtime_imports(module: str) -> set[str]:
    """The cvcore modules ``module`` imports outside ``if TYPE_CHECKING:`` blocks."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    typing_only = {id(node) for block in ast.walk(tree)
                   if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            names = submodules if len(submodules) == len(node.names) else [base, *submodules]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def test_every_module_has_a_layer():
    for module in MODULES:
        if module != "cvcore":  # the package's face re-exports the public names of every layer
            layer_of(module)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "cvcore"])
def test_no_module_imports_a_higher_layer_at_run_time(module):
    upward = sorted(name for name in runtime_imports(module) if name != "cvcore" and layer_of(name) > layer_of(module))
    layers = {name: LAYERS[layer_of(name)][0] for name in upward}
    assert not upward, f"{module} (layer {LAYERS[layer_of(module)][0]}) imports higher layers at run time: {layers}"


def test_the_architecture_page_lists_the_layers():
    page = (CORE.parent / "docs" / "architecture.md").read_text()
    for name, members in LAYERS:
        assert f"**{name}**" in page and all(f"`{member}`" in page for member in members), name
