"""A run's events: a page at a time (GET .../events), or live as Server-Sent Events
(GET .../stream), both read out of the run's Temporal history (core/run_history.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from api.deps import RunsReader, TemporalClient
from api.problems import not_found, unprocessable
from api.responses import errors
from api.run_access import owned_run
from core.progress import ProgressHub, progress_event, with_progress
from core.run_events import BadCursor, Cursor, RunEvent
from core.run_history import follow_events, read_events
from core.run_views import RunNotFound

router = APIRouter(prefix="/runs", tags=["runs"])
# How long a browser's EventSource waits before it reconnects after a dropped stream.
RECONNECT_MS = 2_000
AFTER_DESCRIPTION = "An event's `id` (or the page's `cursor`): only what came after it"
LAST_ID_DESCRIPTION = "Sent by a reconnecting EventSource: the stream goes on after it"


class RunEventsPage(BaseModel):
    events: list[RunEvent]
    cursor: str = Field(description="Pass as `after` to read on; the last event's id")
    ended: bool = Field(description="The run (and every run it called) has ended and all is read")


def _cursor(text: str | None, what: str) -> Cursor:
    try:
        return Cursor.parse(text)
    except BadCursor as exc:
        raise unprocessable(f"{what}: {exc}") from None


@router.get("/{run_id}/events", response_model=RunEventsPage, responses=errors(403, 404, 422, 503))
async def events(
    run_id: str,
    principal: RunsReader,
    client: TemporalClient,
    request: Request,
    after: Annotated[str | None, Query(description=AFTER_DESCRIPTION, max_length=4_000)] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 1_000,
) -> Response:
    """The run's events in order: its steps, modules, human steps, retries, timers and those
    of the runs it called; the run's owner, an operator or an admin."""
    cursor = _cursor(after, "after")
    summary = await owned_run(client, run_id, principal)
    try:
        kept = request.app.state.closed_executions
        page = await read_events(client, run_id, cursor, limit, summary.first_run_id, kept)
    except RunNotFound:
        raise not_found("run", run_id) from None
    # Serialised as they are: the events come from the deriver, valid by construction.
    body = {"events": page.events, "cursor": page.cursor, "ended": page.ended}
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


@router.get(
    "/{run_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: each `data:` is a run event (JSON), its `id:` the "
            "event's id; `event: end` closes the stream once the run has ended.",
        },
        **errors(403, 404, 422, 503),
    },
)
async def stream(
    run_id: str,
    principal: RunsReader,
    client: TemporalClient,
    request: Request,
    after: Annotated[str | None, Query(description=AFTER_DESCRIPTION, max_length=4_000)] = None,
    last_event_id: Annotated[
        str | None,
        Header(description=LAST_ID_DESCRIPTION, max_length=4_000),
    ] = None,
) -> StreamingResponse:
    """The run's events as they happen, as Server-Sent Events, from the start (or after
    `Last-Event-ID` / `after`); ends after the run has ended."""
    cursor = _cursor(last_event_id or after, "Last-Event-ID" if last_event_id else "after")
    summary = await owned_run(client, run_id, principal)
    history = follow_events(client, run_id, cursor, summary.first_run_id, request.app.state.closed_executions)
    return StreamingResponse(
        _sse(history, run_id, cursor, request.app.state.progress.hub),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(
    history: AsyncIterator[dict[str, Any] | None], run_id: str, cursor: Cursor, hub: ProgressHub
) -> AsyncIterator[str]:
    yield f"retry: {RECONNECT_MS}\n\n"
    with hub.subscribe(run_id) as subscription:
        async for item in with_progress(history, subscription):
            if item is None:
                yield ": still running\n\n"
            elif isinstance(item, list):
                # No `id:`: live progress is not in the history, so the stream's last id stays put.
                at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                for chunk in item:
                    yield f"data: {json.dumps(progress_event(chunk, at), separators=(',', ':'))}\n\n"
            else:
                yield f"id: {item['id']}\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"
    yield f"event: end\ndata: {json.dumps({'cursor': str(cursor)})}\n\n"
