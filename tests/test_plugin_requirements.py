"""What a plugin declares about its surroundings: the hook API it was written for and the plugins it needs."""
from __future__ import annotations

import ast
import types
import warnings

import pytest
from test_plugins import FIRST_PARTY, install_goodnet, strict_host

import cvcore
from cvcore.cli import main
from cvcore.hookspecs import API_VERSION
from cvcore.plugins import PluginHost, PluginLoadWarning, PluginSwitchWarning

# cvcore_plugin_state comes first so that its reset_host() runs after monkeypatch is undone.
pytestmark = pytest.mark.usefixtures("cvcore_plugin_state")


def module_source(name: str, *declarations: str) -> str:
    """An installable plugin module registering the backbone ``name``, after the given top-level lines."""
    return "\n".join(["import cvcore", *declarations, "", "",
                      "@cvcore.hookimpl", "def cvcore_backbones():", f"    return [cvcore.Component({name!r}, dict)]", ""])


def plugin_module(name: str, backbone: str, **declarations) -> types.ModuleType:
    """An in-memory plugin module registering the backbone ``backbone``, with ``declarations`` as attributes."""
    module = types.ModuleType(name)
    module.cvcore_backbones = cvcore.hookimpl(lambda: [cvcore.Component(backbone, dict)])
    for key, value in declarations.items():
        setattr(module, key, value)
    return module


def install(fake_plugin_distribution, name: str, *declarations: str, source: str | None = None) -> None:
    """Install ``cvcore-NAME`` 1.0, entry point ``NAME``, module ``NAME_plugin`` registering the backbone ``NAME``."""
    module = f"{name}_plugin"
    fake_plugin_distribution(f"cvcore-{name}", "1.0", {name: module}, {module: source or module_source(name, *declarations)})


def load_warnings(**options) -> tuple[PluginHost, list[str]]:
    """A new host and the messages of the PluginLoadWarnings its creation issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        host = PluginHost(**options)
    return host, [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]


# -- CVCORE_API -------------------------------------------------------------------
def test_a_plugin_for_another_hook_api_is_broken_with_a_warning(fake_plugin_distribution):
    install_goodnet(fake_plugin_distribution)
    install(fake_plugin_distribution, "oldnet", "CVCORE_API = 2")

    host, messages = load_warnings()

    expected = ("written for cvcore hook API 2; this cvcore has API 1: install a cvcore-oldnet version made for this "
                "cvcore (or a cvcore that has API 2)")
    assert messages == [f"cvcore plugin 'oldnet' (distribution cvcore-oldnet) was skipped: {expected}"]
    assert (host.plugins["oldnet"].status, host.plugins["oldnet"].error) == ("broken", expected)
    assert not host.manager.has_plugin("oldnet")
    assert "oldnet" not in host.registry.available("backbone") and "goodnet" in host.registry.available("backbone")


def test_a_plugin_for_this_hook_api_or_declaring_none_loads(fake_plugin_distribution):
    install(fake_plugin_distribution, "currentnet", f"CVCORE_API = {API_VERSION}")
    install(fake_plugin_distribution, "anynet")

    host = strict_host()

    assert {host.plugins[name].status for name in ("currentnet", "anynet")} == {"ok"}
    assert {"currentnet", "anynet"} <= set(host.registry.available("backbone"))


@pytest.mark.parametrize("value", ['"1"', "1.0", "True"])
def test_cvcore_api_must_be_an_int(fake_plugin_distribution, value):
    install(fake_plugin_distribution, "oddnet", f"CVCORE_API = {value}")

    host, messages = load_warnings()

    assert host.plugins["oddnet"].status == "broken"
    assert host.plugins["oddnet"].error == (
        f"CVCORE_API must be an int, the cvcore hook API version it was written for (this cvcore has 1); got {ast.literal_eval(value)!r}"
    )
    assert len(messages) == 1


def test_register_plugin_refuses_a_plugin_for_another_hook_api():
    with pytest.raises(cvcore.PluginError) as raised:
        cvcore.register_plugin(plugin_module("future_parts", "future_net", CVCORE_API=API_VERSION + 1), name="future")

    assert str(raised.value) == (
        "Plugin 'future' was not registered: written for cvcore hook API 2; this cvcore has API 1: "
        "update it for this cvcore (or a cvcore that has API 2)"
    )
    assert "future" not in cvcore.plugins.host().plugins
    assert "future_net" not in cvcore.available("backbone")


@pytest.mark.first_party
@pytest.mark.parametrize("entry_point", sorted(FIRST_PARTY))
def test_first_party_plugins_declare_this_hook_api(entry_point):
    assert cvcore.plugins.host().plugins[entry_point].plugin.CVCORE_API == API_VERSION


def test_the_tinynet_fixture_declares_this_hook_api(tinynet):
    assert tinynet.CVCORE_API == API_VERSION
    assert cvcore.plugins.host().plugins["tinynet"].status == "ok"


# -- CVCORE_REQUIRES ----------------------------------------------------------------
@pytest.mark.parametrize("required", ["basenet", "cvcore-basenet"])
def test_a_plugin_whose_requirement_is_loaded_works(fake_plugin_distribution, required):
    install(fake_plugin_distribution, "usesnet", f"CVCORE_REQUIRES = ({required!r},)")
    install(fake_plugin_distribution, "basenet")

    host = strict_host()

    assert host.plugins["usesnet"].status == "ok"
    assert {"usesnet", "basenet"} <= set(host.registry.available("backbone"))


def test_a_plugin_needing_a_plugin_that_is_not_installed_is_broken_when_loaded(fake_plugin_distribution):
    install_goodnet(fake_plugin_distribution)
    install(fake_plugin_distribution, "usesnet", 'CVCORE_REQUIRES = ("cvcore-nowhere",)')

    host, messages = load_warnings()  # warned at once, not at first use

    error = "needs plugin 'cvcore-nowhere', which is not installed (no installed plugin or distribution has that name)"
    assert messages == [f"cvcore plugin 'usesnet' (distribution cvcore-usesnet) was skipped: {error}"]
    assert (host.plugins["usesnet"].status, host.plugins["usesnet"].error) == ("broken", error)
    assert "usesnet" not in host.registry.available("backbone") and "goodnet" in host.registry.available("backbone")


def test_a_plugin_needing_a_disabled_plugin_is_broken(fake_plugin_distribution, monkeypatch):
    install(fake_plugin_distribution, "usesnet", 'CVCORE_REQUIRES = ("basenet",)')
    install(fake_plugin_distribution, "basenet")
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "cvcore-basenet")

    host, messages = load_warnings()

    error = "needs plugin 'basenet' (distribution cvcore-basenet), which is disabled: remove it from CVCORE_PLUGINS_DISABLE"
    assert host.plugins["usesnet"].error == error and messages == [
        f"cvcore plugin 'usesnet' (distribution cvcore-usesnet) was skipped: {error}"
    ]
    assert host.plugins["basenet"].status == "disabled"
    assert not {"usesnet", "basenet"} & set(host.registry.available("backbone"))


def test_plugins_needing_a_broken_plugin_are_broken_down_the_chain(fake_plugin_distribution):
    install(fake_plugin_distribution, "topnet", 'CVCORE_REQUIRES = ("cvcore-midnet",)')
    install(fake_plugin_distribution, "midnet", 'CVCORE_REQUIRES = ("basenet",)')
    install(fake_plugin_distribution, "basenet", source="raise ImportError('libbase.so not found')")
    install_goodnet(fake_plugin_distribution)

    host, messages = load_warnings()

    base = "import of 'basenet_plugin' failed: ImportError: libbase.so not found"
    mid = f"needs plugin 'basenet' (distribution cvcore-basenet), which is broken ({base})"
    top = f"needs plugin 'midnet' (distribution cvcore-midnet), which is broken ({mid})"
    assert [host.plugins[name].error for name in ("basenet", "midnet", "topnet")] == [base, mid, top]
    assert len(messages) == 3 and all(host.plugins[name].status == "broken" for name in ("basenet", "midnet", "topnet"))
    assert not {"topnet", "midnet"} & set(host.registry.available("backbone"))
    assert host.plugins["goodnet"].status == "ok"


def test_a_plugin_needing_one_whose_hook_fails_is_broken_with_it(fake_plugin_distribution):
    install(fake_plugin_distribution, "usesnet", 'CVCORE_REQUIRES = ("flakynet",)')
    flaky = "import cvcore\n\n@cvcore.hookimpl\ndef cvcore_backbones():\n    raise RuntimeError('weights file missing')\n"
    install(fake_plugin_distribution, "flakynet", source=flaky)
    host = strict_host()  # both import fine; the hook fails when the registry is built

    with pytest.warns(PluginLoadWarning) as caught:
        available = host.registry.available("backbone")

    assert host.plugins["usesnet"].error == (
        "needs plugin 'flakynet' (distribution cvcore-flakynet), which is broken "
        "(hook cvcore_backbones raised RuntimeError: weights file missing)"
    )
    assert {str(w.message).split(" was skipped")[0] for w in caught} == {
        "cvcore plugin 'flakynet' (distribution cvcore-flakynet)", "cvcore plugin 'usesnet' (distribution cvcore-usesnet)"
    }
    assert "usesnet" not in available and not host.manager.has_plugin("usesnet")


@pytest.mark.parametrize("required, plugin, distribution, extra", [("pose", "pose", "cvcore-pose", "pose"),
                                                                   ("cvcore-rcnn-fpn", "rcnn-fpn", "cvcore-rcnn-fpn", "rcnn")])
def test_register_plugin_refuses_a_missing_first_party_requirement_naming_what_to_install(required, plugin, distribution, extra):
    cvcore.plugins.reset_host(autoload=False)

    with pytest.raises(cvcore.PluginError) as raised:
        cvcore.register_plugin(plugin_module("my_parts", "my_net", CVCORE_REQUIRES=(required,)), name="mine")

    assert str(raised.value) == (
        f"Plugin 'mine' was not registered: needs plugin {plugin!r} (distribution {distribution}), "
        f'which is not installed: pip install "cvcore[{extra}]"'
    )
    assert "mine" not in cvcore.plugins.host().plugins and "my_net" not in cvcore.available("backbone")


def test_register_plugin_accepts_requirements_that_are_loaded():
    cvcore.register_plugin(plugin_module("base_parts", "base_net"), name="base")

    cvcore.register_plugin(plugin_module("top_parts", "top_net", CVCORE_REQUIRES=["base", "cvcore"]), name="top")

    assert cvcore.plugins.host().plugins["top"].status == "ok"
    assert {"base_net", "top_net"} <= set(cvcore.available("backbone"))


@pytest.mark.parametrize("value", ['"basenet"', '("basenet", 3)', '("",)'])
def test_cvcore_requires_must_be_a_tuple_of_names(fake_plugin_distribution, value):
    install(fake_plugin_distribution, "usesnet", f"CVCORE_REQUIRES = {value}")
    install(fake_plugin_distribution, "basenet")

    host, messages = load_warnings()

    assert host.plugins["usesnet"].error == (
        'CVCORE_REQUIRES must be a tuple of plugin names (entry-point or distribution names, e.g. ("pose",)); '
        f"got {ast.literal_eval(value)!r}"
    )
    assert len(messages) == 1 and host.plugins["basenet"].status == "ok"


def test_cvcore_plugins_shows_the_unmet_requirement(fake_plugin_distribution, monkeypatch, capsys):
    install(fake_plugin_distribution, "usesnet", 'CVCORE_REQUIRES = ("basenet",)')
    install(fake_plugin_distribution, "basenet")
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "basenet")
    with pytest.warns(PluginLoadWarning):
        cvcore.plugins.reset_host()

    code = main(["plugins", "usesnet"])

    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert out == ("usesnet (cvcore-usesnet 1.0, broken) needs plugin 'basenet' (distribution cvcore-basenet), "
                   "which is disabled: remove it from CVCORE_PLUGINS_DISABLE")


# -- CVCORE_PLUGINS_DISABLE names --------------------------------------------------------
def test_disabling_a_name_no_plugin_has_warns_with_the_closest_names(fake_plugin_distribution, monkeypatch):
    install_goodnet(fake_plugin_distribution)
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "goodnt,cvcore-goodnet")

    with pytest.warns(PluginSwitchWarning) as caught:
        host = PluginHost()

    (warning,) = caught
    message = str(warning.message)
    assert message.startswith(
        "CVCORE_PLUGINS_DISABLE names 'goodnt', but no installed plugin or distribution has that name, so it disables nothing. "
        "Did you mean 'goodnet', 'cvcore-goodnet'? The installed plugins are: cvcore, "
    )
    assert "goodnet (cvcore-goodnet)" in message
    assert host.plugins["goodnet"].status == "disabled"  # by its distribution name, which is no typo


def test_disabling_installed_names_or_passing_names_to_the_host_does_not_warn(fake_plugin_distribution, monkeypatch):
    install_goodnet(fake_plugin_distribution)
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "goodnet")

    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginSwitchWarning)
        assert PluginHost().plugins["goodnet"].status == "disabled"
        assert PluginHost(disabled={"not-installed-anywhere"}).plugins["goodnet"].status == "ok"

