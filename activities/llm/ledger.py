"""The `stepwise.llm_usage` local activity: an api.llm call's cost by the settings' prices,
written to the ledger (when the worker has the app database); and people's monthly budgets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.clock import utcnow
from core.db.models import LlmUsageRow
from core.llm_ledger import add_usage, call_cost, month_start, over_budget, spent_since, user_budget
from core.settings import Settings
from workflows.engine.models import LLM_USAGE_ACTIVITY, LlmUsageRecord, LlmUsageRecorded


class LlmLedger:
    """Without `sessions` (a worker with no app database, `stepwise run --local`) costs are
    worked out but not stored, and monthly budgets are not checked."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession] | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock

    @activity.defn(name=LLM_USAGE_ACTIVITY)
    async def record(self, record: LlmUsageRecord) -> LlmUsageRecorded:
        cost = call_cost(
            self.settings, record.model, record.provider, record.input_tokens, record.output_tokens
        )
        if self.sessions is not None:
            async with self.sessions() as session:
                row = LlmUsageRow(
                    key=record.key,
                    run_id=record.run_id,
                    step_id=record.step_id,
                    path=[list(part) for part in record.path],
                    definition=record.definition,
                    owner=record.owner,
                    model=record.model,
                    provider=record.provider,
                    input_tokens=record.input_tokens,
                    output_tokens=record.output_tokens,
                    cost_usd=cost,
                    created_at=self.clock(),
                )
                if await add_usage(session, row):
                    await session.commit()
        return LlmUsageRecorded(cost_usd=cost)

    async def monthly_overrun(self, owner: str | None) -> str | None:
        """What of `owner`'s monthly budget is used up, or None (also without a budget)."""
        budget = user_budget(self.settings, owner) if owner else None
        if budget is None or self.sessions is None or owner is None:
            return None
        async with self.sessions() as session:
            spent = await spent_since(session, owner, month_start(self.clock()))
        return over_budget(budget, spent)
