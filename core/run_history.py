"""Reading a run's events out of Temporal: once (a page, for GET .../events) or following the
run as it goes (for the SSE stream), by long-polling its history; no other broker.

A run's sources are its own history and those of the runs its `call` steps started, each
followed across continue-as-new from its first execution (core/run_events.py derives the
events).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.run_events import ROOT, Child, Cursor, Derived, Deriver, RunEvent, with_ids
from core.run_views import RunNotFound

PAGE_SIZE = 1_000
# How often an idle stream says it is alive (an SSE comment), so proxies keep it open.
KEEPALIVE_S = 15.0


@dataclass
class EventsPage:
    events: list[RunEvent]
    # The cursor to read on from: the last event's id, or the one given when there was none.
    cursor: str
    # True when the run and every run it called have ended and nothing is left to read.
    ended: bool


@dataclass
class _Source:
    key: str
    deriver: Deriver


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


async def _pages(
    client: Client, workflow_id: str, run_id: str, follow: bool
) -> AsyncIterator[tuple[list[HistoryEvent], str | None]]:
    """The history pages of one execution; each with the run id that continues it (when the
    page ends the execution with a continue-as-new)."""
    token = b""
    while True:
        request = GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            maximum_page_size=PAGE_SIZE,
            next_page_token=token,
            wait_new_event=follow,
        )
        response = await client.workflow_service.get_workflow_execution_history(request, retry=True)
        events = list(response.history.events)
        after = None
        if events and events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            after = events[-1].workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        yield events, after
        token = response.next_page_token
        if not token:
            return


async def _derive_source(
    client: Client, source: _Source, run_id: str, follow: bool
) -> AsyncIterator[list[Derived]]:
    """Every derived event of one source, a history page at a time, across continue-as-new."""
    deriver = source.deriver
    while True:
        continued: str | None = None
        async for events, after in _pages(client, deriver.workflow_id, run_id, follow):
            batch: list[Derived] = []
            for event in events:
                batch.extend(await deriver.derive(event))
            continued = after or continued
            yield batch
        if continued is None:
            return
        deriver.next_execution()
        run_id = continued


def _source(client: Client, root_id: str, child: Child | None = None) -> _Source:
    workflow_id = child.workflow_id if child else root_id
    return _Source(child.key if child else ROOT, Deriver(client.data_converter, root_id, workflow_id))


async def read_events(client: Client, run_id: str, after: Cursor, limit: int) -> EventsPage:
    """The run's events after `after`, at most `limit`, merged across its sources by time."""
    start = await first_execution(client, run_id)
    pending: list[tuple[_Source, str]] = [(_source(client, run_id), start)]
    lists: list[list[tuple[_Source, Derived]]] = []
    closed = True
    while pending:
        source, first = pending.pop(0)
        derived: list[tuple[_Source, Derived]] = []
        async for batch in _derive_source(client, source, first, follow=False):
            derived.extend((source, d) for d in batch if not after.seen(source.key, d.position))
        lists.append(derived)
        closed = closed and source.deriver.closed
        pending.extend((_source(client, run_id, c), c.run_id) for c in source.deriver.children)
    # Each source's events stay in their order; sources interleave by the time of their events.
    merged = heapq.merge(*lists, key=lambda item: item[1].at)
    chosen = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    events: list[RunEvent] = []
    for source, d in chosen[:limit]:
        events.extend(with_ids(source.key, source.deriver.workflow_id, [d], after))
    return EventsPage(events=events, cursor=str(after), ended=closed and len(chosen) <= limit)


async def follow_events(client: Client, run_id: str, after: Cursor) -> AsyncIterator[RunEvent | None]:
    """The run's events after `after` as they enter history, until the run and every run it
    called have ended; None now and then while nothing happens (a keep-alive)."""
    start = await first_execution(client, run_id)
    queue: asyncio.Queue[tuple[_Source, list[Derived]] | _Source | BaseException] = asyncio.Queue()
    tasks: list[asyncio.Task[None]] = []

    async def read(source: _Source, first: str) -> None:
        try:
            async for batch in _derive_source(client, source, first, follow=True):
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
