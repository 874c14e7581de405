"""Deleting what Stepwise keeps about runs and people: a run's history in Temporal (its
continuations and child runs included), finished runs past the retention period, and a user's
data, exported first if an admin wants it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.db.models import ApiKey, AuditEvent, TrustedDevice, User
from core.interactions import quote
from core.run_views import TOP_LEVEL_RUNS, RunFilter, RunSummary, list_runs

# How many runs one retention pass deletes at most (the next pass goes on).
RETENTION_BATCH = 500


async def delete_run(client: Client, run_id: str) -> int:
    """Delete a run from Temporal: every execution of its id (continue-as-new makes several)
    and of its child runs (`<run id>.<step>.<n>`); a run still open is terminated by it.
    Returns how many executions were deleted; 0 means there was no such run."""
    query = f"WorkflowId = {quote(run_id)} OR WorkflowId STARTS_WITH {quote(run_id + '.')}"
    deleted = 0
    async for execution in client.list_workflows(query):
        request = DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=execution.id, run_id=execution.run_id),
        )
        try:
            await client.workflow_service.delete_workflow_execution(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # deleted meanwhile: that is the goal
                raise
        deleted += 1
    return deleted


async def expired_runs(client: Client, closed_before: datetime, limit: int = RETENTION_BATCH) -> list[str]:
    """Ids of top-level runs that finished before `closed_before` (oldest rows first)."""
    stamp = closed_before.isoformat().replace("+00:00", "Z")
    query = f"{TOP_LEVEL_RUNS} AND ExecutionStatus != 'Running' AND CloseTime < {quote(stamp)}"
    ids: list[str] = []
    async for execution in client.list_workflows(query, limit=limit):
        if execution.id not in ids:
            ids.append(execution.id)
    return ids


async def retention_pass(client: Client, retention_days: int, now: datetime) -> list[str]:
    """Delete the runs that finished more than `retention_days` ago; returns their ids."""
    expired = await expired_runs(client, now - timedelta(days=retention_days))
    for run_id in expired:
        await delete_run(client, run_id)
    return expired


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_user(session: AsyncSession, client: Client, user: User) -> dict[str, Any]:
    """Everything Stepwise keeps about a user, as JSON: the account (no secrets: no password
    hash, 2FA secret or key hashes), groups, API keys, trusted devices, the audit events the
    user caused, and the runs they own."""
    keys = await session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at))
    devices = await session.scalars(select(TrustedDevice).where(TrustedDevice.user_id == user.id))
    events = await session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
    )
    runs = [
        {
            "run_id": r.run_id,
            "definition": r.definition,
            "state": r.state,
            "started_at": _when(r.started_at),
            "closed_at": _when(r.closed_at),
        }
        for r in await _owned_runs(client, user.username)
    ]
    return {
        "user": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "email_verified": user.email_verified,
            "role": user.role,
            "is_active": user.is_active,
            "created_at": _when(user.created_at),
            "two_factor_enabled": user.totp_enabled,
        },
        "groups": user.group_names,
        "api_keys": [
            {
                "id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes,
                "created_at": _when(k.created_at),
                "last_used_at": _when(k.last_used_at),
                "revoked_at": _when(k.revoked_at),
            }
            for k in keys
        ],
        "trusted_devices": [
            {"id": d.id, "name": d.name, "created_at": _when(d.created_at), "expires_at": _when(d.expires_at)}
            for d in devices
        ],
        "audit_events": [
            {"at": _when(e.at), "action": e.action, "target": e.target, "detail": e.detail, "ip": e.ip}
            for e in events
        ],
        "runs": runs,
    }


@dataclass(frozen=True)
class DeletedUser:
    """What deleting a user removed."""

    user_id: str
    runs_deleted: int
    # Events whose target was the user's name, which now reads `deleted-user-<id>`.
    audit_events_pseudonymised: int


async def delete_user(session: AsyncSession, client: Client, user: User, delete_runs: bool) -> DeletedUser:
    """Delete a user's account and what hangs off it (sessions, API keys, 2FA, devices, OIDC
    links: by cascade), and with `delete_runs` their runs in Temporal. The audit log keeps its
    events, but the user's name and addresses are replaced there by a pseudonym, so the log still
    says that something happened without saying who. The caller commits."""
    runs = 0
    if delete_runs:
        for summary in await _owned_runs(client, user.username):
            runs += 1 if await delete_run(client, summary.run_id) else 0
    alias = f"deleted-user-{user.id[:8]}"
    # The events keep their actor id (a random id, no longer anyone's) and lose the addresses.
    await session.execute(update(AuditEvent).where(AuditEvent.actor_id == user.id).values(ip=None))
    named = await session.execute(
        update(AuditEvent).where(AuditEvent.target == user.username).values(target=alias)
    )
    await session.execute(delete(User).where(User.id == user.id))
    return DeletedUser(user.id, runs, int(getattr(named, "rowcount", 0) or 0))


async def _owned_runs(client: Client, username: str) -> list[RunSummary]:
    """Every run the user owns, page after page."""
    runs: list[RunSummary] = []
    page: str | None = None
    while True:
        found = await list_runs(client, RunFilter(owner=username), page_size=200, page=page)
        runs += found.items
        if found.next_page is None:
            return runs
        page = found.next_page
