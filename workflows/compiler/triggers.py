"""Checks of a definition's `triggers:` (schedules and webhooks): each problem at its pointer.

The time zone is left to the caller that stores the definition (knowing time zones means
reading the time zone database, which this package does not do)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from workflows import dsl
from workflows.cron import CALENDAR_FIELDS, CronError, check_cron, parse_field
from workflows.durations import parse_duration_ms
from workflows.problems import Problem, join_pointer, pointer
from workflows.templates import TemplateError, compile_template, iter_templates, render_value

# The names a trigger's input template may read.
SCHEDULE_NAMES = frozenset({"schedule"})
WEBHOOK_NAMES = frozenset({"body", "headers", "delivery", "hook"})
# What a schedule's input is checked with when the definition is stored.
SAMPLE_SCHEDULE = {"id": "sample", "scheduled_time": "2026-01-01T00:00:00+00:00"}


def trigger_problems(definition: dsl.Definition) -> Iterator[Problem]:
    """Every problem of the definition's triggers."""
    seen: dict[str, int] = {}
    for index, trigger in enumerate(definition.triggers):
        where = pointer("triggers", index)
        if trigger.id in seen:
            first = pointer("triggers", seen[trigger.id])
            yield Problem(
                join_pointer(where, "id"), f"duplicate trigger id '{trigger.id}': {first}/id has it"
            )
        seen.setdefault(trigger.id, index)
        if (trigger.schedule is None) == (trigger.webhook is None):
            yield Problem(where, "a trigger needs exactly one of schedule or webhook")
            continue
        if trigger.schedule is not None:
            yield from schedule_input_problems(
                trigger.schedule, trigger.input, definition.input, where, join_pointer(where, "schedule")
            )
        else:
            yield from _input_problems(trigger.input, join_pointer(where, "input"), WEBHOOK_NAMES)


def schedule_problems(spec: dsl.ScheduleSpec, where: str) -> Iterator[Problem]:
    """What is wrong with when a schedule runs (the time zone aside)."""
    if not (spec.cron or spec.intervals or spec.calendars):
        yield Problem(where, "a schedule needs cron, intervals or calendars: when should it run?")
    crons = [spec.cron] if isinstance(spec.cron, str) else spec.cron or []
    for index, text in enumerate(crons):
        at = join_pointer(where, "cron") if isinstance(spec.cron, str) else pointer_in(where, "cron", index)
        try:
            check_cron(text)
        except CronError as exc:
            yield Problem(at, str(exc))
    for index, interval in enumerate(spec.intervals or []):
        every = parse_duration_ms(interval.every)
        at = pointer_in(where, "intervals", index)
        if every == 0:
            yield Problem(join_pointer(at, "every"), "an interval must be longer than 0")
        if interval.offset is not None and parse_duration_ms(interval.offset) >= max(every, 1):
            yield Problem(join_pointer(at, "offset"), "the offset must be shorter than the interval")
    for index, calendar in enumerate(spec.calendars or []):
        at = pointer_in(where, "calendars", index)
        for field in CALENDAR_FIELDS:
            try:
                parse_field(field, getattr(calendar, field.name))
            except CronError as exc:
                yield Problem(join_pointer(at, field.name), str(exc))
    bounds: dict[str, datetime] = {}
    for key in ("start_at", "end_at"):
        text = getattr(spec, key)
        if text is None:
            continue
        try:
            bounds[key] = parse_time(text)
        except ValueError:
            yield Problem(
                join_pointer(where, key), f"'{text}' is not a time: write ISO 8601, e.g. 2026-01-31T09:00:00Z"
            )
    if len(bounds) == 2 and bounds["end_at"] <= bounds["start_at"]:
        yield Problem(join_pointer(where, "end_at"), "end_at must be after start_at")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC. ValueError otherwise."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def pointer_in(where: str, key: str, index: int) -> str:
    return join_pointer(where, key, str(index))


def _input_problems(value: Any, where: str, names: frozenset[str]) -> Iterator[Problem]:
    allowed = ", ".join(sorted(names))
    for path, source in iter_templates(value):
        at = join_pointer(where, *(str(p) for p in path))
        try:
            template = compile_template(source)
        except TemplateError as exc:
            yield Problem(at, str(exc))
            continue
        for name in sorted(template.names - names):
            yield Problem(at, f"'{name}' is not known here; a trigger's input may use {allowed}")


def _sample_input_problems(schema: dict[str, Any] | None, value: Any, where: str) -> Iterator[Problem]:
    """A schedule's input, rendered for a sample time, must match the definition's input schema."""
    at = join_pointer(where, "input")
    try:
        rendered = render_value(value, {"schedule": SAMPLE_SCHEDULE})
    except TemplateError as exc:
        yield Problem(at, str(exc))
        return
    if schema is None:
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return  # reported at /input already
    for error in Draft202012Validator(schema).iter_errors(rendered):
        place = join_pointer(at, *(str(p) for p in error.absolute_path))
        yield Problem(place, f"the run input this gives does not match the input schema: {error.message}")


def schedule_input_problems(
    spec: dsl.ScheduleSpec,
    value: Any,
    input_schema: dict[str, Any] | None,
    where: str = "/",
    spec_where: str | None = None,
) -> list[Problem]:
    """A schedule's problems: when it runs (at `spec_where`, default `where`), and its input
    template, which (rendered for a sample time) must match the definition's input schema."""
    problems = list(schedule_problems(spec, spec_where or where))
    template_problems = list(_input_problems(value, join_pointer(where, "input"), SCHEDULE_NAMES))
    problems.extend(template_problems)
    if not template_problems:
        problems.extend(_sample_input_problems(input_schema, value, where))
    return problems
