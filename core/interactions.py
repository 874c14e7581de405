"""People's side of human steps: the inbox, answers and external events (both Updates)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from workflows.engine.human import (
    ANYONE,
    InteractionRequest,
    InteractionSummary,
    Responder,
    RespondInput,
    RespondResult,
    may_answer,
)
from workflows.engine.models import (
    EVENT_UPDATE,
    INBOX_MEMO,
    INTERACTIONS_QUERY,
    RESPOND_UPDATE,
    EventReceipt,
    ExternalEvent,
)


class AnswerRefused(Exception):
    """The run refused the answer (or event); nothing was recorded. The message says why."""


@dataclass(frozen=True)
class InboxItem:
    run_id: str
    request: InteractionSummary


def _quote(value: str) -> str:
    """A string literal for a visibility query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def inbox(client: Client, responder: Responder) -> list[InboxItem]:
    """Open interactions this user (or one of its groups) may answer, across running runs:
    one visibility listing, read from each run's inbox memo."""
    names = [responder.user, *responder.groups, ANYONE]
    query = f"StepwiseAwaiting IN ({', '.join(_quote(n) for n in names)}) AND ExecutionStatus = 'Running'"
    items: list[InboxItem] = []
    async for execution in client.list_workflows(query):
        memo = await execution.memo()
        if INBOX_MEMO in memo:
            listed = [InteractionSummary.model_validate(s) for s in memo[INBOX_MEMO] or []]
        else:  # a run from before the memo: ask it
            listed = [r.summary() for r in await interactions(client, execution.id)]
        items.extend(InboxItem(execution.id, s) for s in listed if may_answer(s, responder))
    return sorted(items, key=lambda item: (item.request.created_at, item.run_id, item.request.id))


async def interactions(client: Client, run_id: str) -> list[InteractionRequest]:
    """A run's open interactions in full (data and answer schema included); none once it ended."""
    try:
        found: list[InteractionRequest] = await client.get_workflow_handle(run_id).query(
            INTERACTIONS_QUERY, result_type=list[InteractionRequest]
        )
    except RPCError:
        return []  # finished since the listing
    return found


async def respond(
    client: Client,
    run_id: str,
    interaction_id: str,
    data: dict[str, Any],
    responder: Responder,
    idempotency_key: str | None = None,
) -> RespondResult:
    """Answer an interaction; the same idempotency key twice is one answer with one reply."""
    handle = client.get_workflow_handle(run_id)
    try:
        result: RespondResult = await handle.execute_update(
            RESPOND_UPDATE,
            RespondInput(interaction_id=interaction_id, data=data, responder=responder),
            id=idempotency_key or f"answer-{uuid.uuid4().hex}",
            result_type=RespondResult,
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise AnswerRefused(getattr(cause, "message", None) or str(cause)) from exc
    return result


async def send_event(
    client: Client, run_id: str, name: str, payload: Any, idempotency_key: str | None = None
) -> EventReceipt:
    """Deliver an external event to a run (for `wait: {signal: NAME}` steps); the same
    idempotency key twice is one event with one reply."""
    handle = client.get_workflow_handle(run_id)
    try:
        receipt: EventReceipt = await handle.execute_update(
            EVENT_UPDATE,
            ExternalEvent(name=name, payload=payload),
            id=idempotency_key or f"event-{uuid.uuid4().hex}",
            result_type=EventReceipt,
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise AnswerRefused(getattr(cause, "message", None) or str(cause)) from exc
    return receipt
