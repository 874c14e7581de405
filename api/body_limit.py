"""A cap on request bodies, enforced while the body is read, so a chunked body is cut too."""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """A request body over the limit. An HTTPException, so FastAPI's body parsing passes it on
    as a 413 instead of turning it into a 400."""

    def __init__(self, limit: int, setting: str = "STEPWISE_MAX_BODY_BYTES") -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the request body is larger than the limit of {limit} bytes ({setting})",
        )


class BodySizeLimitMiddleware:
    """413 for a body over `limit` bytes: at once when Content-Length says so, else as soon as
    the bytes read pass the limit. `overrides` are (path prefix, limit, setting) for paths with
    a limit of their own (webhook deliveries)."""

    def __init__(self, app: ASGIApp, limit: int, overrides: tuple[tuple[str, int, str], ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides

    def _limit_of(self, scope: Scope) -> tuple[int, str]:
        path = scope.get("path", "")
        for prefix, limit, setting in self.overrides:
            if path.startswith(prefix):
                return limit, setting
        return self.limit, "STEPWISE_MAX_BODY_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit_of(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit, setting)
            return
        read = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyTooLarge(limit, setting)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # Raised where no exception handler sits (e.g. another middleware reading the body).
            if started:
                raise
            await self._refuse(scope, receive, send, limit, setting)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str) -> None:
        error = BodyTooLarge(limit, setting)
        # The client may still be sending: tell it to stop rather than keep the connection.
        response = JSONResponse({"detail": error.detail}, error.status_code, headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
