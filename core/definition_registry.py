"""The definitions registry: uploaded definitions, compiled and kept as numbered versions;
`call`s resolve against it (latest, or `name@N`) when a definition is uploaded and when a run
starts, where the called plans are pinned with the run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import DefinitionVersion
from core.db.repos.definitions import add_version, get_version, latest_version, version_numbers
from core.runs import Prepared
from core.schedules import plan_zone_problems
from workflows.compiler import CompileResult, DefinitionLookup, compile_text
from workflows.compiler.steps import parse_call
from workflows.modules import Registry
from workflows.plan import Plan
from workflows.problems import DefinitionError

DefinitionFormat = Literal["yaml", "json"]
# The loader tells the two apart by the file name.
_FILENAMES: dict[DefinitionFormat, str] = {"yaml": "definition.yaml", "json": "definition.json"}


class DefinitionRejected(DefinitionError):
    """Uploaded text that does not compile; nothing was stored."""


class DefinitionNotFound(LookupError):
    """No stored definition of that name (or version); the message names it."""


class BadReference(ValueError):
    """A definition reference that is not `name` or `name@version`."""


@dataclass(frozen=True)
class Uploaded:
    """The version an upload stands for, and whether the upload created it."""

    version: DefinitionVersion
    created: bool


def registry_lookup(known: dict[str, set[int]]) -> DefinitionLookup:
    """A compiler lookup over the registry's names and version numbers."""
    return lambda name, version: name in known and (version is None or version in known[name])


async def compile_source(
    session: AsyncSession, source: str, fmt: DefinitionFormat, registry: Registry
) -> CompileResult:
    """Compile definition text; its `call`s must name stored definitions (and versions)."""
    known = await version_numbers(session)
    result = compile_text(source, _FILENAMES[fmt], registry, registry_lookup(known))
    if result.plan is not None:
        zones = plan_zone_problems(result.plan.triggers)
        if zones:
            return CompileResult(None, zones)
    return result


async def upload(
    session: AsyncSession,
    source: str,
    fmt: DefinitionFormat,
    registry: Registry,
    author_id: str | None,
    now: datetime,
) -> Uploaded:
    """Store text as the next version of its definition; text that compiles to the plan of the
    latest version returns that version. DefinitionRejected when it does not compile."""
    result = await compile_source(session, source, fmt, registry)
    if result.plan is None:
        raise DefinitionRejected(result.problems)
    plan = result.plan
    digest = plan.content_hash()
    latest = await latest_version(session, plan.name)
    if latest is not None and latest.content_hash == digest:
        return Uploaded(latest, created=False)
    row = DefinitionVersion(
        name=plan.name,
        version=latest.version + 1 if latest is not None else 1,
        content_hash=digest,
        source=source,
        format=fmt,
        plan=plan.model_dump(mode="json"),
        description=plan.description,
        author_id=author_id,
        created_at=now,
    )
    return Uploaded(await add_version(session, row), created=True)


# Version numbers fit the database's 32-bit integer column (and no registry holds more).
MAX_VERSION = 2**31 - 1


def parse_reference(reference: str) -> tuple[str, int | None]:
    """`name` or `name@3` as (name, version); BadReference for anything else."""
    parsed = parse_call(reference)
    if parsed is None:
        raise BadReference(
            f"'{reference}' is not a definition reference: write name or name@version, e.g. summarize@3"
        )
    if parsed[1] is not None and not 1 <= parsed[1] <= MAX_VERSION:
        raise BadReference(f"'{reference}': a version is a number from 1 to {MAX_VERSION}")
    return parsed


async def find_version(session: AsyncSession, name: str, version: int | None = None) -> DefinitionVersion:
    """The stored version (the latest when `version` is None); DefinitionNotFound otherwise."""
    row = (
        await latest_version(session, name) if version is None else await get_version(session, name, version)
    )
    if row is None:
        pinned = f" version {version}" if version is not None else ""
        raise DefinitionNotFound(
            f"no definition '{name}'{pinned}: upload it with POST /api/v1/definitions first"
        )
    return row


def stored_plan(row: DefinitionVersion) -> Plan:
    """The compiled plan a version holds."""
    return Plan.model_validate(row.plan)


async def prepare_plan(session: AsyncSession, plan: Plan) -> Prepared:
    """A plan and the stored plans of everything it calls, resolved now (the latest version for
    an unpinned `call`) and pinned with the run."""

    async def find(name: str, version: int | None) -> Plan:
        return stored_plan(await find_version(session, name, version))

    return await resolve_calls(plan, find)


async def resolve_calls(plan: Plan, find: Callable[[str, int | None], Awaitable[Plan]]) -> Prepared:
    """`plan` with the plans of everything it calls, found by `find(name, version)` (version
    None: the latest), which raises DefinitionNotFound."""
    children: dict[str, Plan] = {}
    pending = list(plan.calls)
    while pending:
        key = pending.pop()
        parsed = parse_call(key)
        if key in children or parsed is None:
            continue
        child = await find(*parsed)
        children[key] = child
        pending.extend(child.calls)
    return Prepared(plan, children)
