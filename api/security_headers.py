"""Headers every response carries: no sniffing, no framing, no referrer, a strict CSP, no caching,
and HSTS over https."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A JSON API loads nothing and may be framed by nobody; a route serving HTML sets its own CSP.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"
_FIXED = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# Responses may carry tokens (sign-in, refresh, a new API key); no cache, shared or private, keeps them.
_DEFAULTS = (("Content-Security-Policy", API_CSP), ("Cache-Control", "no-store"))


def security_headers(scope: Scope, always_hsts: bool) -> dict[str, str]:
    """The security headers of a response to the request `scope`."""
    headers = dict(_FIXED + _DEFAULTS)
    if always_hsts or scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Add `security_headers` to every response; a CSP or Cache-Control the route set is kept."""

    def __init__(self, app: ASGIApp, always_hsts: bool) -> None:
        self.app = app
        self.always_hsts = always_hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope, self.always_hsts)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
