"""GET /metrics on a real stack: the API and workers in one process on the session's dev server
(as `stepwise dev` runs them), after runs that complete, fail, are cancelled and are answered.
Every listed series is there with its labels and plausible values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from temporalio.testing import WorkflowEnvironment

from core.db.migrate import upgrade
from core.settings import Settings
from core.temporal import connect
from tests.helpers import registry
from tests.integration.api_client import TEST_SECRET, Api, running_api
from tests.integration.conftest import HttpServer
from tests.integration.databases import run_apart
from tests.integration.eventually import assert_eventually
from tests.integration.run_team import Team
from workers.worker import QUEUES, running_workers

FETCHED = """stepwise: 1
name: fetched-{tag}
steps:
  - {id: get, module: api.fetch, inputs: {url: '{base}/items', extract_path: data.items.0.name}}
"""
MISSING = """stepwise: 1
name: missing-{tag}
steps:
  - {id: get, module: api.fetch, inputs: {url: '{base}/missing'}}
"""
HELD = """stepwise: 1
name: held-{tag}
steps:
  - {id: hold, module: user.pause, inputs: {message: 'Go on?'}}
"""
ASKED = """stepwise: 1
name: asked-{tag}
output: '{{ steps.ask.value }}'
steps:
  - {id: ask, module: user.text_input, inputs: {prompt: 'Title?'}}
"""


@pytest_asyncio.fixture(loop_scope="session")
async def stack_api(dev_env: WorkflowEnvironment, settings: Settings, tmp_path: Path) -> AsyncIterator[Api]:
    """The API and every worker on clients from core.temporal.connect, so on this process's
    telemetry runtime, as in `stepwise dev`."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    run_apart(upgrade(url))
    host, _, port = dev_env.client.service_client.config.target_host.rpartition(":")
    app_settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key=TEST_SECRET,
        temporal_host=host,
        temporal_port=int(port),
        task_queue_prefix=settings.task_queue_prefix,
        fetch_allow_hosts=settings.fetch_allow_hosts,
    )
    client = await connect(app_settings)
    async with (
        running_workers(client, list(QUEUES), app_settings, registry()),
        running_api(app_settings, registry=registry()) as api,
    ):
        yield api


def _ended(run: dict[str, object]) -> bool:
    return run["state"] not in ("running", "waiting")


def _samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (0 when there is none)."""
    found = [s for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, found
    return found[0].value if found else 0.0


async def test_metrics_lists_requests_runs_steps_human_waits_and_the_sdks_own(
    stack_api: Api, http_server: HttpServer
) -> None:
    team = Team(stack_api)
    await team.sign_in_everyone()
    for text in (FETCHED, MISSING, HELD, ASKED):
        await team.upload(text.replace("{base}", http_server.base))
    fetched = await team.started("ada", {"definition": team.name("fetched")})
    missing = await team.started("ada", {"definition": team.name("missing")})
    held = await team.started("ada", {"definition": team.name("held")})
    asked = await team.started("ada", {"definition": team.name("asked")})
    assert (await team.run_when(fetched, _ended))["state"] == "completed"
    assert (await team.run_when(missing, _ended))["state"] == "failed"
    await team.run_when(held, lambda run: run["state"] == "waiting")
    assert (await team.post("ada", f"/runs/{held}/cancel")).status_code == 202
    assert (await team.run_when(held, _ended))["state"] == "cancelled"
    await team.run_when(asked, lambda run: run["state"] == "waiting")
    (question,) = (await team.get("ada", f"/runs/{asked}/interactions")).json()
    answered = await team.post("ada", f"/runs/{asked}/interactions/{question['id']}", {"value": "Dawn"})
    assert answered.status_code == 200, answered.text
    assert (await team.run_when(asked, _ended))["state"] == "completed"
    # Under /api no path is the web UI's: an unknown one is a 404 (elsewhere the UI answers).
    assert (await stack_api.http.get("/api/v1/no/such/path")).status_code == 404
    queues = {queue: stack_api.settings.task_queue_prefix + queue for queue in QUEUES}
    samples: list[Sample] = []

    async def scraped() -> None:
        response = await stack_api.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        samples[:] = _samples(response.text)
        ended = "stepwise_runs_ended_total"
        for base in ("fetched", "missing", "held", "asked"):
            assert _value(samples, "stepwise_runs_started_total", definition=team.name(base)) == 1, base
        assert _value(samples, ended, definition=team.name("fetched"), outcome="completed") == 1
        assert _value(samples, ended, definition=team.name("missing"), outcome="failed") == 1
        assert _value(samples, ended, definition=team.name("held"), outcome="cancelled") == 1
        assert _value(samples, ended, definition=team.name("asked"), outcome="completed") == 1
        step = "stepwise_step_duration_seconds_count"
        assert _value(
            samples, step, module="api.fetch", outcome="completed", task_queue=queues["integrations"]
        )
        assert _value(samples, step, module="api.fetch", outcome="failed", task_queue=queues["integrations"])
        wait = {"definition": team.name("asked"), "module": "user.text_input"}
        assert _value(samples, "stepwise_human_wait_seconds_count", **wait) == 1

    await assert_eventually(scraped)

    # Nothing about runs of other definitions or outcomes that did not happen.
    assert (
        _value(samples, "stepwise_runs_ended_total", definition=team.name("fetched"), outcome="failed") == 0
    )
    # Plausible values: an answer within the test's minutes, a fetch of a local server in under a minute.
    wait = {"definition": team.name("asked"), "module": "user.text_input"}
    assert 0 <= _value(samples, "stepwise_human_wait_seconds_sum", **wait) < 300
    assert _value(samples, "stepwise_human_wait_seconds_bucket", le="+Inf", **wait) == 1
    fetch = {"module": "api.fetch", "outcome": "completed", "task_queue": queues["integrations"]}
    assert 0 < _value(samples, "stepwise_step_duration_seconds_sum", **fetch) < 60

    # HTTP requests by route template, never by raw path.
    http = "stepwise_http_requests_total"
    assert _value(samples, http, method="POST", route="/api/v1/runs", status="201") == 4
    answer_route = "/api/v1/runs/{run_id}/interactions/{interaction_id}"
    assert _value(samples, http, method="POST", route=answer_route, status="200") == 1
    assert _value(samples, http, method="GET", route="/api/v1/runs/{run_id}", status="200") >= 4
    assert _value(samples, http, method="GET", route="unmatched", status="404") == 1
    assert not [s for s in samples if s.name == http and asked in s.labels["route"]]
    assert (
        _value(samples, "stepwise_http_request_duration_seconds_count", method="POST", route="/api/v1/runs")
        == 4
    )

    # The Temporal SDK's own worker metrics, for this test's queues: by workflow type, which
    # names a run's definition.
    completed = {"task_queue": queues["stepwise"], "workflow_type": f"stepwise.run/{team.name('fetched')}"}
    assert _value(samples, "temporal_workflow_completed_total", **completed) == 1
    failed = {"task_queue": queues["stepwise"], "workflow_type": f"stepwise.run/{team.name('missing')}"}
    assert _value(samples, "temporal_workflow_failed_total", **failed) == 1
    assert _value(samples, "temporal_workflow_task_execution_latency_count", **completed) > 0
    fetch_type = {"activity_type": "module:api.fetch", "task_queue": queues["integrations"]}
    for run in (completed, failed):
        by_run = fetch_type | {"workflow_type": run["workflow_type"]}
        assert _value(samples, "temporal_activity_execution_latency_count", **by_run) >= 1
    slots = [s for s in samples if s.name == "temporal_worker_task_slots_available"]
    assert {s.labels["task_queue"] for s in slots} >= {queues["stepwise"], queues["integrations"]}
    # And the process's.
    assert _value(samples, "process_cpu_seconds_total") > 0
