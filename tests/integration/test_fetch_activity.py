"""The api.fetch activity itself, run by Temporal's ActivityEnvironment against a real HTTP server."""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.integrations import IntegrationActivities
from core.settings import Settings
from tests.integration.conftest import HttpServer
from workflows.engine.models import ModuleCall, ModuleResult


async def fetch(settings: Settings, inputs: dict[str, object]) -> ModuleResult:
    async with httpx.AsyncClient() as http:
        activities = IntegrationActivities(http, settings)
        result: ModuleResult = await ActivityEnvironment().run(
            activities.fetch, ModuleCall(run_id="r", step_id="s", module="api.fetch", inputs=inputs)
        )
        return result


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.1"])
async def test_internal_addresses_are_refused_by_default(http_server: HttpServer, host: str) -> None:
    with pytest.raises(ApplicationError) as info:
        await fetch(Settings(), {"url": f"http://{host}:9/items"})
    assert info.value.type == "BlockedAddress"
    assert info.value.non_retryable
    assert "STEPWISE_FETCH_ALLOW_HOSTS" in info.value.message


async def test_an_allowed_address_is_reached(http_server: HttpServer) -> None:
    result = await fetch(Settings(fetch_allow_hosts=["127.0.0.0/8"]), {"url": f"{http_server.base}/items"})
    assert result.outputs == {
        "response": {"data": {"items": [{"name": "a"}, {"name": "b"}]}},
        "status_code": 200,
        "success": True,
    }


async def test_retry_after_becomes_the_next_retry_delay(http_server: HttpServer) -> None:
    http_server.hits.pop("/flaky", None)
    with pytest.raises(ApplicationError) as info:
        await fetch(Settings(fetch_allow_hosts=["127.0.0.1"]), {"url": f"{http_server.base}/flaky"})
    assert info.value.type == "Http503"
    assert not info.value.non_retryable
    assert info.value.next_retry_delay is not None
    assert info.value.next_retry_delay.total_seconds() == 1


@pytest.mark.parametrize(
    ("inputs", "error_type"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "InvalidInput"),
        ({"url": "http://127.0.0.1:9/x", "method": "FETCH"}, "InvalidInput"),
        ({"url": "PATH/items", "extract_path": "data.nope"}, "ExtractPathNotFound"),
    ],
)
async def test_bad_requests_are_not_retried(
    http_server: HttpServer, inputs: dict[str, object], error_type: str
) -> None:
    inputs = {
        k: (v.replace("PATH", http_server.base) if isinstance(v, str) else v) for k, v in inputs.items()
    }
    with pytest.raises(ApplicationError) as info:
        await fetch(Settings(fetch_allow_hosts=["127.0.0.1"]), inputs)
    assert info.value.type == error_type
    assert info.value.non_retryable


async def test_redirects_are_followed(http_server: HttpServer) -> None:
    result = await fetch(
        Settings(fetch_allow_hosts=["127.0.0.1"]),
        {"url": f"{http_server.base}/redirect", "extract_path": "data.items.0.name"},
    )
    assert result.outputs == {"response": "a", "status_code": 200, "success": True}


async def test_a_redirect_to_an_internal_address_is_refused(http_server: HttpServer) -> None:
    with pytest.raises(ApplicationError) as info:
        await fetch(
            Settings(fetch_allow_hosts=["127.0.0.1"]), {"url": f"{http_server.base}/redirect-internal"}
        )
    assert info.value.type == "BlockedAddress"
    assert "10.255.255.1" in info.value.message


async def test_a_redirect_loop_stops(http_server: HttpServer) -> None:
    with pytest.raises(ApplicationError) as info:
        await fetch(Settings(fetch_allow_hosts=["127.0.0.1"]), {"url": f"{http_server.base}/redirect-loop"})
    assert info.value.type == "TooManyRedirects"
    assert info.value.non_retryable
