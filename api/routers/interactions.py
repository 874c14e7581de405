"""People's side of runs: the inbox, a run's open interactions, answers, and events for
`wait: {signal: NAME}` steps. The caller's username and groups are who the run sees."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.audit_log import audit_run_change
from api.deps import (
    NowDep,
    Respondent,
    RunsReader,
    TemporalClient,
    idempotency_key_header,
)
from api.problems import conflict, not_found, unprocessable
from api.responses import errors
from api.run_access import found_run, owned_run, owns, responder_of
from api.schemas.interactions import InboxItemPublic, InboxPagePublic
from core.auth.principal import Principal
from core.interactions import AnswerRefused, inbox_page, interactions, respond, send_event
from workflows.engine.human import InteractionRequest, RespondResult, may_answer
from workflows.engine.models import EventReceipt

router = APIRouter(tags=["interactions"])
Reader = RunsReader
Responding = Respondent
IdempotencyKey = Annotated[
    str | None, idempotency_key_header("The same key twice is one answer (or event) with one reply")
]


@router.get("/inbox", response_model=InboxPagePublic, responses=errors(403, 503))
async def inbox(
    principal: Reader,
    client: TemporalClient,
    limit: Annotated[int, Query(ge=1, le=1000, description="Runs per page (a run may hold several)")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> InboxPagePublic:
    """Open interactions the caller (or one of their groups) may answer, oldest first."""
    try:
        page = await inbox_page(client, responder_of(principal), limit, cursor)
    except ValueError:
        raise unprocessable(
            "cursor: this cursor was not given out by the inbox; start again without it"
        ) from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.INVALID_ARGUMENT or cursor is None:
            raise
        raise unprocessable(
            "cursor: this cursor is not valid (any more); start from the first page"
        ) from None
    items = [InboxItemPublic(run_id=item.run_id, **item.request.model_dump()) for item in page.items]
    return InboxPagePublic(items=items, next_cursor=page.next_page)


async def _answerable(client: Client, run_id: str, principal: Principal) -> list[InteractionRequest]:
    """The run's open interactions the caller may see: all of them for its owner, operators and
    admins; for anyone else those they may answer, and 404 when there are none."""
    summary = await found_run(client, run_id)
    found = await interactions(client, run_id)
    if owns(principal, summary):
        return found
    mine = [request for request in found if may_answer(request, responder_of(principal))]
    if not mine:
        raise not_found("run", run_id)
    return mine


@router.get(
    "/runs/{run_id}/interactions", response_model=list[InteractionRequest], responses=errors(403, 404, 503)
)
async def run_interactions(
    run_id: str, principal: Reader, client: TemporalClient
) -> list[InteractionRequest]:
    """A run's open interactions in full: prompt, data and the JSON Schema of a valid answer."""
    return await _answerable(client, run_id, principal)


@router.post(
    "/runs/{run_id}/interactions/{interaction_id}",
    response_model=RespondResult,
    responses=errors(403, 404, 409, 503),
)
async def answer(
    run_id: str,
    interaction_id: str,
    principal: Responding,
    request: Request,
    client: TemporalClient,
    now: NowDep,
    data: Annotated[
        dict[str, Any], Body(description="The answer, valid against the interaction's answer_schema")
    ],
    idempotency_key: IdempotencyKey = None,
) -> RespondResult:
    """Answer an interaction; the run's validator refuses a bad answer (422 with its reason)
    and nothing is recorded."""
    responder = responder_of(principal)
    # Staff see every run: the Update goes straight out (no look-up first), and the run's own
    # validator still checks the answer and who gives it.
    hidden = not principal.sees_all and not owns(principal, await found_run(client, run_id))
    if hidden:
        hidden = not any(
            item.id == interaction_id and may_answer(item, responder)
            for item in await interactions(client, run_id)
        )
    # Someone who sees neither the run nor the interaction gets 404; a repeated answer of theirs
    # (same Idempotency-Key, the interaction closed since) still gets its first reply.
    if hidden and idempotency_key is None:
        raise not_found("interaction", f"{interaction_id} in run {run_id}")
    try:
        result = await respond(client, run_id, interaction_id, data, responder, idempotency_key)
    except AnswerRefused as exc:
        if hidden:
            raise not_found("interaction", f"{interaction_id} in run {run_id}") from None
        raise unprocessable(f"the run refused the answer: {exc}") from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        if hidden:
            raise not_found("interaction", f"{interaction_id} in run {run_id}") from None
        await found_run(client, run_id)  # 404 when there is no such run at all
        raise conflict(f"run {run_id} has ended; its interactions can no longer be answered") from None
    await audit_run_change(
        request,
        "interaction.answer",
        now,
        actor_id=principal.user_id,
        target=f"{run_id}/{interaction_id}",
        detail={"step_id": result.step_id, "decided": result.decided, "idempotency_key": idempotency_key},
    )
    return result


@router.post(
    "/runs/{run_id}/signals/{name}", response_model=EventReceipt, responses=errors(403, 404, 409, 503)
)
async def signal(
    run_id: str,
    name: str,
    principal: Responding,
    request: Request,
    client: TemporalClient,
    now: NowDep,
    payload: Annotated[Any, Body(description="The event's payload (any JSON)")] = None,
    idempotency_key: IdempotencyKey = None,
) -> EventReceipt:
    """Send an event to a run (its owner, an operator or an admin) for its `wait: {signal}`
    steps; an event no step waits for is refused (422 naming those it waits for)."""
    await owned_run(client, run_id, principal)
    try:
        receipt = await send_event(client, run_id, name, payload, idempotency_key)
    except AnswerRefused as exc:
        raise unprocessable(f"the run refused the event: {exc}") from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise conflict(f"run {run_id} has ended; it takes no more events") from None
    await audit_run_change(
        request,
        "run.signal",
        now,
        actor_id=principal.user_id,
        target=run_id,
        detail={"name": name, "waited_for": receipt.waited_for, "idempotency_key": idempotency_key},
    )
    return receipt
