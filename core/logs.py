"""Logging of a Stepwise process: text for a terminal, or one JSON object a line
(STEPWISE_LOG_FORMAT=json) for a log pipeline, both carrying the run and step a record is about.

The run id (the Temporal workflow id) and the step id come from, in order: the record's own
`run_id`/`step_id` extras, what temporalio's workflow and activity loggers attach
(`temporal_workflow`, `temporal_activity`), and the log context an activity runs in
(`log_context`, set by the workers' interceptor), so a library's record inside an activity
carries them too. Named `logs`, not `logging`, so that it never shadows the standard module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from temporalio import activity, workflow
from uvicorn.config import LOGGING_CONFIG

from core.settings import Settings

_context: ContextVar[Mapping[str, str]] = ContextVar("stepwise_log_context", default=MappingProxyType({}))
# What every LogRecord has; anything else on a record is an extra worth showing.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_TEMPORAL = ("temporal_workflow", "temporal_activity")
# Fields of the Temporal extras kept in a JSON line (beside run_id), under these names.
_TEMPORAL_FIELDS = {
    "workflow_type": "workflow_type",
    "activity_type": "activity_type",
    "activity_id": "activity_id",
    "attempt": "attempt",
    "task_queue": "task_queue",
    "namespace": "namespace",
    "run_id": "temporal_run_id",
    "workflow_run_id": "temporal_run_id",
    "update_name": "update_name",
}
# uvicorn's access records carry their parts as the message's arguments.
_ACCESS_ARGS = ("client", "method", "path", "http_version", "status")
_HANDLER_NAME = "stepwise"


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Records logged inside the block (in this task and those it starts) carry `fields`."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def run_and_step(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """The run id and step id a record is about, where known."""
    context = _context.get()
    run_id = getattr(record, "run_id", None)
    for key in _TEMPORAL:
        details = getattr(record, key, None)
        if run_id is None and isinstance(details, Mapping):
            run_id = details.get("workflow_id")
    return run_id or context.get("run_id"), getattr(record, "step_id", None) or context.get("step_id")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, run_id and
    step_id where known, Temporal's details, the record's extras, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            line["message"] = f"{record.args[1]} {record.args[2]} {record.args[4]}"
            line.update(zip(_ACCESS_ARGS, record.args, strict=True))
        else:
            line["message"] = record.getMessage()
        run_id, step_id = run_and_step(record)
        if run_id is not None:
            line["run_id"] = run_id
        if step_id is not None:
            line["step_id"] = step_id
        for key in _TEMPORAL:
            details = getattr(record, key, None)
            if isinstance(details, Mapping):
                for name, value in details.items():
                    if name in _TEMPORAL_FIELDS:
                        line.setdefault(_TEMPORAL_FIELDS[name], value)
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in _TEMPORAL and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger: message`, then `[run=... step=...]` when the record is about one
    (temporalio's own loggers already append their details to the message)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if any(hasattr(record, key) for key in _TEMPORAL):
            return text
        run_id, step_id = run_and_step(record)
        parts = [f"run={run_id}"] if run_id else []
        parts += [f"step={step_id}"] if step_id else []
        return f"{text} [{' '.join(parts)}]" if parts else text


def configure_logging(settings: Settings) -> None:
    """Send this process's records to stderr in the settings' format and from their level; call
    once at start-up (again replaces the handler rather than adding one)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    json_lines = settings.log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # In JSON the run's details are fields; appended to the message too they would be said twice.
    workflow.logger.workflow_info_on_message = not json_lines
    activity.logger.activity_info_on_message = not json_lines


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own logging set-up for text; none for JSON, so its records (access log
    included) reach the root handler and its format."""
    return None if settings.log_format == "json" else LOGGING_CONFIG
