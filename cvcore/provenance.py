"""Which plugin, distribution and version provided each part of a saved pipeline, and what to do when one is missing."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .errors import UnknownComponentError
from .plugins import host

PROVENANCE_KEY = "provenance"
"""The ``pipeline.toml`` table: kind -> {name, plugin, distribution, version}; ``transform`` -> name -> the same."""


def record(parts: Iterable[tuple[str, str]], transforms: Iterable[str], earlier: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The provenance table of named ``(kind, name)`` parts and deploy ``transforms``.

    A part no plugin provides now (a deployed graph loaded without it) keeps its ``earlier`` record.
    """
    earlier = earlier or {}
    table: dict[str, Any] = {kind: _origin(kind, name, earlier.get(kind)) for kind, name in parts}
    steps = {name: _origin("transform", name, earlier.get("transform", {}).get(name)) for name in transforms}
    if steps:
        table["transform"] = steps
    return table


def require(parts: Iterable[tuple[str, str]], provenance: Mapping[str, Any], where: str) -> None:
    """Raise for the first of ``parts`` no plugin provides now, saying which distribution to install or enable."""
    registry = host().registry
    for kind, name in parts:
        if name in registry.available(kind):
            continue
        origin = provenance.get("transform", {}).get(name) if kind == "transform" else provenance.get(kind)
        if not isinstance(origin, Mapping) or origin.get("name") != name:
            registry.get(kind, name)  # no record (a run saved before provenance): the registry's own error and hints
        raise UnknownComponentError(f"{where}: its {kind} {name!r} {missing_plugin_message(origin)}")


def missing_plugin_message(origin: Mapping[str, Any]) -> str:
    """``came from plugin 'x' (distribution d 1.0), which is disabled ...: <the fix>``."""
    plugin, distribution, version = origin.get("plugin"), origin.get("distribution"), origin.get("version")
    source = f"plugin {plugin!r}" + (f" (distribution {_named(distribution, version)})" if distribution else "")
    installable = f"pip install '{distribution}=={version}'" if distribution and version else (
        f"pip install {distribution}" if distribution else f"register plugin {plugin!r} (cvcore.register_plugin) before loading")
    info = host().plugins.get(plugin) or next((i for i in host().plugins.values() if distribution and i.distribution == distribution), None)
    if info is None:
        return f"came from {source}, which is not installed: {installable}."
    if info.status == "disabled":
        return f"came from {source}, which is disabled by CVCORE_PLUGINS_DISABLE: take {info.name!r} out of that variable."
    if info.status == "broken":
        return f"came from {source}, which failed to load: {info.error}"
    return f"came from {source}; the installed {_named(info.distribution or info.name, info.version)} does not provide it: {installable}."


def _named(distribution: str, version: str | None) -> str:
    return f"{distribution} {version}" if version else distribution


def _origin(kind: str, name: str, earlier: Any) -> dict[str, Any]:
    if name not in host().registry.available(kind) and isinstance(earlier, Mapping):
        return dict(earlier)
    plugin = host().registry.entry(kind, name).plugin
    info = host().plugins[plugin]
    origin: dict[str, Any] = {"name": name, "plugin": plugin}
    if info.distribution:
        origin["distribution"] = info.distribution
    if info.version:
        origin["version"] = info.version
    return origin
