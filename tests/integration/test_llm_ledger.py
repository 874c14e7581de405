"""The LLM ledger on SQLite and PostgreSQL: a call's cost by the settings' prices, stored once
however often its recording is retried; sums per run, user, definition and model; monthly
budgets read from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.llm.ledger import LlmLedger
from core.db.engine import opened_sessions
from core.llm_ledger import call_cost, month_start, run_usage, spent_since, usage_by
from core.settings import LlmBudget, LlmPrice, Settings
from workflows.engine.models import LlmUsageRecord

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    llm_prices={
        "gpt-4o-mini": LlmPrice(input_per_million=0.15, output_per_million=0.6),
        "big@vllm": LlmPrice(input_per_million=1.0, output_per_million=2.0),
    },
    llm_user_monthly_budget=LlmBudget(max_tokens=1_000),
    llm_user_budgets={"ana": LlmBudget(max_cost_usd=0.01)},
)


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with opened_sessions(db_url) as made:
        yield made


def call(
    n: int,
    run: str = "r-1",
    owner: str | None = "ana",
    model: str = "gpt-4o-mini",
    definition: str = "scenes",
    input_tokens: int = 1_000,
    output_tokens: int = 500,
) -> LlmUsageRecord:
    return LlmUsageRecord(
        key=f"{run}/llm/{n}",
        run_id=run,
        step_id=f"s{n}",
        path=[("each", n)],
        definition=definition,
        owner=owner,
        model=model,
        provider="openai" if model != "big" else "vllm",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def test_a_call_costs_what_its_prices_say() -> None:
    assert call_cost(SETTINGS, "gpt-4o-mini", "openai", 1_000_000, 1_000_000) == 0.75
    assert call_cost(SETTINGS, "big", "vllm", 1_000, 500) == 0.002
    assert call_cost(SETTINGS, "big", "ollama", 1_000, 500) == 0.0  # priced only at vllm
    assert call_cost(SETTINGS, "qwen2.5:7b", "ollama", 10**9, 10**9) == 0.0
    assert month_start(NOW) == datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_retried_recording_stores_the_call_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    ledger = LlmLedger(SETTINGS, sessions, clock=lambda: NOW)
    first = await ledger.record(call(1))
    again = await ledger.record(call(1))
    await ledger.record(call(2, input_tokens=2_000, output_tokens=0))
    assert first.cost_usd == again.cost_usd == (1_000 * 0.15 + 500 * 0.6) / 1e6
    async with sessions() as session:
        rows = await run_usage(session, "r-1")
        spent = await spent_since(session, "ana", month_start(NOW))
    assert [(r.step_id, r.path, r.input_tokens, r.output_tokens) for r in rows] == [
        ("s1", [["each", 1]], 1_000, 500),
        ("s2", [["each", 2]], 2_000, 0),
    ]
    assert (spent.calls, spent.input_tokens, spent.output_tokens) == (2, 3_000, 500)


async def test_usage_sums_by_user_definition_and_model(sessions: async_sessionmaker[AsyncSession]) -> None:
    ticks = iter(range(100))
    ledger = LlmLedger(SETTINGS, sessions, clock=lambda: NOW.replace(minute=next(ticks)))
    await ledger.record(call(1, run="a", owner="ana"))
    await ledger.record(call(2, run="a", owner="ana", model="big"))
    await ledger.record(call(1, run="b", owner="bo", definition="other"))
    await ledger.record(call(1, run="a.child.1", owner="ana"))
    await LlmLedger(SETTINGS, sessions, clock=lambda: datetime(2026, 11, 30, tzinfo=UTC)).record(
        call(1, run="old", owner="ana")
    )
    since, until = month_start(NOW), datetime(2027, 1, 1, tzinfo=UTC)
    async with sessions() as session:
        by_user = await usage_by(session, "user", since, until)
        by_model = await usage_by(session, "model", since, until, owner="ana")
        by_definition = await usage_by(session, "definition", since, until)
        of_run = await run_usage(session, "a")
    assert [(name, s.calls) for name, s in by_user] == [("ana", 3), ("bo", 1)]
    assert [(name, s.calls, round(s.cost_usd, 6)) for name, s in by_model] == [
        ("big", 1, 0.002),
        ("gpt-4o-mini", 2, 0.0009),
    ]
    assert [(name, s.calls) for name, s in by_definition] == [("scenes", 3), ("other", 1)]
    # A run's usage includes the runs its call steps started.
    assert [r.run_id for r in of_run] == ["a", "a", "a.child.1"]


async def test_monthly_budgets_come_from_the_ledger(sessions: async_sessionmaker[AsyncSession]) -> None:
    ledger = LlmLedger(SETTINGS, sessions, clock=lambda: NOW)
    assert await ledger.monthly_overrun("ana") is None
    assert await ledger.monthly_overrun("cy") is None
    assert await ledger.monthly_overrun(None) is None
    for n in range(1, 3):  # 2 x 1,500 tokens: cy's 1,000-token default budget is spent
        await ledger.record(call(n, run="c", owner="cy", model="qwen"))
    assert await ledger.monthly_overrun("cy") == "3000 tokens used of 1000 this month"
    for n in range(1, 12):  # 11 x $0.00045 and 16,500 tokens: ana's own budget counts dollars only
        await ledger.record(call(n, run="d", owner="ana"))
    assert await ledger.monthly_overrun("ana") is None
    await ledger.record(call(12, run="d", owner="ana", input_tokens=0, output_tokens=10_000))
    assert await ledger.monthly_overrun("ana") == "$0.0109 used of $0.01 this month"
    # Without the app database nothing is stored or checked, but the cost is still worked out.
    bare = LlmLedger(SETTINGS, None, clock=lambda: NOW)
    assert (await bare.record(call(99, run="e", owner="cy"))).cost_usd > 0
    assert await bare.monthly_overrun("cy") is None
