"""Per-layer widths of a ResNet (v1b family) as data: what a pruned network is.

A widths table (a JSON file, or the same as a TOML table) gives the output
channels of every convolution that pruning may narrow::

    {"format": "cvcore.resnet-widths", "version": 1,
     "stem": [32, 32, 64],                       # conv1.0/3/6 (deep stem), or [64] for the 7x7 conv1
     "stages": [[[64, 64, 256], [64, 64, 256], ...],   # layer1: per unit, its convolutions' widths
                ...]}

A unit lists its inner widths then its output width (bottleneck: conv1,
conv2, conv3; basic: conv1, conv2). Every unit of a stage has the stage's
output width, because their outputs are added to the shortcut; a stage's
first unit gets a projection shortcut when its input and output differ.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError

FORMAT = "cvcore.resnet-widths"
VERSION = 1
CONVS_PER_UNIT = {"basic": 2, "bottleneck": 3}


@dataclass(frozen=True)
class ResNetWidths:
    """The widths of a ResNet's stem convolutions and of every unit's convolutions, stage by stage."""

    stem: tuple[int, ...]
    stages: tuple[tuple[tuple[int, ...], ...], ...]

    @property
    def stem_channels(self) -> int:
        return self.stem[-1]

    @property
    def stage_channels(self) -> tuple[int, ...]:
        return tuple(stage[0][-1] for stage in self.stages)

    @classmethod
    def full(cls, unit: str, units: Sequence[int], stem: Sequence[int]) -> "ResNetWidths":
        """The unpruned widths: inner 64, 128, 256, 512 by stage (times 4 at a bottleneck's output)."""
        stages = []
        for inner, count in zip((64, 128, 256, 512), units):
            widths = (inner, inner, 4 * inner) if unit == "bottleneck" else (inner, inner)
            stages.append((widths,) * count)
        return cls(tuple(stem), tuple(stages))

    @classmethod
    def from_config(cls, table: Mapping[str, Any], where: str = "widths") -> "ResNetWidths":
        """Read a widths table, refusing a malformed one with the layer at fault."""
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: a widths table (with 'stem' and 'stages') was expected, got {type(table).__name__}.")
        if table.get("format", FORMAT) != FORMAT or table.get("version", VERSION) != VERSION:
            raise ConfigError(f"{where}: format {table.get('format')!r} version {table.get('version')!r} is not "
                              f"{FORMAT!r} version {VERSION}.")
        unknown = sorted(set(table) - {"format", "version", "source", "stem", "stages"})
        if unknown:
            raise ConfigError(f"{where}: unknown keys {unknown}; a widths table has format, version, source, stem and stages.")
        stem = _widths(table.get("stem"), f"{where}: stem", lambda i: f"conv1 width {i}")
        stages = table.get("stages")
        if not isinstance(stages, Sequence) or isinstance(stages, str):
            raise ConfigError(f"{where}: 'stages' must be a list of stages, each a list of units, got {stages!r}.")
        parsed = []
        for s, stage in enumerate(stages, 1):
            if not isinstance(stage, Sequence) or isinstance(stage, str) or not stage:
                raise ConfigError(f"{where}: layer{s} must be a non-empty list of units, got {stage!r}.")
            parsed.append(tuple(_widths(unit, f"{where}: layer{s}.{u}", lambda i, s=s, u=u: f"layer{s}.{u}.conv{i + 1}")
                                for u, unit in enumerate(stage)))
        return cls(stem, tuple(parsed))

    def to_config(self, source: str | None = None) -> dict[str, Any]:
        """The widths as a plain table (what ``from_config`` reads, and what JSON and TOML files hold)."""
        table: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if source:
            table["source"] = source
        table["stem"] = list(self.stem)
        table["stages"] = [[list(unit) for unit in stage] for stage in self.stages]
        return table

    def projections(self) -> tuple[tuple[bool, ...], ...]:
        """Which units have a projection shortcut: those whose input and output differ in width or resolution."""
        found, in_channels = [], self.stem_channels
        for index, stage in enumerate(self.stages):
            flags = []
            for position, widths in enumerate(stage):
                flags.append((position == 0 and index > 0) or in_channels != widths[-1])
                in_channels = widths[-1]
            found.append(tuple(flags))
        return tuple(found)

    def check_fits(self, unit: str, units: Sequence[int], deep_stem: bool, projections: Sequence[Sequence[bool]],
                   where: str = "widths") -> None:
        """The widths fit a network of ``units`` per stage of ``unit`` kind with these projection shortcuts.

        Each breach names its layer: counts of stem widths, stages, units and
        convolutions, and residual additions whose two sides differ in width.
        """
        stem_convs = 3 if deep_stem else 1
        if len(self.stem) != stem_convs:
            names = "conv1.0, conv1.3 and conv1.6 (a deep stem)" if deep_stem else "conv1 (a 7x7 stem)"
            raise ConfigError(f"{where}: the stem has {len(self.stem)} widths; this network has {stem_convs}: {names}.")
        if len(self.stages) != len(units):
            raise ConfigError(f"{where}: {len(self.stages)} stages; this network has {len(units)} (layer1..layer{len(units)}).")
        convs = CONVS_PER_UNIT[unit]
        for s, (stage, count) in enumerate(zip(self.stages, units), 1):
            if len(stage) != count:
                raise ConfigError(f"{where}: layer{s} has {len(stage)} units; this network has {count} (layer{s}.0..layer{s}.{count - 1}).")
            for u, widths in enumerate(stage):
                if len(widths) != convs:
                    raise ConfigError(f"{where}: layer{s}.{u} has {len(widths)} widths; a {unit} unit has {convs} convolutions "
                                      f"(conv1..conv{convs}).")
                if widths[-1] != stage[0][-1]:
                    raise ConfigError(
                        f"{where}: layer{s}.{u}.conv{convs} is {widths[-1]} wide but layer{s}.0.conv{convs} is {stage[0][-1]}: "
                        "every unit of a stage adds its output to the same residual path, so they must be equally wide.")
        if not projections[0][0] and self.stage_channels[0] != self.stem_channels:
            raise ConfigError(
                f"{where}: layer1.0.conv{convs} is {self.stage_channels[0]} wide but the stem gives {self.stem_channels}: "
                "layer1.0 has no projection shortcut in this network, so its output is added to the stem's and must be as wide.")


def read_widths(path: str | os.PathLike) -> ResNetWidths:
    """A widths table from a JSON file; a file that is not one is an error naming it."""
    path = Path(path)
    try:
        table = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a readable widths file (JSON): {exc}") from exc
    return ResNetWidths.from_config(table, str(path))


def _widths(values: Any, where: str, layer: Callable[[int], str]) -> tuple[int, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise ConfigError(f"{where}: a list of convolution widths was expected, got {values!r}.")
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where.split(':')[0]}: {layer(index)} is {value!r} wide; widths are positive integers "
                              "(output channels).")
    return tuple(values)
