"""The run's journal: what its history shows of steps that leave no trace there of their own.

A module step that runs as an activity is in history already (its scheduled, started and closed
events name the step). A pure step, a branch's choice, a skipped step, a human step opening, a
wait or a call does its work inside the workflow, so RunWorkflow writes such changes into
history itself: batched into the memo key JOURNAL_MEMO, in one upsert just before the run
next blocks or ends (core.run_events reads them back out, in order, as run events).

Entries are small dicts: {"t": start|done|skip|fail, "step": id, "path": [[block, n], ...],
"module": name (or "kind": if, for_each, call, wait...), "outputs": {...}, "error": {"type",
"message"}, "reused": run id}. `reused` marks an api.llm step of a rerun that gave the
result the earlier run (that id) recorded, without asking a model. A module's outputs are
kept up to OUTPUTS_LIMIT characters of JSON; larger ones are left out (their size is kept).
"""

from __future__ import annotations

import json
from typing import Any

from workflows.interpreter import Path

# The memo key, and the patch that marks histories whose runs keep a journal.
JOURNAL_MEMO = "StepwiseJournal"
JOURNAL_PATCH = "journal"
# Past this many entries a batch is written at once instead of waiting for the run to block.
BATCH_ENTRIES = 100
OUTPUTS_LIMIT = 2_000
# Made once: json.dumps with these options builds an encoder at every call.
_SIZE = json.JSONEncoder(separators=(",", ":"), default=str)


class Journal:
    """Entries noted since the last write; `take` empties it."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def note(
        self,
        change: str,
        step: str,
        path: Path,
        kind: str,
        module: str | None = None,
        outputs: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
        reused: str | None = None,
    ) -> bool:
        """Note one change; True once the batch is full and should be written now."""
        entry: dict[str, Any] = {"t": change, "step": step}
        if path:
            entry["path"] = [list(level) for level in path]
        if module is not None:
            entry["module"] = module
        else:
            entry["kind"] = kind
        if outputs is not None:
            text = _SIZE.encode(outputs)
            if len(text) <= OUTPUTS_LIMIT:
                entry["outputs"] = outputs
            else:
                entry["outputs_omitted"] = len(text)
        if error is not None:
            entry["error"] = {"type": error[0], "message": error[1]}
        if reused is not None:
            entry["reused"] = reused
        self.entries.append(entry)
        return len(self.entries) >= BATCH_ENTRIES

    @property
    def pending(self) -> bool:
        return bool(self.entries)

    def take(self) -> list[dict[str, Any]]:
        entries, self.entries = self.entries, []
        return entries
