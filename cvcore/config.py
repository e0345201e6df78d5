"""Pipeline configurations as files: reading TOML, merging overrides, and the paths inside them.

A path in a TOML file is relative to the file's own folder (as in pyproject.toml
or a compose file), so a config or a saved run means the same data from any
working directory. A path given in Python (``Pipeline(data={"root": ...})``) or
on the command line is relative to the working directory. :func:`read_config`
makes every path of a file absolute; :func:`relative_paths` writes them back
relative to the folder a run is saved in, so a run moved together with its data
still finds it.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError

PART_KINDS = ("backbone", "neck", "head", "loss", "metric")
TRAIN_PATHS = ("out_dir", "log_file")
"""``[train]`` options that are always paths."""
MAYBE_PATHS = {"train": ("teacher",), "": ("detector",)}
"""Options that are a path or a zoo name (``teacher``, ``detector``): taken as a path where that path exists."""


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML pipeline config, its paths made absolute; malformed files raise :class:`ConfigError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    try:
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    if "task" not in config:
        raise ConfigError(f"{path} has no top-level task = \"...\" (e.g. task = \"classification\").")
    base = path.resolve().parent
    return map_paths(config, lambda value: os.path.normpath(base / value), lambda value: (base / value).exists())


def relative_paths(config: Mapping[str, Any], directory: str | os.PathLike) -> dict[str, Any]:
    """``config`` with its paths (relative to the working directory or absolute) made relative to ``directory``."""
    base = Path(directory).resolve()
    return map_paths(config, lambda value: os.path.relpath(Path(value).resolve(), base), lambda value: Path(value).exists())


def map_paths(config: Mapping[str, Any], convert: Callable[[str], str], exists: Callable[[str], bool]) -> dict[str, Any]:
    """A copy of ``config`` with ``convert`` applied to every path in it.

    Paths are: ``[data]`` options that the dataset annotates as ``os.PathLike``
    (``root`` always), ``[train]`` ``out_dir``/``log_file``, a part's
    ``pretrained`` file, and options that may be a path or a zoo name
    (:data:`MAYBE_PATHS`) where ``exists`` says that the path is there.
    """
    config = dict(config)
    if isinstance(config.get("data"), Mapping):
        data = dict(config["data"])
        for key in dataset_path_options(data, config.get("task")):
            if isinstance(data.get(key), (str, os.PathLike)):
                data[key] = convert(os.fspath(data[key]))
        config["data"] = data
    if isinstance(config.get("train"), Mapping):
        train = dict(config["train"])
        for key in TRAIN_PATHS:
            if isinstance(train.get(key), (str, os.PathLike)):
                train[key] = convert(os.fspath(train[key]))
        config["train"] = _convert_maybe(train, MAYBE_PATHS["train"], convert, exists)
    for kind in PART_KINDS:
        part = config.get(kind)
        if isinstance(part, Mapping) and isinstance(part.get("pretrained"), (str, os.PathLike)):
            config[kind] = {**part, "pretrained": convert(os.fspath(part["pretrained"]))}
    return _convert_maybe(config, MAYBE_PATHS[""], convert, exists)


def dataset_path_options(data: Mapping[str, Any], task: Any = None) -> list[str]:
    """The keys of a ``[data]`` table that are paths: ``root`` and the dataset's options annotated ``os.PathLike``.

    The dataset is the one ``data`` names, else ``task``'s default (when both are known).
    """
    import inspect

    from .plugins import host

    registry = host().registry
    keys = ["root"]
    name = data.get("dataset")
    if name is None and isinstance(task, str) and task in registry.available("task"):
        name = registry.get("task", task).build().default_dataset
    entry = next((e for e in registry.entries("dataset") if e.name == name), None) if name else None
    if entry is not None:
        try:
            parameters = inspect.signature(entry.component.factory).parameters.values()
        except (TypeError, ValueError):
            parameters = ()
        keys += [p.name for p in parameters if p.name != "root" and "PathLike" in str(p.annotation)]
    return keys


def _convert_maybe(table: dict[str, Any], keys: tuple[str, ...], convert: Callable[[str], str],
                   exists: Callable[[str], bool]) -> dict[str, Any]:
    for key in keys:
        value = table.get(key)
        if isinstance(value, (str, os.PathLike)) and exists(os.fspath(value)):
            table[key] = convert(os.fspath(value))
    return table


def merge_config(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides win; a part override without ``name`` only changes that part's options."""
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        if key in PART_KINDS and isinstance(value, Mapping) and "name" not in value and isinstance(old, (Mapping, str)):
            old = {"name": old} if isinstance(old, str) else dict(old)
            merged[key] = {**old, **value}
        elif key in ("data", "train") and isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
    return merged
