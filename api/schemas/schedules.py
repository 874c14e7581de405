"""Schedules as the API takes and shows them: the spec in the language's words
(workflows.dsl.ScheduleSpec), and what Temporal says of the schedule now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.db.models import ScheduleRow
from core.schedules import ScheduleStatus
from workflows import dsl


class ScheduleBody(dsl.ScheduleSpec):
    """When it runs (cron, intervals, calendars, time zone, jitter, bounds, overlap, catch-up)
    and what: a stored definition and the run input, a template with schedule.*."""

    definition: str = Field(min_length=1, max_length=210, description="`name`, or `name@3` to pin a version")
    input: Any = Field(
        default=None, description="The run input; templates may use schedule.id and schedule.scheduled_time"
    )


class ScheduleCreate(ScheduleBody):
    id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$",
        description="Lowercase letters, digits, - and _ (default: the definition's name and a random suffix)",
    )


class ScheduleNote(BaseModel):
    note: str | None = Field(default=None, max_length=2000, description="Why (shown with the schedule)")


class ScheduleTrigger(BaseModel):
    overlap: dsl.Overlap | None = Field(default=None, description="Default: the schedule's own policy")


class ScheduleBackfill(BaseModel):
    start_at: datetime = Field(description="Start the runs due from this time (ISO 8601)...")
    end_at: datetime = Field(description="...up to this time")
    overlap: dsl.Overlap | None = Field(default=None, description="Default: allow_all")


class ScheduleAccepted(BaseModel):
    id: str
    requested: str = Field(description="trigger or backfill: Temporal starts the runs")


class RecentRun(BaseModel):
    run_id: str | None
    scheduled_at: datetime
    started_at: datetime


class SchedulePublic(BaseModel):
    id: str
    definition: str
    version: int | None = Field(description="The pinned version; null follows the latest")
    trigger_id: str | None = Field(description="Set for a schedule declared in the definition's triggers:")
    owner: str = Field(description="Who the runs belong to")
    input: Any
    spec: dict[str, Any]
    paused: bool
    note: str | None
    next_times: list[datetime]
    running: list[str] = Field(description="Runs it started that are still going")
    recent: list[RecentRun]
    runs_started: int
    skipped_overlap: int
    missed_catchup: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ScheduleRow, status: ScheduleStatus) -> SchedulePublic:
        return cls(
            id=row.id,
            definition=row.definition,
            version=row.version,
            trigger_id=row.trigger_id,
            owner=row.owner,
            input=row.input,
            spec=row.spec,
            paused=status.paused,
            note=status.note,
            next_times=status.next_times,
            running=status.running,
            recent=[RecentRun(**r) for r in status.recent],
            runs_started=status.runs_started,
            skipped_overlap=status.skipped_overlap,
            missed_catchup=status.missed_catchup,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
