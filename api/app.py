"""The FastAPI application, built by a factory; clients are made in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from api.routers import health
from api.temporal import TemporalConnection
from core.settings import Settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; reads settings from the environment unless given."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.temporal = TemporalConnection(settings)
        yield

    app = FastAPI(
        title="Stepwise",
        summary="Durable AI workflows defined in YAML, run on Temporal",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.include_router(health.router, prefix=API_PREFIX)
    return app
