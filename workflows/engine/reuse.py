"""A rerun's reuse of an earlier run's api.llm results: a step whose rendered inputs are what
they were then gives the outputs it gave then, and no model is asked again.

A recorded result is used once: a step that runs again with the same inputs in the same place
(a retry of a human step sends it back) meets the next one recorded there, if any.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from workflows.engine.models import RecordedStep, Rerun


def canonical(value: Any) -> str:
    """A value's JSON with sorted keys: equal for equal values however their keys are ordered."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def same_place(recorded: RecordedStep, step_id: str, path: Sequence[Sequence[Any]]) -> bool:
    """Whether the record is of this step in these for_each/loop iterations."""
    return recorded.step_id == step_id and [tuple(level) for level in recorded.path] == [
        tuple(level) for level in path
    ]


class Reuse:
    """The results a rerun may still reuse; empty for any other run."""

    def __init__(self, rerun: Rerun | None) -> None:
        self.run_id = rerun.run_id if rerun is not None else None
        self._rerun = rerun
        self._left: list[tuple[RecordedStep, str]] = [
            (step, canonical(step.inputs)) for step in (rerun.steps if rerun is not None else [])
        ]

    def take(
        self, step_id: str, path: Sequence[Sequence[Any]], inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The recorded outputs of this step here with these inputs (then no longer offered),
        or None when the step must run."""
        if not self._left:
            return None
        wanted: str | None = None
        for index, (recorded, key) in enumerate(self._left):
            if not same_place(recorded, step_id, path):
                continue
            wanted = canonical(inputs) if wanted is None else wanted
            if key == wanted:
                del self._left[index]
                return dict(recorded.outputs)
        return None

    def remaining(self) -> Rerun | None:
        """What a continuation of the run may still reuse."""
        if self._rerun is None:
            return None
        return self._rerun.model_copy(update={"steps": [step for step, _ in self._left]})
