"""LLM usage from the ledger: totals per user, definition or model; the caller's month."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query

from api.deps import NowDep, RunsReader, SessionDep, SettingsDep
from api.problems import unprocessable
from api.responses import errors
from api.run_access import owner_filter
from api.schemas.usage import BudgetPublic, MyUsagePublic, UsageGroupPublic, UsagePagePublic, UsageTotals
from core.llm_ledger import month_start, spent_since, usage_by, user_budget

router = APIRouter(prefix="/usage", tags=["usage"])
_MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")


def _month(text: str | None, now: datetime) -> tuple[datetime, datetime]:
    if text is None:
        since = month_start(now)
    else:
        found = _MONTH.fullmatch(text)
        if found is None:
            raise unprocessable(f"month: '{text}' is not a month; write YYYY-MM, e.g. 2026-12")
        since = datetime(int(found["year"]), int(found["month"]), 1, tzinfo=UTC)
    until = (
        since.replace(year=since.year + 1, month=1)
        if since.month == 12
        else since.replace(month=since.month + 1)
    )
    return since, until


@router.get("", response_model=UsagePagePublic, responses=errors(403, 422))
async def usage(
    principal: RunsReader,
    session: SessionDep,
    now: NowDep,
    group: Literal["user", "definition", "model"] = Query("definition", description="What to sum by"),
    month: str | None = Query(None, description="YYYY-MM (UTC); default: this month"),
) -> UsagePagePublic:
    """Tokens and cost of LLM calls in a month, per user, definition or model: everyone's for
    operators and admins, the caller's own runs for members."""
    since, until = _month(month, now)
    totals = await usage_by(session, group, since, until, owner_filter(principal))
    items = [UsageGroupPublic(name=name, **UsageTotals.of(spent).model_dump()) for name, spent in totals]
    return UsagePagePublic(group=group, since=since, until=until, items=items)


@router.get("/me", response_model=MyUsagePublic, responses=errors(403))
async def my_usage(
    principal: RunsReader, session: SessionDep, settings: SettingsDep, now: NowDep
) -> MyUsagePublic:
    """What the caller's runs have spent on LLM calls this month, and their monthly budget."""
    since = month_start(now)
    spent = await spent_since(session, principal.username, since)
    budget = user_budget(settings, principal.username)
    shown = BudgetPublic(max_tokens=budget.max_tokens, max_cost_usd=budget.max_cost_usd) if budget else None
    return MyUsagePublic(since=since, spent=UsageTotals.of(spent), budget=shown)
