"""Modules: the units of work a step runs."""

from workflows.modules.builtin import builtin_registry
from workflows.modules.registry import ModuleSpec, Registry

__all__ = ["ModuleSpec", "Registry", "builtin_registry"]
