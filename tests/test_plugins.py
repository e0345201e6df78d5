"""Plugin discovery, isolation of broken plugins, hook validation and the environment switches."""
from __future__ import annotations

import contextlib
import sys
import tomllib
import warnings
from pathlib import Path

import importlib_metadata
import pytest

import cvcore
from cvcore.plugins import PluginHost, PluginLoadWarning

# cvcore_plugin_state comes first so that its reset_host() runs after monkeypatch is undone.
pytestmark = pytest.mark.usefixtures("cvcore_plugin_state")

FIRST_PARTY = {
    "pose": "cvcore-pose",
    "rcnn-fpn": "cvcore-rcnn-fpn",
    "ssd": "cvcore-ssd",
    "gan": "cvcore-gan",
    "prune": "cvcore-prune",
    "int8-vnni": "cvcore-int8-vnni",
}
BUILTINS = {  # the core's non-backbone parts; backbones and their zoo models are checked by the backbone tests
    "head": ["classifier"],
    "loss": ["softmax_cross_entropy"],
    "metric": ["accuracy", "coco_detection", "voc07_map", "voc12_map"],
    "transform": ["export", "hybridize"],
    "dataset": ["coco_detection", "image_folder", "voc_detection"],
    "task": ["classification", "detection"],
}
TINYNET = Path(__file__).parent / "fixtures" / "cvcore-tinynet"

GOODNET = '''
    """A well-behaved plugin: one backbone and one head."""
    import cvcore


    @cvcore.hookimpl
    def cvcore_backbones():
        return [cvcore.Component("goodnet", dict, "A backbone that builds a dict.")]


    @cvcore.hookimpl
    def cvcore_heads():
        return [cvcore.Component("good_head", dict, meta={"in_features": 2})]
'''


def strict_host(**options) -> PluginHost:
    """A new host; any PluginLoadWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)
        return PluginHost(**options)


@contextlib.contextmanager
def ignoring_load_warnings():
    """For checks about the error raised, whether or not a PluginLoadWarning comes with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        yield


def install_goodnet(fake_plugin_distribution) -> None:
    fake_plugin_distribution("cvcore-goodnet", "1.2.0", {"goodnet": "goodnet_plugin"}, {"goodnet_plugin": GOODNET})


# -- discovery ---------------------------------------------------------------
def builtin_parts(registry) -> dict[str, list[str]]:
    """What the core registers, less its backbones, their zoo models and family heads."""
    provided = registry.provided_by("cvcore")
    provided.pop("backbone", None)
    provided.pop("model", None)
    provided["head"] = [name for name in provided.get("head", []) if name == "classifier"]
    return provided


def test_installed_plugin_is_found_through_its_entry_point(fake_plugin_distribution):
    install_goodnet(fake_plugin_distribution)

    host = strict_host()

    info = host.plugins["goodnet"]
    assert (info.status, info.distribution, info.version, info.module) == ("ok", "cvcore-goodnet", "1.2.0", "goodnet_plugin")
    assert info.error is None and info.plugin is sys.modules["goodnet_plugin"]
    assert host.registry.provided_by("goodnet") == {"backbone": ["goodnet"], "head": ["good_head"]}
    entry = host.registry.entry("backbone", "goodnet")
    assert entry.plugin == "goodnet" and entry.component.summary == "A backbone that builds a dict."
    assert host.registry.get("head", "good_head").meta == {"in_features": 2}


def test_entry_point_may_name_an_object_in_a_module(fake_plugin_distribution):
    fake_plugin_distribution(
        "cvcore-objnet",
        "0.2.0",
        {"objnet": "objnet_pkg.plugin:PLUGIN"},
        {
            "objnet_pkg.plugin": '''
                import cvcore


                class ObjNetPlugin:
                    @cvcore.hookimpl
                    def cvcore_losses(self):
                        return [cvcore.Component("obj_loss", dict)]


                PLUGIN = ObjNetPlugin()
            ''',
        },
    )

    host = strict_host()

    assert host.plugins["objnet"].module == "objnet_pkg.plugin:PLUGIN"
    assert host.registry.provided_by("objnet") == {"loss": ["obj_loss"]}


def test_the_tinynet_fixture_plugin_installed_as_a_distribution(fake_plugin_distribution):
    project = tomllib.loads((TINYNET / "pyproject.toml").read_text())["project"]
    sources = {f"cvcore_tinynet.{p.stem}".removesuffix(".__init__"): p.read_text() for p in (TINYNET / "cvcore_tinynet").glob("*.py")}
    fake_plugin_distribution(project["name"], project["version"], project["entry-points"]["cvcore.plugins"], sources)

    cvcore.plugins.reset_host()

    info = cvcore.plugins.host().plugins["tinynet"]
    assert (info.status, info.distribution, info.version) == ("ok", "cvcore-tinynet", "0.3.0")
    assert "tinynet" in cvcore.available("backbone")
    backbone = cvcore.get("backbone", "tinynet").build(out_features=("c2", "c3"))
    assert backbone.feature_names == ("c1", "c2", "c3")
    assert backbone.out_channels == (32, 64) and backbone.strides == (4, 8)


def test_reset_host_rediscovers_newly_installed_plugins(fake_plugin_distribution):
    assert "goodnet" not in cvcore.available("backbone")
    install_goodnet(fake_plugin_distribution)

    new_host = cvcore.plugins.reset_host()

    assert cvcore.plugins.host() is new_host
    assert "goodnet" in cvcore.available("backbone")


@pytest.mark.first_party
@pytest.mark.parametrize("entry_point, distribution", sorted(FIRST_PARTY.items()))
def test_first_party_plugins_are_installed_and_load(entry_point, distribution):
    info = cvcore.plugins.host().plugins[entry_point]
    assert info.status == "ok", info.error
    assert info.distribution == distribution
    assert info.version == importlib_metadata.version(distribution)
    assert info.module == f"{distribution.replace('-', '_')}.plugin"


# -- built-ins ---------------------------------------------------------------
def test_builtins_are_a_plugin_named_cvcore():
    host = strict_host()

    info = host.plugins["cvcore"]
    assert (info.status, info.distribution, info.version, info.module) == ("ok", "cvcore", cvcore.__version__, "cvcore.builtins")
    assert builtin_parts(host.registry) == BUILTINS
    assert all(host.registry.entry(kind, name).plugin == "cvcore" for kind, names in BUILTINS.items() for name in names)
    assert host.registry.get("head", "classifier").meta["in_features"] == 1


@pytest.mark.parametrize("kind", sorted(BUILTINS))
def test_builtins_come_through_the_same_hooks_as_plugins(kind):
    host = strict_host(autoload=False)

    hook = getattr(host.manager.hook, cvcore.KINDS[kind])

    assert [impl.plugin_name for impl in hook.get_hookimpls()] == ["cvcore"]
    (components,) = hook()
    assert set(BUILTINS[kind]) <= {component.name for component in components}


def test_an_entry_point_named_like_the_builtins_cannot_remove_them(fake_plugin_distribution):
    fake_plugin_distribution("cvcore-impostor", "1.0", {"cvcore": "impostor_plugin"}, {"impostor_plugin": GOODNET})

    with pytest.warns(PluginLoadWarning, match="cvcore-impostor"):
        host = PluginHost()

    assert host.plugins["cvcore"].distribution == "cvcore" and host.plugins["cvcore"].status == "ok"
    assert builtin_parts(host.registry) == BUILTINS


def test_loading_entry_points_again_keeps_loaded_plugins(fake_plugin_distribution):
    install_goodnet(fake_plugin_distribution)
    host = strict_host()

    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)
        host.load_entry_points()

    assert host.plugins["goodnet"].status == "ok"
    assert "goodnet" in host.registry.available("backbone")


# -- isolation of broken plugins ---------------------------------------------
@pytest.mark.parametrize(
    "source, error",
    [
        ("raise ImportError('cvcore-badnet needs libfoo: pip install libfoo')", "ImportError: cvcore-badnet needs libfoo"),
        ("import a_module_that_is_not_installed", "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"),
        ("raise RuntimeError('no GPU found')", "RuntimeError: no GPU found"),
        ("def cvcore_backbones(:\n    pass", "SyntaxError"),
    ],
)
def test_plugin_that_fails_to_import_is_skipped_with_a_warning(fake_plugin_distribution, source, error):
    install_goodnet(fake_plugin_distribution)
    fake_plugin_distribution("cvcore-badnet", "0.9", {"badnet": "badnet_plugin"}, {"badnet_plugin": source})

    with pytest.warns(PluginLoadWarning, match=r"plugin 'badnet' \(distribution cvcore-badnet\) was skipped"):
        host = PluginHost()

    info = host.plugins["badnet"]
    assert info.status == "broken" and (info.distribution, info.version) == ("cvcore-badnet", "0.9")
    assert info.error.startswith("import of 'badnet_plugin' failed: ") and error in info.error
    assert host.plugins["goodnet"].status == "ok"
    assert "goodnet" in host.registry.available("backbone")
    assert builtin_parts(host.registry) == BUILTINS


def test_plugin_whose_hook_raises_is_dropped_whole(fake_plugin_distribution):
    install_goodnet(fake_plugin_distribution)
    fake_plugin_distribution(
        "cvcore-flaky",
        "0.1",
        {"flaky": "flaky_plugin"},
        {
            "flaky_plugin": '''
                import cvcore


                @cvcore.hookimpl
                def cvcore_backbones():
                    return [cvcore.Component("flakynet", dict)]


                @cvcore.hookimpl
                def cvcore_heads():
                    raise RuntimeError("weights file missing")
            ''',
        },
    )
    host = strict_host()  # importing and registering works; the hook fails when the registry is built

    with pytest.warns(PluginLoadWarning, match=r"'flaky' \(distribution cvcore-flaky\) was skipped: hook cvcore_heads raised"):
        registry = host.registry

    info = host.plugins["flaky"]
    assert info.status == "broken"
    assert info.error == "hook cvcore_heads raised RuntimeError: weights file missing"
    assert not host.manager.has_plugin("flaky")
    assert registry.provided_by("flaky") == {}  # its good backbone hook is dropped too
    assert "goodnet" in registry.available("backbone") and "classifier" in registry.available("head")


@pytest.mark.parametrize(
    "returned, type_name",
    [('["bignet"]', "str"), ('[("bignet", dict)]', "tuple"), ('[{"name": "bignet", "factory": dict}]', "dict")],
)
def test_plugin_returning_non_components_is_broken(fake_plugin_distribution, returned, type_name):
    install_goodnet(fake_plugin_distribution)
    fake_plugin_distribution(
        "cvcore-bignet",
        "0.1",
        {"bignet": "bignet_plugin"},
        {"bignet_plugin": f"import cvcore\n\n@cvcore.hookimpl\ndef cvcore_backbones():\n    return {returned}\n"},
    )
    host = strict_host()

    with pytest.warns(PluginLoadWarning, match="'bignet'"):
        available = host.registry.available("backbone")

    assert "goodnet" in available and "bignet" not in available
    assert host.plugins["bignet"].status == "broken"
    assert host.plugins["bignet"].error == f"hook cvcore_backbones returned a {type_name}; it must return cvcore.Component objects"


def test_plugin_building_an_invalid_component_is_broken(fake_plugin_distribution):
    fake_plugin_distribution(
        "cvcore-noname",
        "0.1",
        {"noname": "noname_plugin"},
        {"noname_plugin": "import cvcore\n\n@cvcore.hookimpl\ndef cvcore_metrics():\n    return [cvcore.Component('', dict)]\n"},
    )
    host = strict_host()

    with pytest.warns(PluginLoadWarning, match="hook cvcore_metrics raised TypeError: Component name must be a non-empty string"):
        assert "accuracy" in host.registry.available("metric")

    assert host.plugins["noname"].status == "broken"


# -- validation of hook implementations ---------------------------------------
class MisspelledHook:
    @cvcore.hookimpl
    def cvcore_backbone(self):
        return [cvcore.Component("typonet", dict)]


class UndecoratedHook:
    def cvcore_heads(self):
        return [cvcore.Component("plain_head", dict)]


class ArgumentNotInSpec:
    @cvcore.hookimpl
    def cvcore_heads(self, config):
        return [cvcore.Component("configured_head", dict)]


BAD_PLUGINS = {
    "misspelled": (
        MisspelledHook,
        "unknown hook cvcore_backbone (did you mean cvcore_backbones?); hooks are cvcore_backbones, cvcore_necks,",
    ),
    "undecorated": (UndecoratedHook, "function cvcore_heads is not decorated with @cvcore.hookimpl"),
    "bad-argument": (ArgumentNotInSpec, "Argument(s) {'config'} are declared in the hookimpl but can not be found in the hookspec"),
}
BAD_MODULES = {
    "misspelled": "import cvcore\n\n@cvcore.hookimpl\ndef cvcore_backbone():\n    return []\n",
    "undecorated": "import cvcore\n\ndef cvcore_heads():\n    return []\n",
    "bad-argument": "import cvcore\n\n@cvcore.hookimpl\ndef cvcore_heads(config):\n    return []\n",
}


@pytest.mark.parametrize("name", sorted(BAD_PLUGINS))
def test_installed_plugin_breaking_the_hook_contract_is_broken(fake_plugin_distribution, name):
    install_goodnet(fake_plugin_distribution)
    module = f"{name.replace('-', '_')}_plugin"
    fake_plugin_distribution(f"cvcore-{name}", "0.1", {name: module}, {module: BAD_MODULES[name]})

    with pytest.warns(PluginLoadWarning, match=f"'{name}' \\(distribution cvcore-{name}\\) was skipped"):
        host = PluginHost()

    info = host.plugins[name]
    assert info.status == "broken"
    assert BAD_PLUGINS[name][1] in info.error
    assert not host.manager.has_plugin(name)
    assert "goodnet" in host.registry.available("backbone")


@pytest.mark.parametrize("name", sorted(BAD_PLUGINS))
def test_register_plugin_rejects_a_plugin_breaking_the_hook_contract(name):
    plugin_class, message = BAD_PLUGINS[name]

    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)  # by hand: an error, not a warning
        with pytest.raises(cvcore.PluginError) as raised:
            cvcore.register_plugin(plugin_class(), name=name)

    assert str(raised.value).startswith(f"Plugin {name!r} was not registered: ")
    assert message in str(raised.value)
    assert name not in cvcore.plugins.host().plugins
    assert "classifier" in cvcore.available("head")


def test_hookimpl_with_a_typo_in_the_prefix_is_rejected():
    class PrefixTypo:
        @cvcore.hookimpl
        def cvcre_backbones(self):
            return [cvcore.Component("prefixnet", dict)]

    with pytest.raises(cvcore.PluginError, match="unknown hook cvcre_backbones"), ignoring_load_warnings():
        cvcore.register_plugin(PrefixTypo(), name="prefix-typo")


def test_register_plugin_rejects_non_components_at_once():
    class ReturnsNames:
        @cvcore.hookimpl
        def cvcore_backbones(self):
            return ["resnet18_v1b"]

    with pytest.raises(cvcore.PluginError, match="must return cvcore.Component"), ignoring_load_warnings():
        cvcore.register_plugin(ReturnsNames(), name="returns-names")


# -- registering by hand --------------------------------------------------------
class NotebookBackbones:
    """A plugin defined in a notebook or script rather than installed."""

    @cvcore.hookimpl
    def cvcore_backbones(self):
        return [cvcore.Component("notebook_net", dict, "A backbone from a notebook.")]


def test_register_plugin_adds_parts_and_unregister_removes_them():
    name = cvcore.register_plugin(NotebookBackbones(), name="notebook")

    assert name == "notebook"
    assert cvcore.get("backbone", "notebook_net").summary == "A backbone from a notebook."
    info = cvcore.plugins.host().plugins["notebook"]
    assert (info.status, info.distribution, info.module) == ("ok", None, "NotebookBackbones")

    cvcore.plugins.host().unregister("notebook")

    assert "notebook_net" not in cvcore.available("backbone")
    assert "notebook" not in cvcore.plugins.host().plugins


def test_register_plugin_names_a_plugin_without_a_name():
    import types

    module = types.ModuleType("my_project.cvcore_parts")
    module.cvcore_backbones = cvcore.hookimpl(lambda: [cvcore.Component("module_net", dict)])

    assert cvcore.register_plugin(module) == "my_project.cvcore_parts"
    assert cvcore.available("backbone").count("module_net") == 1


def test_register_plugin_refuses_a_name_in_use():
    cvcore.register_plugin(NotebookBackbones(), name="notebook")

    with pytest.raises(cvcore.PluginError, match="A plugin named 'notebook' is already registered; pass another name="):
        cvcore.register_plugin(NotebookBackbones(), name="notebook")
    with pytest.raises(cvcore.PluginError, match="already registered"):
        cvcore.register_plugin(NotebookBackbones(), name="cvcore")


# -- switches ------------------------------------------------------------------
OFFNET = "raise AssertionError('a disabled plugin must not be imported')"


@pytest.mark.parametrize("switch", ["offnet", "cvcore-offnet"])
def test_disabled_plugin_is_not_imported(fake_plugin_distribution, monkeypatch, switch):
    install_goodnet(fake_plugin_distribution)
    fake_plugin_distribution("cvcore-offnet", "2.0", {"offnet": "offnet_plugin"}, {"offnet_plugin": OFFNET})
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", switch)

    host = strict_host()

    info = host.plugins["offnet"]
    assert (info.status, info.distribution, info.version, info.error) == ("disabled", "cvcore-offnet", "2.0", None)
    assert "offnet_plugin" not in sys.modules
    assert host.plugins["goodnet"].status == "ok"


def test_disable_takes_a_comma_separated_list(fake_plugin_distribution, monkeypatch):
    install_goodnet(fake_plugin_distribution)
    fake_plugin_distribution("cvcore-offnet", "2.0", {"offnet": "offnet_plugin"}, {"offnet_plugin": OFFNET})
    fake_plugin_distribution("cvcore-thirdnet", "1.0", {"thirdnet": "thirdnet_plugin"}, {"thirdnet_plugin": OFFNET})
    fake_plugin_distribution("cvcore-keptnet", "1.0", {"keptnet": "keptnet_plugin"}, {"keptnet_plugin": ""})
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", " cvcore-offnet , goodnet,thirdnet ")

    host = strict_host()

    assert {name for name, info in host.plugins.items() if info.status == "disabled"} == {"offnet", "goodnet", "thirdnet"}
    assert "goodnet" not in host.registry.available("backbone")
    assert host.plugins["keptnet"].status == "ok"


@pytest.mark.first_party
def test_a_first_party_plugin_can_be_disabled_by_its_distribution_name(monkeypatch):
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "cvcore-int8-vnni")

    cvcore.plugins.reset_host()

    statuses = {name: info.status for name, info in cvcore.plugins.host().plugins.items()}
    assert statuses.items() >= {"cvcore": "ok", "int8-vnni": "disabled", **{n: "ok" for n in FIRST_PARTY if n != "int8-vnni"}}.items()
    assert list(statuses.values()).count("disabled") == 1


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_autoload_off_loads_only_the_builtins(fake_plugin_distribution, monkeypatch, value):
    fake_plugin_distribution("cvcore-offnet", "2.0", {"offnet": "offnet_plugin"}, {"offnet_plugin": OFFNET})
    monkeypatch.setenv("CVCORE_PLUGINS_AUTOLOAD", value)

    cvcore.plugins.reset_host()

    assert list(cvcore.plugins.host().plugins) == ["cvcore"]
    assert "offnet_plugin" not in sys.modules
    assert builtin_parts(cvcore.plugins.host().registry) == BUILTINS

    cvcore.register_plugin(NotebookBackbones(), name="notebook")
    assert "notebook_net" in cvcore.available("backbone")
    assert list(cvcore.plugins.host().plugins) == ["cvcore", "notebook"]


def test_arguments_to_the_host_override_the_switches(fake_plugin_distribution, monkeypatch):
    install_goodnet(fake_plugin_distribution)
    monkeypatch.setenv("CVCORE_PLUGINS_AUTOLOAD", "0")
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "goodnet")

    fake_plugin_distribution("cvcore-offnet", "2.0", {"offnet": "offnet_plugin"}, {"offnet_plugin": OFFNET})
    host = strict_host(autoload=True, disabled=["offnet"])

    assert host.plugins["goodnet"].status == "ok"
    assert host.plugins["offnet"].status == "disabled"


def test_switches_are_read_when_the_host_is_created(fake_plugin_distribution, monkeypatch):
    install_goodnet(fake_plugin_distribution)
    before = cvcore.plugins.reset_host()
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "goodnet")

    assert before.plugins["goodnet"].status == "ok"
    assert cvcore.plugins.reset_host().plugins["goodnet"].status == "disabled"


def test_trace_switch_prints_every_hook_call(monkeypatch, capsys):
    monkeypatch.setenv("CVCORE_PLUGINS_TRACE", "1")
    host = PluginHost(autoload=False)
    _ = host.registry  # building the registry calls every hook
    err = capsys.readouterr().err
    assert "cvcore trace: cvcore_heads() of plugin 'cvcore' -> [classifier" in err
    assert "cvcore trace: cvcore_tasks() of plugin 'cvcore' -> [classification, detection]" in err
