"""A `stepwise worker --all` process as production runs it: with STEPWISE_WORKER_METRICS_ADDRESS
it serves its own /metrics, and with STEPWISE_LOG_FORMAT=json its log lines are JSON objects
that name the run and the step they are about."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from core.devserver import free_port
from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import plan_of
from tests.integration.conftest import HttpServer
from tests.integration.eventually import assert_eventually

FAILING = """
stepwise: 1
name: {name}
steps:
  - {{id: get, module: api.fetch, inputs: {{url: '{base}/missing'}}}}
"""
REMINDED = """
stepwise: 1
name: {name}
steps:
  - {{id: hold, module: user.pause, inputs: {{message: 'Go on?', remind_every: 1s}}}}
"""


@contextlib.asynccontextmanager
async def worker_process(
    env: WorkflowEnvironment, settings: Settings, extra: dict[str, str], log: Path
) -> AsyncIterator[None]:
    """`stepwise worker --all` on the dev server and the settings' task queues, output into `log`."""
    host, _, port = env.client.service_client.config.target_host.rpartition(":")
    full_env = {
        **os.environ,
        "STEPWISE_TEMPORAL_HOST": host,
        "STEPWISE_TEMPORAL_PORT": port,
        "STEPWISE_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "STEPWISE_FETCH_ALLOW_HOSTS": json.dumps(settings.fetch_allow_hosts),
        **extra,
    }
    script = Path(sys.executable).parent / "stepwise"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(script), "worker", "--all", env=full_env, stdout=sink, stderr=sink
        )
        try:
            yield
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


def _lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    return lines


async def test_a_worker_process_serves_metrics_and_logs_json_with_run_and_step_ids(
    dev_env: WorkflowEnvironment, settings: Settings, http_server: HttpServer, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    extra = {"STEPWISE_WORKER_METRICS_ADDRESS": f"127.0.0.1:{port}", "STEPWISE_LOG_FORMAT": "json"}
    tag = settings.task_queue_prefix.strip("-")
    failing = plan_of(FAILING.format(name=f"failing-{tag}", base=http_server.base), header=False)
    reminded = plan_of(REMINDED.format(name=f"reminded-{tag}"), header=False)
    async with worker_process(dev_env, settings, extra, log), httpx.AsyncClient() as http:
        failed = await start_run(dev_env.client, Prepared(failing), {}, settings)
        held = await start_run(dev_env.client, Prepared(reminded), {}, settings)

        async def scraped() -> None:
            try:
                response = await http.get(f"http://127.0.0.1:{port}/metrics")
            except httpx.TransportError as exc:
                raise AssertionError(f"no metrics yet: {exc}") from exc
            samples = [s for f in text_string_to_metric_families(response.text) for s in f.samples]
            ended = [s for s in samples if s.name == "stepwise_runs_ended_total"]
            assert [(s.labels["definition"], s.labels["outcome"], s.value) for s in ended] == [
                (f"failing-{tag}", "failed", 1.0)
            ]
            started = [s.labels["definition"] for s in samples if s.name == "stepwise_runs_started_total"]
            assert sorted(started) == [f"failing-{tag}", f"reminded-{tag}"]
            assert any(s.name == "temporal_worker_task_slots_available" for s in samples)

        async def logged() -> None:
            lines = await asyncio.to_thread(_lines, log)
            failures = [line for line in lines if line["message"].startswith("run failed")]
            reminders = [line for line in lines if line["message"].startswith("reminder:")]
            assert failures, lines
            assert reminders, lines

        await assert_eventually(scraped, timeout_s=60)
        await assert_eventually(logged, timeout_s=60)
        await held.terminate("test over")
    lines = _lines(log)
    (failure,) = [line for line in lines if line["message"].startswith("run failed")]
    assert (failure["level"], failure["logger"]) == ("WARNING", "temporalio.workflow")
    assert (failure["run_id"], failure["step_id"], failure["definition"]) == (
        failed.id,
        "get",
        f"failing-{tag}",
    )
    assert failure["workflow_type"] == f"stepwise.run/failing-{tag}"  # names the definition
    # In JSON the run's details are fields, not appended to the message.
    assert "workflow_id" not in failure["message"]
    reminder = next(line for line in lines if line["message"].startswith("reminder:"))
    assert (reminder["run_id"], reminder["step_id"]) == (held.id, "hold")
    assert reminder["activity_type"] == "stepwise.remind"
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
