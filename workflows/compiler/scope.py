"""What a template may refer to at a given place, and the checks of every template."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from workflows.problems import Problem, join_pointer
from workflows.templates import Template, TemplateError, compile_template, iter_templates

BASE_NAMES = frozenset({"input", "state", "steps", "run", "feedback"})
# `feedback` came later than the rest: an item may still be named so (it then hides it).
RESERVED_NAMES = (BASE_NAMES - {"feedback"}) | {"index", "loop", "error", "start"}
# Words a template reads as something else than a name.
TEMPLATE_WORDS = frozenset({"self", "true", "false", "none", "and", "or", "not", "in", "is", "if", "else"})
RUN_FIELDS = frozenset({"id", "definition_hash", "started_at"})
ERROR_FIELDS = frozenset({"type", "message", "step"})
_NAME_HINTS = {
    "item": "it is only defined inside a for_each (or under the name its `as` gives)",
    "index": "it is only defined inside a for_each",
    "loop": "it is only defined inside a loop block",
    "error": "it is only defined in an error handler: a step named by on_error: {goto: ...}",
}


@dataclass(frozen=True)
class StepInfo:
    """A step or node as templates see it."""

    id: str
    pointer: str
    label: str
    outputs: frozenset[str] | None  # None: any output may exist


@dataclass(frozen=True)
class RewindPoint:
    """An earlier step a human step may send the run back to (retry, jump back): what runs
    again when it does (its own id and its blocks' inner ids) and the state keys they write."""

    id: str
    covers: frozenset[str]
    writes: frozenset[str]
    human: bool


@dataclass(frozen=True)
class Scope:
    """Names in scope at one place, and the steps that may have finished before it."""

    names: frozenset[str] = BASE_NAMES
    finished: Mapping[str, StepInfo] = field(default_factory=dict)
    # Steps that exist but cannot be read here, with the reason.
    hidden: Mapping[str, str] = field(default_factory=dict)
    # Form B: node ids usable as names (`classify.output`).
    node_names: frozenset[str] = frozenset()
    current: str | None = None
    # Earlier steps of this list and of the enclosing lists, in the order they run; a parallel
    # branch or for_each iteration starts afresh (a jump does not leave it).
    rewind: tuple[RewindPoint, ...] = ()

    def with_names(self, *names: str) -> Scope:
        return replace(self, names=self.names | set(names))

    def with_finished(self, infos: Iterable[StepInfo]) -> Scope:
        return replace(self, finished={**self.finished, **{i.id: i for i in infos}})

    def with_hidden(self, hidden: Mapping[str, str]) -> Scope:
        return replace(self, hidden={**self.hidden, **hidden})

    def with_rewind(self, points: Iterable[RewindPoint]) -> Scope:
        return replace(self, rewind=(*self.rewind, *points))

    def at(self, step_id: str) -> Scope:
        return replace(self, current=step_id)


class Checker:
    """Collects problems; checks templates against a scope."""

    def __init__(
        self,
        known: Mapping[str, StepInfo],
        broken: set[str],
        state_keys: frozenset[str],
        input_keys: frozenset[str] | None,
        graph_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.problems: list[Problem] = []
        self.graph_ids = graph_ids
        self.known = known
        self.broken = broken
        self.state_keys = state_keys
        self.input_keys = input_keys

    def report(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def template(
        self, source: str, where: str, scope: Scope, extra_names: Iterable[str] = ()
    ) -> Template | None:
        """Parse a template and check every name and step it reads."""
        try:
            template = compile_template(source)
        except TemplateError as exc:
            self.report(where, str(exc))
            return None
        names = scope.names | set(extra_names)
        for path in sorted(template.paths, key=len):
            self._path(path, where, scope, names)
        return template

    def value(self, value: Any, where: str, scope: Scope) -> None:
        """Check every template inside a value (strings in lists and mappings)."""
        for path, source in iter_templates(value):
            self.template(source, join_pointer(where, *path), scope)

    def condition(self, value: str | bool | None, where: str, scope: Scope) -> None:
        """A condition is true/false or one `{{ expression }}` (any other text is always true)."""
        if value is None or isinstance(value, bool):
            return
        template = self.template(value, where, scope)
        if template is not None and not template.whole_value:
            self.report(
                where,
                f"condition {value!r} is not a single template: write it as one "
                '{{ expression }}, e.g. "{{ state.score >= 8 }}"',
            )

    def _path(self, path: tuple[str, ...], where: str, scope: Scope, names: frozenset[str]) -> None:
        root = path[0]
        if root in self.graph_ids and root not in names:
            if root not in scope.node_names:
                if len(path) == 1 and root not in self.broken:
                    self.report(where, self._not_finished(root, scope))
            elif len(path) >= 2 and path[1] != "output":
                self.report(where, f"read a node's outputs as {root}.output.<name>, not {root}.{path[1]}")
            elif len(path) >= 2:
                self._step_ref((root, *path[2:]), where, scope)
            return
        if len(path) == 1:
            if root not in names:
                self.report(where, self._unknown_name(root, scope, names))
            return
        if root == "steps":
            self._step_ref(path[1:], where, scope)
        elif root == "state" and len(path) == 2 and path[1] not in self.state_keys:
            self.report(
                where,
                f"state has no key '{path[1]}': it is neither in the initial state nor written by "
                f"any outputs_to_state{_did_you_mean(path[1], self.state_keys)}",
            )
        elif root == "run" and len(path) == 2 and path[1] not in RUN_FIELDS:
            self.report(where, f"run has no field '{path[1]}'; it has {', '.join(sorted(RUN_FIELDS))}")
        elif root == "error" and len(path) == 2 and "error" in names and path[1] not in ERROR_FIELDS:
            self.report(where, f"error has no field '{path[1]}'; it has type, message and step")
        elif root == "input" and len(path) == 2 and self._unknown_input(path[1], names):
            self.report(
                where,
                f"the input schema has no property '{path[1]}'"
                f"{_did_you_mean(path[1], self.input_keys or ())}",
            )

    def _unknown_input(self, key: str, names: frozenset[str]) -> bool:
        return self.input_keys is not None and "input" in names and key not in self.input_keys

    def _step_ref(self, path: tuple[str, ...], where: str, scope: Scope) -> None:
        step_id = path[0]
        if step_id in self.broken:
            return
        info = scope.finished.get(step_id)
        if info is None:
            self.report(where, self._not_finished(step_id, scope))
            return
        if len(path) >= 2 and info.outputs is not None and path[1] not in info.outputs:
            outputs = ", ".join(sorted(info.outputs)) or "none"
            self.report(
                where,
                f"step '{step_id}' ({info.label}) has no output '{path[1]}'"
                f"{_did_you_mean(path[1], info.outputs)}; its outputs: {outputs}",
            )

    def _not_finished(self, step_id: str, scope: Scope) -> str:
        if step_id == scope.current:
            return f"step '{step_id}' cannot read its own outputs"
        if step_id in scope.hidden:
            return scope.hidden[step_id]
        if step_id in self.graph_ids:
            return (
                f"node '{step_id}' cannot have finished before this node: no path of edges leads "
                f"from '{step_id}' to here; add one, or read it further downstream"
            )
        if step_id in self.known:
            return (
                f"step '{step_id}' cannot have finished before this point: it runs later "
                "(or on another path); move the reference after it"
            )
        return f"there is no step '{step_id}'{_did_you_mean(step_id, self.known)}"

    def _unknown_name(self, name: str, scope: Scope, names: frozenset[str]) -> str:
        if name in self.known:
            return f"'{name}' is not defined; to read a step's outputs write steps.{name}.<output>"
        if name in _NAME_HINTS:
            return f"'{name}' is not defined here: {_NAME_HINTS[name]}"
        return f"'{name}' is not defined{_did_you_mean(name, names | scope.node_names)}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
