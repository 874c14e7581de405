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


class RerunCreate(BaseModel):
    """Rerun a run from one of its steps."""

    from_step: str = Field(
        min_length=1,
        max_length=200,
        description="The step to run anew, with every step after it in plan order; the earlier "
        "api.llm steps give the results the run recorded where their rendered inputs are unchanged",
    )


class RerunOf(BaseModel):
    run_id: str = Field(description="The run this one reruns")
    from_step: str = Field(description="The step it ran anew from")


class RerunStarted(RunStarted):
    """A rerun that started (the fields of a started run, and where it comes from)."""

    rerun_of: RerunOf
    reusable_steps: list[str] = Field(
        description="The api.llm steps whose recorded results it may reuse (each one that its "
        "rendered inputs still match), in the order the earlier run recorded them"
    )


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
    rerun_of: RerunOf | None = Field(default=None, description="Set on a rerun: the run it reruns")

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
            rerun_of=RerunOf.model_validate(summary.rerun_of) if _complete(summary.rerun_of) else None,
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


def _complete(rerun_of: dict[str, str] | None) -> bool:
    return rerun_of is not None and {"run_id", "from_step"} <= rerun_of.keys()


class RunPagePublic(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last")


class TerminateBody(BaseModel):
    reason: str = Field(default="terminated through the API", max_length=1000)


class RunControlled(BaseModel):
    id: str
    requested: Literal["cancel", "terminate"]
