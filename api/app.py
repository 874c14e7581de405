"""The FastAPI application, built by a factory; the engine and clients are made in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.audit_writer import AuditWriter
from api.docs_page import install_docs_page
from api.errors import install_error_handling
from api.hardening import install_hardening
from api.metrics import install_metrics
from api.oidc_provider import OidcProvider, provider_http_client
from api.plan_cache import PlanCache
from api.principal_cache import PrincipalCache, VerifiedTokens
from api.problems import ProblemsError, problems_response
from api.progress_relay import open_relay
from api.retention import keep_deleting_expired_runs
from api.routers import (
    api_keys,
    audit,
    auth,
    codec,
    definitions,
    devices,
    groups,
    health,
    interactions,
    modules,
    oidc,
    privacy,
    progress,
    run_events,
    runs,
    schedules,
    two_factor,
    usage,
    users,
    webhooks,
)
from api.temporal import TemporalConnection, temporal_error
from api.web_assets import install_web_assets
from core.auth.oidc import OidcConfig, ProviderCache
from core.clock import Clock, utcnow
from core.codec import EncryptionCodec, configured_keys
from core.db.engine import create_engine, session_factory
from core.plugins import load_registry
from core.run_history import ClosedExecutions
from core.settings import Settings
from core.tracing import flush_traces, tracer
from workflows.modules import Registry

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    clock: Clock = utcnow,
    registry: Registry | None = None,
    oidc_http: httpx.AsyncClient | None = None,
    temporal: Client | None = None,
    alongside: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """A new app; reads settings from the environment and loads the module registry (built-in
    modules and installed plugins) at start-up unless given. `clock` tells the time for token
    expiry (tests move it). `oidc_http` is the client for the OIDC provider (the caller closes
    it); without it the app makes its own. Raises `OidcError` when the OIDC settings are
    incomplete. `temporal`: the Temporal client to use (the embedded stack's, which its workflow
    workers share, so runs start eagerly); `alongside(app)`: what runs for the app's lifetime
    once its state is set (`stepwise api --worker-queue`: workers on the app's client)."""
    settings = settings or Settings()
    oidc_config = OidcConfig.from_settings(settings)
    traced = tracer(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        principals = PrincipalCache(settings.auth_cache_s)
        # A session class of this app's own, so the cache hears of this app's commits only.
        session_class = type("ApiSession", (Session,), {})
        principals.watch(session_class)
        plans = PlanCache(settings.definitions_cache_s)
        plans.watch(session_class)
        app.state.settings = settings
        app.state.clock = clock
        app.state.sessions = session_factory(engine, session_class)
        app.state.principals = principals
        app.state.verified_tokens = VerifiedTokens()
        app.state.plans = plans
        app.state.closed_executions = ClosedExecutions(settings.events_cache_events)
        app.state.audit_writer = AuditWriter(app.state.sessions)
        keys = configured_keys(settings)
        app.state.codec = EncryptionCodec(keys) if keys is not None else None
        app.state.temporal = TemporalConnection(settings, temporal)
        app.state.registry = registry if registry is not None else _load_registry()
        async with contextlib.AsyncExitStack() as stack:
            if traced is not None:
                stack.callback(flush_traces)
            stack.push_async_callback(engine.dispose)
            app.state.audit_writer.start()
            app.state.progress = await open_relay(settings.database_url)
            stack.push_async_callback(app.state.progress.aclose)
            stack.push_async_callback(app.state.audit_writer.close)
            stack.push_async_callback(app.state.rate_limiter.close)
            app.state.oidc = None
            if oidc_config is not None:
                http = oidc_http
                if http is None:
                    http = await stack.enter_async_context(provider_http_client())
                app.state.oidc = OidcProvider(oidc_config, ProviderCache(), http)
            if settings.retention_days is not None:
                retention = asyncio.create_task(
                    keep_deleting_expired_runs(
                        app.state.temporal,
                        settings.retention_days,
                        settings.retention_check_s,
                        clock,
                        app.state.closed_executions,
                    )
                )
                stack.push_async_callback(_stop, retention)
            if alongside is not None:
                await stack.enter_async_context(alongside(app))
            yield

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
    app.add_exception_handler(ProblemsError, problems_response)
    app.add_exception_handler(RPCError, temporal_error)
    # Starlette tries routes in order and FastAPI's matching costs some microseconds a route:
    # the routes of runs and answers, the busiest, come first (no two routes share a path and
    # method, so the order changes no match).
    for module in (
        runs,
        interactions,
        run_events,
        health,
        auth,
        two_factor,
        devices,
        oidc,
        users,
        groups,
        api_keys,
        audit,
        modules,
        definitions,
        privacy,
        schedules,
        webhooks,
        usage,
        progress,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    # Where Temporal's codec protocol expects it: the UI and CLI add /decode and /encode.
    app.include_router(codec.router)
    # Outermost, so that a request's span and its duration cover every other layer.
    if traced is not None:
        from api.request_spans import install_request_spans  # OpenTelemetry's, only when tracing is on

        install_request_spans(app, traced)
    if settings.metrics_enabled:
        install_metrics(app)
    # The web UI answers only what no route above matched.
    install_web_assets(app, settings)
    return app


def _load_registry() -> Registry:
    loaded = load_registry()
    for error in loaded.errors:
        logger.warning("%s", error)
    return loaded.registry


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
