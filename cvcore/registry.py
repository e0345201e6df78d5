"""Registries of parts, filled from the plugins' hooks, with helpful lookups."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .catalog import first_party_provider
from .component import Component
from .errors import PluginConflictError, UnknownComponentError
from .hookspecs import KINDS

if TYPE_CHECKING:
    from .plugins import PluginInfo


@dataclass(frozen=True)
class Entry:
    """A component as registered: its kind and the plugin that provided it."""

    kind: str
    component: Component
    plugin: str

    @property
    def name(self) -> str:
        return self.component.name


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown kind of part {kind!r}.{hint} Kinds: {', '.join(KINDS)}.")


class Registry:
    """Every registered component, by kind and name."""

    def __init__(self, plugins: dict[str, "PluginInfo"]) -> None:
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        self._plugins = plugins
        self.conflicts: dict[tuple[str, str], list[str]] = {}
        """(kind, name) -> the plugins that all claim it; such names resolve to an error."""

    def add(self, entry: Entry) -> None:
        """Register ``entry``; a name another plugin already has becomes a conflict, not an overwrite."""
        table, key = self._entries[entry.kind], (entry.kind, entry.name)
        if key in self.conflicts:
            self.conflicts[key].append(entry.plugin)
        elif entry.name in table:
            self.conflicts[key] = [table.pop(entry.name).plugin, entry.plugin]
        else:
            table[entry.name] = entry

    def conflict_message(self, kind: str, name: str) -> str:
        plugins = self.conflicts[(kind, name)]
        fixes = []
        installed = [p for p in plugins if not (self._plugins.get(p) and self._plugins[p].by_hand)]
        if installed:
            fixes.append(f"uninstall one, or disable it with CVCORE_PLUGINS_DISABLE={installed[-1]}")
        if len(installed) < len(plugins):
            fixes.append("unregister the one registered by hand")
        described = " and ".join(self._describe(p) for p in plugins)
        return f"Two plugins register the {kind} {name!r}: {described}. To use it, {' or '.join(fixes)}."

    def _describe(self, plugin: str) -> str:
        info = self._plugins.get(plugin)
        if info is not None and info.distribution:
            return f"plugin {plugin!r} (distribution {info.distribution})"
        return f"plugin {plugin!r}"

    def available(self, kind: str) -> list[str]:
        check_kind(kind)
        return sorted(self._entries[kind])

    def entries(self, kind: str) -> Iterator[Entry]:
        check_kind(kind)
        for name in sorted(self._entries[kind]):
            yield self._entries[kind][name]

    def entry(self, kind: str, name: str) -> Entry:
        check_kind(kind)
        found = self._entries[kind].get(name)
        if found is None and (kind, name) in self.conflicts:
            raise PluginConflictError(self.conflict_message(kind, name))
        if found is None:
            raise UnknownComponentError(self._unknown_message(kind, name))
        return found

    def get(self, kind: str, name: str) -> Component:
        return self.entry(kind, name).component

    def find(self, name: str) -> list[Entry]:
        """Every entry called ``name``, whatever its kind."""
        return [table[name] for table in self._entries.values() if name in table]

    def lookup_anywhere(self, name: str) -> list[Entry]:
        """Every entry called ``name``; none raises with the closest names of any kind."""
        found = self.find(name)
        if found:
            return found
        kind = next((k for k in ("model", *KINDS) if first_party_provider(k, name)), None)
        if kind is not None:
            raise UnknownComponentError(self._unknown_message(kind, name))
        every = {n for table in self._entries.values() for n in table}
        close = difflib.get_close_matches(name, every, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else " See `cvcore plugins` for what is registered."
        raise UnknownComponentError(f"Nothing named {name!r} is registered.{hint}")

    def provided_by(self, plugin: str) -> dict[str, list[str]]:
        """Kind -> names that ``plugin`` registered."""
        out: dict[str, list[str]] = {}
        for kind, table in self._entries.items():
            names = sorted(n for n, e in table.items() if e.plugin == plugin)
            if names:
                out[kind] = names
        return out

    def _unknown_message(self, kind: str, name: str) -> str:
        known = self._entries[kind]
        message = f"No {kind} named {name!r}."
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        if close:
            message += f" Did you mean {', '.join(map(repr, close))}?"
        provider = first_party_provider(kind, name)
        if provider is not None:
            info = self._plugins.get(provider.entry_point)
            if info is None:
                message += (
                    f" The {kind} {name!r} comes with the {provider.distribution} plugin, which is not "
                    f"installed: {provider.install_hint}."
                )
            elif info.status == "disabled":
                message += f" Its plugin {provider.entry_point!r} is disabled by CVCORE_PLUGINS_DISABLE."
            elif info.status == "broken":
                message += f" Its plugin {provider.entry_point!r} failed to load: {info.error}"
            else:
                message += f" The installed {provider.distribution} {info.version or ''} does not provide it."
        if not close:
            count = len(known)
            message += f" {count} {kind}(s) are registered: see cvcore.available({kind!r}) or `cvcore plugins`."
        return message
