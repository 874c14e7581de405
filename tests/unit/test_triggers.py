"""The `triggers:` section: cron text and calendar fields checked at their place, input
templates limited to the names a trigger gives, a schedule's input checked against the input
schema, and a plan's hash unchanged for definitions without triggers."""

from __future__ import annotations

import pytest

from tests.helpers import registry
from workflows.compiler import compile_text
from workflows.cron import DAY_OF_WEEK, MONTH, CronError, Range, check_cron, parse_field

BASE = """stepwise: 1
name: nightly
input: {type: object, properties: {day: {type: string}}, required: [day]}
steps:
  - {id: a, module: transform.extract, inputs: {day: "{{ input.day }}"}}
"""


def problems(triggers: str) -> list[str]:
    result = compile_text(BASE + "triggers:\n" + triggers, "d.yaml", registry())
    return [f"{p.where}: {p.message}" for p in result.problems]


@pytest.mark.parametrize(
    "text", ["0 9 * * MON-FRI", "*/15 * * * *", "0 0 12 1 JAN,JUL ?", "@daily", "0 0 0 1 1 * 2030"]
)
def test_cron_text_temporal_reads_is_accepted(text: str) -> None:
    check_cron(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("61 * * * *", "minute: 61 is out of range (0 to 59)"),
        ("* * *", "has 3 fields"),
        ("0 9 * * MON-FRX", "day_of_week: 'MON-FRX' is not a number from 0 to 7 or a name (SUN..SAT)"),
        ("0 9 * * 5-1", "runs backwards"),
        ("*/0 * * * *", "bad step"),
        ("@every 5m", "use intervals"),
    ],
)
def test_bad_cron_text_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(CronError) as info:
        check_cron(text)
    assert says in str(info.value)


def test_calendar_fields_become_ranges() -> None:
    assert parse_field(DAY_OF_WEEK, "MON-FRI") == [Range(1, 5)]
    assert parse_field(MONTH, "*/3") == [Range(1, 12, 3)]
    assert parse_field(MONTH, "jan,7") == [Range(1, 1), Range(7, 7)]


def test_a_good_schedule_and_webhook_compile_into_the_plan() -> None:
    text = (
        BASE
        + """triggers:
  - id: every_night
    schedule: {cron: "0 2 * * *", time_zone: Europe/Berlin, overlap: buffer_one, jitter: 30s}
    input: {day: "{{ schedule.scheduled_time[:10] }}"}
  - id: github
    webhook: {tolerance: 1m}
    input: {day: "{{ body.day }}"}
"""
    )
    plan = compile_text(text, "d.yaml", registry()).unwrap()
    assert [t.id for t in plan.triggers] == ["every_night", "github"]
    assert plan.triggers[0].schedule is not None
    assert plan.triggers[0].schedule.overlap == "buffer_one"
    without = compile_text(BASE, "d.yaml", registry()).unwrap()
    assert "triggers" not in without.model_dump(exclude_defaults=True)
    assert without.content_hash() != plan.content_hash()


def test_every_trigger_problem_is_named_at_its_place() -> None:
    found = problems(
        """  - id: a
    schedule: {cron: "0 2 * * *", intervals: [{every: 1h, offset: 2h}], calendars: [{hour: "25"}]}
    input: {day: "{{ schedule.scheduled_time }}"}
  - id: a
    webhook: {}
    schedule: {cron: "@daily"}
  - id: hook
    webhook: {}
    input: {day: "{{ input.day }}"}
  - id: empty
    schedule: {time_zone: UTC}
    input: {day: x}
  - id: wrong_input
    schedule: {cron: "@daily"}
    input: {day: 5}
  - id: late
    schedule: {cron: "@daily", start_at: "2026-02-01", end_at: "2026-01-01"}
    input: {day: x}
  - id: typo
    schedul: {}
"""
    )
    assert found == [
        "/triggers/0/schedule/calendars/0/hour: hour: 25 is out of range (0 to 23)",
        "/triggers/0/schedule/intervals/0/offset: the offset must be shorter than the interval",
        "/triggers/1: a trigger needs exactly one of schedule or webhook",
        "/triggers/1/id: duplicate trigger id 'a': /triggers/0/id has it",
        "/triggers/2/input/day: 'input' is not known here; a trigger's input may use body, delivery, headers, hook",
        "/triggers/3/schedule: a schedule needs cron, intervals or calendars: when should it run?",
        "/triggers/4/input/day: the run input this gives does not match the input schema: 5 is not of type 'string'",
        "/triggers/5/schedule/end_at: end_at must be after start_at",
        "/triggers/6: a trigger needs exactly one of schedule or webhook",
        "/triggers/6/schedul: unknown key 'schedul': did you mean 'schedule'?",
    ]
