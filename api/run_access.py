"""Who may see which run: operators and admins every run, a member their own (anything else
answers 404, like a run that does not exist)."""

from __future__ import annotations

from temporalio.client import Client

from api.problems import not_found
from core.auth.principal import Principal
from core.run_views import RunNotFound, RunSummary, run_summary
from workflows.engine.human import Responder


def responder_of(principal: Principal) -> Responder:
    """The identity a run sees: the username and the user's groups."""
    return Responder(user=principal.username, groups=principal.groups)


def owner_filter(principal: Principal) -> str | None:
    """The owner a listing is limited to (None: everyone's runs)."""
    return None if principal.sees_all else principal.username


def owns(principal: Principal, summary: RunSummary) -> bool:
    """Whether the caller sees the run as a whole: an operator, an admin, or its owner."""
    return principal.sees_all or summary.owner == principal.username


async def found_run(client: Client, run_id: str) -> RunSummary:
    """A Stepwise run's row; 404 when there is none."""
    try:
        return await run_summary(client, run_id)
    except RunNotFound:
        raise not_found("run", run_id) from None


async def owned_run(client: Client, run_id: str, principal: Principal) -> RunSummary:
    """A run the caller sees as a whole; 404 for any other."""
    summary = await found_run(client, run_id)
    if not owns(principal, summary):
        raise not_found("run", run_id)
    return summary
