"""The FastAPI application, built by a factory; the engine and clients are made in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import install_error_handling
from api.oidc_provider import OidcProvider, provider_http_client
from api.routers import api_keys, audit, auth, groups, health, oidc, users
from api.temporal import TemporalConnection
from core.auth.oidc import OidcConfig, ProviderCache
from core.clock import Clock, utcnow
from core.db.engine import create_engine, session_factory
from core.settings import Settings

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None, clock: Clock = utcnow, oidc_http: httpx.AsyncClient | None = None
) -> FastAPI:
    """A new app; reads settings from the environment unless given. `clock` tells the time for
    token expiry (tests move it). `oidc_http` is the client for the OIDC provider (the caller
    closes it); without it the app makes its own. Raises `OidcError` when the OIDC settings are
    incomplete."""
    settings = settings or Settings()
    oidc_config = OidcConfig.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.settings = settings
        app.state.clock = clock
        app.state.sessions = session_factory(engine)
        app.state.temporal = TemporalConnection(settings)
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            app.state.oidc = None
            if oidc_config is not None:
                http = oidc_http
                if http is None:
                    http = await stack.enter_async_context(provider_http_client())
                app.state.oidc = OidcProvider(oidc_config, ProviderCache(), http)
            yield

    app = FastAPI(
        title="Stepwise",
        summary="Durable AI workflows defined in YAML, run on Temporal",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handling(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    for module in (health, auth, oidc, users, groups, api_keys, audit):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
