"""Runs as people see them: listed from Temporal's visibility store, one run in detail.

Temporal is the single source of truth: the list is one visibility listing (filters become its
query), a run's detail is its description plus, while it runs, its `status` query.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from core.interactions import quote
from core.runs import PLAN_HASH_MEMO, RERUN_MEMO, VERSION_MEMO
from workflows.engine.human import ANYONE, Responder
from workflows.engine.models import (
    RUN_TYPE_PREFIX,
    STATUS_QUERY,
    WORKFLOW_NAME,
    RunOutput,
    RunStatus,
    definition_of,
    run_type,
)
from workflows.engine.run import AWAITING_KEY, DEFINITION_KEY, OWNER_KEY, STATUS_KEY

RunState = Literal["running", "waiting", "completed", "failed", "cancelled", "terminated", "timed_out"]
RUN_STATES: tuple[RunState, ...] = (
    "running",
    "waiting",
    "completed",
    "failed",
    "cancelled",
    "terminated",
    "timed_out",
)
# How a state reads as a visibility query (an open run's state is the run's own StepwiseStatus;
# runs of engine generation 2 start without one, which means running).
_STATE_QUERY: dict[RunState, str] = {
    "running": "ExecutionStatus = 'Running' AND (StepwiseStatus IS NULL OR StepwiseStatus = 'running')",
    "waiting": "ExecutionStatus = 'Running' AND StepwiseStatus = 'waiting'",
    "completed": "ExecutionStatus = 'Completed'",
    "failed": "ExecutionStatus = 'Failed'",
    "cancelled": "ExecutionStatus = 'Canceled'",
    "terminated": "ExecutionStatus = 'Terminated'",
    "timed_out": "ExecutionStatus = 'TimedOut'",
}
# Top-level runs are typed by their definition (`stepwise.run/<name>`); those that versions
# before typed runs started are `stepwise.run` with a StepwiseDefinition (child runs have none).
TOP_LEVEL_RUNS = (
    f"(WorkflowType STARTS_WITH {quote(RUN_TYPE_PREFIX)}"
    f" OR (WorkflowType = {quote(WORKFLOW_NAME)} AND StepwiseDefinition IS NOT NULL))"
)
_CLOSED: dict[WorkflowExecutionStatus, RunState] = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}


class RunNotFound(LookupError):
    """No such run (or not one the caller may see: callers answer both the same way)."""


class BadPageToken(ValueError):
    """A page token that no listing gave out."""


@dataclass(frozen=True)
class RunSummary:
    """One run in a listing."""

    run_id: str
    definition: str | None
    state: RunState
    owner: str | None
    started_at: datetime | None
    closed_at: datetime | None
    awaiting: list[str]
    version: int | None
    plan_hash: str | None
    # The run id of its first execution (continue-as-new makes later ones).
    first_run_id: str | None = None
    # A rerun's origin: {"run_id": the run it reruns, "from_step": where it ran anew from}.
    rerun_of: dict[str, str] | None = None


@dataclass(frozen=True)
class RunPage:
    """A page of runs, newest first, and the token of the next page (None on the last)."""

    items: list[RunSummary]
    next_page: str | None


@dataclass(frozen=True)
class RunFilter:
    """What a listing keeps. `owner` limits it to one user's runs (a member sees only theirs);
    `awaiting` to runs that wait for an answer this user (or a group of theirs) may give."""

    owner: str | None = None
    state: RunState | None = None
    definition: str | None = None
    awaiting: Responder | None = None

    def query(self) -> str:
        """The visibility query: top-level Stepwise runs."""
        parts = [TOP_LEVEL_RUNS]
        if self.owner is not None:
            parts.append(f"StepwiseOwner = {quote(self.owner)}")
        if self.definition is not None:
            parts.append(
                f"(WorkflowType = {quote(run_type(self.definition))}"
                f" OR StepwiseDefinition = {quote(self.definition)})"
            )
        if self.state is not None:
            parts.append(_STATE_QUERY[self.state])
        if self.awaiting is not None:
            names = [self.awaiting.user, *self.awaiting.groups, ANYONE]
            parts.append(f"StepwiseAwaiting IN ({', '.join(quote(n) for n in names)})")
            parts.append("ExecutionStatus = 'Running'")
        return " AND ".join(parts)


@dataclass(frozen=True)
class RunDetail:
    """One run: what a listing shows, and its progress, output or error."""

    summary: RunSummary
    progress: RunStatus | None = None
    output: Any = None
    error: dict[str, Any] | None = None


def state_of(execution: WorkflowExecution) -> RunState:
    """A closed run's state from Temporal; an open run's from its StepwiseStatus."""
    closed = _CLOSED.get(execution.status) if execution.status is not None else None
    if closed is not None:
        return closed
    shown = execution.typed_search_attributes.get(STATUS_KEY)
    return "waiting" if shown == "waiting" else "running"


async def summary_of(execution: WorkflowExecution) -> RunSummary:
    """A listing's row for an execution (its memo holds the pinned version)."""
    memo = await execution.memo()
    attributes = execution.typed_search_attributes
    version = memo.get(VERSION_MEMO)
    return RunSummary(
        run_id=execution.id,
        definition=definition_of(execution.workflow_type) or attributes.get(DEFINITION_KEY),
        state=state_of(execution),
        owner=attributes.get(OWNER_KEY),
        started_at=execution.start_time,
        closed_at=execution.close_time,
        awaiting=list(attributes.get(AWAITING_KEY) or []),
        version=int(version) if isinstance(version, int) else None,
        plan_hash=memo.get(PLAN_HASH_MEMO),
        first_run_id=execution.raw_info.first_run_id or None,
        rerun_of=_rerun_of(memo.get(RERUN_MEMO)),
    )


def _rerun_of(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {key: str(value[key]) for key in ("run_id", "from_step") if key in value}


def _decode_token(page: str | None) -> bytes | None:
    if not page:
        return None
    try:
        return base64.urlsafe_b64decode(page.encode())
    except (binascii.Error, ValueError) as exc:
        raise BadPageToken("this page token was not given out by a listing: start again without it") from exc


async def list_runs(
    client: Client, where: RunFilter, page_size: int = 50, page: str | None = None
) -> RunPage:
    """One page of runs that match `where`, newest first."""
    runs = client.list_workflows(where.query(), page_size=page_size, next_page_token=_decode_token(page))
    try:
        await runs.fetch_next_page()
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT and page:
            raise BadPageToken("this page token is not valid (any more): start from the first page") from exc
        raise
    items = [await summary_of(execution) for execution in runs.current_page or []]
    following = runs.next_page_token
    return RunPage(items, base64.urlsafe_b64encode(following).decode() if following else None)


async def run_summary(client: Client, run_id: str) -> RunSummary:
    """A Stepwise run's row; RunNotFound when there is none (or it is a child run, or not a
    Stepwise run at all)."""
    try:
        description = await client.get_workflow_handle(run_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RunNotFound(run_id) from exc
        raise
    summary = await summary_of(description)
    if summary.definition is None:
        raise RunNotFound(run_id)
    return summary


async def get_run(client: Client, run_id: str, owner: str | None = None) -> RunDetail:
    """A run in detail; RunNotFound when there is none, or it is not `owner`'s (when given)."""
    summary = await run_summary(client, run_id)
    if owner is not None and summary.owner != owner:
        raise RunNotFound(run_id)
    handle = client.get_workflow_handle(run_id)
    if summary.state in ("running", "waiting"):
        progress = await handle.query(STATUS_QUERY, result_type=RunStatus)
        return RunDetail(summary, progress=progress)
    if summary.state == "completed":
        result: RunOutput = await client.get_workflow_handle(run_id, result_type=RunOutput).result()
        return RunDetail(summary, output=result.output)
    if summary.state == "failed":
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            cause = exc.cause
            error = {
                "type": getattr(cause, "type", None) or type(cause).__name__,
                "message": getattr(cause, "message", None) or str(cause),
            }
            return RunDetail(summary, error=error)
    return RunDetail(summary)
