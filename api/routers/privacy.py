"""Privacy: DELETE /runs/{id} removes a run's history; admins export and delete a user's data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from api.audit_log import audit, written_audit
from api.deps import AdminUser, NowDep, RunsStarter, SessionDep, TemporalClient
from api.problems import conflict, not_found
from api.responses import errors
from api.run_access import owned_run
from core.db.repos.users import get_user
from core.privacy import delete_run, delete_user, export_user

router = APIRouter(tags=["privacy"])


class UserDeleted(BaseModel):
    user_id: str
    runs_deleted: int
    audit_events_pseudonymised: int


@router.delete("/runs/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 503))
async def delete_a_run(
    run_id: str,
    principal: RunsStarter,
    client: TemporalClient,
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Delete a run and its history from Temporal (its continuations and child runs too); a run
    still going is stopped. The owner, an operator or an admin may."""
    await owned_run(client, run_id, principal)
    deleted = await delete_run(client, run_id)
    request.app.state.closed_executions.forget(run_id)
    await audit(session, request, "run.delete", now, principal.user_id, run_id, {"executions": deleted})
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{user_id}/export", response_model=dict[str, Any], responses=errors(403, 404, 503))
async def export(
    user_id: str, principal: AdminUser, client: TemporalClient, request: Request, session: SessionDep
) -> dict[str, Any]:
    """Everything Stepwise keeps about a user, as one JSON document (admins)."""
    user = await get_user(session, user_id)
    if user is None:
        raise not_found("user", user_id)
    await written_audit(request)
    return await export_user(session, client, user)


@router.delete(
    "/users/{user_id}",
    response_model=UserDeleted,
    responses=errors(403, 404, 409, 503),
)
async def delete(
    user_id: str,
    principal: AdminUser,
    client: TemporalClient,
    request: Request,
    session: SessionDep,
    now: NowDep,
    delete_runs: Annotated[bool, Query(description="Also delete every run the user owns")] = False,
) -> UserDeleted:
    """Delete a user and their sessions, keys, 2FA and devices; with `delete_runs`, their runs
    too. The audit log keeps its events under a pseudonym (admins)."""
    user = await get_user(session, user_id)
    if user is None:
        raise not_found("user", user_id)
    if user.id == principal.user_id:
        raise conflict("you cannot delete yourself; ask another admin")
    await written_audit(request)  # a queued event of the user's is pseudonymised with the rest
    deleted = await delete_user(session, client, user, delete_runs)
    if deleted.runs_deleted:
        request.app.state.closed_executions.clear()  # their events are not kept here either
    await audit(
        session,
        request,
        "user.delete",
        now,
        principal.user_id,
        deleted.user_id,
        {"runs": deleted.runs_deleted},
    )
    await session.commit()
    return UserDeleted(
        user_id=deleted.user_id,
        runs_deleted=deleted.runs_deleted,
        audit_events_pseudonymised=deleted.audit_events_pseudonymised,
    )
