"""The module registry of a process: built-in modules plus those of installed plugins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points

from workflows.modules import ModuleSpec, Registry, builtin_registry

ENTRY_POINT_GROUP = "stepwise.modules"


@dataclass
class LoadedRegistry:
    """The registry, and what went wrong loading plugins (each message names the plugin)."""

    registry: Registry
    errors: list[str] = field(default_factory=list)


def load_registry(group: str = ENTRY_POINT_GROUP) -> LoadedRegistry:
    """Built-in modules plus every module declared under the `stepwise.modules` entry points.

    An entry point names a ModuleSpec, a list of them, or a function returning either.
    """
    registry = builtin_registry()
    errors: list[str] = []
    for entry in sorted(entry_points(group=group), key=lambda e: e.name):
        origin = _origin(entry)
        try:
            specs = _specs(entry.load())
        except Exception as exc:  # a broken plugin must not hide the others
            errors.append(f"plugin {origin}: cannot load: {exc}")
            continue
        for spec in specs:
            if not isinstance(spec, ModuleSpec):
                errors.append(f"plugin {origin}: {spec!r} is not a ModuleSpec")
                continue
            spec = _with_source(spec, origin)
            if spec.runs_local and spec.local_activity is None:
                errors.append(
                    f"plugin {origin}: module '{spec.name}' may run locally (light or local_allowed) "
                    f"but gives no local_activity: set it to its `module:{spec.name}` activity"
                )
                continue
            try:
                registry.register(spec)
            except ValueError as exc:
                errors.append(f"plugin {origin}: {exc}")
    return LoadedRegistry(registry, errors)


def _specs(value: object) -> Iterable[object]:
    if callable(value) and not isinstance(value, ModuleSpec):
        value = value()
    if isinstance(value, ModuleSpec):
        return [value]
    if isinstance(value, list | tuple):
        return value
    raise TypeError(f"expected a ModuleSpec or a list of them, got {type(value).__name__}")


def _origin(entry: EntryPoint) -> str:
    dist = entry.dist.name if entry.dist is not None else "?"
    return f"'{entry.name}' ({dist}: {entry.value})"


def _with_source(spec: ModuleSpec, origin: str) -> ModuleSpec:
    return replace(spec, source=f"plugin {origin}")
