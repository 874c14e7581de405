"""Durable timers and external events; long waits on the time-skipping server."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import plan_of, registry
from workers.worker import QUEUES, running_workers


async def test_a_30_day_wait_completes_under_time_skipping(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    plan = plan_of(
        """
        output: "{{ steps.after.v }}"
        steps:
          - {id: month, wait: {duration: 30d}}
          - {id: after, module: transform.extract, inputs: {v: done}}
        """
    )
    async with running_workers(time_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(time_env.client, Prepared(plan), {}, settings)
        assert (await handle.result()).output == "done"
    history = await handle.fetch_history()
    started = history.events[0].event_time.ToDatetime()
    finished = history.events[-1].event_time.ToDatetime()
    assert (finished - started).days >= 30


async def test_a_signal_wait_times_out_as_a_step_error(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    plan = plan_of("steps: [{id: paid, wait: {signal: payment_received, timeout: 3d}}]")
    async with running_workers(time_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(time_env.client, Prepared(plan), {}, settings)
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "WaitTimeout"


async def test_waits_until_a_time_from_the_input(any_env: WorkflowEnvironment, settings: Settings) -> None:
    plan = plan_of(
        """
        output: "{{ steps.tick.payload }}"
        steps:
          - {id: tick, wait: {until: "{{ input.when }}"}}
        """
    )
    async with running_workers(any_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(any_env.client, Prepared(plan), {"when": "2000-01-01T00:00:00Z"}, settings)
        assert (await handle.result()).output is None


async def test_short_timer_on_either_server(any_env: WorkflowEnvironment, settings: Settings) -> None:
    plan = plan_of(
        """
        state: {n: 0}
        output: "{{ state.n }}"
        steps:
          - id: twice
            loop: {max_iterations: 2}
            steps:
              - {id: pause, wait: {duration: 1s}}
              - {id: inc, module: transform.extract, inputs: {n: "{{ state.n + 1 }}"}, outputs_to_state: {n: n}}
        """
    )
    async with running_workers(any_env.client, list(QUEUES), settings, registry()):
        handle = await start_run(any_env.client, Prepared(plan), {}, settings)
        assert (await handle.result()).output == 2
