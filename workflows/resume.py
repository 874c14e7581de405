"""Where a run stands when it continues as new: enough to carry on exactly there.

A run continues as new only at safe points, where one chain of blocks is active (no parallel
branches or for_each iterations in flight): between the nodes of the top-level body, and
between the iterations of a loop.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Checkpoint(BaseModel):
    """What a step and everything after it may change, as it was just before the step ran:
    a retry or jump back to the step puts it back. Keys and ids absent then are absent here."""

    state: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, Any] = Field(default_factory=dict)


class ResumeLevel(BaseModel):
    """One body on the chain from the plan's root down to the safe point."""

    # Nodes of this body already decided: id -> [taken, branch].
    decided: dict[str, tuple[bool, str | None]] = Field(default_factory=dict)
    # The block of this body the chain goes through (None at a top-level safe point).
    current: str | None = None
    # For a loop: the iteration to run (resumed inside it when a deeper level follows).
    iteration: int | None = None
    # For if/switch: the body it chose ("then", "otherwise", a case name, or "" for default).
    chosen: str | None = None
    # Checkpoints of this body's steps that a retry or jump back may return to.
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict)


class Resume(BaseModel):
    state: dict[str, Any]
    steps: dict[str, Any]
    names: dict[str, Any] = Field(default_factory=dict)
    levels: list[ResumeLevel]
    progress: dict[str, str] = Field(default_factory=dict)
