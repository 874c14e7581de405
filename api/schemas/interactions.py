"""The inbox and interactions as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workflows.engine.human import InteractionSummary


class InboxItemPublic(InteractionSummary):
    run_id: str


class InboxPagePublic(BaseModel):
    items: list[InboxItemPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last")
