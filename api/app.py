"""The FastAPI application, built by a factory; the engine and clients are made in the lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from temporalio.service import RPCError

from api.errors import install_error_handling
from api.problems import ProblemsError, problems_response
from api.routers import api_keys, audit, auth, definitions, groups, health, interactions, runs, users
from api.temporal import TemporalConnection, temporal_error
from core.clock import Clock, utcnow
from core.db.engine import create_engine, session_factory
from core.plugins import load_registry
from core.settings import Settings
from workflows.modules import Registry

API_PREFIX = "/api/v1"
logger = logging.getLogger("stepwise.api")


def _plugin_registry() -> Registry:
    loaded = load_registry()
    for error in loaded.errors:  # a broken plugin must not stop the API; its modules are missing
        logger.warning("%s", error)
    return loaded.registry


def create_app(
    settings: Settings | None = None, clock: Clock = utcnow, registry: Registry | None = None
) -> FastAPI:
    """A new app; reads settings from the environment unless given. `clock` tells the time for
    token expiry (tests move it); `registry` holds the modules definitions may use (default: the
    built-in ones and those of installed plugins)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.settings = settings
        app.state.clock = clock
        app.state.sessions = session_factory(engine)
        app.state.temporal = TemporalConnection(settings)
        app.state.registry = registry or _plugin_registry()
        try:
            yield
        finally:
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
    app.add_exception_handler(ProblemsError, problems_response)
    app.add_exception_handler(RPCError, temporal_error)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    for module in (health, auth, users, groups, api_keys, audit, definitions, runs, interactions):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
