"""People's side of human steps: the inbox, answers and external events (both Updates)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

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

T = TypeVar("T")


class AnswerRefused(Exception):
    """The run refused the answer (or event); nothing was recorded. The message says why."""


@dataclass(frozen=True)
class InboxItem:
    run_id: str
    request: InteractionSummary


def quote(value: str) -> str:
    """A string literal for a visibility query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class InboxPage:
    """One page of an inbox: items of up to `page_size` runs (newest first), and the token
    of the next page (None on the last)."""

    items: list[InboxItem]
    next_page: str | None


def _awaiting_query(responder: Responder) -> str:
    names = [responder.user, *responder.groups, ANYONE]
    return f"StepwiseAwaiting IN ({', '.join(quote(n) for n in names)}) AND ExecutionStatus = 'Running'"


async def inbox_page(
    client: Client, responder: Responder, page_size: int = 100, page: str | None = None
) -> InboxPage:
    """Open interactions this user (or one of its groups) may answer: one visibility listing
    of up to `page_size` runs, read from each run's inbox memo."""
    token = base64.urlsafe_b64decode(page) if page else None
    runs = client.list_workflows(_awaiting_query(responder), page_size=page_size, next_page_token=token)
    await runs.fetch_next_page()
    items: list[InboxItem] = []
    for execution in runs.current_page or []:
        memo = await execution.memo()
        if INBOX_MEMO in memo:
            listed = [InteractionSummary.model_validate(s) for s in memo[INBOX_MEMO] or []]
        else:  # a run from before the memo: ask it
            listed = [r.summary() for r in await interactions(client, execution.id)]
        items.extend(InboxItem(execution.id, s) for s in listed if may_answer(s, responder))
    items.sort(key=lambda item: (item.request.created_at, item.run_id, item.request.id))
    following = runs.next_page_token
    return InboxPage(items, base64.urlsafe_b64encode(following).decode() if following else None)


async def inbox(client: Client, responder: Responder) -> list[InboxItem]:
    """Every open interaction this user may answer, page after page."""
    items: list[InboxItem] = []
    page: str | None = None
    while True:
        found = await inbox_page(client, responder, 1000, page)
        items.extend(found.items)
        if found.next_page is None:
            return items
        page = found.next_page


async def interactions(client: Client, run_id: str) -> list[InteractionRequest]:
    """A run's open interactions in full (data and answer schema included); none once it ended."""
    try:
        found: list[InteractionRequest] = await client.get_workflow_handle(run_id).query(
            INTERACTIONS_QUERY, result_type=list[InteractionRequest]
        )
    except RPCError:
        return []  # finished since the listing
    return found


async def _update(client: Client, run_id: str, name: str, argument: Any, key: str, result_type: type[T]) -> T:
    """Run an Update of a run; a refusal by its validator raises AnswerRefused with its reason."""
    handle = client.get_workflow_handle(run_id)
    try:
        result: T = await handle.execute_update(name, argument, id=key, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise AnswerRefused(getattr(cause, "message", None) or str(cause)) from exc
    return result


async def respond(
    client: Client,
    run_id: str,
    interaction_id: str,
    data: dict[str, Any],
    responder: Responder,
    idempotency_key: str | None = None,
) -> RespondResult:
    """Answer an interaction; the same idempotency key twice is one answer with one reply."""
    answer = RespondInput(interaction_id=interaction_id, data=data, responder=responder)
    key = idempotency_key or f"answer-{uuid.uuid4().hex}"
    return await _update(client, run_id, RESPOND_UPDATE, answer, key, RespondResult)


async def send_event(
    client: Client, run_id: str, name: str, payload: Any, idempotency_key: str | None = None
) -> EventReceipt:
    """Deliver an external event to a run (for `wait: {signal: NAME}` steps); the same
    idempotency key twice is one event with one reply."""
    event = ExternalEvent(name=name, payload=payload)
    key = idempotency_key or f"event-{uuid.uuid4().hex}"
    return await _update(client, run_id, EVENT_UPDATE, event, key, EventReceipt)
