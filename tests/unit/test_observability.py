"""The JSON and text log formats (run and step ids from every source, uvicorn's access records,
exceptions), and the bridge from the Temporal SDK's metric buffer into Prometheus series."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from temporalio import activity, workflow

from core.logs import JsonFormatter, TextFormatter, configure_logging, log_context
from core.metrics import HUMAN_BUCKETS, HUMAN_WAIT, TemporalMetrics
from core.settings import Settings


def _record(message: str = "hello %s", args: Any = ("world",), **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("stepwise.test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def _json(record: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_a_json_line_has_time_level_logger_message_and_extras() -> None:
    line = _json(_record(definition="digest"))
    assert line["message"] == "hello world"
    assert (line["level"], line["logger"], line["definition"]) == ("INFO", "stepwise.test", "digest")
    assert line["time"].endswith("+00:00")
    assert "run_id" not in line
    assert "step_id" not in line


def test_activity_records_carry_the_workflow_id_as_run_id_and_the_step_from_the_context() -> None:
    details = {
        "activity_id": "3",
        "activity_type": "module:api.fetch",
        "attempt": 2,
        "namespace": "default",
        "task_queue": "integrations",
        "workflow_id": "digest-k1",
        "workflow_run_id": "0193-temporal",
        "workflow_type": "stepwise.run",
    }
    with log_context(run_id="digest-k1", step_id="fetch"):
        from_sdk = _json(_record(temporal_activity=details))
        from_a_library = _json(_record())
    assert (from_sdk["run_id"], from_sdk["step_id"]) == ("digest-k1", "fetch")
    assert (from_sdk["activity_type"], from_sdk["attempt"], from_sdk["temporal_run_id"]) == (
        "module:api.fetch",
        2,
        "0193-temporal",
    )
    assert "temporal_activity" not in from_sdk
    assert (from_a_library["run_id"], from_a_library["step_id"]) == ("digest-k1", "fetch")
    # Outside the block the context is gone.
    assert "run_id" not in _json(_record())


def test_workflow_records_carry_their_workflow_id_and_an_explicit_step() -> None:
    details = {"workflow_id": "digest-k2", "run_id": "0194", "workflow_type": "stepwise.run", "attempt": 1}
    line = _json(_record(temporal_workflow=details, step_id="ask"))
    assert (line["run_id"], line["step_id"], line["temporal_run_id"]) == ("digest-k2", "ask", "0194")


def test_uvicorn_access_records_become_fields() -> None:
    record = _record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", "/api/v1/health", "1.1", 200))
    record.name = "uvicorn.access"
    line = _json(record)
    assert line["message"] == "GET /api/v1/health 200"
    assert (line["client"], line["method"], line["path"], line["status"]) == (
        "127.0.0.1:5000",
        "GET",
        "/api/v1/health",
        200,
    )


def test_exceptions_are_one_field() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = _json(record)
    assert line["exception"].startswith("Traceback")
    assert "ValueError: broken" in line["exception"]


def test_text_names_the_run_and_step_from_the_context() -> None:
    formatter = TextFormatter()
    with log_context(run_id="digest-k1", step_id="fetch"):
        assert formatter.format(_record()).endswith("stepwise.test: hello world [run=digest-k1 step=fetch]")
    assert formatter.format(_record()).endswith("stepwise.test: hello world")


def test_configure_logging_replaces_its_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    # Put back afterwards: the root logger's handlers and level, and temporalio's adapters.
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(workflow.logger, "workflow_info_on_message", True)
    monkeypatch.setattr(activity.logger, "activity_info_on_message", True)
    configure_logging(Settings(log_format="json", log_level="warning"))
    configure_logging(Settings(log_format="json", log_level="warning"))
    ours = [h for h in root.handlers if h.get_name() == "stepwise"]
    assert len(ours) == 1
    assert isinstance(ours[0].formatter, JsonFormatter)
    assert root.level == logging.WARNING
    # In JSON the SDK's details are fields only.
    assert not workflow.logger.workflow_info_on_message
    assert not activity.logger.activity_info_on_message


def test_bad_logging_and_metrics_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="log_format"):
        Settings(log_format="xml")
    with pytest.raises(ValidationError, match="host:port"):
        Settings(worker_metrics_address="9464")
    assert Settings(log_level="debug").log_level == "DEBUG"


def test_the_sdk_buffer_becomes_counters_histograms_and_gauges() -> None:
    bridge = TemporalMetrics()
    meter = bridge.runtime().metric_meter
    meter.create_counter("demo_runs").add(2, {"definition": "digest", "eager": True})
    meter.create_counter("demo_runs").add(1, {"definition": "digest", "eager": True})
    waits = meter.create_histogram_float(HUMAN_WAIT, unit="s")
    waits.record(30.0, {"module": "user.select"})
    waits.record(7200.0, {"module": "user.select"})
    meter.create_gauge("demo_slots").set(5, {"queue": "llm"})
    registry = CollectorRegistry()
    registry.register(bridge)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    (runs,) = families["demo_runs"].samples
    assert (runs.name, runs.labels, runs.value) == (
        "demo_runs_total",
        {"definition": "digest", "eager": "true"},
        3.0,
    )
    buckets = {s.labels["le"]: s.value for s in families[HUMAN_WAIT].samples if s.name.endswith("_bucket")}
    assert len(buckets) == len(HUMAN_BUCKETS) + 1
    assert (buckets["10.0"], buckets["60.0"], buckets["3600.0"], buckets["14400.0"], buckets["+Inf"]) == (
        0,
        1,
        1,
        2,
        2,
    )
    totals = {s.name: s.value for s in families[HUMAN_WAIT].samples if not s.name.endswith("_bucket")}
    assert totals == {f"{HUMAN_WAIT}_count": 2, f"{HUMAN_WAIT}_sum": 7230.0}
    (slots,) = families["demo_slots"].samples
    assert (slots.labels, slots.value) == ({"queue": "llm"}, 5.0)
