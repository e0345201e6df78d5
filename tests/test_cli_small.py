"""Small fixes for plugin authors and CLI users: --pretrained before inputs, missing targets, repeated warnings, double registration."""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import pytest
from conftest import run_cli
from test_plugins import GOODNET, NotebookBackbones
from test_registry import backbone_module

import cvcore
from cvcore.cli import main
from cvcore.pipeline import Pipeline
from cvcore.plugins import PluginHost, PluginLoadWarning

# cvcore_plugin_state comes first so that its reset_host() runs after monkeypatch is undone.
pytestmark = pytest.mark.usefixtures("cvcore_plugin_state")

EXPECTED = "(a saved pipeline folder, a .toml config or a zoo model name was expected)"


# -- --pretrained does not take the target or an input -------------------------------------------
@pytest.fixture
def saved_run(tmp_path, tinynet, monkeypatch):
    """A saved classifier; Pipeline.open records (target, pretrained) and opens that run whatever the target."""
    run_dir = tmp_path / "run"
    Pipeline("classification", backbone="tinynet", classes=3, input_shape=[1, 3, 32, 32],
             class_names=["blue", "green", "red"]).save(run_dir)
    real_open, calls = Pipeline.open, []

    def recording_open(target, pretrained=False, **overrides):
        calls.append((str(target), pretrained))
        return real_open(run_dir)

    monkeypatch.setattr(Pipeline, "open", recording_open)
    return run_dir, calls


@pytest.mark.parametrize(
    "argv, target",
    [
        (["{run}", "--pretrained", "{a}", "{b}"], "{run}"),
        (["--pretrained", "{run}", "{a}", "{b}"], "{run}"),
        (["--pretrained", "resnet18_v1", "{a}", "{b}"], "resnet18_v1"),
        (["--model", "resnet18_v1", "--pretrained", "{a}", "{b}"], "resnet18_v1"),
        (["{run}", "{a}", "{b}", "--pretrained"], "{run}"),
    ],
)
def test_a_bare_pretrained_leaves_the_target_and_inputs_alone(capsys, saved_run, color_folders, argv, target):
    run_dir, calls = saved_run
    a, b = sorted((color_folders / "val" / "red").iterdir())[:2]
    names = {"run": run_dir, "a": a, "b": b}

    code, out, err = run_cli(capsys, "predict", *(arg.format(**names) for arg in argv))

    assert code == 0, err
    assert calls == [(target.format(**names), True)]
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(a), str(b)]


def test_a_bare_pretrained_before_a_folder_of_inputs(capsys, saved_run, color_folders):
    run_dir, calls = saved_run
    folder = color_folders / "val" / "green"

    code, out, err = run_cli(capsys, "predict", run_dir, "--pretrained", folder)

    assert code == 0, err
    assert calls == [(str(run_dir), True)]
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(p) for p in sorted(folder.glob("*.png"))]


@pytest.mark.parametrize("given", ["--pretrained resnet18_v1.params", "--pretrained {file}", "--pretrained={image}"])
def test_pretrained_still_takes_a_weights_file_before_the_inputs(capsys, saved_run, color_folders, tmp_path, given):
    run_dir, calls = saved_run
    image, other = sorted((color_folders / "val" / "blue").iterdir())[:2]
    weights_file = tmp_path / "weights-without-suffix"
    weights_file.write_bytes(b"")
    given = given.format(file=weights_file, image=other).split()

    code, out, err = run_cli(capsys, "predict", run_dir, *given, image)

    assert code == 0, err
    assert calls == [(str(run_dir), given[-1].removeprefix("--pretrained="))]
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(image)]


def test_predict_help_names_the_unambiguous_form(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "--pretrained [FILE]" in help_text and "(--pretrained=FILE is unambiguous)" in help_text


# -- a target that looks like a path but is not there ---------------------------------------------
VERBS = {
    "predict": ["predict", "{target}", "image.png"],
    "eval": ["eval", "{target}"],
    "deploy": ["deploy", "{target}", "--transform", "hybridize", "--out", "deployed"],
    "bench": ["bench", "{target}"],
}


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("target", ["some/missing/dir", "runs/colors", "missing.toml", "missing.params", "{tmp}/gone"])
def test_a_missing_path_is_not_called_an_unknown_model(capsys, tmp_path, monkeypatch, verb, target):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()  # exists partly
    target = target.format(tmp=tmp_path)

    code, _, err = run_cli(capsys, *(arg.format(target=target) for arg in VERBS[verb]))

    assert code == 1
    assert err == f"cvcore {verb}: error: {target} does not exist {EXPECTED}.\n"
    assert not (tmp_path / "deployed").exists()


def test_a_parameter_file_given_as_the_target_says_how_to_use_it(capsys, tmp_path):
    weights = tmp_path / "resnet18_v1.params"
    weights.write_bytes(b"")

    code, _, err = run_cli(capsys, "eval", weights)

    assert code == 1
    assert err == (f"cvcore eval: error: {weights} is a parameter file, not a pipeline: "
                   f"name its zoo model and pass the file as pretrained (on the command line --pretrained={weights}).\n")


def test_an_unknown_name_without_a_path_is_still_an_unknown_model(capsys):
    code, _, err = run_cli(capsys, "predict", "resnet18_v7", "image.png")

    assert code == 1 and "No model named 'resnet18_v7'. Did you mean " in err and "does not exist" not in err


# -- the name-clash warning, once per host --------------------------------------------------------
def conflict_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning) and "Two plugins register" in str(w.message)]


def test_a_name_clash_is_warned_about_once_per_host(fake_plugin_distribution):
    fake_plugin_distribution("cvcore-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": backbone_module("sharednet")})
    fake_plugin_distribution("cvcore-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": backbone_module("sharednet")})
    host = PluginHost()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = host.registry
        host.register(NotebookBackbones(), name="notebook")  # each change rebuilds the registry
        host.unregister("notebook")
        last = host.registry
        again = PluginHost().registry

    assert first is not last and ("backbone", "sharednet") in last.conflicts and ("backbone", "sharednet") in again.conflicts
    assert conflict_warnings(caught) == [first.conflict_message("backbone", "sharednet")] * 2  # one per host


# -- registering a plugin that is already registered ---------------------------------------------
def test_registering_the_builtins_again_names_the_plugin_they_are(capsys):
    with pytest.raises(cvcore.PluginError) as raised:
        cvcore.register_plugin(importlib.import_module("cvcore.builtins"), name="builtins-again")

    assert str(raised.value) == "Plugin 'builtins-again' was not registered: this module is already registered as plugin 'cvcore'"
    assert "builtins-again" not in cvcore.plugins.host().plugins


def test_registering_the_same_object_twice_names_its_first_name():
    plugin = NotebookBackbones()
    cvcore.register_plugin(plugin, name="first")

    with pytest.raises(cvcore.PluginError) as raised:
        cvcore.register_plugin(plugin, name="second")

    assert str(raised.value) == "Plugin 'second' was not registered: this object is already registered as plugin 'first'"
    assert cvcore.plugins.host().plugins["first"].status == "ok" and "second" not in cvcore.plugins.host().plugins
    assert "notebook_net" in cvcore.available("backbone")


def test_two_entry_points_of_one_module_load_it_once(fake_plugin_distribution):
    fake_plugin_distribution("cvcore-goodnet", "1.2.0", {"goodnet": "goodnet_plugin"}, {"goodnet_plugin": GOODNET})
    fake_plugin_distribution("cvcore-alias", "0.1", {"alias": "goodnet_plugin"}, {})

    with pytest.warns(PluginLoadWarning) as caught:
        host = PluginHost()

    statuses = {name: host.plugins[name].status for name in ("goodnet", "alias")}
    assert sorted(statuses.values()) == ["broken", "ok"]
    broken, kept = sorted(statuses, key=lambda name: statuses[name])
    assert host.plugins[broken].error == f"this module is already registered as plugin {kept!r}"
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [host.plugins[broken].error]
    assert Path(host.plugins[kept].plugin.__file__).stem == "goodnet_plugin" and "goodnet" in host.registry.available("backbone")
