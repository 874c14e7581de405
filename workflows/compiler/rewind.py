"""Where a human step sends the run back to: `retry_from` of a review (user.select) and
`jump_back_to` of user.text_input, given or found, and checked at compile time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workflows import dsl
from workflows.compiler.scope import Checker, RewindPoint, Scope
from workflows.compiler.walk import walk_steps
from workflows.modules.registry import Registry
from workflows.problems import join_pointer
from workflows.templates import TemplateError, compile_template, is_template, iter_templates

# The input that names the target, per module that can send a run back.
REWIND_INPUTS = {"user.select": "retry_from", "user.text_input": "jump_back_to"}


def step_point(step: dsl.Step, registry: Registry) -> RewindPoint:
    """A step (with every step inside it) as a place to go back to."""
    return _point(step.id, [s for s, _ in walk_steps([step], ())], registry)


def node_point(node: dsl.Node, registry: Registry) -> RewindPoint:
    return _point(node.id, [node], registry)


def _point(point_id: str, inner: Iterable[dsl.Step | dsl.Node], registry: Registry) -> RewindPoint:
    covers: set[str] = set()
    writes: set[str] = set()
    human = False
    for step in inner:
        covers.add(step.id)
        writes.update(getattr(step, "outputs_to_state", {}))
        if isinstance(step, dsl.ModuleStep):
            module: str | None = step.module
        elif isinstance(step, dsl.Node):
            module = dsl.NODE_ALIASES.get(step.type, step.type)
        else:
            module = None
        spec = registry.get(module) if module else None
        human = human or (spec is not None and spec.runs == "human")
    return RewindPoint(point_id, frozenset(covers), frozenset(writes), human)


def rewind_target(
    module: str, inputs: Mapping[str, Any], where: str, scope: Scope, checker: Checker
) -> str | None:
    """The step a retry or jump back of this human step runs again from, if any."""
    key = REWIND_INPUTS.get(module)
    if key is None:
        return None
    given = inputs.get(key)
    if given is not None:
        return _given(key, given, join_pointer(where, key), scope, checker)
    if module == "user.text_input":
        return next((point.id for point in reversed(scope.rewind) if point.human), None)
    return _producer(inputs.get("data"), scope)


def _given(key: str, given: Any, where: str, scope: Scope, checker: Checker) -> str | None:
    if not isinstance(given, str) or is_template(given):
        checker.report(where, f"{key} names a step id, written out (not a template)")
        return None
    point = next((p for p in scope.rewind if given in p.covers), None)
    if point is None:
        if given == scope.current:
            reason = "is this step itself"
        elif given in checker.known:
            reason = (
                "does not run before this step in the same list or an enclosing one "
                "(a jump does not leave a parallel branch or a for_each iteration)"
            )
        else:
            reason = "does not exist"
        checker.report(where, f"{key} '{given}' {reason}; name an earlier step")
        return None
    return point.id


def _producer(data: Any, scope: Scope) -> str | None:
    """The earliest step whose outputs (or state keys) `data` reads: a retry re-runs it."""
    found: set[int] = set()
    for _, source in iter_templates(data):
        try:
            paths = compile_template(source).paths
        except TemplateError:
            continue
        for path in paths:
            index = _path_producer(path, scope)
            if index is not None:
                found.add(index)
    return scope.rewind[min(found)].id if found else None


def _path_producer(path: tuple[str, ...], scope: Scope) -> int | None:
    if len(path) < 2:
        return None
    points = scope.rewind
    if path[0] == "state":
        latest = [i for i, p in enumerate(points) if path[1] in p.writes]
        return latest[-1] if latest else None
    step_id = path[1] if path[0] == "steps" else path[0] if path[0] in scope.node_names else None
    return next((i for i, p in enumerate(points) if step_id in p.covers), None)
