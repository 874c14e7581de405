"""What `stepwise watch` shows of a run's events: one line each, and how far the run is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DETAIL_CHARS = 80


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _where(event: dict[str, Any]) -> str:
    step = event.get("step") or ""
    for block, n in event.get("path") or []:
        step += f" [{block} {n}]"
    if event.get("module"):
        step += f" ({event['module']})"
    return step


def _detail(event: dict[str, Any]) -> str:
    data: dict[str, Any] = event.get("data") or {}
    kind = event["type"]
    if kind == "workflow_start":
        return f"{data.get('definition')} by {data.get('owner') or 'nobody'}"
    if kind == "module_output":
        return _short(data.get("outputs"))
    if kind in ("error", "retry"):
        error = data.get("last_error", data) if kind == "retry" else data
        attempt = f"attempt {data['attempt']} after: " if kind == "retry" else ""
        return f"{attempt}{error.get('type', 'Error')}: {error.get('message', '')}"
    if kind == "interaction_request":
        interaction = data.get("interaction") or {}
        who = ", ".join(interaction.get("assignees") or []) or "anyone"
        return f"{interaction.get('id')}: {interaction.get('prompt') or ''} (for {who})"
    if kind == "interaction_response":
        return f"{data.get('interaction')} answered by {data.get('by')}"
    if kind == "timer_started":
        return f"{data.get('seconds')} s"
    if kind == "workflow_complete":
        status = data.get("status")
        if status == "failed":
            return f"failed: {(data.get('error') or {}).get('message')}"
        return str(status) + (f": {_short(data['output'])}" if data.get("output") is not None else "")
    if kind == "step_complete" and data.get("skipped"):
        return "skipped"
    if kind == "step_complete" and data.get("reused"):
        return f"reused from {data.get('reused_from')}"
    return ""


def describe(event: dict[str, Any]) -> str:
    """One line for a run event: time, type, where, and what matters of it."""
    at = str(event.get("at", ""))[11:19]
    run = event.get("run", "")
    parts = [at, f"{event['type']:<20}", _where(event), _detail(event)]
    line = "  ".join(p for p in parts if p)
    return line if "." not in run else f"{line}  <{run}>"


@dataclass
class Progress:
    """Steps finished (done or skipped) of the run itself, out of its plan's steps."""

    run_id: str
    total: int | None = None
    finished: set[str] = field(default_factory=set)
    status: str | None = None
    waiting_for: set[str] = field(default_factory=set)

    def see(self, event: dict[str, Any]) -> None:
        if event.get("run") != self.run_id:
            return
        kind, data = event["type"], event.get("data") or {}
        if kind == "workflow_start":
            self.total = data.get("steps")
        elif kind == "step_complete" and event.get("step"):
            self.finished.add(event["step"])
        elif kind == "interaction_request":
            self.waiting_for.add(str((data.get("interaction") or {}).get("id")))
        elif kind == "interaction_response" and data.get("decided", True):
            self.waiting_for.discard(str(data.get("interaction")))
        elif kind == "workflow_complete":
            self.status = data.get("status")

    def bar(self, width: int = 24) -> str:
        """`[#########...............] 38% 5/13 steps`, and what it waits for."""
        done = len(self.finished)
        if not self.total:
            return f"{done} steps done"
        share = min(done / self.total, 1.0)
        filled = round(share * width)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {round(100 * share):>3}% {done}/{self.total} steps"
        if self.waiting_for and self.status is None:
            line += f" · waiting for {', '.join(sorted(self.waiting_for))}"
        return line
