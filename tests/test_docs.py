"""The user documentation keeps up with the code: hooks, CLI verbs, the README's promise."""
from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest
from doc_examples import code_blocks

from cvcore.cli import build_parser
from cvcore.hookspecs import KINDS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HOOKS = ROOT / "docs" / "hooks.md"
TUTORIAL = ROOT / "docs" / "writing-a-plugin.md"

def cli_verbs(parser: argparse.ArgumentParser, prefix: str = "cvcore") -> list[str]:
    """Every command line the parser accepts, nested verbs included: 'cvcore train', 'cvcore data synth', ..."""
    verbs = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = cli_verbs(sub, f"{prefix} {name}")
                verbs.extend(nested or [f"{prefix} {name}"])
    return verbs


@pytest.mark.parametrize("hook", sorted(KINDS.values()))
def test_every_hook_has_a_section_in_the_hook_reference(hook):
    headings = re.findall(r"^## (\S+)\s*$", HOOKS.read_text(encoding="utf-8"), re.M)
    assert hook in headings, f"docs/hooks.md has no '## {hook}' section"


@pytest.mark.parametrize("kind, hook", sorted(KINDS.items()))
def test_each_hook_section_names_its_kind(kind, hook):
    text = HOOKS.read_text(encoding="utf-8")
    section = text.split(f"## {hook}\n", 1)[1].split("\n## ", 1)[0]
    assert f"`{kind}`" in section, f"the '## {hook}' section of docs/hooks.md does not name its kind {kind!r}"


def test_readme_starts_with_make_demo_then_make_test():
    first = code_blocks(README)[0]
    assert [line.strip() for line in first.strip().splitlines()] == ["make demo", "make test"]


def test_readme_first_code_block_comes_right_after_the_title_and_one_sentence():
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[0].startswith("# ")
    assert lines[2].startswith("```"), "README.md: the title, one sentence, then the make demo / make test block"


@pytest.mark.parametrize("verb", cli_verbs(build_parser()))
def test_every_cli_verb_is_in_the_readme(verb):
    assert verb in README.read_text(encoding="utf-8"), f"README.md does not mention `{verb}`"


def test_the_cli_verbs_are_found():
    assert {"cvcore train", "cvcore launch", "cvcore data synth"} <= set(cli_verbs(build_parser()))


def test_tutorial_plugin_code_compiles():
    blocks = code_blocks(TUTORIAL, "python")
    plugin = [b for b in blocks if "@cvcore.hookimpl" in b and "def cvcore_backbones" in b]
    backbone = [b for b in blocks if "class " in b and "out_channels" in b and "strides" in b]
    assert plugin and backbone, "docs/writing-a-plugin.md must show plugin.py and the backbone"
    for number, block in enumerate(blocks):
        compile(block, f"{TUTORIAL.name}:python-block-{number}", "exec")


def test_tutorial_pyproject_declares_the_entry_point_group():
    pyprojects = [tomllib.loads(b) for b in code_blocks(TUTORIAL, "toml") if "[project" in b]
    assert pyprojects, "docs/writing-a-plugin.md must show the plugin's pyproject.toml"
    entry_points = pyprojects[0]["project"]["entry-points"]["cvcore.plugins"]
    assert entry_points and all(value.endswith(".plugin") for value in entry_points.values())


def test_hook_reference_examples_compile():
    for number, block in enumerate(code_blocks(HOOKS, "python")):
        compile(block, f"{HOOKS.name}:python-block-{number}", "exec")


def test_the_readmes_figures_are_those_of_the_committed_results():
    """Every measured figure in README.md is generated from benchmarks/results/*.json (make readme-figures)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "benchmarks" / "_readme_figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    readme = (ROOT / "README.md").read_text()
    assert "<!-- figures:" in readme
    assert figures.rewrite(readme) == readme, "README.md's figures differ from benchmarks/results/: run `make readme-figures`"


@pytest.mark.first_party
def test_the_hook_reference_lists_every_synthesizers_options_with_defaults():
    """docs/hooks.md has a row per synthesizer with each keyword option and its default, as its signature has them."""
    import inspect
    import json

    import cvcore

    rows = dict(re.findall(r"^\| `(\w+)` \([^|]*\) \| (.*) \|$", HOOKS.read_text(encoding="utf-8"), re.M))
    for name in cvcore.available("dataset"):
        component = cvcore.get("dataset", name)
        if "synthesize" not in component.meta:
            continue
        synth_name = component.meta.get("synth_name", name)
        assert synth_name in rows, f"docs/hooks.md has no synthesizer row for `{synth_name}`"
        documented = dict(re.findall(r"`(\w+)` \(([^)]*)\)", rows[synth_name]))
        parameters = {p.name: p.default for p in inspect.signature(component.meta["synthesize"]).parameters.values() if p.name != "root"}
        expected = {key: json.dumps(list(value) if isinstance(value, tuple) else value) for key, value in parameters.items()}
        assert documented == expected, f"`{synth_name}` options in docs/hooks.md: {documented}, in the code: {expected}"
