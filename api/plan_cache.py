"""Stored plans, kept in the API process so that starting a run by name reads no database.

A stored version never changes, so a plan is kept (the most recently used `size` of them) for
as long as the process lives. Which version is the latest of a name does change: that is kept
`ttl_s` seconds, and forgotten at once when this process commits a new version; a version
uploaded through another API replica is the latest here within `ttl_s`. `name@N` is always
exact."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.commit_watch import after_commits_that_change
from core.db.models import DefinitionVersion
from core.definition_registry import find_version, resolve_calls, stored_plan
from core.runs import Prepared
from workflows.plan import Plan


@dataclass(frozen=True)
class StoredPlan:
    """A stored version's plan, and its content hash (worked out once, when it was kept)."""

    plan: Plan
    version: int
    plan_hash: str


class PlanCache:
    """Plans by (name, version), and the latest version number of each name."""

    def __init__(
        self, ttl_s: float, size: int = 256, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._size = size
        self._monotonic = monotonic
        self._plans: OrderedDict[tuple[str, int], StoredPlan] = OrderedDict()
        self._latest: dict[str, tuple[int, float]] = {}

    async def find(self, session: AsyncSession, name: str, version: int | None = None) -> StoredPlan:
        """The plan of `name` at `version` (None: the latest); DefinitionNotFound when there is
        no such definition or version."""
        if version is None:
            version = self._latest_number(name)
        if version is not None and (kept := self._plans.get((name, version))) is not None:
            self._plans.move_to_end((name, version))
            return kept
        asked_latest = version is None
        row = await find_version(session, name, version)
        plan = stored_plan(row)
        found = StoredPlan(plan, row.version, plan.content_hash())
        self._keep(found)
        if asked_latest and self.ttl_s > 0:
            self._latest[name] = (row.version, self._monotonic())
        return found

    async def prepare(self, session: AsyncSession, plan: Plan, plan_hash: str | None = None) -> Prepared:
        """`plan` and the plans of what it calls (core.definition_registry.prepare_plan);
        `plan_hash`, when known, saves working it out again."""

        async def find(name: str, version: int | None) -> Plan:
            return (await self.find(session, name, version)).plan

        prepared = await resolve_calls(plan, find)
        prepared.plan_hash = plan_hash
        return prepared

    def forget_latest(self) -> None:
        self._latest.clear()

    def forget(self, name: str) -> None:
        """Drop every plan of a definition (it was deleted)."""
        self._latest.pop(name, None)
        for key in [key for key in self._plans if key[0] == name]:
            del self._plans[key]

    def watch(self, session_class: type[Session]) -> None:
        """Forget the latest versions after every commit of `session_class` that added one."""
        after_commits_that_change(session_class, self.forget_latest, _adds_a_version)

    def _latest_number(self, name: str) -> int | None:
        entry = self._latest.get(name)
        if entry is None:
            return None
        number, stored_at = entry
        if self._monotonic() - stored_at >= self.ttl_s:
            del self._latest[name]
            return None
        return number

    def _keep(self, found: StoredPlan) -> None:
        key = (found.plan.name, found.version)
        self._plans[key] = found
        self._plans.move_to_end(key)
        while len(self._plans) > self._size:
            self._plans.popitem(last=False)


def _adds_a_version(session: Session) -> bool:
    return any(isinstance(obj, DefinitionVersion) for obj in session.new)
