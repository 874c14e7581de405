"""The module registry RunWorkflow uses: the built-ins, or what the worker was started with."""

from __future__ import annotations

from workflows.modules import Registry, builtin_registry

_registry: list[Registry] = []


def use_registry(registry: Registry) -> None:
    """Called once by a worker at start, before it polls (plugins' pure modules included)."""
    _registry[:] = [registry]


def current_registry() -> Registry:
    """The registry set by the worker, else the built-in modules."""
    if not _registry:
        _registry.append(builtin_registry())
    return _registry[0]
