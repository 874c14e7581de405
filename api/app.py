"""The FastAPI application, built by a factory; the engine and clients are made in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from api.docs_page import install_docs_page
from api.errors import install_error_handling
from api.hardening import install_hardening
from api.routers import api_keys, audit, auth, groups, health, users
from api.temporal import TemporalConnection
from core.clock import Clock, utcnow
from core.db.engine import create_engine, session_factory
from core.settings import Settings

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"


def create_app(settings: Settings | None = None, clock: Clock = utcnow) -> FastAPI:
    """A new app; reads settings from the environment unless given. `clock` tells the time for
    token expiry (tests move it)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.settings = settings
        app.state.clock = clock
        app.state.sessions = session_factory(engine)
        app.state.temporal = TemporalConnection(settings)
        try:
            yield
        finally:
            await app.state.rate_limiter.close()
            await engine.dispose()

    app = FastAPI(
        title="Stepwise",
        summary="Durable AI workflows defined in YAML, run on Temporal",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    install_docs_page(app, DOCS_URL, OPENAPI_URL)
    install_hardening(app, settings, clock, API_PREFIX)
    install_error_handling(app)
    for module in (health, auth, users, groups, api_keys, audit):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
