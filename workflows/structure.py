"""Check a definition's shape against the language models, reporting every problem at its pointer.

Broken steps are replaced by placeholders so the compiler can still check the rest of the
file and report all mistakes at once.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows import dsl
from workflows.problems import Problem, pointer

Path = list[str | int]
_STEP_LISTS = {"steps", "then", "else", "default"}
_STEP_MAPS = {"parallel", "cases"}
_DURATION_KEYS = {
    "timeout",
    "initial_interval",
    "max_interval",
    "duration",
    *("jitter", "catchup_window", "every", "offset", "tolerance"),
}
_KIND_KEYS = sorted({*dsl.STEP_KINDS, "if"})
_MODEL_BY_KEY: dict[str, type[BaseModel]] = {
    "retry": dsl.Retry,
    "defaults": dsl.Defaults,
    "loop": dsl.LoopSpec,
    "wait": dsl.WaitSpec,
    "on_error": dsl.Goto,
    "schedule": dsl.ScheduleSpec,
    "webhook": dsl.WebhookSpec,
    "budget": dsl.Budget,
}
# Lists whose items are models: {list key: item model}.
_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "triggers": dsl.Trigger,
    "intervals": dsl.Interval,
    "calendars": dsl.Calendar,
}
_MAX_SALVAGE_ROUNDS = 8


@dataclass
class Structure:
    """The outcome of the shape check."""

    definition: dsl.Definition | None
    problems: list[Problem] = field(default_factory=list)
    # Ids of steps or nodes replaced by placeholders: problems about them are already reported.
    broken: set[str] = field(default_factory=set)


def check_structure(data: dict[str, Any]) -> Structure:
    """Validate parsed data as a Definition, salvaging what can still be compiled."""
    work = copy.deepcopy(data)
    result = Structure(None)
    for _ in range(_MAX_SALVAGE_ROUNDS):
        try:
            result.definition = dsl.Definition.model_validate(work)
            return result
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        located = [(locate(work, list(e["loc"]), e["type"] == "missing"), e) for e in errors]
        result.problems.extend(_problems(work, located))
        if not _salvage(work, located, result.broken):
            return result
    return result


def locate(data: Any, loc: Path, last_may_be_absent: bool) -> tuple[Path, bool]:
    """The real path of an error in the data, dropping pydantic's union tags; and if any were."""
    path: Path = []
    current = data
    dropped = False
    for index, part in enumerate(loc):
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
            path.append(part)
        elif last_may_be_absent and index == len(loc) - 1:
            path.append(part)
        elif not (isinstance(part, str) and part.startswith(dsl.STEP_TAG)):
            dropped = True
    return path, dropped


def _problems(data: Any, located: list[tuple[tuple[Path, bool], Any]]) -> list[Problem]:
    by_place: dict[str, list[tuple[Path, bool, Any]]] = {}
    for (path, dropped), error in located:
        where = pointer(*path[:-1]) if error["type"] == "missing" else pointer(*path)
        by_place.setdefault(where, []).append((path, dropped, error))
    problems = []
    for where, items in by_place.items():
        unions = [i for i in items if i[1] and i[2]["type"] not in ("extra_forbidden", "missing")]
        plain = [i for i in items if i not in unions]
        for path, _, error in plain:
            problems.append(Problem(where, _message(data, path, error)))
        if unions:
            problems.append(Problem(where, _union_message(unions[0][0], [u[2] for u in unions])))
    return problems


def _message(data: Any, path: Path, error: Any) -> str:
    kind = error["type"]
    key = str(path[-1]) if path else ""
    value = error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key '{key}'" + _suggest(key, _allowed_keys(data, path[:-1]))
    if kind == "missing":
        return f"missing required key '{key}'"
    if kind == "step_kind":
        hint = ""
        if isinstance(value, dict):
            for unknown in value:
                close = difflib.get_close_matches(str(unknown), _KIND_KEYS, n=1, cutoff=0.75)
                if close and unknown not in _KIND_KEYS:
                    hint = f" ('{unknown}' is not a key: did you mean '{close[0]}'?)"
                    break
        return str(error["msg"]) + hint
    if kind == "string_pattern_mismatch":
        return _pattern_message(key, value)
    if kind == "literal_error" and key == "stepwise":
        return f"stepwise must be {dsl.LANGUAGE_VERSION}, the language version (got {value!r})"
    msg = str(error["msg"]).replace("Input should be", "must be")
    return f"{msg[0].lower()}{msg[1:]} (got {_short(value)})"


def _union_message(path: Path, errors: list[Any]) -> str:
    key = str(path[-1]) if path else ""
    value = errors[0].get("input")
    if key == "on_error":
        return f"on_error must be fail, continue or {{goto: <step id>}} (got {_short(value)})"
    wanted = []
    for error in errors:
        match = re.match(r"Input should be (?:a valid )?(.+)", str(error["msg"]))
        text = match.group(1) if match else str(error["msg"])
        if text not in wanted:
            wanted.append(text)
    return f"expected {' or '.join(wanted)} (got {_short(value)})"


def _pattern_message(key: str, value: Any) -> str:
    if key == "name":
        return (
            f"'{value}' is not a valid name: use lowercase letters, digits and hyphens, e.g. scene-pipeline"
        )
    if key in _DURATION_KEYS or key in {"deadline", "remind_every"}:
        return f"'{value}' is not a duration: write a whole number and a unit, e.g. 500ms, 30s, 5m, 2h, 3d"
    return (
        f"'{value}' is not a valid {'name' if key == 'as' else key}: use lowercase letters, "
        "digits and _, not starting with a digit"
    )


def _allowed_keys(data: Any, path: Path) -> list[str]:
    """Keys the model at `path` accepts, for suggestions."""
    model: type[BaseModel] | None
    if not path:
        model = dsl.Definition
    elif _is_step_path(path):
        model = dsl.Node if path[-2] == "nodes" else _step_model(_at(data, path))
    elif len(path) == 2 and path[0] == "edges":
        model = dsl.Edge
    elif len(path) >= 2 and isinstance(path[-1], int):
        model = _ITEM_MODELS.get(str(path[-2]))
    else:
        model = _MODEL_BY_KEY.get(str(path[-1]))
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _step_model(node: Any) -> type[BaseModel] | None:
    tag = dsl.step_kind(node)
    models: dict[str, type[BaseModel]] = {
        "module": dsl.ModuleStep,
        "parallel": dsl.ParallelStep,
        "for_each": dsl.ForEachStep,
        "loop": dsl.LoopStep,
        "switch": dsl.SwitchStep,
        "if": dsl.IfStep,
        "call": dsl.CallStep,
        "wait": dsl.WaitStep,
    }
    return models.get(tag.removeprefix(dsl.STEP_TAG)) if tag else None


def _suggest(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f": did you mean '{close[0]}'?"
    if allowed:
        return f" (allowed here: {', '.join(sorted(allowed))})"
    return ""


def _at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def _is_step_path(path: Path) -> bool:
    """True when `path` points at a step (an item of a step list) or a node."""
    if len(path) < 2 or not isinstance(path[-1], int):
        return False
    container = path[-2]
    if container in _STEP_LISTS or container == "nodes":
        return True
    return len(path) >= 3 and path[-3] in _STEP_MAPS


def _salvage(work: dict[str, Any], located: list[tuple[tuple[Path, bool], Any]], broken: set[str]) -> bool:
    """Remove what made validation fail so the rest can be checked; False if nothing changed."""
    changed = False
    # Deepest first, so removing a key never invalidates another error's path.
    for (path, _), error in sorted(located, key=lambda item: -len(item[0][0])):
        target = _salvage_target(work, path, error)
        if target is None:
            continue
        changed |= _apply(work, target, broken)
    return changed


def _salvage_target(work: dict[str, Any], path: Path, error: Any) -> tuple[str, Path] | None:
    if error["type"] == "extra_forbidden":
        return ("delete", path)
    for end in range(len(path), 0, -1):
        if _is_step_path(path[:end]):
            return ("placeholder", path[:end])
    if not path:
        return None
    if path[0] == "edges" and len(path) >= 2:
        return ("delete", path[:2])
    if path[0] == "triggers" and len(path) >= 2 and isinstance(path[1], int):
        return ("trigger", path[:2])  # a stand-in keeps the later triggers at their indexes
    if path[0] in ("stepwise", "name"):
        return ("fix", path[:1])
    return ("delete", path[:1])


def _apply(work: dict[str, Any], target: tuple[str, Path], broken: set[str]) -> bool:
    action, path = target
    try:
        parent = _at(work, path[:-1])
        current = parent[path[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    if action == "delete":
        del parent[path[-1]]
    elif action == "trigger":
        stand_in = {"id": f"__broken_trigger_{path[-1]}", "webhook": {}}
        if current == stand_in:
            return False
        parent[path[-1]] = stand_in
    elif action == "fix":
        parent[path[-1]] = dsl.LANGUAGE_VERSION if path[-1] == "stepwise" else "invalid"
    else:
        raw_id = current.get("id") if isinstance(current, dict) else None
        step_id = raw_id if isinstance(raw_id, str) and re.match(dsl.ID_PATTERN, raw_id) else None
        step_id = step_id or f"__broken_{len(broken)}"
        is_node = "nodes" in path[-2:-1]
        replacement = {"id": step_id, ("type" if is_node else "module"): "transform.extract"}
        if current == replacement:
            return False
        parent[path[-1]] = replacement
        broken.add(step_id)
    return True


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
