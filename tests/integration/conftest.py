"""Real Temporal servers, workers on per-test task queues, and a local HTTP server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from core.environments import ephemeral_dev_server, time_skipping_server
from core.settings import Settings
from tests.helpers import registry
from tests.integration.api_client import api
from tests.integration.databases import db_url
from tests.integration.stack_api import runs_api
from workers.worker import QUEUES, running_workers

__all__ = ["api", "db_url", "runs_api"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real dev server for the session; tests keep apart through task queue prefixes."""
    async with await ephemeral_dev_server() as env:
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of its own (it skips time for everything on it)."""
    async with await time_skipping_server() as env:
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def any_env(request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    """The dev server or the time-skipping server, as --temporal-servers says."""
    start = ephemeral_dev_server if request.param == "dev" else time_skipping_server
    async with await start() as env:
        yield env


@pytest.fixture
def settings(http_server: HttpServer) -> Settings:
    """Settings of one test: its own task queues; the local HTTP server allowed."""
    return Settings(task_queue_prefix=f"t{uuid.uuid4().hex[:10]}-", fetch_allow_hosts=["127.0.0.1"])


@dataclass
class Stack:
    """A Temporal client with workers serving every queue of one test."""

    env: WorkflowEnvironment
    settings: Settings


@pytest_asyncio.fixture(loop_scope="session")
async def stack(dev_env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Stack]:
    async with running_workers(dev_env.client, list(QUEUES), settings, registry()):
        yield Stack(dev_env, settings)


@dataclass
class HttpServer:
    """A real HTTP server on 127.0.0.1 whose routes tests script; it counts hits per path."""

    base: str
    hits: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, list[Any]] = field(default_factory=dict)


def _handler(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header(
                "content-type", "application/json" if not isinstance(body, bytes) else "text/plain"
            )
            self.send_header("content-length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _route(self) -> None:
            path = self.path.split("?")[0]
            count = server.hits[path] = server.hits.get(path, 0) + 1
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            server.bodies.setdefault(path, []).append(body.decode() if body else None)
            if path == "/items":
                self._send(200, {"data": {"items": [{"name": "a"}, {"name": "b"}]}})
            elif path == "/echo":
                self._send(
                    200,
                    {
                        "method": self.command,
                        "body": json.loads(body) if body else None,
                        "header": self.headers.get("x-token"),
                    },
                )
            elif path == "/flaky" or path.startswith("/flaky/"):
                if count == 1:
                    self._send(503, {"error": "busy"}, {"retry-after": "1"})
                else:
                    self._send(200, {"ok": True, "attempts": count})
            elif path == "/redirect":
                self._send(302, {}, {"location": "/items"})
            elif path == "/redirect-internal":
                self._send(302, {}, {"location": "http://10.255.255.1:9/secret"})
            elif path == "/redirect-loop":
                self._send(302, {}, {"location": "/redirect-loop"})
            elif path == "/missing":
                self._send(404, {"error": "no such thing"})
            elif path == "/big":
                self._send(200, b"x" * 2_000_000)
            elif path.startswith("/slow"):
                time.sleep(float(path.rsplit("/", 1)[-1]) if path.count("/") > 1 else 5)
                self._send(200, {"slept": True})
            elif path.startswith("/n/"):
                self._send(200, {"n": int(path.rsplit("/", 1)[-1])})
            else:
                self._send(404, {"error": f"unknown path {path}"})

        do_GET = _route
        do_POST = _route

    return Handler


@pytest.fixture(scope="session")
def http_server() -> Iterator[HttpServer]:
    state = HttpServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
