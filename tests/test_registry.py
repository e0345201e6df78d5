"""Looking parts up: listings, suggestions, install hints, name conflicts, and the Component contract."""
from __future__ import annotations

import pytest

import cvcore
from cvcore.plugins import PluginHost, PluginLoadWarning

# cvcore_plugin_state comes first so that its reset_host() runs after monkeypatch is undone.
pytestmark = pytest.mark.usefixtures("cvcore_plugin_state")


def backbones_plugin(*names: str):
    """A plugin object providing backbones ``names`` (each factory builds a dict of its options)."""

    class Backbones:
        @cvcore.hookimpl
        def cvcore_backbones(self):
            return [cvcore.Component(name, dict, f"The {name} backbone.") for name in names]

    return Backbones()


def backbone_module(*names: str) -> str:
    """Source of an installable plugin module providing backbones ``names``."""
    components = ", ".join(f"cvcore.Component({name!r}, dict)" for name in names)
    return f"import cvcore\n\n\n@cvcore.hookimpl\ndef cvcore_backbones():\n    return [{components}]\n"


# -- listing and getting ---------------------------------------------------------
def test_available_lists_names_sorted():
    cvcore.register_plugin(backbones_plugin("zeta_net", "alpha_net", "mid_net"), name="three-backbones")

    names = cvcore.available("backbone")

    assert names == sorted(names)
    assert [n for n in names if n.endswith("_net")] == ["alpha_net", "mid_net", "zeta_net"]
    assert cvcore.available("transform") == sorted(cvcore.available("transform"))


def test_get_returns_the_component_to_build_from():
    cvcore.register_plugin(backbones_plugin("alpha_net"), name="alpha")

    component = cvcore.get("backbone", "alpha_net")

    assert isinstance(component, cvcore.Component)
    assert component.name == "alpha_net" and component.summary == "The alpha_net backbone."
    assert component.build(out_features=("c5",)) == {"out_features": ("c5",)}
    entry = cvcore.plugins.host().registry.entry("backbone", "alpha_net")
    assert (entry.kind, entry.plugin, entry.component) == ("backbone", "alpha", component)


def test_the_same_name_may_be_used_by_different_kinds():
    class ResNetParts:
        @cvcore.hookimpl
        def cvcore_backbones(self):
            return [cvcore.Component("resnet_tiny", dict)]

        @cvcore.hookimpl
        def cvcore_models(self):
            return [cvcore.Component("resnet_tiny", dict)]

    cvcore.register_plugin(ResNetParts(), name="resnet-parts")

    found = cvcore.plugins.host().registry.find("resnet_tiny")

    assert sorted(entry.kind for entry in found) == ["backbone", "model"]
    assert cvcore.plugins.host().registry.provided_by("resnet-parts") == {"backbone": ["resnet_tiny"], "model": ["resnet_tiny"]}


@pytest.mark.parametrize(
    "call",
    [lambda: cvcore.available("backbones"), lambda: cvcore.get("backbones", "tinynet")],
    ids=["available", "get"],
)
def test_unknown_kind_is_a_value_error_with_a_suggestion(call):
    with pytest.raises(ValueError, match=r"Unknown kind of part 'backbones'\. Did you mean 'backbone'\? Kinds: backbone, neck, head,"):
        call()


def test_unknown_kind_without_a_close_one_lists_the_kinds():
    with pytest.raises(ValueError) as raised:
        cvcore.available("optimizer")

    assert "Did you mean" not in str(raised.value)
    assert str(raised.value).endswith("Kinds: " + ", ".join(cvcore.KINDS) + ".")


def test_unknown_name_suggests_the_close_names():
    cvcore.register_plugin(backbones_plugin("quuxnet18_tiny", "quuxnet34_tiny", "blorp_tiny"), name="tiny-backbones")

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("backbone", "quuxnet19_tiny")

    message = str(raised.value)
    assert message.startswith("No backbone named 'quuxnet19_tiny'. Did you mean 'quuxnet18_tiny', 'quuxnet34_tiny'?")
    assert "blorp_tiny" not in message
    assert isinstance(raised.value, KeyError)  # so `except KeyError` keeps working


def test_a_misspelled_builtin_is_suggested():
    with pytest.raises(cvcore.UnknownComponentError, match=r"^No head named 'clasifier'\. Did you mean 'classifier'"):
        cvcore.get("head", "clasifier")


def test_unknown_name_without_a_close_one_points_to_the_listing():
    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("loss", "focal_loss")

    count = len(cvcore.available("loss"))
    assert str(raised.value) == (
        f"No loss named 'focal_loss'. {count} loss(s) are registered: see cvcore.available('loss') or `cvcore plugins`."
    )


# -- hints about first-party plugins -----------------------------------------------
@pytest.mark.parametrize(
    "kind, name, distribution, extra",
    [
        ("model", "simple_pose_resnet50_v1b", "cvcore-pose", "pose"),
        ("task", "keypoints", "cvcore-pose", "pose"),
        ("model", "faster_rcnn_fpn_resnet50_v1b_coco", "cvcore-rcnn-fpn", "rcnn"),
        ("neck", "fpn", "cvcore-rcnn-fpn", "rcnn"),
        ("model", "srgan_4x", "cvcore-gan", "gan"),
        ("transform", "prune", "cvcore-prune", "prune"),
        ("model", "resnet50_v1d_0.37", "cvcore-prune", "prune"),
        ("transform", "int8", "cvcore-int8-vnni", "int8"),
    ],
)
def test_a_part_of_a_missing_first_party_plugin_names_the_extra(kind, name, distribution, extra):
    cvcore.plugins.reset_host(autoload=False)  # as if only cvcore itself were installed

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get(kind, name)

    assert f"No {kind} named {name!r}." in str(raised.value)
    assert (
        f"The {kind} {name!r} comes with the {distribution} plugin, which is not installed: "
        f'pip install "cvcore[{extra}]".'
    ) in str(raised.value)


def test_a_part_of_a_disabled_first_party_plugin_says_it_is_disabled(monkeypatch, fake_plugin_distribution):
    fake_plugin_distribution("cvcore-pose", "0.1.0", {"pose": "quiet_pose.plugin"}, {"quiet_pose.plugin": ""})
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "pose")
    cvcore.plugins.reset_host()

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("model", "simple_pose_resnet50_v1b")

    assert "Its plugin 'pose' is disabled by CVCORE_PLUGINS_DISABLE." in str(raised.value)
    assert "pip install" not in str(raised.value)


def test_a_part_of_a_broken_first_party_plugin_says_why_it_failed(fake_plugin_distribution):
    # A cvcore-pose earlier on sys.path than the real one, whose import fails.
    fake_plugin_distribution(
        "cvcore-pose",
        "0.1.0",
        {"pose": "broken_pose.plugin"},
        {"broken_pose.plugin": "raise ImportError('libpose.so: cannot open shared object file')"},
    )
    with pytest.warns(PluginLoadWarning, match=r"'pose' \(distribution cvcore-pose\) was skipped"):
        cvcore.plugins.reset_host()

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("model", "simple_pose_resnet50_v1b")

    assert (
        "Its plugin 'pose' failed to load: import of 'broken_pose.plugin' failed: "
        "ImportError: libpose.so: cannot open shared object file"
    ) in str(raised.value)


def test_a_part_missing_from_an_installed_first_party_plugin_names_its_version(fake_plugin_distribution):
    fake_plugin_distribution("cvcore-pose", "0.9.1", {"pose": "older_pose.plugin"}, {"older_pose.plugin": ""})
    cvcore.plugins.reset_host()

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("model", "simple_pose_made_up_for_this_test")

    assert "The installed cvcore-pose 0.9.1 does not provide it." in str(raised.value)


def test_names_no_first_party_plugin_provides_get_no_install_hint():
    cvcore.plugins.reset_host(autoload=False)

    with pytest.raises(cvcore.UnknownComponentError) as raised:
        cvcore.get("backbone", "efficientnet_b0")

    count = len(cvcore.available("backbone"))
    assert str(raised.value) == (
        f"No backbone named 'efficientnet_b0'. {count} backbone(s) are registered: "
        "see cvcore.available('backbone') or `cvcore plugins`."
    )


# -- name conflicts ---------------------------------------------------------------
def test_two_installed_plugins_with_the_same_backbone_conflict(fake_plugin_distribution):
    fake_plugin_distribution("cvcore-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": backbone_module("sharednet", "alphanet")})
    fake_plugin_distribution("cvcore-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": backbone_module("sharednet")})
    host = PluginHost()

    with pytest.warns(PluginLoadWarning, match="Two plugins register the backbone 'sharednet'"):
        available = host.registry.available("backbone")
    assert "sharednet" not in available  # neither wins silently; the rest of both plugins still works
    with pytest.raises(cvcore.PluginConflictError) as raised:
        host.registry.get("backbone", "sharednet")

    message = str(raised.value)
    assert message.startswith("Two plugins register the backbone 'sharednet': ")
    assert "plugin 'alpha' (distribution cvcore-alpha)" in message
    assert "plugin 'beta' (distribution cvcore-beta)" in message
    assert "To use it, uninstall one, or disable it with CVCORE_PLUGINS_DISABLE=" in message


def test_disabling_one_of_two_conflicting_plugins_resolves_the_conflict(fake_plugin_distribution, monkeypatch):
    fake_plugin_distribution("cvcore-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": backbone_module("sharednet", "alphanet")})
    fake_plugin_distribution("cvcore-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": backbone_module("sharednet")})
    monkeypatch.setenv("CVCORE_PLUGINS_DISABLE", "cvcore-beta")

    host = PluginHost()

    assert host.registry.entry("backbone", "sharednet").plugin == "alpha"
    assert host.plugins["beta"].status == "disabled"


def test_a_plugin_registered_by_hand_conflicting_with_a_builtin():
    class MyHeads:
        @cvcore.hookimpl
        def cvcore_heads(self):
            return [cvcore.Component("classifier", dict)]

    with pytest.raises(cvcore.PluginError) as raised:
        cvcore.register_plugin(MyHeads(), name="my-heads")

    assert "the head 'classifier': plugin 'cvcore' (distribution cvcore) and plugin 'my-heads'." in str(raised.value)
    assert "my-heads" not in cvcore.plugins.host().plugins
    assert "classifier" in cvcore.available("head")


# -- the Component contract ----------------------------------------------------------
@pytest.mark.parametrize("name", ["", "   ", None, 3, b"resnet"])
def test_component_name_must_be_a_non_empty_string(name):
    with pytest.raises(TypeError, match="Component name must be a non-empty string"):
        cvcore.Component(name, dict)


@pytest.mark.parametrize("factory", [None, "ClassifierHead", {"in_features": 1}])
def test_component_factory_must_be_callable(factory):
    with pytest.raises(TypeError, match=f"Component 'head': factory must be callable, got {type(factory).__name__}"):
        cvcore.Component("head", factory)


def test_component_summary_falls_back_to_the_factory_docstring():
    def make_block(**options):
        """Build a block.

        Longer explanation.
        """
        return options

    assert cvcore.Component("block", make_block).summary == "Build a block."
    assert cvcore.Component("block", make_block, doc="Own doc.\nMore.").summary == "Own doc."
    assert cvcore.Component("block", lambda: None).summary == ""


def test_component_is_immutable():
    component = cvcore.Component("block", dict)

    with pytest.raises(AttributeError):
        component.name = "other"


def test_cvcore_plugins_still_lists_everything_when_two_plugins_clash(fake_plugin_distribution, capsys):
    from cvcore.cli import main

    fake_plugin_distribution("cvcore-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": backbone_module("sharednet", "alphanet")})
    fake_plugin_distribution("cvcore-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": backbone_module("sharednet")})
    cvcore.plugins.reset_host()

    with pytest.warns(PluginLoadWarning):
        code = main(["plugins", "-v"])

    out = capsys.readouterr().out
    assert code == 1
    assert out.split("alpha (cvcore-alpha 1.0, ok)\n")[1].startswith("  backbone: alphanet\n")
    assert "conflict: Two plugins register the backbone 'sharednet'" in out
