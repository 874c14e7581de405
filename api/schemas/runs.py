"""Runs as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.usage import RunUsagePublic
from core.run_views import RunDetail, RunState, RunSummary
from workflows.engine.models import RunStatus


class RunCreate(BaseModel):
    """Start a stored definition (`definition`) or one given inline (`source`)."""

    definition: str | None = Field(
        default=None, description="A stored definition: `name` (its latest version) or `name@3`"
    )
    source: str | None = Field(default=None, description="Or a definition's text, run without storing it")
    format: Literal["yaml", "json"] = Field(default="yaml", description="How `source` is written")
    input: Any = Field(
        default=None, description="The run input, checked against the definition's input schema"
    )

    @model_validator(mode="after")
    def _one_definition(self) -> RunCreate:
        if (self.definition is None) == (self.source is None):
            raise ValueError("give either definition (a stored name or name@version) or source, not both")
        return self


class RunStarted(BaseModel):
    id: str
    definition: str
    version: int | None = Field(description="The registry version pinned; null for an inline definition")
    plan_hash: str
    owner: str


class RunPublic(BaseModel):
    """A run as listings show it."""

    id: str
    definition: str | None
    state: RunState
    owner: str | None
    started_at: datetime | None
    closed_at: datetime | None
    awaiting: list[str] = Field(description="Who may answer its open interactions ('*': anyone)")
    version: int | None = Field(description="The registry version it runs (pinned at start)")
    plan_hash: str | None

    @classmethod
    def of(cls, summary: RunSummary) -> RunPublic:
        """The API's form of a listing's row."""
        return cls(
            id=summary.run_id,
            definition=summary.definition,
            state=summary.state,
            owner=summary.owner,
            started_at=summary.started_at,
            closed_at=summary.closed_at,
            awaiting=summary.awaiting,
            version=summary.version,
            plan_hash=summary.plan_hash,
        )


class RunDetailPublic(RunPublic):
    """A run in detail: progress while it runs, its output or error once it ended."""

    progress: RunStatus | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    llm_usage: RunUsagePublic | None = Field(default=None, description="What its LLM steps used")

    @classmethod
    def of_detail(cls, detail: RunDetail) -> RunDetailPublic:
        """The API's form of a run's detail."""
        return cls(
            **RunPublic.of(detail.summary).model_dump(),
            progress=detail.progress,
            output=detail.output,
            error=detail.error,
        )


class RunPagePublic(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last")


class TerminateBody(BaseModel):
    reason: str = Field(default="terminated through the API", max_length=1000)


class RunControlled(BaseModel):
    id: str
    requested: Literal["cancel", "terminate"]
