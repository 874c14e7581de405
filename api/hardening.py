"""The app's outer layers: security headers, CORS, the body size limit, sign-in rate limits,
422s without inputs, and the error answers in the OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.body_limit import BodySizeLimitMiddleware
from api.rate_limit import Limiter, RateLimiter, RateLimitMiddleware
from api.responses import install_common_responses
from api.security_headers import SecurityHeadersMiddleware
from api.validation_errors import install_validation_errors
from core.clock import Clock
from core.settings import Settings


def rate_limiter(settings: Settings, clock: Clock) -> Limiter:
    """The limiter the settings ask for: in Redis when a URL is set, else in this process."""

    def seconds() -> float:
        return clock().timestamp()

    if settings.rate_limit_redis_url:
        # Imported only here: redis takes about 0.3 s to import (more with OpenTelemetry's SDK
        # installed, which it then loads), and most processes never use it.
        from api.rate_limit_redis import RedisRateLimiter

        return RedisRateLimiter(settings.rate_limit_redis_url, seconds)
    return RateLimiter(seconds)


def install_hardening(app: FastAPI, settings: Settings, clock: Clock, api_prefix: str) -> None:
    """Add the hardening middleware and handlers; call before `install_error_handling`, so that
    request ids sit outside (429s and 413s carry one too)."""
    install_validation_errors(app)
    install_common_responses(app, api_prefix)
    # Added innermost first: a request meets the security headers, CORS, the body limit, then the
    # rate limit (which reads a login body, bounded by the limit before it).
    limiter = rate_limiter(settings, clock)
    app.state.rate_limiter = limiter
    app.add_middleware(RateLimitMiddleware, limiter=limiter, settings=settings, api_prefix=api_prefix)
    hooks = ((f"{api_prefix}/hooks/", settings.webhook_max_body_bytes, "STEPWISE_WEBHOOK_MAX_BODY_BYTES"),)
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_body_bytes, overrides=hooks)
    if settings.cors_origins:
        any_origin = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if any_origin else settings.cors_origins,
            # Credentials only for origins named one by one, never for "any".
            allow_credentials=not any_origin,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "X-Request-ID"],
        )
    app.add_middleware(SecurityHeadersMiddleware, always_hsts=settings.hsts)
