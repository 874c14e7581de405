"""Request ids and the last-resort error handler: a 500 says only that it failed and which
request it was; the stack trace goes to the log, never to the client."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security_headers import security_headers

logger = logging.getLogger("stepwise.api")
REQUEST_ID_HEADER = "x-request-id"


class RequestIdMiddleware:
    """Give every request an id (`request.state.request_id`), echoed in `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """500 with the request id; the stack trace goes to the log."""
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    logger.error("request %s (%s %s) failed", request_id, request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={
            "detail": f"internal error; the server log has the details under request id {request_id}",
            "request_id": request_id,
        },
        # Starlette sends this answer outside every middleware, so it gets their headers here.
        headers={REQUEST_ID_HEADER: request_id, **security_headers(request.scope, _always_hsts(request))},
    )


def _always_hsts(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return bool(getattr(settings, "hsts", False))


def install_error_handling(app: FastAPI) -> None:
    """Add request ids and the catch-all 500 handler to the app."""
    app.add_middleware(RequestIdMiddleware)
    app.add_exception_handler(Exception, unexpected)
