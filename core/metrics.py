"""Prometheus metrics of a Stepwise process: the Temporal SDK's own (and what workflows and
activities record through its meters), bridged into prometheus_client, beside the process's.

Temporal keeps one telemetry runtime per process, so the bridge is one per process too: made on
first use (never at import), drained every second by a daemon thread so that the SDK's buffer
never fills while nobody scrapes, and on every scrape.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import MetricsHandler
from prometheus_client.metrics_core import Metric
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

# What RunWorkflow's and the activities' interceptor record (workers/telemetry.py).
RUNS_STARTED = "stepwise_runs_started"
RUNS_ENDED = "stepwise_runs_ended"
RUNS_CONTINUED = "stepwise_runs_continued_as_new"
STEP_DURATION = "stepwise_step_duration_seconds"
HUMAN_WAIT = "stepwise_human_wait_seconds"

# Seconds. The SDK reports each histogram value on its own; the buckets are chosen here.
DEFAULT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LONG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 7 * 86400.0)
HUMAN_BUCKETS = (
    1.0,
    10.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    4 * 3600.0,
    86400.0,
    3 * 86400.0,
    7 * 86400.0,
    30 * 86400.0,
)
BUCKETS: Mapping[str, Sequence[float]] = {
    STEP_DURATION: LONG_BUCKETS,
    HUMAN_WAIT: HUMAN_BUCKETS,
    "temporal_workflow_endtoend_latency": LONG_BUCKETS,
    "temporal_activity_execution_latency": LONG_BUCKETS,
    "temporal_activity_succeed_endtoend_latency": LONG_BUCKETS,
    "temporal_long_request_latency": LONG_BUCKETS,
}
# Large enough for a busy worker between two drains a second apart.
BUFFER_SIZE = 200_000
DRAIN_EVERY_S = 1.0
logger = logging.getLogger(__name__)


@dataclass
class _Histogram:
    bounds: Sequence[float]
    counts: list[int]
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1


@dataclass
class _Family:
    name: str
    kind: str
    documentation: str
    series: dict[tuple[tuple[str, str], ...], Any] = field(default_factory=dict)


class TemporalMetrics:
    """A prometheus_client collector over a Temporal runtime's metric buffer. Counters keep
    their SDK name with `_total` added, durations are in seconds (what the SDK's own
    PrometheusConfig gives with counters_total_suffix and durations_as_seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}
        self._buffer: MetricBuffer | None = None
        self._runtime: Runtime | None = None

    def runtime(self) -> Runtime:
        """The Temporal runtime whose metrics this collects; made (with the drain thread) on first call."""
        with self._lock:
            if self._runtime is None:
                self._buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
                self._runtime = Runtime(
                    telemetry=TelemetryConfig(
                        # The SDK core's own warnings go through Python logging (and its format).
                        logging=LoggingConfig(
                            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                            forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
                        ),
                        metrics=self._buffer,
                        attach_service_name=False,
                    )
                )
                threading.Thread(target=self._keep_draining, name="temporal-metrics", daemon=True).start()
            return self._runtime

    def drain(self) -> None:
        """Fold the updates the SDK buffered since the last drain into the series."""
        buffer = self._buffer
        if buffer is None:
            return
        with self._lock:
            for update in buffer.retrieve_updates():
                metric = update.metric
                family = self._families.get(metric.name)
                if family is None:
                    family = self._families[metric.name] = _Family(
                        metric.name, _KINDS.get(metric.kind, "gauge"), metric.description or metric.name
                    )
                labels = tuple(sorted((k, _label(v)) for k, v in update.attributes.items()))
                value = update.value
                if family.kind == "counter":
                    family.series[labels] = family.series.get(labels, 0) + value
                elif family.kind == "histogram":
                    histogram = family.series.get(labels)
                    if histogram is None:
                        bounds = BUCKETS.get(metric.name, DEFAULT_BUCKETS)
                        histogram = family.series[labels] = _Histogram(bounds, [0] * (len(bounds) + 1))
                    histogram.observe(float(value))
                else:
                    family.series[labels] = value

    def describe(self) -> Iterable[Metric]:
        """Nothing: the names are the SDK's to choose, so the registry checks none of them."""
        return []

    def collect(self) -> Iterable[Metric]:
        self.drain()
        with self._lock:
            return [_exposed(family) for family in self._families.values()]

    def _keep_draining(self) -> None:
        stop = threading.Event()
        while not stop.wait(DRAIN_EVERY_S):
            try:
                self.drain()
            except Exception:
                # Keep draining: a full buffer would drop every later update.
                logger.exception("draining the Temporal SDK's metrics failed")


_KINDS = {BUFFERED_METRIC_KIND_COUNTER: "counter", BUFFERED_METRIC_KIND_HISTOGRAM: "histogram"}


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _exposed(family: _Family) -> Metric:
    metric = Metric(family.name, family.documentation, family.kind)
    for labels, value in family.series.items():
        names = dict(labels)
        if family.kind == "counter":
            metric.add_sample(family.name + "_total", names, value)
        elif family.kind == "histogram":
            cumulative = 0
            for bound, count in zip([*value.bounds, float("inf")], value.counts, strict=True):
                cumulative += count
                metric.add_sample(family.name + "_bucket", {**names, "le": _le(bound)}, cumulative)
            metric.add_sample(family.name + "_count", names, value.count)
            metric.add_sample(family.name + "_sum", names, value.total)
        else:
            metric.add_sample(family.name, names, value)
    return metric


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


_process: TemporalMetrics | None = None
_process_lock = threading.Lock()


def temporal_metrics() -> TemporalMetrics:
    """This process's bridge (its Temporal runtime is made only when a client asks for it)."""
    global _process
    with _process_lock:
        if _process is None:
            _process = TemporalMetrics()
        return _process


def process_registry() -> CollectorRegistry:
    """A new registry with the process's CPU, memory and GC figures and its Temporal metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(temporal_metrics())
    return registry


@dataclass
class MetricsServer:
    """A /metrics endpoint on its own port (a worker process has no API to put it on)."""

    address: str
    _stop: Any

    def close(self) -> None:
        self._stop()


def serve_metrics(
    address: str, registry: CollectorRegistry, health: Callable[[], dict[str, Any]] | None = None
) -> MetricsServer:
    """Serve `registry` at http://`address`/metrics from a daemon thread, and `health()` as
    JSON at /health when given."""
    host, _, port = address.rpartition(":")
    metrics = MetricsHandler.factory(registry)

    class Handler(metrics):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:
            if health is None or self.path.split("?", 1)[0] != "/health":
                super().do_GET()
                return
            body = json.dumps(health()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host.strip("[]"), int(port)), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="worker-metrics").start()
    bound = f"{host}:{server.server_port}"

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return MetricsServer(bound, stop)
