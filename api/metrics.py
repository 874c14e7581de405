"""GET /metrics (Prometheus text format) and the HTTP request metrics behind it.

The middleware is plain ASGI and does a few dictionary look-ups a request (a few microseconds:
bench/metrics_middleware.py): requests are labelled by the route's template, never by the raw
path, so ids in paths do not make a new series each; a request no route matched is `unmatched`
and a method outside the standard ones `other`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import process_registry

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: the API answers most requests in a few milliseconds.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    """Request counts by method, route and status; durations by method and route."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "stepwise_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "stepwise_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template",
            ["method", "route"],
            registry=registry,
            buckets=HTTP_BUCKETS,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class RouteTemplates:
    """The template of the route that served a request, found from the endpoint routing put in
    its scope (FastAPI's own route object knows only the path below its router's prefix)."""

    def __init__(self) -> None:
        self._by_endpoint: dict[Callable[..., Any], str] = {}

    def of(self, scope: Scope) -> str:
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return UNMATCHED
        template = self._by_endpoint.get(endpoint)
        if template is None:
            self._learn(scope.get("app"))
            # A route added outside the app's route list: its own path keeps the labels bounded.
            template = self._by_endpoint.setdefault(
                endpoint, getattr(scope.get("route"), "path_format", None) or UNMATCHED
            )
        return template

    def _learn(self, app: Any) -> None:
        routes = getattr(app, "routes", None) or []
        # FastAPI keeps included routers apart and lists their routes with full paths here.
        contexts = getattr(fastapi_routing, "iter_route_contexts", None)
        for route in contexts(routes) if contexts is not None else routes:
            endpoint = getattr(route, "endpoint", None)
            path = getattr(route, "path_format", None)
            if endpoint is not None and isinstance(path, str):
                self._by_endpoint.setdefault(endpoint, path)


class HttpMetricsMiddleware:
    """Count and time every HTTP request, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"]
            self.metrics.observe(
                method if method in METHODS else "other",
                self.templates.of(scope),
                status,
                time.perf_counter() - started,
            )


def install_metrics(app: FastAPI) -> None:
    """GET /metrics (outside the OpenAPI document: it is for Prometheus, not for API clients)
    with the HTTP metrics, the Temporal SDK's and the process's; add last, so that it is the
    outermost middleware and times everything the others do."""
    registry = process_registry()
    http = HttpMetrics(registry)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route(METRICS_PATH, metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(HttpMetricsMiddleware, metrics=http)
