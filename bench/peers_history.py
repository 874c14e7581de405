"""Where a Temporal run's time goes, from its history: bench/peers.py's `--explain`.

A run's latency splits into the server handing tasks to workers (each workflow and activity
task's scheduled-to-started time), the workers' work on them (started-to-completed), and the
rest: the start call, the result's long poll and anything else outside those intervals.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

_E = EventType
# (the event that opens an interval, the one that closes it): the part of the run it is.
_INTERVALS = {
    (_E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, _E.EVENT_TYPE_WORKFLOW_TASK_STARTED): "dispatch",
    (_E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, _E.EVENT_TYPE_ACTIVITY_TASK_STARTED): "dispatch",
    (_E.EVENT_TYPE_WORKFLOW_TASK_STARTED, _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED): "workflow_task",
    (_E.EVENT_TYPE_ACTIVITY_TASK_STARTED, _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED): "activity",
}
_OPENERS = {opener for opener, _ in _INTERVALS}


@dataclass
class Breakdown:
    """One run's latency, in ms, and the parts of it its history accounts for."""

    latency: float
    dispatch: float = 0.0
    dispatches: int = 0
    workflow_task: float = 0.0
    activity: float = 0.0

    @property
    def rest(self) -> float:
        return self.latency - self.dispatch - self.workflow_task - self.activity


async def breakdown(handle: WorkflowHandle[Any, Any], latency_ms: float) -> Breakdown:
    """Sum the dispatch, workflow-task and activity intervals of a finished run's history
    (its tasks ran one after another, so the intervals don't overlap)."""
    parts = Breakdown(latency_ms)
    opened: dict[int, float] = {}
    async for event in handle.fetch_history_events():
        at = event.event_time.ToNanoseconds() / 1e6
        for (opener, closer), part in _INTERVALS.items():
            if event.event_type == closer and opener in opened:
                setattr(parts, part, getattr(parts, part) + at - opened.pop(opener))
                parts.dispatches += part == "dispatch"
        if event.event_type in _OPENERS:
            opened[event.event_type] = at
    return parts


async def explain(
    starts: dict[str, Callable[[], Awaitable[WorkflowHandle[Any, Any]]]], runs: int
) -> list[str]:
    """Run each variant `runs` times, one run at a time, the variants in turn (A B C A B C ...:
    none pays alone for what the server still does after the load before); the medians of
    their breakdowns."""
    head = f"{'variant':<20} {'latency':>8} {'dispatch':>9} {'tasks':>6} {'wf task':>8}"
    lines = [head + f" {'activity':>9} {'rest':>7}   (ms, one run at a time, medians)"]
    measured: dict[str, list[Breakdown]] = {name: [] for name in starts}
    for _ in range(runs):
        for name, start in starts.items():
            began = time.perf_counter()
            handle = await start()
            await handle.result()
            measured[name].append(await breakdown(handle, (time.perf_counter() - began) * 1000))
    for name, parts in measured.items():

        def median(figure: Callable[[Breakdown], float], of: list[Breakdown] = parts) -> float:
            return statistics.median(figure(b) for b in of)

        lines.append(
            f"{name:<20} {median(lambda b: b.latency):>8.1f} {median(lambda b: b.dispatch):>9.1f}"
            f" {median(lambda b: b.dispatches):>6.0f} {median(lambda b: b.workflow_task):>8.1f}"
            f" {median(lambda b: b.activity):>9.1f} {median(lambda b: b.rest):>7.1f}"
        )
    return lines
