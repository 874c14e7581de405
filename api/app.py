"""The FastAPI application, built by a factory; clients are made in the lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from api.routers import health, modules
from api.temporal import TemporalConnection
from core.plugins import load_registry
from core.settings import Settings
from workflows.modules import Registry

API_PREFIX = "/api/v1"
logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """A new app; reads settings from the environment and loads the module registry (built-in
    modules and installed plugins) at start-up unless given."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.temporal = TemporalConnection(settings)
        app.state.registry = registry if registry is not None else _load_registry()
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
    app.include_router(modules.router, prefix=API_PREFIX)
    return app


def _load_registry() -> Registry:
    loaded = load_registry()
    for error in loaded.errors:
        logger.warning("%s", error)
    return loaded.registry
