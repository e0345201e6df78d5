"""The cvcore_commands hook: plugins add verbs to the cvcore command."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

import cvcore
import cvcore.plugins
from cvcore.plugins import PluginLoadWarning

ROOT = Path(__file__).resolve().parents[1]


class Greeter:
    """A plugin with one command: ``cvcore greet NAME [--times N]``."""

    def __init__(self, name: str = "greet", configure=None) -> None:
        self.name = name
        self.configure = configure or self.arguments

    @staticmethod
    def arguments(parser):
        parser.add_argument("who", help="whom to greet")
        parser.add_argument("--times", type=int, default=1, help="how many times")

    @staticmethod
    def run(args) -> int:
        """Greet someone by name."""
        if args.who == "nobody":
            raise cvcore.ConfigError("There is nobody to greet: give a name.")
        print(" ".join([f"hello {args.who}"] * args.times))
        return 3 if args.who == "stranger" else 0

    @cvcore.hookimpl
    def cvcore_commands(self):
        return [cvcore.Component(self.name, self.run, meta={"arguments": self.configure})]


def listed_verbs(help_text: str) -> list[str]:
    """The verbs ``cvcore --help`` lists, in order."""
    return [line.split()[0] for line in help_text.splitlines() if line.startswith("    ") and not line.startswith("     ")]


@pytest.fixture
def greeter(cvcore_plugin_state):
    cvcore.register_plugin(Greeter(), "greeter")


def test_a_plugin_command_is_a_verb_listed_in_help(capsys, greeter):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    verbs = listed_verbs(out)
    assert "greet" in verbs and verbs.index("greet") > verbs.index("new-plugin")  # after the core's verbs
    assert "Greet someone by name." in out

    code, out, _ = run_cli(capsys, "greet", "--help")
    assert code == 0 and out.startswith("usage: cvcore greet [-h] [--times TIMES] who") and "whom to greet" in out


def test_a_plugin_command_runs_with_its_arguments(capsys, greeter):
    assert run_cli(capsys, "greet", "ada", "--times", "2") == (0, "hello ada hello ada\n", "")
    assert run_cli(capsys, "greet", "stranger")[0] == 3  # the command's exit status


def test_a_plugin_command_is_registered_and_counted(capsys, greeter):
    assert "greet" in cvcore.available("command")
    assert cvcore.get("command", "greet").meta["arguments"] == Greeter.arguments
    code, out, _ = run_cli(capsys, "plugins")
    row = next(line for line in out.splitlines() if line.startswith("greeter "))
    assert row.split()[-2:] == ["1", "command"]


def test_a_cvcore_error_of_a_plugin_command_exits_1_with_the_message(capsys, greeter):
    code, out, err = run_cli(capsys, "greet", "nobody")
    assert (code, out, err) == (1, "", "cvcore greet: error: There is nobody to greet: give a name.\n")


def test_a_command_named_like_a_core_verb_is_refused(capsys, cvcore_plugin_state):
    cvcore.register_plugin(Greeter("train"), "impostor")
    with pytest.warns(PluginLoadWarning, match="cvcore plugin 'impostor' registers the command 'train', which is a verb of cvcore"):
        code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0 and "CONFIG_OR_RUN" in out and "whom to greet" not in out


def test_a_command_whose_arguments_fail_is_skipped_and_the_rest_works(capsys, cvcore_plugin_state):
    def broken(parser):
        parser.add_argument("--times")
        parser.add_argument("--times")  # argparse refuses the second

    cvcore.register_plugin(Greeter("broken", broken), "broken")
    cvcore.register_plugin(Greeter(), "greeter")
    with pytest.warns(PluginLoadWarning, match=r"'broken': the arguments of its command 'broken' could not be added \(ArgumentError"):
        code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "greet" in listed_verbs(out) and "broken" not in listed_verbs(out)
    with pytest.warns(PluginLoadWarning):
        assert run_cli(capsys, "greet", "ada")[:2] == (0, "hello ada\n")


BROKEN_COMMANDS = '''
    import cvcore


    @cvcore.hookimpl
    def cvcore_commands():
        raise RuntimeError("no commands today")
'''


def test_an_installed_plugin_whose_hook_raises_does_not_break_help(fake_plugin_distribution):
    site = fake_plugin_distribution("cvcore-sulky", "0.1", {"sulky": "sulky_plugin"}, {"sulky_plugin": BROKEN_COMMANDS})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "CVCORE_PLUGINS_AUTOLOAD": "1"}
    env.pop("CVCORE_PLUGINS_DISABLE", None)
    result = subprocess.run([sys.executable, "-m", "cvcore.cli", "--help"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and "new-plugin" in result.stdout
    assert ("cvcore: warning: cvcore plugin 'sulky' (distribution cvcore-sulky) was skipped: "
            "hook cvcore_commands raised RuntimeError: no commands today") in result.stderr.splitlines()
