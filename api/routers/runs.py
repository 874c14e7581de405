"""Runs: start (a stored definition or one inline), rerun, list, get, cancel, terminate."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit_log import audit_run_change
from api.deps import (
    NowDep,
    RegistryDep,
    RunsReader,
    RunsStarter,
    SessionDep,
    SettingsDep,
    StaffUser,
    TemporalClient,
    idempotency_key_header,
)
from api.plan_cache import PlanCache
from api.problems import PROBLEMS_RESPONSE, ProblemsError, conflict, not_found, unprocessable
from api.responses import errors
from api.routers.definitions import refused
from api.run_access import owned_run, owner_filter, responder_of
from api.schemas.runs import (
    RerunCreate,
    RerunOf,
    RerunStarted,
    RunControlled,
    RunCreate,
    RunDetailPublic,
    RunPagePublic,
    RunPublic,
    RunStarted,
    TerminateBody,
)
from api.schemas.usage import RunUsagePublic
from core.definition_registry import BadReference, DefinitionNotFound, compile_source, parse_reference
from core.llm_ledger import run_usage
from core.rerun import RerunRefused, rerun
from core.run_views import BadPageToken, RunFilter, RunNotFound, RunState, get_run, list_runs
from core.runs import InvalidRunInput, RunEnded, cancel_run, start_run, terminate_run
from workflows.modules import Registry
from workflows.plan import Plan
from workflows.problems import Problem, join_pointer

router = APIRouter(prefix="/runs", tags=["runs"])
OPEN_STATES = ("running", "waiting")
Starter = RunsStarter
Reader = RunsReader
IdempotencyKey = Annotated[
    str | None, idempotency_key_header("The same key (from the same user) always stands for the same run")
]


async def _plan_of(
    body: RunCreate, session: AsyncSession, registry: Registry, plans: PlanCache
) -> tuple[Plan, int | None, str | None]:
    """The plan to start, its version (None inline) and its hash when known already."""
    if body.definition is not None:
        try:
            found = await plans.find(session, *parse_reference(body.definition))
        except (BadReference, DefinitionNotFound) as exc:
            raise unprocessable(f"definition: {exc}") from None
        return found.plan, found.version, found.plan_hash
    result = await compile_source(session, body.source or "", body.format, registry)
    if result.plan is None:
        raise refused(result.problems)
    return result.plan, None, None


def _in_input(problem: Problem) -> Problem:
    """A problem of the run input, as a pointer into the request body."""
    parts = [part for part in problem.where.split("/") if part]
    return Problem(join_pointer("/input", *parts), problem.message)


@router.post(
    "",
    response_model=RunStarted,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS_RESPONSE, **errors(403, 404, 409, 503)},
)
async def start(
    body: RunCreate,
    principal: Starter,
    request: Request,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    client: TemporalClient,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> RunStarted:
    """Start a run owned by the caller; with an Idempotency-Key, a repeated start (even after
    that run ended) answers the run the first one started."""
    plans: PlanCache = request.app.state.plans
    plan, version, known_hash = await _plan_of(body, session, registry, plans)
    try:
        prepared = await plans.prepare(session, plan, known_hash)
    except DefinitionNotFound as exc:
        raise unprocessable(f"definition: a called definition is missing: {exc}") from None
    try:
        handle = await start_run(
            client,
            prepared,
            body.input,
            settings,
            owner=principal.username,
            version=version,
            idempotency_key=idempotency_key,
        )
    except InvalidRunInput as exc:
        problems = [_in_input(p) for p in exc.problems]
        raise ProblemsError("the input does not match the definition's input schema", problems) from None
    plan_hash = prepared.content_hash()
    await audit_run_change(
        request,
        "run.start",
        now,
        actor_id=principal.user_id,
        target=handle.id,
        detail={
            "definition": plan.name,
            "version": version,
            "plan_hash": plan_hash,
            "idempotency_key": idempotency_key,
        },
    )
    return RunStarted(
        id=handle.id, definition=plan.name, version=version, plan_hash=plan_hash, owner=principal.username
    )


@router.post(
    "/{run_id}/rerun",
    response_model=RerunStarted,
    status_code=status.HTTP_201_CREATED,
    responses=errors(403, 404, 409, 422, 503),
)
async def rerun_from(
    run_id: str,
    body: RerunCreate,
    principal: Starter,
    request: Request,
    settings: SettingsDep,
    client: TemporalClient,
    now: NowDep,
) -> RerunStarted:
    """Start a new run of a run's pinned plan, input and called plans, owned by the caller, that
    reuses the results of the run's api.llm steps before `from_step` (plan order) whose rendered
    inputs are unchanged; `from_step` and the steps after it run anew. The run must have ended."""
    summary = await owned_run(client, run_id, principal)
    if summary.state in OPEN_STATES:
        raise conflict(
            f"run {run_id} is still {summary.state}: rerun it once it has ended (or cancel it first)"
        )
    try:
        started = await rerun(client, run_id, body.from_step, settings, owner=principal.username)
    except RunNotFound:
        raise not_found("run", run_id) from None
    except RerunRefused as exc:
        raise unprocessable(str(exc)) from None
    plan = started.run_input.plan
    await audit_run_change(
        request,
        "run.rerun",
        now,
        actor_id=principal.user_id,
        target=started.handle.id,
        detail={
            "definition": plan.name,
            "version": started.version,
            "plan_hash": started.run_input.plan_hash,
            "rerun_of": run_id,
            "from_step": body.from_step,
            "reusable_steps": started.reusable,
        },
    )
    return RerunStarted(
        id=started.handle.id,
        definition=plan.name,
        version=started.version,
        plan_hash=started.run_input.plan_hash,
        owner=principal.username,
        rerun_of=RerunOf(run_id=run_id, from_step=body.from_step),
        reusable_steps=started.reusable,
    )


@router.get("", response_model=RunPagePublic, responses=errors(403, 503))
async def runs(
    principal: Reader,
    client: TemporalClient,
    state: Annotated[RunState | None, Query(alias="status")] = None,
    definition: Annotated[str | None, Query(description="A definition's name")] = None,
    awaiting: Annotated[
        Literal["me"] | None,
        Query(description="`me`: runs waiting for an answer you (or a group of yours) may give"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> RunPagePublic:
    """Runs, newest first, a page at a time; a member sees only their own."""
    where = RunFilter(
        owner=owner_filter(principal),
        state=state,
        definition=definition,
        awaiting=responder_of(principal) if awaiting == "me" else None,
    )
    try:
        page = await list_runs(client, where, page_size=limit, page=cursor)
    except BadPageToken as exc:
        raise unprocessable(f"cursor: {exc}") from None
    return RunPagePublic(items=[RunPublic.of(s) for s in page.items], next_cursor=page.next_page)


@router.get("/{run_id}", response_model=RunDetailPublic, responses=errors(403, 404, 503))
async def run(run_id: str, principal: Reader, client: TemporalClient, session: SessionDep) -> RunDetailPublic:
    """A run: its state, pinned version and plan hash, progress while it runs, output or error,
    and what its LLM steps used (tokens, cost, call by call)."""
    try:
        detail = await get_run(client, run_id, owner=owner_filter(principal))
    except RunNotFound:
        raise not_found("run", run_id) from None
    shown = RunDetailPublic.of_detail(detail)
    shown.llm_usage = RunUsagePublic.of_rows(await run_usage(session, run_id))
    return shown


@router.post(
    "/{run_id}/cancel",
    response_model=RunControlled,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(403, 404, 409, 503),
)
async def cancel(
    run_id: str,
    principal: Starter,
    request: Request,
    client: TemporalClient,
    now: NowDep,
) -> RunControlled:
    """Ask a run to stop (its owner, an operator or an admin): its steps are cancelled and it
    ends as cancelled."""
    summary = await owned_run(client, run_id, principal)
    try:
        if summary.state not in OPEN_STATES:
            raise RunEnded(summary.state)
        await cancel_run(client, run_id)
    except RunEnded:
        raise conflict(
            f"run {run_id} has ended already ({summary.state}); there is nothing to cancel"
        ) from None
    await audit_run_change(request, "run.cancel", now, actor_id=principal.user_id, target=run_id)
    return RunControlled(id=run_id, requested="cancel")


@router.post(
    "/{run_id}/terminate",
    response_model=RunControlled,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(403, 404, 409, 503),
)
async def terminate(
    run_id: str,
    principal: StaffUser,
    request: Request,
    client: TemporalClient,
    now: NowDep,
    body: TerminateBody | None = None,
) -> RunControlled:
    """End a run at once, without its clean-up (operators and admins)."""
    summary = await owned_run(client, run_id, principal)
    reason = (body or TerminateBody()).reason
    try:
        if summary.state not in OPEN_STATES:
            raise RunEnded(summary.state)
        await terminate_run(client, run_id, reason)
    except RunEnded:
        raise conflict(
            f"run {run_id} has ended already ({summary.state}); there is nothing to terminate"
        ) from None
    await audit_run_change(
        request, "run.terminate", now, actor_id=principal.user_id, target=run_id, detail={"reason": reason}
    )
    return RunControlled(id=run_id, requested="terminate")
