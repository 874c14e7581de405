"""Runs survive what production throws at them: dead workers, server restarts, edited files."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from core.devserver import free_port, start_dev_server
from core.interactions import respond
from core.plugins import load_registry
from core.runs import Prepared, prepare, start_run
from core.settings import Settings
from core.temporal import connect
from tests.helpers import plan_of, registry
from tests.integration.conftest import HttpServer, Stack
from tests.integration.eventually import assert_eventually
from tests.integration.test_human import open_interactions
from workers.worker import QUEUES, running_workers
from workflows.engine.human import Responder
from workflows.engine.models import EVENT_SIGNAL, ExternalEvent, RunOutput

STEPWISE = Path(sys.executable).parent / "stepwise"


async def test_a_10000_iteration_pure_loop_completes(stack: Stack) -> None:
    plan = plan_of(
        """
        state: {n: 0}
        output: "{{ state.n }}"
        steps:
          - id: count
            loop: {until: "{{ state.n >= 10000 }}", max_iterations: 20000}
            steps:
              - {id: inc, module: transform.extract, inputs: {n: "{{ state.n + 1 }}"}, outputs_to_state: {n: n}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings)
    assert (await handle.result()).output == 10000


async def test_editing_the_definition_leaves_a_running_run_on_its_plan(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "greeting.yaml"
    path.write_text(
        """
stepwise: 1
name: greeting
output: "{{ steps.say.rendered }}"
steps:
  - {id: hold, wait: {signal: go}}
  - {id: say, module: io.render_template, inputs: {template: "hello from version 1"}}
"""
    )
    handle = await start_run(stack.env.client, prepare(path, registry()), {}, stack.settings)
    path.write_text(path.read_text().replace("version 1", "version 2"))
    await handle.signal(EVENT_SIGNAL, ExternalEvent(name="go"))
    assert (await handle.result()).output == "hello from version 1"
    second = await start_run(stack.env.client, prepare(path, registry()), {}, stack.settings)
    await second.signal(EVENT_SIGNAL, ExternalEvent(name="go"))
    assert (await second.result()).output == "hello from version 2"


def _worker_process(address: str, settings: Settings) -> subprocess.Popen[bytes]:
    host, port = address.rsplit(":", 1)
    env = {
        **os.environ,
        "STEPWISE_TEMPORAL_HOST": host,
        "STEPWISE_TEMPORAL_PORT": port,
        "STEPWISE_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "STEPWISE_FETCH_ALLOW_HOSTS": '["127.0.0.1"]',
    }
    return subprocess.Popen([str(STEPWISE), "worker", "--all"], env=env, stderr=subprocess.DEVNULL)


async def test_a_run_survives_kill_9_of_its_worker_mid_activity(
    dev_env: WorkflowEnvironment, settings: Settings, http_server: HttpServer
) -> None:
    address = dev_env.client.service_client.config.target_host
    plan = plan_of(
        f"""
        output: "{{{{ steps.slow.response }}}}"
        steps:
          - {{id: slow, module: api.fetch, inputs: {{url: "{http_server.base}/slow/4"}}, retry: {{initial_interval: 100ms}}}}
        """
    )
    first = _worker_process(address, settings)
    try:
        handle = await start_run(dev_env.client, Prepared(plan), {}, settings)

        async def activity_started() -> None:
            pending = (await handle.describe()).raw_description.pending_activities
            assert pending
            assert pending[0].attempt == 1
            assert pending[0].HasField("last_started_time")

        await assert_eventually(activity_started)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker_process(address, settings)
    try:
        assert (await handle.result()).output == {"slept": True}
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    history = [e async for e in handle.fetch_history_events()]
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts[-1] >= 2


async def test_a_run_survives_a_dev_server_restart(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    settings = Settings(task_queue_prefix="restart-")
    server = start_dev_server(tmp_path, "127.0.0.1", port, ui_port)
    plan = plan_of(
        """
        output: "{{ steps.after.v }}"
        steps:
          - {id: hold, wait: {signal: go}}
          - {id: after, module: transform.extract, inputs: {v: survived}}
        """
    )
    try:
        client = await connect(settings, server.address, wait_s=30)
        handle = await start_run(client, Prepared(plan), {}, settings)
        async with running_workers(client, list(QUEUES), settings, load_registry().registry):

            async def waiting() -> None:
                status = {k.name: v for k, v in (await handle.describe()).typed_search_attributes}
                assert status.get("StepwiseStatus") == "waiting"

            await assert_eventually(waiting)
        server.stop()
        server = start_dev_server(tmp_path, "127.0.0.1", port, ui_port)
        client = await connect(settings, server.address, wait_s=30)
        async with running_workers(client, list(QUEUES), settings, load_registry().registry):
            again = client.get_workflow_handle(handle.id, result_type=RunOutput)
            await again.signal(EVENT_SIGNAL, ExternalEvent(name="go"))
            assert (await again.result()).output == "survived"
    finally:
        server.stop()


async def test_a_run_waiting_for_an_answer_survives_kill_9_of_its_worker(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    address = dev_env.client.service_client.config.target_host
    plan = plan_of(
        """
        output: "{{ steps.after.rendered }}"
        steps:
          - {id: ask, module: user.text_input, inputs: {prompt: "Name?", validation_pattern: "[a-z]+"}}
          - {id: after, module: io.render_template, inputs: {template: "hello {{ steps.ask.value }}"}}
        """
    )
    first = _worker_process(address, settings)
    try:
        handle = await start_run(dev_env.client, Prepared(plan), {}, settings)
        (request,) = await open_interactions(handle)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    # The answer goes out while no worker runs: it is validated once a new worker replays the run.
    answer = asyncio.create_task(
        respond(dev_env.client, handle.id, request.id, {"value": "ada"}, Responder(user="ada"))
    )
    second = _worker_process(address, settings)
    try:
        result = await answer
        assert (result.step_id, result.outputs["value"]) == ("ask", "ada")
        assert (await handle.result()).output == "hello ada"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
