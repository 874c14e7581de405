"""The FastAPI application, built by a factory; the engine and clients are made in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import install_error_handling
from api.retention import keep_deleting_expired_runs
from api.routers import api_keys, audit, auth, groups, health, modules, privacy, users
from api.temporal import TemporalConnection
from core.clock import Clock, utcnow
from core.db.engine import create_engine, session_factory
from core.plugins import load_registry
from core.settings import Settings
from workflows.modules import Registry

API_PREFIX = "/api/v1"
logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, clock: Clock = utcnow, registry: Registry | None = None
) -> FastAPI:
    """A new app; reads settings from the environment and loads the module registry (built-in
    modules and installed plugins) at start-up unless given. `clock` tells the time for token
    expiry (tests move it)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.settings = settings
        app.state.clock = clock
        app.state.sessions = session_factory(engine)
        app.state.temporal = TemporalConnection(settings)
        app.state.registry = registry if registry is not None else _load_registry()
        retention = (
            asyncio.create_task(
                keep_deleting_expired_runs(
                    app.state.temporal, settings.retention_days, settings.retention_check_s, clock
                )
            )
            if settings.retention_days is not None
            else None
        )
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
                await asyncio.gather(retention, return_exceptions=True)
            await engine.dispose()

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
    for module in (health, auth, users, groups, api_keys, audit, modules, privacy):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def _load_registry() -> Registry:
    loaded = load_registry()
    for error in loaded.errors:
        logger.warning("%s", error)
    return loaded.registry
