"""The input of a run a schedule started: its template rendered with the time the run was due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

from workflows.engine.models import RunInput
from workflows.templates import TemplateError, render_value

# Set by Temporal on every run a schedule starts: the time the run was due (before jitter).
SCHEDULED_TIME_KEY = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
INVALID = "InvalidScheduledInput"


def scheduled_input(run: RunInput, info: workflow.Info) -> Any:
    """The rendered input; a failure of the run (not retried) when it does not render or does not
    match the definition's input schema."""
    return input_due(run, info.typed_search_attributes.get(SCHEDULED_TIME_KEY) or info.start_time)


def input_due(run: RunInput, due: datetime) -> Any:
    """The input of a scheduled run that was due at `due` (what `scheduled_input` renders)."""
    assert run.scheduled is not None
    scope = {"schedule": {"id": run.scheduled.schedule_id, "scheduled_time": due.astimezone(UTC).isoformat()}}
    try:
        value = render_value(run.scheduled.input, scope)
    except TemplateError as exc:
        raise ApplicationError(f"the schedule's input: {exc}", type=INVALID, non_retryable=True) from None
    schema = run.plan.input_schema
    if schema is not None:
        errors = [
            f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(value)
        ]
        if errors:
            raise ApplicationError(
                "the input the schedule gave does not match the definition's input schema: "
                + "; ".join(errors),
                type=INVALID,
                non_retryable=True,
            )
    return value
