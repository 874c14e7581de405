"""Tracing on a real stack: with STEPWISE_OTLP_ENDPOINT pointing at a local OTLP/HTTP receiver,
a run started over HTTP arrives as one trace: the request, StartWorkflow, RunWorkflow and its
activity."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from temporalio.testing import WorkflowEnvironment

from core.db.migrate import upgrade
from core.settings import Settings
from core.temporal import connect
from core.tracing import flush_traces
from tests.helpers import registry
from tests.integration.api_client import TEST_SECRET, Api, running_api
from tests.integration.conftest import HttpServer
from tests.integration.databases import run_apart
from tests.integration.eventually import assert_eventually
from tests.integration.run_team import Team
from workers.worker import QUEUES, running_workers

FETCHED = """stepwise: 1
name: traced-{tag}
steps:
  - {id: get, module: api.fetch, inputs: {url: '{base}/items'}}
"""


@dataclass
class Span:
    name: str
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    attributes: dict[str, Any]
    service: str


@dataclass
class Receiver:
    """An OTLP/HTTP receiver on 127.0.0.1 that keeps the spans posted to /v1/traces."""

    endpoint: str = ""
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with receiver.lock:
                for resource_spans in request.resource_spans:
                    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append(
                                Span(
                                    span.name,
                                    span.trace_id,
                                    span.span_id,
                                    span.parent_span_id,
                                    {a.key: a.value for a in span.attributes},
                                    resource.get("service.name", ""),
                                )
                            )
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def traced_api(
    dev_env: WorkflowEnvironment, settings: Settings, receiver: Receiver, tmp_path: Path
) -> AsyncIterator[Api]:
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
        otlp_endpoint=receiver.endpoint,
    )
    client = await connect(app_settings)
    async with (
        running_workers(client, list(QUEUES), app_settings, registry()),
        running_api(app_settings, registry=registry()) as api,
    ):
        yield api


async def test_a_run_started_over_http_is_one_trace_down_to_its_activity(
    traced_api: Api, receiver: Receiver, http_server: HttpServer
) -> None:
    team = Team(traced_api)
    await team.sign_in_everyone()
    await team.upload(FETCHED.replace("{base}", http_server.base))
    traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    response = await traced_api.http.post(
        "/api/v1/runs",
        json={"definition": team.name("traced")},
        headers=team.headers["ada"] | {"traceparent": traceparent},
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    assert (await team.run_when(run_id, lambda run: run["state"] == "completed"))["state"] == "completed"
    caller_trace = bytes.fromhex(traceparent.split("-")[1])
    run_type = f"stepwise.run/{team.name('traced')}"  # a run's workflow type names its definition

    async def arrived() -> None:
        flush_traces()
        with receiver.lock:
            names = {span.name for span in receiver.spans if span.trace_id == caller_trace}
        assert {
            "POST /api/v1/runs",
            f"StartWorkflow:{run_type}",
            f"RunWorkflow:{run_type}",
            "StartActivity:module:api.fetch",
            "RunActivity:module:api.fetch",
        } <= names, names

    await assert_eventually(arrived)
    with receiver.lock:
        spans = [span for span in receiver.spans if span.trace_id == caller_trace]
    by_name = {span.name: span for span in spans}
    request = by_name["POST /api/v1/runs"]
    # The request continues the caller's trace; Temporal's client span is the request's child.
    assert request.parent_span_id == bytes.fromhex(traceparent.split("-")[2])
    assert by_name[f"StartWorkflow:{run_type}"].parent_span_id == request.span_id
    assert request.attributes["http.route"].string_value == "/api/v1/runs"
    assert request.attributes["http.response.status_code"].int_value == 201
    assert by_name[f"RunWorkflow:{run_type}"].attributes["temporalWorkflowID"].string_value == run_id
    assert {span.service for span in spans} == {"stepwise"}
