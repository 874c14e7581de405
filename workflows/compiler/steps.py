"""Form A: a list of steps and blocks, compiled into plan bodies with every check."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from workflows import dsl
from workflows.compiler import modules
from workflows.compiler.rewind import rewind_target, step_point
from workflows.compiler.scope import (
    BASE_NAMES,
    RESERVED_NAMES,
    TEMPLATE_WORDS,
    Checker,
    RewindPoint,
    Scope,
    StepInfo,
)
from workflows.compiler.walk import Path, walk_steps
from workflows.durations import parse_duration_ms
from workflows.modules.registry import Registry
from workflows.plan import (
    START,
    Body,
    BranchNode,
    CallNode,
    ForEachNode,
    Incoming,
    LoopNode,
    ModuleNode,
    ParallelNode,
    PlanNode,
    SwitchNode,
    WaitNode,
)
from workflows.problems import join_pointer, pointer
from workflows.templates import is_template

CALL_PATTERN = re.compile(r"^([a-z0-9][a-z0-9-]*)(?:@([1-9][0-9]*))?$")
# Finds a called definition (name, pinned version or None); None means "not checked".
DefinitionLookup = Callable[[str, int | None], bool]
Compiled = tuple[PlanNode, list[StepInfo], dict[str, str]]


def parse_call(text: str) -> tuple[str, int | None] | None:
    """`name` or `name@3` as (name, version)."""
    match = CALL_PATTERN.match(text)
    if match is None:
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


class StepsCompiler:
    """Compiles form A, reporting problems to the checker."""

    def __init__(
        self,
        definition: dsl.Definition,
        registry: Registry,
        checker: Checker,
        lookup: DefinitionLookup | None,
    ) -> None:
        self.definition = definition
        self.registry = registry
        self.checker = checker
        self.lookup = lookup
        self.calls: list[str] = []

    def compile(self, steps: list[dsl.Step]) -> tuple[Body, Scope]:
        """The root body, and the scope after it (for the run's output)."""
        body, exports, hidden = self.sequence(steps, ("steps",), Scope())
        return body, Scope().with_finished(exports).with_hidden(hidden)

    def sequence(
        self, steps: list[dsl.Step], path: Path, scope: Scope
    ) -> tuple[Body, list[StepInfo], dict[str, str]]:
        """One list of steps run in order; returns what later steps may read."""
        handlers = {
            s.on_error.goto
            for s in steps
            if isinstance(s, dsl.ModuleStep) and isinstance(s.on_error, dsl.Goto)
        }
        siblings = [s.id for s in steps]
        nodes: list[PlanNode] = []
        exports: list[StepInfo] = []
        hidden: dict[str, str] = {}
        previous = START
        points: list[RewindPoint] = []
        for index, step in enumerate(steps):
            here = (*path, index)
            step_scope = scope.with_finished(exports).with_hidden(hidden).with_rewind(points).at(step.id)
            if step.id in handlers:
                step_scope = step_scope.with_names("error")
            node, step_exports, step_hidden = self.step(step, here, step_scope, siblings)
            nodes.append(node.model_copy(update={"after": [Incoming(source=previous)]}))
            exports.extend(step_exports)
            hidden.update(step_hidden)
            points.append(step_point(step, self.registry))
            previous = step.id
        return Body(nodes=nodes), exports, hidden

    def step(self, step: dsl.Step, path: Path, scope: Scope, siblings: list[str]) -> Compiled:
        where = pointer(*path)
        if not isinstance(step, dsl.IfStep):
            self.checker.condition(step.if_, join_pointer(where, "if"), scope)
        if isinstance(step, dsl.ModuleStep):
            return self.module(step, where, scope, siblings)
        if isinstance(step, dsl.ParallelStep):
            return self.parallel(step, path, scope)
        if isinstance(step, dsl.ForEachStep):
            return self.for_each(step, path, scope)
        if isinstance(step, dsl.LoopStep):
            return self.loop(step, path, scope)
        if isinstance(step, dsl.SwitchStep):
            return self.switch(step, path, scope)
        if isinstance(step, dsl.IfStep):
            return self.branch(step, path, scope)
        if isinstance(step, dsl.CallStep):
            return self.call(step, where, scope)
        return self.wait(step, where, scope)

    def module(self, step: dsl.ModuleStep, where: str, scope: Scope, siblings: list[str]) -> Compiled:
        node, info = module_node(
            step.id,
            step.module,
            step.inputs,
            step,
            where,
            join_pointer(where, "module"),
            join_pointer(where, "inputs"),
            scope,
            self.registry,
            self.checker,
            self.definition.defaults,
        )
        self._check_goto(step.on_error, step.id, siblings, where, "step", "steps list")
        return node.model_copy(update={"when": step.if_}), [info], {}

    def _block_outputs(
        self, mapping: dict[str, str], outputs: frozenset[str], label: str, where: str
    ) -> None:
        modules.check_outputs_to_state(
            mapping, outputs, label, join_pointer(where, "outputs_to_state"), self.checker
        )

    def _check_goto(
        self, value: dsl.OnError, own: str, targets: list[str], where: str, noun: str, place: str
    ) -> None:
        if not isinstance(value, dsl.Goto):
            return
        at = join_pointer(where, "on_error", "goto")
        if value.goto == own:
            self.checker.report(at, f"on_error goto cannot name the {noun} itself: use retry to run it again")
        elif value.goto not in targets:
            known = "in another list" if value.goto in self.checker.known else "that does not exist"
            self.checker.report(
                at, f"goto '{value.goto}' names a {noun} {known}; goto jumps to a {noun} of the same {place}"
            )

    def parallel(self, step: dsl.ParallelStep, path: Path, scope: Scope) -> Compiled:
        branch_ids = {name: [s.id for s, _ in walk_steps(b, ())] for name, b in step.parallel.items()}
        branches: dict[str, Body] = {}
        exports: list[StepInfo] = []
        hidden: dict[str, str] = {}
        for name, steps in step.parallel.items():
            others = {
                other_id: (
                    f"step '{other_id}' runs in parallel branch '{other}', at the same time as this "
                    f"one; read it after the parallel block '{step.id}'"
                )
                for other, ids in branch_ids.items()
                if other != name
                for other_id in ids
            }
            body, branch_exports, branch_hidden = self.sequence(
                steps, (*path, "parallel", name), replace(scope.with_hidden(others), rewind=())
            )
            branches[name] = body
            exports.extend(branch_exports)
            hidden.update(branch_hidden)
        info = StepInfo(step.id, pointer(*path), "a parallel block", frozenset())
        node = ParallelNode(id=step.id, pointer=pointer(*path), when=step.if_, branches=branches)
        return node, [*exports, info], hidden

    def for_each(self, step: dsl.ForEachStep, path: Path, scope: Scope) -> Compiled:
        where = pointer(*path)
        self._check_items(step.for_each, join_pointer(where, "for_each"), scope)
        self._check_name(step.as_, join_pointer(where, "as"), scope)
        inner = replace(scope.with_names(step.as_, "index"), rewind=())
        body, exports, hidden = self.sequence(step.steps, (*path, "steps"), inner)
        if step.collect is not None:
            self.checker.value(step.collect, join_pointer(where, "collect"), inner.with_finished(exports))
        outputs = frozenset({"results"})
        self._block_outputs(step.outputs_to_state, outputs, f"for_each '{step.id}'", where)
        after = {
            s.id: (
                f"step '{s.id}' runs once per item inside for_each '{step.id}'; after the block read "
                f"steps.{step.id}.results, the list its collect gathers"
            )
            for s, _ in walk_steps(step.steps, ())
        }
        node = ForEachNode(
            id=step.id,
            pointer=where,
            when=step.if_,
            items=step.for_each,
            item_name=step.as_,
            max_concurrency=step.max_concurrency,
            body=body,
            collect=step.collect,
            outputs_to_state=step.outputs_to_state,
        )
        return node, [StepInfo(step.id, where, "a for_each block", outputs)], {**hidden, **after}

    def _check_items(self, items: str | list[Any], where: str, scope: Scope) -> None:
        if isinstance(items, list):
            self.checker.value(items, where, scope)
            return
        template = self.checker.template(items, where, scope) if is_template(items) else None
        if not is_template(items) or (template is not None and not template.whole_value):
            self.checker.report(
                where, 'for_each needs a list, or one template that gives a list, e.g. "{{ state.scenes }}"'
            )

    def _check_name(self, name: str, where: str, scope: Scope) -> None:
        if name in TEMPLATE_WORDS:
            self.checker.report(where, f"'{name}' is a reserved word in templates; choose another name")
        elif name in RESERVED_NAMES:
            self.checker.report(where, f"'{name}' would hide the template name {name}; choose another name")
        elif name in scope.names - BASE_NAMES:
            self.checker.report(
                where, f"'{name}' would hide the item of an enclosing for_each; choose another name"
            )

    def loop(self, step: dsl.LoopStep, path: Path, scope: Scope) -> Compiled:
        where = pointer(*path)
        if step.loop.max_iterations is None:
            self.checker.report(
                join_pointer(where, "loop"),
                "a loop needs max_iterations, so that an `until` that never holds cannot run forever",
            )
        inner = scope.with_names("loop")
        body, exports, hidden = self.sequence(step.steps, (*path, "steps"), inner)
        self.checker.condition(
            step.loop.until, join_pointer(where, "loop", "until"), inner.with_finished(exports)
        )
        node = LoopNode(
            id=step.id,
            pointer=where,
            when=step.if_,
            until=step.loop.until,
            max_iterations=step.loop.max_iterations or 1,
            body=body,
        )
        return node, [*exports, StepInfo(step.id, where, "a loop block", frozenset())], hidden

    def switch(self, step: dsl.SwitchStep, path: Path, scope: Scope) -> Compiled:
        where = pointer(*path)
        if isinstance(step.switch, str) and is_template(step.switch):
            self.checker.template(step.switch, join_pointer(where, "switch"), scope)
        cases: dict[str, Body] = {}
        exports: list[StepInfo] = []
        hidden: dict[str, str] = {}
        for name, steps in step.cases.items():
            cases[name], case_exports, case_hidden = self.sequence(steps, (*path, "cases", name), scope)
            exports.extend(case_exports)
            hidden.update(case_hidden)
        default, default_exports, default_hidden = self.sequence(step.default, (*path, "default"), scope)
        node = SwitchNode(
            id=step.id, pointer=where, when=step.if_, value=step.switch, cases=cases, default=default
        )
        info = StepInfo(step.id, where, "a switch block", frozenset())
        return node, [*exports, *default_exports, info], {**hidden, **default_hidden}

    def branch(self, step: dsl.IfStep, path: Path, scope: Scope) -> Compiled:
        where = pointer(*path)
        self.checker.condition(step.if_, join_pointer(where, "if"), scope)
        then, then_exports, then_hidden = self.sequence(step.then, (*path, "then"), scope)
        otherwise, else_exports, else_hidden = self.sequence(step.else_, (*path, "else"), scope)
        node = BranchNode(id=step.id, pointer=where, condition=step.if_, then=then, otherwise=otherwise)
        info = StepInfo(step.id, where, "an if block", frozenset())
        return node, [*then_exports, *else_exports, info], {**then_hidden, **else_hidden}

    def call(self, step: dsl.CallStep, where: str, scope: Scope) -> Compiled:
        parsed = parse_call(step.call)
        name, version = parsed if parsed else (step.call, None)
        if parsed is None:
            self.checker.report(
                join_pointer(where, "call"),
                f"'{step.call}' is not a definition name: write name or name@version, e.g. summarize@3",
            )
        elif self.lookup is not None and not self.lookup(name, version):
            pinned = f" version {version}" if version else ""
            self.checker.report(join_pointer(where, "call"), f"definition '{name}'{pinned} is not found")
        self.calls.append(step.call)
        self.checker.value(step.input, join_pointer(where, "input"), scope)
        outputs = frozenset({"output"})
        self._block_outputs(step.outputs_to_state, outputs, f"call '{step.id}'", where)
        node = CallNode(
            id=step.id,
            pointer=where,
            when=step.if_,
            definition=name,
            version=version,
            input=step.input,
            outputs_to_state=step.outputs_to_state,
        )
        return node, [StepInfo(step.id, where, "a call", outputs)], {}

    def wait(self, step: dsl.WaitStep, where: str, scope: Scope) -> Compiled:
        spec = step.wait
        at = join_pointer(where, "wait")
        given = [k for k in ("duration", "until", "signal") if getattr(spec, k) is not None]
        if len(given) != 1:
            self.checker.report(at, "wait needs exactly one of duration, until or signal")
        if spec.duration is not None:
            self._check_time(spec.duration, join_pointer(at, "duration"), scope, _check_duration)
        if spec.until is not None:
            self._check_time(spec.until, join_pointer(at, "until"), scope, _check_instant)
        if spec.timeout is not None and spec.signal is None:
            self.checker.report(join_pointer(at, "timeout"), "timeout applies to a signal wait only")
        outputs = frozenset({"payload"})
        self._block_outputs(step.outputs_to_state, outputs, f"wait '{step.id}'", where)
        node = WaitNode(
            id=step.id,
            pointer=where,
            when=step.if_,
            duration=spec.duration,
            until=spec.until,
            signal=spec.signal,
            timeout_ms=parse_duration_ms(spec.timeout) if spec.timeout else None,
            outputs_to_state=step.outputs_to_state,
        )
        return node, [StepInfo(step.id, where, "a wait", outputs)], {}

    def _check_time(self, value: str, where: str, scope: Scope, literal: Callable[[str], str | None]) -> None:
        if is_template(value):
            self.checker.template(value, where, scope)
            return
        message = literal(value)
        if message:
            self.checker.report(where, message)


def _check_duration(text: str) -> str | None:
    try:
        parse_duration_ms(text)
    except ValueError as exc:
        return str(exc)
    return None


def _check_instant(text: str) -> str | None:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return f"'{text}' is not a time: write ISO 8601 such as 2026-12-01T09:00:00Z, or a template"
    return None


def module_node(
    step_id: str,
    module: str,
    inputs: dict[str, Any],
    step: dsl.ModuleStep | dsl.Node,
    where: str,
    module_at: str,
    inputs_at: str,
    scope: Scope,
    registry: Registry,
    checker: Checker,
    defaults: dsl.Defaults | None,
) -> tuple[ModuleNode, StepInfo]:
    """A module step or node: every check, and its plan node (shared by both forms)."""
    spec = modules.resolve_module(module, registry, module_at, checker)
    outputs = spec.output_names(inputs) if spec else None
    info = StepInfo(step_id, where, f"module {module}", outputs)
    if spec is None:
        checker.broken.add(step_id)
        return ModuleNode(id=step_id, pointer=where, module=module, runs="workflow", inputs=inputs), info
    modules.check_inputs(spec, inputs, inputs_at, scope, checker)
    modules.check_outputs_to_state(
        step.outputs_to_state, outputs, f"module {module}", join_pointer(where, "outputs_to_state"), checker
    )
    activity = spec.runs == "activity"
    if not activity:
        for key in ("retry", "timeout"):
            if getattr(step, key) is not None:
                place = "inside the workflow" if spec.runs == "workflow" else "as a human step (use deadline)"
                checker.report(
                    join_pointer(where, key), f"{key} has no effect on {module}, which runs {place}"
                )
    retry = modules.retry_policy(step.retry, defaults) if activity else None
    problem = modules.retry_problem(retry) if retry else None
    if problem:
        place = "retry" if step.retry is not None and step.retry.max_interval else "/defaults/retry"
        checker.report(join_pointer(where, place) if place == "retry" else place, problem)
    node = ModuleNode(
        id=step_id,
        pointer=where,
        module=module,
        runs=spec.runs,
        queue=spec.queue,
        inputs=inputs,
        self_rendered=list(spec.self_rendered),
        outputs_to_state=step.outputs_to_state,
        retry=retry,
        timeout_ms=modules.timeout_ms(step.timeout, defaults) if activity else None,
        heartbeat_ms=spec.heartbeat_ms if activity else None,
        on_error=modules.on_error(step.on_error),
        rewind_to=rewind_target(module, inputs, inputs_at, scope, checker) if spec.runs == "human" else None,
        local=modules.runs_local(spec, step.local, join_pointer(where, "local"), checker),
    )
    return node, info
