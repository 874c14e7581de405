"""A server span for every API request, installed only when tracing is on (core.tracing).

The span continues the caller's trace (W3C `traceparent`) and is current while the route runs,
so the Temporal client's spans (StartWorkflow, the answers' updates) are its children and a run
started over HTTP is one trace from the request to its activities.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import RouteTemplates


class RequestSpanMiddleware:
    """Trace each HTTP request as `METHOD /route/{template}`."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer
        self.templates = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        method = scope["method"]
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, send_status)
            finally:
                route = self.templates.of(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def install_request_spans(app: FastAPI, tracer: Tracer) -> None:
    """Add the request span middleware to the app."""
    app.add_middleware(RequestSpanMiddleware, tracer=tracer)
