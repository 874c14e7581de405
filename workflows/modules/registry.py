"""Module declarations: name, where a module runs, its input and output models."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict

from workflows.typecheck import isinstance

Runs = Literal["workflow", "activity", "human"]
MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# A pure module's implementation: validated inputs and the template scope in, outputs out.
PureFunction = Callable[[Any, Mapping[str, Any]], BaseModel]


@dataclass(frozen=True)
class TemplateSite:
    """A template a module renders itself: where it is in the inputs, its text as parsed, and
    the names the module adds to the scope when rendering it."""

    path: tuple[str | int, ...]
    source: str
    names: frozenset[str]


# Lists the templates in a module's self-rendered inputs, for the compiler to check.
TemplateSites = Callable[[Mapping[str, Any]], Iterator[TemplateSite]]


def json_schema(value: Any) -> Any:
    """A field validator: accept a valid JSON Schema (draft 2020-12), or say what is wrong."""
    if not isinstance(value, dict | bool):
        raise ValueError("schema must be a JSON Schema: a mapping (or true/false)")
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
    return value


class ModuleInput(BaseModel):
    """Base of module input models: unknown inputs are errors."""

    model_config = ConfigDict(extra="forbid")


class ModuleOutput(BaseModel):
    """Base of module output models."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ModuleSpec:
    """What the compiler and the engine know of a module."""

    name: str
    runs: Runs
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    description: str
    queue: str | None = None
    run: PureFunction | None = None
    # Inputs holding templates the module renders itself, once per item.
    self_rendered: tuple[str, ...] = ()
    template_sites: TemplateSites | None = None
    # Outputs are the step's input names (transform.extract), not the output model's fields.
    outputs_from_inputs: bool = False
    # Short, idempotent I/O (a small GET, a cache read): its steps run as Temporal local
    # activities, in the worker that runs the workflow, unless they say `local: false`.
    light: bool = False
    # A step may say `local: true` (light modules imply it). See docs/fast-path.md.
    local_allowed: bool = False
    # What the workflow workers register to run this module's steps locally: a plugin's light
    # module gives its `module:<name>` activity here (built-in ones are registered by workers/).
    local_activity: Callable[..., Any] | None = None
    # Activities that heartbeat at least this often (ms) are failed over and cancelled promptly.
    heartbeat_ms: int | None = None
    source: str = "stepwise"

    def __post_init__(self) -> None:
        if not MODULE_NAME.match(self.name):
            raise ValueError(
                f"module name '{self.name}' must be dotted lowercase words, e.g. 'acme.summarize'"
            )
        if self.runs == "activity" and not self.queue:
            raise ValueError(f"module '{self.name}' runs as an activity and needs a task queue")
        if (self.light or self.local_allowed) and self.runs != "activity":
            raise ValueError(f"module '{self.name}' runs as {self.runs}: only activity modules run locally")
        if self.runs == "workflow" and self.run is None:
            raise ValueError(f"module '{self.name}' runs in the workflow and needs a `run` function")

    @property
    def runs_local(self) -> bool:
        """Whether a step may run this module as a local activity."""
        return self.light or self.local_allowed

    @property
    def activity_name(self) -> str:
        """The Temporal activity type that executes this module."""
        return f"module:{self.name}"

    def output_names(self, inputs: Mapping[str, Any] | None = None) -> frozenset[str]:
        """The outputs a step of this module produces (given its inputs, for extract)."""
        if self.outputs_from_inputs:
            return frozenset(inputs or {})
        return frozenset(self.output_model.model_fields)

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the module's inputs."""
        return self.input_model.model_json_schema()

    def output_schema(self) -> dict[str, Any]:
        """JSON Schema of the module's outputs."""
        return self.output_model.model_json_schema()


class Registry:
    """The modules a compiler and an interpreter know, by name."""

    def __init__(self, specs: Iterable[ModuleSpec] = ()) -> None:
        self._specs: dict[str, ModuleSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ModuleSpec) -> None:
        """Add a module; a second module of the same name is refused."""
        existing = self._specs.get(spec.name)
        if existing is not None:
            raise ValueError(
                f"module '{spec.name}' from {spec.source} clashes with the one from {existing.source}"
            )
        self._specs[spec.name] = spec

    def get(self, name: str) -> ModuleSpec | None:
        """The module of that name, or None."""
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ModuleSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def names(self) -> list[str]:
        """Registered module names, sorted."""
        return sorted(self._specs)
