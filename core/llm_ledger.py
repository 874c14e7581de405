"""The LLM ledger in the app database: tokens and cost per call, summed per run, step, user,
definition and model; what a person has spent this month, for their budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import LlmUsageRow
from core.settings import LlmBudget, Settings

Group = Literal["user", "definition", "model"]
_COLUMNS = {"user": LlmUsageRow.owner, "definition": LlmUsageRow.definition, "model": LlmUsageRow.model}


@dataclass(frozen=True)
class Spent:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def call_cost(settings: Settings, model: str, provider: str, input_tokens: int, output_tokens: int) -> float:
    """The cost of one call by the settings' prices (`model@provider` first, then `model`)."""
    price = settings.llm_prices.get(f"{model}@{provider}") or settings.llm_prices.get(model)
    if price is None:
        return 0.0
    return (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1_000_000


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s calendar month, UTC."""
    now = now.astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def user_budget(settings: Settings, username: str) -> LlmBudget | None:
    return settings.llm_user_budgets.get(username) or settings.llm_user_monthly_budget


def over_budget(budget: LlmBudget, spent: Spent) -> str | None:
    """What of `budget` is used up, or None."""
    if budget.max_tokens is not None and spent.tokens >= budget.max_tokens:
        return f"{spent.tokens} tokens used of {budget.max_tokens} this month"
    if budget.max_cost_usd is not None and spent.cost_usd >= budget.max_cost_usd:
        return f"${spent.cost_usd:.4f} used of ${budget.max_cost_usd} this month"
    return None


async def add_usage(session: AsyncSession, row: LlmUsageRow) -> bool:
    """Store a call's usage once: False when its key is stored already (a retried recording)."""
    if await session.get(LlmUsageRow, row.key) is not None:
        return False
    session.add(row)
    return True


def _spent(row: tuple[int, int | None, int | None, float | None] | None) -> Spent:
    if row is None:
        return Spent()
    calls, tokens_in, tokens_out, cost = row
    return Spent(calls, int(tokens_in or 0), int(tokens_out or 0), float(cost or 0.0))


_SUMS = (
    func.count(LlmUsageRow.key),
    func.sum(LlmUsageRow.input_tokens),
    func.sum(LlmUsageRow.output_tokens),
    func.sum(LlmUsageRow.cost_usd),
)


async def spent_since(session: AsyncSession, owner: str, since: datetime) -> Spent:
    query = select(*_SUMS).where(LlmUsageRow.owner == owner, LlmUsageRow.created_at >= since)
    return _spent((await session.execute(query)).first())


async def run_usage(session: AsyncSession, run_id: str) -> list[LlmUsageRow]:
    """The run's calls in the order they were made (its called runs' ids start with its own)."""
    query = (
        select(LlmUsageRow)
        .where((LlmUsageRow.run_id == run_id) | LlmUsageRow.run_id.startswith(run_id + "."))
        .order_by(LlmUsageRow.created_at, LlmUsageRow.key)
    )
    return list((await session.scalars(query)).all())


async def usage_by(
    session: AsyncSession, group: Group, since: datetime, until: datetime, owner: str | None = None
) -> list[tuple[str | None, Spent]]:
    """Totals per user, definition or model between `since` and `until` (one owner's only
    when `owner` is given), the largest cost first."""
    column = _COLUMNS[group]
    query = (
        select(column, *_SUMS)
        .where(LlmUsageRow.created_at >= since, LlmUsageRow.created_at < until)
        .group_by(column)
    )
    if owner is not None:
        query = query.where(LlmUsageRow.owner == owner)
    rows = (await session.execute(query)).all()
    totals = [(name, _spent((calls, i, o, c))) for name, calls, i, o, c in rows]
    return sorted(totals, key=lambda item: (-item[1].cost_usd, -item[1].tokens, item[0] or ""))
