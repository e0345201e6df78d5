"""Widths tables: what a pruned ResNet is, and the errors a bad one gives (naming the layer)."""
from __future__ import annotations

import json

import pytest

import cvcore
from cvcore.errors import ConfigError
from cvcore.nn.widths import ResNetWidths, read_widths

FULL18 = ResNetWidths.full("basic", (2, 2, 2, 2), (64,)).to_config()


def build(widths, name="resnet18_v1b"):
    return cvcore.get("backbone", name).build(widths=widths)


def test_the_full_widths_build_the_unpruned_network():
    plain, spelled = build(None), build(FULL18)
    shapes = lambda net: {k: p.shape for k, p in net._collect_params_with_prefix().items()}  # noqa: E731
    assert shapes(plain) == shapes(spelled)


def edited(change) -> dict:
    table = json.loads(json.dumps(FULL18))
    change(table)
    return table


@pytest.mark.parametrize("change, message", [
    (lambda t: t["stages"][2].pop(), r"layer3 has 1 units; this network has 2 \(layer3.0..layer3.1\)"),
    (lambda t: t["stages"].pop(), r"3 stages; this network has 4"),
    (lambda t: t["stem"].append(32), r"the stem has 2 widths; this network has 1: conv1 \(a 7x7 stem\)"),
    (lambda t: t["stages"][1][1].append(8), r"layer2.1 has 3 widths; a basic unit has 2 convolutions"),
    (lambda t: t["stages"][1][1].__setitem__(0, 0), r"layer2.1.conv1 is 0 wide; widths are positive integers"),
    (lambda t: t["stages"][1][1].__setitem__(0, 12.5), r"layer2.1.conv1 is 12.5 wide"),
    (lambda t: t["stages"][3][1].__setitem__(1, 500), r"layer4.1.conv2 is 500 wide but layer4.0.conv2 is 512: every unit of a stage"),
    (lambda t: [t["stages"][0][u].__setitem__(1, 32) for u in (0, 1)], r"layer1.0.conv2 is 32 wide but the stem gives 64"),
    (lambda t: t.__setitem__("version", 2), r"is not 'cvcore.resnet-widths' version 1"),
    (lambda t: t.__setitem__("stage", []), r"unknown keys \['stage'\]"),
])
def test_a_bad_widths_table_names_the_layer(change, message):
    with pytest.raises(ConfigError, match=message):
        build(edited(change))


def test_a_widths_file_that_is_not_json_is_named(tmp_path):
    bad = tmp_path / "w.json"
    bad.write_text("{stem: [8]")
    with pytest.raises(ConfigError, match=f"{bad} is not a readable widths file"):
        read_widths(bad)


def test_a_widths_file_round_trips(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(FULL18))
    assert read_widths(path).to_config() == FULL18
