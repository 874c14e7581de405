"""The fast path (docs/fast-path.md): `local: true` steps run as local activities in the
workflow's worker, fall back to regular activities for long work, and runs start eagerly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from cli.hosted import hosting
from core.run_events import ROOT, Cursor, Deriver, with_ids
from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import plan_of, registry
from tests.integration.conftest import HttpServer, Stack
from tests.integration.eventually import assert_eventually
from tests.integration.test_durability import _worker_process
from workflows.engine.models import WORKFLOW_QUEUE, RunOutput
from workflows.engine.run import LOCAL_LIMIT_MS
from workflows.plan import ModuleNode


async def _events(client: Client, handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    deriver = Deriver(client.data_converter, handle.id, handle.id)
    derived = [d async for event in handle.fetch_history_events() for d in await deriver.derive(event)]
    return with_ids(ROOT, handle.id, derived, Cursor())


async def _types(handle: WorkflowHandle[Any, Any]) -> list[int]:
    return [event.event_type async for event in handle.fetch_history_events()]


async def test_local_steps_run_in_the_workflow_worker_and_show_in_the_timeline(
    stack: Stack, http_server: HttpServer
) -> None:
    plan = plan_of(
        f"""
        output: "{{{{ [steps.one.response.n, steps.two.response.n] }}}}"
        steps:
          - {{id: one, module: api.fetch, inputs: {{url: "{http_server.base}/n/1"}}, local: true}}
          - {{id: two, module: api.fetch, inputs: {{url: "{http_server.base}/n/{{{{ steps.one.response.n + 1 }}}}"}}, local: true}}
        """
    )
    assert all(isinstance(node, ModuleNode) and node.local for node in plan.body.nodes)
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    assert (await handle.result()).output == [1, 2]
    types = await _types(handle)
    # No activity task went through the server: each step is a marker in the workflow's task.
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in types
    assert types.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 2
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    # Their journal entries travel in the result, not in a memo upsert per step (generation 2).
    assert EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED not in types
    events = await _events(stack.env.client, handle)
    for step, n in (("one", 1), ("two", 2)):
        story = [e for e in events if e["step"] == step]
        assert [e["type"] for e in story] == ["step_start", "module_start", "module_output", "step_complete"]
        assert story[2]["data"]["outputs"]["response"] == {"n": n}
    assert events[-1]["type"] == "workflow_complete"


async def test_a_local_step_that_runs_long_falls_back_to_a_regular_activity(
    stack: Stack, http_server: HttpServer
) -> None:
    seconds = LOCAL_LIMIT_MS / 1000 + 1
    path = f"/slow/{seconds}"
    http_server.hits.pop(path, None)
    plan = plan_of(
        f"""
        output: "{{{{ steps.slow.response }}}}"
        steps:
          - {{id: slow, module: api.fetch, inputs: {{url: "{http_server.base}{path}"}}, local: true, timeout: 1m}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    assert (await handle.result()).output == {"slept": True}
    history = [event async for event in handle.fetch_history_events()]
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    # The local attempt ran out of its limit; the step then ran on its own queue, as usual.
    assert [s.activity_type.name for s in scheduled] == ["module:api.fetch"], history
    assert scheduled[0].task_queue.name == stack.settings.task_queue_prefix + "integrations"
    assert http_server.hits[path] == 2
    story = [e["type"] for e in await _events(stack.env.client, handle) if e["step"] == "slow"]
    assert story == ["step_start", "module_start", "retry", "module_start", "module_output", "step_complete"]


async def test_a_local_step_that_fails_fails_the_run_with_its_error(
    stack: Stack, http_server: HttpServer
) -> None:
    http_server.hits.pop("/missing", None)
    plan = plan_of(
        f"""
        steps:
          - {{id: gone, module: api.fetch, inputs: {{url: "{http_server.base}/missing"}}, local: true, retry: {{max_attempts: 4, initial_interval: 100ms}}}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Http404"
    assert "step 'gone' failed" in cause.message
    assert http_server.hits["/missing"] == 1  # a 404 is not retried, locally or not
    events = await _events(stack.env.client, handle)
    assert [e["type"] for e in events if e["step"] == "gone"] == ["step_start", "module_start", "error"]


async def test_a_local_step_runs_again_after_its_worker_dies_mid_step(
    dev_env: WorkflowEnvironment, settings: Settings, http_server: HttpServer
) -> None:
    """The trade-off docs/fast-path.md states: a local activity's result is recorded only when
    its workflow task completes, so a crash before that runs the step again (at least once)."""
    address = dev_env.client.service_client.config.target_host
    path = "/slow/3"
    http_server.hits.pop(path, None)
    plan = plan_of(
        f"""
        output: "{{{{ steps.slow.response }}}}"
        steps:
          - {{id: slow, module: api.fetch, inputs: {{url: "{http_server.base}{path}"}}, local: true}}
        """
    )
    first = _worker_process(address, settings)
    try:
        handle = await start_run(dev_env.client, Prepared(plan), {}, settings)

        async def step_started() -> None:
            assert http_server.hits.get(path) == 1

        await assert_eventually(step_started)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker_process(address, settings)
    try:
        result: RunOutput = await handle.result()
        assert result.output == {"slept": True}
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert http_server.hits[path] == 2


async def test_runs_start_eagerly_in_a_worker_on_the_same_client(stack: Stack) -> None:
    plan = plan_of(
        """
        output: "{{ steps.a.v }}"
        steps:
          - {id: a, module: transform.extract, inputs: {v: fast}}
        """
    )
    eager = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    assert getattr(eager, "__temporal_eagerly_started") is True
    assert (await eager.result()).output == "fast"
    off = stack.settings.model_copy(update={"eager_start": False})
    plain = await start_run(stack.env.client, Prepared(plan), {}, off)
    assert getattr(plain, "__temporal_eagerly_started") is False
    assert (await plain.result()).output == "fast"


async def test_no_eager_start_without_a_worker_in_the_process(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    plan = plan_of(
        """
        steps:
          - {id: a, module: transform.extract, inputs: {v: 1}}
        """
    )
    handle = await start_run(dev_env.client, Prepared(plan), {}, settings)
    assert getattr(handle, "__temporal_eagerly_started") is False
    await handle.terminate("no worker serves this test's queue")
    await asyncio.sleep(0)


async def test_an_api_process_hosting_the_workflow_worker_starts_runs_eagerly(
    dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    """`stepwise api --worker-queue stepwise`: the API's own client runs the workflow worker."""
    settings = settings.model_copy(
        update={"data_dir": tmp_path, "database_url": f"sqlite+aiosqlite:///{tmp_path}/api.db"}
    )
    app = create_app(
        settings, registry=registry(), temporal=dev_env.client, alongside=hosting([WORKFLOW_QUEUE], settings)
    )
    plan = plan_of(
        """
        output: "{{ steps.a.v }}"
        steps:
          - {id: a, module: transform.extract, inputs: {v: hosted}}
        """
    )
    async with app.router.lifespan_context(app):
        client = await app.state.temporal.client()
        assert client is dev_env.client
        handle = await start_run(client, Prepared(plan), {}, settings)
        assert getattr(handle, "__temporal_eagerly_started") is True
        assert (await handle.result()).output == "hosted"


async def test_a_worker_without_the_sandbox_runs_pure_and_local_steps(
    dev_env: WorkflowEnvironment, settings: Settings, http_server: HttpServer
) -> None:
    """STEPWISE_WORKER_SANDBOX=never (docs/fast-path.md#worker-tuning): the same runs, the
    same results, with every workflow run outside Temporal's sandbox."""
    from temporalio.worker import UnsandboxedWorkflowRunner

    from workers.worker import running_workers

    unsandboxed = settings.model_copy(update={"worker_sandbox": "never", "fetch_allow_hosts": ["127.0.0.1"]})
    plan = plan_of(
        f"""
        output: "{{{{ [steps.one.response.n, steps.two.v] }}}}"
        steps:
          - {{id: one, module: api.fetch, inputs: {{url: "{http_server.base}/n/4"}}, local: true}}
          - {{id: two, module: transform.extract, inputs: {{v: "{{{{ steps.one.response.n * 2 }}}}"}}}}
        """
    )
    async with running_workers(dev_env.client, [WORKFLOW_QUEUE], unsandboxed, registry()) as workers:
        assert isinstance(workers[0].config().get("workflow_runner"), UnsandboxedWorkflowRunner)
        handle = await start_run(dev_env.client, Prepared(plan), {}, unsandboxed)
        assert (await handle.result()).output == [4, 8]
