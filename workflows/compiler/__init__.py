"""Compile a definition into a validated plan, reporting every problem at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from workflows import dsl
from workflows.compiler.graph import GraphCompiler
from workflows.compiler.scope import Checker, StepInfo
from workflows.compiler.steps import DefinitionLookup, StepsCompiler
from workflows.compiler.triggers import trigger_problems
from workflows.compiler.walk import walk_steps
from workflows.loader import parse_text
from workflows.modules.registry import Registry
from workflows.plan import Plan
from workflows.problems import DefinitionError, Problem, join_pointer, pointer
from workflows.structure import check_structure

__all__ = ["CompileResult", "DefinitionLookup", "compile_data", "compile_text"]


@dataclass
class CompileResult:
    """A plan, or the problems that stop one."""

    plan: Plan | None
    problems: list[Problem] = field(default_factory=list)

    def unwrap(self) -> Plan:
        """The plan; raises DefinitionError with every problem when there is none."""
        if self.plan is None:
            raise DefinitionError(self.problems)
        return self.plan


def compile_text(
    text: str, filename: str, registry: Registry, lookup: DefinitionLookup | None = None
) -> CompileResult:
    """Parse YAML or JSON text and compile it."""
    try:
        data = parse_text(text, filename)
    except DefinitionError as exc:
        return CompileResult(None, exc.problems)
    return compile_data(data, registry, lookup)


def compile_data(
    data: dict[str, Any], registry: Registry, lookup: DefinitionLookup | None = None
) -> CompileResult:
    """Compile parsed data; `lookup` (when given) checks that called definitions exist."""
    structure = check_structure(data)
    definition = structure.definition
    problems = list(structure.problems)
    if definition is None:
        return CompileResult(None, _unique(problems))
    problems.extend(_form_problems(definition))
    problems.extend(_input_schema_problems(definition.input))
    problems.extend(trigger_problems(definition))
    known, duplicate_problems = _known_ids(definition)
    problems.extend(duplicate_problems)
    checker = Checker(
        known,
        structure.broken,
        _state_keys(definition),
        _input_keys(definition.input),
        frozenset(known) if definition.nodes is not None and definition.steps is None else frozenset(),
    )
    calls: list[str] = []
    if definition.steps is not None:
        steps_compiler = StepsCompiler(definition, registry, checker, lookup)
        body, final = steps_compiler.compile(definition.steps)
        calls = steps_compiler.calls
        form = "steps"
    else:
        body, final = GraphCompiler(definition, registry, checker).compile(
            definition.nodes or [], definition.edges or []
        )
        form = "graph"
    has_output = "output" in definition.model_fields_set
    if has_output:
        checker.value(definition.output, "/output", final)
    problems.extend(checker.problems)
    if problems:
        return CompileResult(None, _unique(problems))
    plan = Plan(
        name=definition.name,
        description=definition.description,
        form=form,
        input_schema=definition.input,
        state=definition.state,
        output=definition.output,
        has_output=has_output,
        body=body,
        calls=sorted(set(calls)),
        triggers=definition.triggers,
        budget=definition.budget,
    )
    return CompileResult(plan)


def _form_problems(definition: dsl.Definition) -> Iterator[Problem]:
    if definition.steps is None and definition.nodes is None:
        yield Problem("/", "a definition needs steps (a list of steps) or nodes and edges (a graph)")
    if definition.steps is not None and definition.nodes is not None:
        yield Problem("/nodes", "use either steps or nodes and edges, not both")
    if definition.edges is not None and definition.nodes is None:
        yield Problem("/edges", "edges connect nodes; with steps, the order of the list is the order")


def _input_schema_problems(schema: dict[str, Any] | None) -> Iterator[Problem]:
    if schema is None:
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        yield Problem(
            join_pointer("/input", *(str(p) for p in exc.absolute_path)),
            f"not a valid JSON Schema: {exc.message}",
        )


def _input_keys(schema: dict[str, Any] | None) -> frozenset[str] | None:
    """Input properties, when the schema allows no others (so a typo is certain)."""
    if not schema or schema.get("additionalProperties") is not False:
        return None
    properties = schema.get("properties")
    return frozenset(properties) if isinstance(properties, dict) else None


def _all_steps(definition: dsl.Definition) -> Iterator[tuple[dsl.Step | dsl.Node, tuple[str | int, ...]]]:
    if definition.steps is not None:
        yield from walk_steps(definition.steps, ("steps",))
    if definition.nodes is not None:
        for index, node in enumerate(definition.nodes):
            yield node, ("nodes", index)


def _known_ids(definition: dsl.Definition) -> tuple[dict[str, StepInfo], list[Problem]]:
    """Every step or node id (first use), and a problem at every repeat."""
    known: dict[str, StepInfo] = {}
    problems = []
    for step, path in _all_steps(definition):
        where = pointer(*path)
        first = known.get(step.id)
        if first is not None:
            problems.append(
                Problem(
                    join_pointer(where, "id"), f"duplicate id '{step.id}': {first.pointer}/id has it already"
                )
            )
        else:
            known[step.id] = StepInfo(step.id, where, "", None)
    return known, problems


def _state_keys(definition: dsl.Definition) -> frozenset[str]:
    keys = set(definition.state)
    for step, _ in _all_steps(definition):
        keys.update(getattr(step, "outputs_to_state", {}))
    return frozenset(keys)


def _unique(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.line or 0, p.column or 0, _pointer_key(p.where), p.message))


def _pointer_key(where: str) -> list[tuple[int, int | str]]:
    return [(0, int(s)) if s.isascii() and s.isdigit() else (1, s) for s in where.split("/") if s]
