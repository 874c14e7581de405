"""Schedules on Temporal Schedules: a schedule's spec as the language writes it
(workflows.dsl.ScheduleSpec) turned into Temporal's, and the runs it starts, which pin the plan
the schedule was last given and render their input when they start."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core.runs import PLAN_HASH_MEMO, VERSION_MEMO, Prepared
from core.settings import Settings
from workflows import dsl
from workflows.compiler.triggers import parse_time
from workflows.cron import CALENDAR_FIELDS, YEAR, parse_field
from workflows.durations import parse_duration_ms
from workflows.engine.models import ENGINE_GENERATION, WORKFLOW_QUEUE, RunInput, Scheduled, run_type
from workflows.engine.run import OWNER_KEY
from workflows.problems import Problem, join_pointer

OVERLAP: dict[str, ScheduleOverlapPolicy] = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}
# How many upcoming times a schedule's view lists.
NEXT_TIMES = 5


def trigger_schedule_id(definition: str, trigger_id: str) -> str:
    """The id of the schedule a definition's trigger declares."""
    return f"{definition}.{trigger_id}"


def zone_problems(spec: dsl.ScheduleSpec, where: str) -> Iterator[Problem]:
    """An unknown time zone, named with an example of a known one."""
    try:
        zoneinfo.ZoneInfo(spec.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield Problem(
            join_pointer(where, "time_zone"),
            f"'{spec.time_zone}' is not a time zone: write an IANA name such as UTC, Europe/Berlin "
            "or America/New_York",
        )


def plan_zone_problems(triggers: list[dsl.Trigger]) -> list[Problem]:
    """Unknown time zones in a definition's schedule triggers."""
    return [
        problem
        for index, trigger in enumerate(triggers)
        if trigger.schedule is not None
        for problem in zone_problems(trigger.schedule, f"/triggers/{index}/schedule")
    ]


def _ms(text: str | None) -> timedelta | None:
    return None if text is None else timedelta(milliseconds=parse_duration_ms(text))


def _ranges(field_text: str | int, field: Any) -> list[ScheduleRange]:
    return [ScheduleRange(r.start, r.end, r.step) for r in parse_field(field, field_text)]


def temporal_spec(spec: dsl.ScheduleSpec) -> ScheduleSpec:
    """Temporal's spec for ours (checked already: see workflows.compiler.triggers)."""
    crons = [spec.cron] if isinstance(spec.cron, str) else list(spec.cron or [])
    calendars = []
    for calendar in spec.calendars or []:
        fields = {
            field.name: _ranges(getattr(calendar, field.name), field)
            for field in CALENDAR_FIELDS
            if not (field is YEAR and str(calendar.year).strip() == "*")
        }
        calendars.append(ScheduleCalendarSpec(**fields, comment=calendar.comment))
    intervals = [
        ScheduleIntervalSpec(every=_ms(i.every) or timedelta(0), offset=_ms(i.offset))
        for i in spec.intervals or []
    ]
    return ScheduleSpec(
        cron_expressions=crons,
        intervals=intervals,
        calendars=calendars,
        time_zone_name=spec.time_zone,
        jitter=_ms(spec.jitter),
        start_at=parse_time(spec.start_at) if spec.start_at else None,
        end_at=parse_time(spec.end_at) if spec.end_at else None,
    )


def temporal_policy(spec: dsl.ScheduleSpec) -> SchedulePolicy:
    return SchedulePolicy(
        overlap=OVERLAP[spec.overlap],
        catchup_window=_ms(spec.catchup_window),
        pause_on_failure=spec.pause_on_failure,
    )


@dataclass(frozen=True)
class Target:
    """What a schedule's runs are: the plan (pinned with what it calls), its version, the
    input template, and who owns them."""

    prepared: Prepared
    version: int | None
    input: Any
    owner: str


def action(schedule_id: str, target: Target, settings: Settings) -> ScheduleActionStartWorkflow:
    """Start a run; Temporal names it after the schedule and the time it was due."""
    plan = target.prepared.plan
    plan_hash = target.prepared.content_hash()
    memo: dict[str, Any] = {PLAN_HASH_MEMO: plan_hash}
    if target.version is not None:
        memo[VERSION_MEMO] = target.version
    return ScheduleActionStartWorkflow(
        run_type(plan.name),
        RunInput(
            plan=plan,
            plan_hash=plan_hash,
            owner=target.owner,
            children=target.prepared.children,
            queue_prefix=settings.task_queue_prefix,
            continue_as_new_after=settings.continue_as_new_after,
            scheduled=Scheduled(schedule_id=schedule_id, input=target.input),
            engine=ENGINE_GENERATION,
        ),
        id=schedule_id,
        task_queue=settings.task_queue_prefix + WORKFLOW_QUEUE,
        memo=memo,
        typed_search_attributes=TypedSearchAttributes([SearchAttributePair(OWNER_KEY, target.owner)]),
        static_summary=f"{plan.name} (plan {plan_hash[:12]}, schedule {schedule_id})",
    )


async def create_schedule(
    client: Client, schedule_id: str, spec: dsl.ScheduleSpec, target: Target, settings: Settings
) -> None:
    """Create the Temporal Schedule (paused when the spec says so)."""
    await client.create_schedule(
        schedule_id,
        Schedule(
            action=action(schedule_id, target, settings),
            spec=temporal_spec(spec),
            policy=temporal_policy(spec),
            state=ScheduleState(paused=spec.paused, note=spec.note),
        ),
    )


async def update_schedule(
    client: Client,
    schedule_id: str,
    settings: Settings,
    spec: dsl.ScheduleSpec | None = None,
    target: Target | None = None,
) -> None:
    """Give a schedule a new spec, new runs, or both; whether it is paused (and its note)
    stays as it is: pause and unpause change that."""

    def updater(given: ScheduleUpdateInput) -> ScheduleUpdate:
        current = given.description.schedule
        return ScheduleUpdate(
            schedule=Schedule(
                action=action(schedule_id, target, settings) if target is not None else current.action,
                spec=temporal_spec(spec) if spec is not None else current.spec,
                policy=temporal_policy(spec) if spec is not None else current.policy,
                state=current.state,
            )
        )

    await client.get_schedule_handle(schedule_id).update(updater)


@dataclass(frozen=True)
class ScheduleStatus:
    """What Temporal says of a schedule now."""

    paused: bool
    note: str | None
    next_times: list[datetime]
    running: list[str]
    recent: list[dict[str, Any]]
    runs_started: int
    skipped_overlap: int
    missed_catchup: int


def status_of(description: ScheduleDescription) -> ScheduleStatus:
    info = description.info
    state = description.schedule.state
    return ScheduleStatus(
        paused=state.paused,
        note=state.note or None,
        next_times=[t.astimezone(UTC) for t in info.next_action_times[:NEXT_TIMES]],
        running=[
            a.workflow_id for a in info.running_actions if isinstance(a, ScheduleActionExecutionStartWorkflow)
        ],
        recent=[
            {
                "run_id": r.action.workflow_id
                if isinstance(r.action, ScheduleActionExecutionStartWorkflow)
                else None,
                "scheduled_at": r.scheduled_at.astimezone(UTC),
                "started_at": r.started_at.astimezone(UTC),
            }
            for r in info.recent_actions
        ],
        runs_started=info.num_actions,
        skipped_overlap=info.num_actions_skipped_overlap,
        missed_catchup=info.num_actions_missed_catchup_window,
    )


async def describe_schedule(client: Client, schedule_id: str) -> ScheduleStatus:
    return status_of(await client.get_schedule_handle(schedule_id).describe())
