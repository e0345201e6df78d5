"""Plugin discovery and isolation on top of pluggy.

Plugins are found through the ``cvcore.plugins`` entry-point group. A plugin
that fails to import, declares an unknown hook, or returns malformed
components is unregistered with a warning and shown as ``broken`` by
``cvcore plugins``; the rest keeps working.

A plugin (the module or object registered) may declare ``CVCORE_API = N``, the
hook API version it was written for (:data:`cvcore.hookspecs.API_VERSION`;
absent: any), and ``CVCORE_REQUIRES = ("pose", ...)``, the plugins it needs
(entry-point or distribution names). A plugin of another API version, or whose
requirement is not loaded and ok, is broken as well.

Switches (read once, when the plugin host is first used):

- ``CVCORE_PLUGINS_AUTOLOAD=0``: load no installed plugins (built-ins only).
- ``CVCORE_PLUGINS_DISABLE=name1,name2``: skip these plugins (entry-point or
  distribution names); a name that matches no installed plugin is warned about.
- ``CVCORE_PLUGINS_TRACE=1``: print every hook call to stderr, and full
  tracebacks of plugins that fail to load.
"""
from __future__ import annotations

import difflib
import importlib
import os
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Iterable

import importlib_metadata
import pluggy

from . import hookspecs
from .catalog import FIRST_PARTY
from .component import Component
from .errors import PluginError
from .hookspecs import API_VERSION, KINDS
from .registry import Entry, Registry

ENTRY_POINT_GROUP = "cvcore.plugins"
BUILTIN_PLUGIN = "cvcore"
BUILTIN_MODULE = "cvcore.builtins"


class PluginLoadWarning(UserWarning):
    """A plugin was skipped because it could not be loaded or broke the contract."""


class PluginSwitchWarning(UserWarning):
    """A ``CVCORE_PLUGINS_DISABLE`` name matches no installed plugin, so it disables nothing."""


@dataclass
class PluginInfo:
    """What ``cvcore plugins`` shows for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"  # ok | broken | disabled
    error: str | None = None
    module: str | None = None
    plugin: Any = field(default=None, repr=False)
    by_hand: bool = False


def _switch_list(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


class PluginHost:
    """Owns the pluggy manager, the plugins' statuses and the registry."""

    def __init__(self, *, autoload: bool | None = None, disabled: Iterable[str] | None = None) -> None:
        if autoload is None:
            autoload = os.environ.get("CVCORE_PLUGINS_AUTOLOAD", "1").strip().lower() not in {"0", "false", "no", "off"}
        disabled_by_switch = disabled is None
        self.disabled = set(disabled) if disabled is not None else _switch_list(os.environ.get("CVCORE_PLUGINS_DISABLE"))
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.trace = bool(os.environ.get("CVCORE_PLUGINS_TRACE"))
        self.plugins: dict[str, PluginInfo] = {}
        self._registry: Registry | None = None
        self._warned_conflicts: set[tuple[str, str, tuple[str, ...]]] = set()
        self._lock = threading.RLock()
        self._load_builtins()
        if autoload:
            self.load_entry_points()
            if disabled_by_switch:
                self._check_disable_switch()

    # -- loading -----------------------------------------------------------
    def _load_builtins(self) -> None:
        # The core's own parts are a plugin at the top of the core's layers (it registers the tasks, transforms,
        # backbones...), loaded by name as every plugin is: the host never imports what it hosts.
        builtins = importlib.import_module(BUILTIN_MODULE)
        info = PluginInfo(BUILTIN_PLUGIN, "cvcore", _version("cvcore"), module=BUILTIN_MODULE)
        self._add(info, builtins)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Import and register every installed plugin of ``group``, isolating failures."""
        for ep in importlib_metadata.entry_points(group=group):
            dist = ep.dist.name if ep.dist is not None else None
            info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist is not None else None, module=ep.value)
            known = self.plugins.get(ep.name)
            if known is not None:
                if known.distribution != dist:
                    owner = f"distribution {known.distribution}" if known.distribution else "a plugin registered by hand"
                    self._warn(info, f"its name {ep.name!r} is already taken by {owner}")
                continue  # already loaded (or refused) by an earlier call
            if ep.name in self.disabled or (dist and dist in self.disabled):
                info.status = "disabled"
                self.plugins[ep.name] = info
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # any import-time failure isolates the plugin
                self.plugins[ep.name] = info
                self._mark_broken(info, f"import of {ep.value!r} failed: {_one_line(exc)}", exc)
                continue
            self._add(info, plugin)
        self._check_requirements()

    def _check_disable_switch(self) -> None:
        """Warn about CVCORE_PLUGINS_DISABLE names that match no installed plugin (a typo disables nothing)."""
        known = {name for info in self.plugins.values() for name in (info.name, info.distribution) if name}
        installed = ", ".join(
            f"{info.name} ({info.distribution})" if info.distribution not in (None, info.name) else info.name
            for info in sorted(self.plugins.values(), key=lambda i: i.name)
        )
        for name in sorted(self.disabled - known):
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            warnings.warn(
                f"CVCORE_PLUGINS_DISABLE names {name!r}, but no installed plugin or distribution has that name, "
                f"so it disables nothing.{hint} The installed plugins are: {installed}.",
                PluginSwitchWarning,
                stacklevel=3,
            )

    def _check_requirements(self) -> None:
        """Break every ok plugin whose CVCORE_REQUIRES names a plugin that is not loaded and ok, until none is left."""
        changed = True
        while changed:
            changed = False
            for info in list(self.plugins.values()):
                if info.status != "ok":
                    continue
                problems = [p for p in map(self._requirement_problem, getattr(info.plugin, "CVCORE_REQUIRES", ())) if p]
                if problems:
                    self._mark_broken(info, "; ".join(problems))
                    changed = True

    def _requirement_problem(self, required: str) -> str | None:
        """Why the plugin ``required`` (entry-point or distribution name) cannot be used, or None when it is ok."""
        found = [info for info in self.plugins.values() if required in (info.name, info.distribution)]
        if any(info.status == "ok" for info in found):
            return None
        if found:
            info = found[0]
            what = f"plugin {info.name!r}" + (f" (distribution {info.distribution})" if info.distribution else "")
            if info.status == "disabled":
                return f"needs {what}, which is disabled: remove it from CVCORE_PLUGINS_DISABLE"
            return f"needs {what}, which is broken ({info.error})"
        provider = next((p for p in FIRST_PARTY if required in (p.entry_point, p.distribution)), None)
        if provider is not None:
            return (f"needs plugin {provider.entry_point!r} (distribution {provider.distribution}), which is not installed: "
                    f"{provider.install_hint}")
        return f"needs plugin {required!r}, which is not installed (no installed plugin or distribution has that name)"

    def register(self, plugin: Any, name: str | None = None) -> str:
        """Register a plugin object (a module or any object with hookimpls).

        Unlike installed plugins, a plugin registered by hand that breaks the
        contract (bad hooks, bad results, a name another plugin already has,
        another ``CVCORE_API``, a ``CVCORE_REQUIRES`` plugin that is not loaded,
        an object already registered) raises :class:`PluginError` at once and
        leaves everything as it was.
        """
        name = name or getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin):x}"
        with self._lock:
            previous = self.plugins.get(name)
            if previous is not None and previous.status == "ok":
                raise PluginError(f"A plugin named {name!r} is already registered; pass another name=.")
            info = PluginInfo(name, module=getattr(plugin, "__name__", type(plugin).__name__), by_hand=True)
            problem = None if self._add(info, plugin) else info.error
            if problem is None:
                registry = self.registry  # runs the new plugin's hooks now
                clashes = [key for key, plugins in registry.conflicts.items() if name in plugins]
                if info.status != "ok":
                    problem = info.error
                elif clashes:
                    problem = " ".join(registry.conflict_message(*key) for key in clashes)
            if problem is not None:
                if self.manager.get_plugin(name) is plugin:
                    self.manager.unregister(name=name)
                if previous is not None:
                    self.plugins[name] = previous
                else:
                    self.plugins.pop(name, None)
                self._registry = None
                raise PluginError(f"Plugin {name!r} was not registered: {problem}")
            return name

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by name (mainly for tests and notebooks)."""
        with self._lock:
            self.plugins.pop(name)
            if self.manager.has_plugin(name):
                self.manager.unregister(name=name)
            self._registry = None

    def _add(self, info: PluginInfo, plugin: Any) -> bool:
        with self._lock:
            self.plugins[info.name] = info
            info.plugin = plugin
            registered_as = self.manager.get_name(plugin)
            if registered_as is not None:  # pluggy's own error would list every plugin
                what = "this module" if isinstance(plugin, ModuleType) else "this object"
                problem = f"{what} is already registered as plugin {registered_as!r}"
            else:
                problem = _declaration_problem(info, plugin) or _unknown_hooks(self.manager, plugin)
            if problem:
                self._mark_broken(info, problem)
                return False
            try:
                self.manager.register(plugin, name=info.name)
            except (ValueError, pluggy.PluginValidationError) as exc:  # pluggy: a hookimpl that does not fit its hookspec
                self._mark_broken(info, "; ".join(str(exc).splitlines()))
                return False
            self._registry = None
            return True

    def _mark_broken(self, info: PluginInfo, error: str, exc: BaseException | None = None) -> None:
        info.status = "broken"
        info.error = error
        if info.plugin is not None and self.manager.get_plugin(info.name) is info.plugin:
            self.manager.unregister(name=info.name)
        self._registry = None
        if info.by_hand:
            return  # register() raises instead
        detail = ""
        if exc is not None and os.environ.get("CVCORE_PLUGINS_TRACE"):
            detail = "\n" + "".join(traceback.format_exception(exc))
        self._warn(info, f"{error}{detail}")

    @staticmethod
    def _warn(info: PluginInfo, reason: str) -> None:
        source = f" (distribution {info.distribution})" if info.distribution else ""
        warnings.warn(f"cvcore plugin {info.name!r}{source} was skipped: {reason}", PluginLoadWarning, stacklevel=4)

    # -- registry ----------------------------------------------------------
    @property
    def registry(self) -> Registry:
        """The registry of every ok plugin's components, rebuilt after (un)registration."""
        with self._lock:
            while self._registry is None:
                self._registry = self._build_registry()
            return self._registry

    def _build_registry(self) -> Registry | None:
        self._check_requirements()  # a plugin broken since (by its hooks, below) breaks those that need it
        registry = Registry(self.plugins)
        for kind, hook_name in KINDS.items():
            caller = getattr(self.manager.hook, hook_name)
            for impl in caller.get_hookimpls():
                info = self.plugins[impl.plugin_name]
                try:
                    components = list(impl.function() or ())
                    if self.trace:
                        names = ", ".join(getattr(c, "name", repr(c)) for c in components)
                        print(f"cvcore trace: {hook_name}() of plugin {info.name!r} -> [{names}]", file=sys.stderr)
                except Exception as exc:
                    self._mark_broken(info, f"hook {hook_name} raised {_one_line(exc)}", exc)
                    return None  # start over without the broken plugin
                for component in components:
                    if not isinstance(component, Component):
                        self._mark_broken(
                            info,
                            f"hook {hook_name} returned a {type(component).__name__}; "
                            "it must return cvcore.Component objects",
                        )
                        return None
                    registry.add(Entry(kind, component, info.name))
        for (kind, name), plugins in registry.conflicts.items():
            key = (kind, name, tuple(plugins))
            if key not in self._warned_conflicts and not any(self.plugins[p].by_hand for p in plugins):
                self._warned_conflicts.add(key)  # once per host, not on every rebuild
                warnings.warn(registry.conflict_message(kind, name), PluginLoadWarning, stacklevel=4)
        return registry


def _declaration_problem(info: PluginInfo, plugin: Any) -> str | None:
    """What is wrong with the plugin's CVCORE_API and CVCORE_REQUIRES, or None."""
    api = getattr(plugin, "CVCORE_API", None)
    if api is not None and (not isinstance(api, int) or isinstance(api, bool)):
        return f"CVCORE_API must be an int, the cvcore hook API version it was written for (this cvcore has {API_VERSION}); got {api!r}"
    if api is not None and api != API_VERSION:
        fix = f"install a {info.distribution} version made for this cvcore" if info.distribution else "update it for this cvcore"
        return f"written for cvcore hook API {api}; this cvcore has API {API_VERSION}: {fix} (or a cvcore that has API {api})"
    requires = getattr(plugin, "CVCORE_REQUIRES", ())
    if not isinstance(requires, (tuple, list)) or not all(isinstance(r, str) and r for r in requires):
        return f'CVCORE_REQUIRES must be a tuple of plugin names (entry-point or distribution names, e.g. ("pose",)); got {requires!r}'
    return None


def _unknown_hooks(manager: pluggy.PluginManager, plugin: Any) -> str | None:
    """Explain hookimpls that match no hookspec (usually a typo), or None."""
    hooks = set(KINDS.values())
    for attr in dir(plugin):
        try:
            opts = manager.parse_hookimpl_opts(plugin, attr)
        except Exception:  # attribute access on an exotic object
            continue
        if opts is None:
            if attr in hooks and callable(getattr(plugin, attr, None)):
                return f"function {attr} is not decorated with @cvcore.hookimpl"
            continue
        hook = opts.get("specname") or attr
        if hook not in hooks:
            close = difflib.get_close_matches(hook, hooks, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"unknown hook {hook}{hint}; hooks are {', '.join(KINDS.values())}"
    return None


def _version(distribution: str) -> str | None:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return None


_host: PluginHost | None = None
_host_lock = threading.Lock()


def host() -> PluginHost:
    """The process-wide plugin host, created on first use."""
    global _host
    with _host_lock:
        if _host is None:
            _host = PluginHost()
        return _host


def reset_host(**options: Any) -> PluginHost:
    """Forget every plugin and rediscover (reads the environment switches again)."""
    global _host
    with _host_lock:
        _host = PluginHost(**options)
        return _host


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin that is not installed as a distribution; returns its name."""
    return host().register(plugin, name)


def available(kind: str) -> list[str]:
    """Sorted names registered for ``kind`` (``backbone``, ``head``, ``model``, ...)."""
    return host().registry.available(kind)


def get(kind: str, name: str) -> Component:
    """The component ``name`` of ``kind``; unknown names raise with suggestions."""
    return host().registry.get(kind, name)
