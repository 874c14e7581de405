"""OpenTelemetry tracing, on only when an OTLP endpoint is configured: Temporal's tracing
interceptor on every client (and so on the workers made from it) and spans for API requests,
exported over OTLP/HTTP in batches.

A tracer provider is made per endpoint, once per process, on first use (never at import); it is
not installed as OpenTelemetry's global provider, so nothing else in the process starts
exporting by accident. `flush_traces` sends what is still queued: call it before a process
ends (the CLI leaves with os._exit, which skips atexit hooks).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core.settings import Settings

# The SDK, the exporter and temporalio's interceptor are imported only once tracing is on:
# together they take about 0.3 s to import, which every `stepwise` command would pay.
if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer
    from temporalio.client import Interceptor

TRACER_NAME = "stepwise"
_providers: dict[str, TracerProvider] = {}
_lock = threading.Lock()


def traces_url(settings: Settings) -> str | None:
    """Where spans go (the endpoint's /v1/traces), or None when tracing is off."""
    if not settings.otlp_endpoint:
        return None
    return settings.otlp_endpoint.rstrip("/") + "/v1/traces"


def tracer(settings: Settings) -> Tracer | None:
    """The tracer of this process for the settings' endpoint; None when tracing is off."""
    url = traces_url(settings)
    if url is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    with _lock:
        provider = _providers.get(url)
        if provider is None:
            # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, override the default name.
            resource = Resource.create({SERVICE_NAME: "stepwise"})
            provider = TracerProvider(resource=resource, shutdown_on_exit=False)
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
            _providers[url] = provider
    return provider.get_tracer(TRACER_NAME)


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """The client interceptors tracing asks for: none when it is off."""
    traced = tracer(settings)
    if traced is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(traced)]


def flush_traces(timeout_s: float = 5.0) -> None:
    """Export every span still queued in this process."""
    with _lock:
        providers = list(_providers.values())
    for provider in providers:
        provider.force_flush(int(timeout_s * 1000))
