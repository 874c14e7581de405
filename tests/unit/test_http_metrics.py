"""The HTTP metrics middleware: requests are labelled by route template (prefix included), never
by raw path; no route is `unmatched`, an odd method `other`, a crash 500; /metrics can be off."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from api.app import create_app
from api.metrics import UNMATCHED, HttpMetrics, HttpMetricsMiddleware, install_metrics
from core.settings import Settings


def _app() -> tuple[FastAPI, CollectorRegistry]:
    registry = CollectorRegistry()
    app = FastAPI()
    router = APIRouter()

    @router.get("/runs/{run_id}/steps/{step_id}")
    async def step(run_id: str, step_id: str) -> dict[str, str]:
        return {"run": run_id, "step": step_id}

    @router.post("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.include_router(router, prefix="/api/v1")
    app.add_route("/plain", plain)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry))
    return app, registry


def _requests(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "stepwise_http_requests_total"
    }


async def _send(app: FastAPI, *calls: tuple[str, str]) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for method, path in calls:
            await http.request(method, path)


def test_requests_are_labelled_by_template_and_status() -> None:
    app, registry = _app()
    asyncio.run(
        _send(
            app,
            ("GET", "/api/v1/runs/r1/steps/a"),
            ("GET", "/api/v1/runs/r2/steps/b"),
            ("DELETE", "/api/v1/runs/r2/steps/b"),
            ("GET", "/plain"),
            ("GET", "/nothing/here/42"),
            ("BREW", "/plain"),
            ("POST", "/api/v1/boom"),
        )
    )
    assert _requests(registry) == {
        ("GET", "/api/v1/runs/{run_id}/steps/{step_id}", "200"): 2,
        ("DELETE", "/api/v1/runs/{run_id}/steps/{step_id}", "405"): 1,
        ("GET", "/plain", "200"): 1,
        ("GET", UNMATCHED, "404"): 1,
        ("other", "/plain", "405"): 1,
        ("POST", "/api/v1/boom", "500"): 1,
    }
    durations = {
        (s.labels["method"], s.labels["route"]): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "stepwise_http_request_duration_seconds_count"
    }
    assert durations[("GET", "/api/v1/runs/{run_id}/steps/{step_id}")] == 2


def test_metrics_endpoint_is_outside_the_openapi_document_and_can_be_switched_off() -> None:
    async def scrape(settings: Settings) -> tuple[int, str, list[str]]:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await http.get("/api/openapi.json")
            metrics = await http.get("/metrics")
            paths = list((await http.get("/api/openapi.json")).json()["paths"])
        return metrics.status_code, metrics.text, paths

    status, text, paths = asyncio.run(scrape(Settings()))
    assert status == 200
    assert "/metrics" not in paths
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "stepwise_http_requests",
        "stepwise_http_request_duration_seconds",
        "process_cpu_seconds",
    } <= names
    status, _, _ = asyncio.run(scrape(Settings(metrics_enabled=False)))
    assert status == 404


def test_install_metrics_serves_the_text_format() -> None:
    app = FastAPI()
    install_metrics(app)

    async def scrape() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/metrics")

    response = asyncio.run(scrape())
    assert response.headers["content-type"].startswith("text/plain; version=")
