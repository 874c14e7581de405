"""LLM usage: per run (in its detail), and totals per user, definition or model."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.db.models import LlmUsageRow
from core.llm_ledger import Spent


class UsageTotals(BaseModel):
    calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float

    @classmethod
    def of(cls, spent: Spent) -> UsageTotals:
        return cls(
            calls=spent.calls,
            input_tokens=spent.input_tokens,
            output_tokens=spent.output_tokens,
            total_tokens=spent.tokens,
            cost_usd=round(spent.cost_usd, 6),
        )


class LlmCallPublic(BaseModel):
    run_id: str = Field(description="The run, or the run a `call` step of it started")
    step_id: str
    path: list[Any] = Field(description="The enclosing for_each and loop iterations")
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    at: datetime

    @classmethod
    def of(cls, row: LlmUsageRow) -> LlmCallPublic:
        return cls(
            run_id=row.run_id,
            step_id=row.step_id,
            path=list(row.path or []),
            model=row.model,
            provider=row.provider,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cost_usd=row.cost_usd,
            at=row.created_at,
        )


class RunUsagePublic(UsageTotals):
    """What a run's LLM steps used, in all and call by call."""

    calls_made: list[LlmCallPublic]

    @classmethod
    def of_rows(cls, rows: list[LlmUsageRow]) -> RunUsagePublic:
        spent = Spent(
            len(rows),
            sum(r.input_tokens for r in rows),
            sum(r.output_tokens for r in rows),
            sum(r.cost_usd for r in rows),
        )
        return cls(**UsageTotals.of(spent).model_dump(), calls_made=[LlmCallPublic.of(r) for r in rows])


class UsageGroupPublic(UsageTotals):
    name: str | None = Field(description="The user, definition or model (null: runs without an owner)")


class UsagePagePublic(BaseModel):
    group: Literal["user", "definition", "model"]
    since: datetime
    until: datetime
    items: list[UsageGroupPublic]


class BudgetPublic(BaseModel):
    max_tokens: int | None
    max_cost_usd: float | None


class MyUsagePublic(BaseModel):
    """The caller's LLM usage this month (UTC) and their monthly budget (null: none)."""

    since: datetime
    spent: UsageTotals
    budget: BudgetPublic | None
