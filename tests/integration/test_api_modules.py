"""POST /api/v1/modules/{name}/test on a real dev server with workers for every queue."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus

from api.app import create_app
from core.accounts import create_first_user
from core.db.migrate import upgrade
from tests.helpers import registry
from tests.integration.conftest import HttpServer, Stack
from tests.signed_in import ADMIN_PASSWORD
from workflows.modules import ModuleSpec, Registry
from workflows.modules.api import FetchInput, FetchOutput

# An activity module on a queue no worker serves.
NOWHERE = ModuleSpec(
    name="acme.nowhere",
    runs="activity",
    queue="nowhere",
    input_model=FetchInput,
    output_model=FetchOutput,
    description="Served by nobody",
)


def _registry() -> Registry:
    modules = registry()
    modules.register(NOWHERE)
    return modules


@contextlib.asynccontextmanager
async def serving(stack: Stack, tmp_path: Path, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the test's event loop (the workers share it), its lifespan run by hand, with
    an admin signed in."""
    host, port = stack.env.client.service_client.config.target_host.rsplit(":", 1)
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    await upgrade(url)
    await create_first_user(url, "admin", ADMIN_PASSWORD, "admin", None, [])
    app = create_app(
        stack.settings.model_copy(
            update={"temporal_host": host, "temporal_port": int(port), "database_url": url, **settings}
        ),
        registry=_registry(),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            yield client


@pytest_asyncio.fixture(loop_scope="session")
async def api(stack: Stack, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(stack, tmp_path) as client:
        yield client


async def trial(api: httpx.AsyncClient, name: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await api.post(f"/api/v1/modules/{name}/test", json=body, timeout=60)
    return response.status_code, response.json()


async def test_a_pure_module_runs_without_a_run(api: httpx.AsyncClient) -> None:
    code, body = await trial(
        api,
        "transform.concat_arrays",
        {"inputs": {"arrays": [[1], "{{ input.more }}"]}, "input": {"more": [2]}},
    )
    assert code == 200
    assert body["outputs"] == {"result": [1, 2]}
    assert body["run_id"] is None


async def test_fetch_returns_the_reply(api: httpx.AsyncClient, stack: Stack, http_server: HttpServer) -> None:
    code, body = await trial(
        api,
        "api.fetch",
        {
            "inputs": {"url": f"{http_server.base}/{{{{ input.path }}}}", "extract_path": "data.items"},
            "input": {"path": "items"},
        },
    )
    assert code == 200, body
    assert body["runs"] == "activity"
    assert body["error"] is None
    assert body["outputs"] == {
        "response": [{"name": "a"}, {"name": "b"}],
        "status_code": 200,
        "success": True,
    }
    described = await stack.env.client.get_workflow_handle(body["run_id"]).describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED


async def test_fetch_of_a_missing_page_answers_with_its_error(
    api: httpx.AsyncClient, http_server: HttpServer
) -> None:
    http_server.hits.pop("/missing", None)
    code, body = await trial(api, "api.fetch", {"inputs": {"url": f"{http_server.base}/missing"}})
    assert code == 200, body
    assert body["outputs"] is None
    assert body["error"]["type"] == "Http404"
    assert "404" in body["error"]["message"]
    assert not body["error"]["message"].startswith("step ")
    assert body["run_id"].startswith("try-api-fetch-")
    assert http_server.hits["/missing"] == 1


async def test_a_queue_without_a_worker_is_named(stack: Stack, tmp_path: Path) -> None:
    async with serving(stack, tmp_path, module_test_timeout_s=2.0) as api:
        code, body = await trial(api, "acme.nowhere", {"inputs": {"url": "http://127.0.0.1:9/"}})
    assert code == 200, body
    queue = f"{stack.settings.task_queue_prefix}nowhere"
    assert body["error"]["type"] == "NoWorker"
    assert f"no worker serves the task queue '{queue}'" in body["error"]["message"]
    assert "stepwise worker --queue nowhere" in body["error"]["message"]
    described = await stack.env.client.get_workflow_handle(body["run_id"]).describe()
    assert described.status == WorkflowExecutionStatus.TERMINATED


async def test_refusals_start_nothing(api: httpx.AsyncClient) -> None:
    code, body = await trial(api, "api.fetc", {"inputs": {"url": "http://x"}})
    assert (code, body["detail"]) == (404, "unknown module 'api.fetc': did you mean 'api.fetch'?")
    code, body = await trial(api, "api.fetch", {"inputs": {"url": "http://x", "method": "FETCH"}})
    assert code == 422
    assert [p["pointer"] for p in body["detail"]] == ["/method"]
    code, body = await trial(api, "user.text_input", {"inputs": {"prompt": "name?"}})
    assert code == 400
    assert "cannot be tried on its own" in body["detail"]
