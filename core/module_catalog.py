"""What the registered modules look like from outside: `stepwise modules --json` and
GET /api/v1/modules print the same list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from workflows.modules import ModuleSpec, Registry
from workflows.modules.registry import Runs


class ModuleInfo(BaseModel):
    """One module: where it runs, where it comes from, its input and output JSON Schemas."""

    name: str
    runs: Runs
    queue: str | None
    description: str
    source: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


def module_info(spec: ModuleSpec) -> ModuleInfo:
    """The public description of one module."""
    return ModuleInfo(
        name=spec.name,
        runs=spec.runs,
        queue=spec.queue,
        description=spec.description,
        source=spec.source,
        input_schema=spec.input_schema(),
        output_schema=spec.output_schema(),
    )


def module_catalog(registry: Registry) -> list[ModuleInfo]:
    """Every registered module, sorted by name."""
    return [module_info(spec) for spec in registry]
