"""Reading a run's events out of Temporal: once (a page, for GET .../events) or following the
run as it goes (for the SSE stream), by long-polling its history; no other broker.

A run's sources are its own history and those of the runs its `call` steps started, each
followed across continue-as-new from its first execution (core/run_events.py derives the
events).
"""

from __future__ import annotations

import asyncio
import heapq
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.run_events import ROOT, Child, Cursor, Derived, Deriver, with_ids
from core.run_views import RunNotFound

PAGE_SIZE = 1_000
# How often an idle stream says it is alive (an SSE comment), so proxies keep it open.
KEEPALIVE_S = 15.0


@dataclass
class EventsPage:
    # Each as JSON, with the fields of core.run_events.RunEvent.
    events: list[dict[str, Any]]
    # The cursor to read on from: the last event's id, or the one given when there was none.
    cursor: str
    # True when the run and every run it called have ended and nothing is left to read.
    ended: bool


@dataclass
class _Source:
    key: str
    deriver: Deriver


@dataclass
class ClosedExecution:
    """The derived events of an execution that has ended, and what the next one needs."""

    derived: list[Derived]
    children: list[Child]
    carried: dict[str, Any]
    continued: str | None


class ClosedExecutions:
    """Run events of executions that have ended, kept in memory: such a history never changes,
    so reading a finished run (or the earlier executions of a long one) again costs no call to
    Temporal. Least recently read first out, past `max_events` events; `forget` drops a run
    and the runs it called (when they are deleted)."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self._kept: OrderedDict[tuple[str, str], ClosedExecution] = OrderedDict()
        self._count = 0

    def get(self, workflow_id: str, run_id: str) -> ClosedExecution | None:
        found = self._kept.get((workflow_id, run_id))
        if found is not None:
            self._kept.move_to_end((workflow_id, run_id))
        return found

    def put(self, workflow_id: str, run_id: str, closed: ClosedExecution) -> None:
        if self.max_events <= 0 or len(closed.derived) > self.max_events:
            return
        previous = self._kept.pop((workflow_id, run_id), None)
        self._count -= len(previous.derived) if previous else 0
        self._kept[(workflow_id, run_id)] = closed
        self._count += len(closed.derived)
        while self._count > self.max_events:
            _, dropped = self._kept.popitem(last=False)
            self._count -= len(dropped.derived)

    @property
    def size(self) -> int:
        """How many events are kept."""
        return self._count

    def clear(self) -> None:
        self._kept.clear()
        self._count = 0

    def forget(self, run_id: str) -> None:
        for key in [k for k in self._kept if k[0] == run_id or k[0].startswith(run_id + ".")]:
            self._count -= len(self._kept.pop(key).derived)


NO_CACHE = ClosedExecutions(0)
_CLOSING = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


async def first_execution(client: Client, workflow_id: str) -> str:
    """The run id of a run's first execution (continue-as-new makes later ones)."""
    request = GetWorkflowExecutionHistoryRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=workflow_id),
        maximum_page_size=1,
    )
    try:
        response = await client.workflow_service.get_workflow_execution_history(request, retry=True)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RunNotFound(workflow_id) from None
        raise
    started = response.history.events[0].workflow_execution_started_event_attributes
    return started.first_execution_run_id or started.original_execution_run_id


async def execution_pages(
    client: Client, workflow_id: str, run_id: str, follow: bool
) -> AsyncIterator[list[HistoryEvent]]:
    """The history pages of one execution. The next page is asked for before this one is
    handed on, so Temporal reads it while the caller derives this one."""

    async def page(token: bytes) -> tuple[list[HistoryEvent], bytes]:
        request = GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            maximum_page_size=PAGE_SIZE,
            next_page_token=token,
            wait_new_event=follow,
        )
        response = await client.workflow_service.get_workflow_execution_history(request, retry=True)
        return list(response.history.events), response.next_page_token

    asking = asyncio.ensure_future(page(b""))
    try:
        while True:
            events, token = await asking
            if token:
                asking = asyncio.ensure_future(page(token))
            yield events
            if not token:
                return
    finally:
        if not asking.done():
            asking.cancel()  # the caller stopped reading
        elif not asking.cancelled():
            asking.exception()  # a page asked for but not taken: its failure is not news


async def _derive_source(
    client: Client, source: _Source, run_id: str, follow: bool, cache: ClosedExecutions
) -> AsyncIterator[list[Derived]]:
    """Every derived event of one source, a history page at a time, across continue-as-new
    (executions that have ended come from `cache` when it holds them)."""
    deriver = source.deriver
    workflow_id = deriver.workflow_id
    while True:
        closed = cache.get(workflow_id, run_id)
        if closed is not None:
            deriver.carry_on(closed.carried, closed.children)
            yield closed.derived
        else:
            derived: list[Derived] = []
            found: list[Child] = []
            last: HistoryEvent | None = None
            async for events in execution_pages(client, workflow_id, run_id, follow):
                known = len(deriver.children)
                batch: list[Derived] = []
                for event in events:
                    batch.extend(await deriver.derive(event))
                found.extend(deriver.children[known:])
                last = events[-1] if events else last
                derived.extend(batch)
                yield batch
            if last is None or last.event_type not in _CLOSING:
                return  # still running: a later read takes it from here
            continued = None
            if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                continued = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            closed = ClosedExecution(derived, found, deriver.carried(), continued or None)
            cache.put(workflow_id, run_id, closed)
        if closed.continued is None:
            return
        deriver.next_execution()
        run_id = closed.continued


def _source(client: Client, root_id: str, child: Child | None = None) -> _Source:
    workflow_id = child.workflow_id if child else root_id
    return _Source(child.key if child else ROOT, Deriver(client.data_converter, root_id, workflow_id))


async def read_events(
    client: Client,
    run_id: str,
    after: Cursor,
    limit: int,
    first_run_id: str | None = None,
    cache: ClosedExecutions = NO_CACHE,
) -> EventsPage:
    """The run's events after `after`, at most `limit`, merged across its sources by time.
    `first_run_id`, when the caller knows it (a run's description gives it), saves a call."""
    start = first_run_id or await first_execution(client, run_id)
    pending: list[tuple[_Source, str]] = [(_source(client, run_id), start)]
    lists: list[list[tuple[_Source, Derived]]] = []
    closed = True
    while pending:
        source, first = pending.pop(0)
        derived: list[tuple[_Source, Derived]] = []
        async for batch in _derive_source(client, source, first, False, cache):
            derived.extend((source, d) for d in batch if not after.seen(source.key, d.position))
        lists.append(derived)
        closed = closed and source.deriver.closed
        pending.extend((_source(client, run_id, c), c.run_id) for c in source.deriver.children)
    # Each source's events stay in their order; sources interleave by the time of their events.
    merged = heapq.merge(*lists, key=lambda item: item[1].at)
    chosen = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    events: list[dict[str, Any]] = []
    for source, d in chosen[:limit]:
        events.extend(with_ids(source.key, source.deriver.workflow_id, [d], after))
    return EventsPage(events=events, cursor=str(after), ended=closed and len(chosen) <= limit)


async def follow_events(
    client: Client,
    run_id: str,
    after: Cursor,
    first_run_id: str | None = None,
    cache: ClosedExecutions = NO_CACHE,
) -> AsyncIterator[dict[str, Any] | None]:
    """The run's events after `after` as they enter history, until the run and every run it
    called have ended; None now and then while nothing happens (a keep-alive)."""
    start = first_run_id or await first_execution(client, run_id)
    queue: asyncio.Queue[tuple[_Source, list[Derived]] | _Source | BaseException] = asyncio.Queue()
    tasks: list[asyncio.Task[None]] = []

    async def read(source: _Source, first: str) -> None:
        try:
            async for batch in _derive_source(client, source, first, True, cache):
                await queue.put((source, batch))
                for child in source.deriver.children:
                    spawn(_source(client, run_id, child), child.run_id)
                source.deriver.children.clear()
        except Exception as exc:  # handed to the stream, which ends with it
            await queue.put(exc)
        else:
            await queue.put(source)  # this source has ended

    def spawn(source: _Source, first: str) -> None:
        # Counted before its caller's end is queued, so the stream never ends too early.
        name = f"history of {source.deriver.workflow_id}"
        tasks.append(asyncio.create_task(read(source, first), name=name))

    spawn(_source(client, run_id), start)
    ended = 0
    try:
        while ended < len(tasks):
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield None
                continue
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Source):
                ended += 1
                continue
            source, batch = item
            for event in with_ids(source.key, source.deriver.workflow_id, batch, after):
                yield event
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
