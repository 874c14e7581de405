"""Definition versions: the newest of each name, one version, all versions of a name."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import DefinitionVersion


async def latest_version(session: AsyncSession, name: str) -> DefinitionVersion | None:
    """The newest version of `name`, or None when there is none."""
    query = (
        select(DefinitionVersion)
        .where(DefinitionVersion.name == name)
        .order_by(DefinitionVersion.version.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def get_version(session: AsyncSession, name: str, version: int) -> DefinitionVersion | None:
    """Version `version` of `name`, or None."""
    query = select(DefinitionVersion).where(
        DefinitionVersion.name == name, DefinitionVersion.version == version
    )
    return await session.scalar(query)


async def versions_of(session: AsyncSession, name: str) -> list[DefinitionVersion]:
    """Every version of `name`, newest first."""
    query = (
        select(DefinitionVersion)
        .where(DefinitionVersion.name == name)
        .order_by(DefinitionVersion.version.desc())
    )
    return list((await session.scalars(query)).all())


async def latest_of_each(session: AsyncSession) -> list[DefinitionVersion]:
    """The newest version of every definition, by name."""
    newest = (
        select(DefinitionVersion.name, func.max(DefinitionVersion.version).label("version"))
        .group_by(DefinitionVersion.name)
        .subquery()
    )
    query = (
        select(DefinitionVersion)
        .join(
            newest,
            (DefinitionVersion.name == newest.c.name) & (DefinitionVersion.version == newest.c.version),
        )
        .order_by(DefinitionVersion.name)
    )
    return list((await session.scalars(query)).all())


async def version_numbers(session: AsyncSession) -> dict[str, set[int]]:
    """The version numbers each name has (what a `call` may refer to)."""
    rows = await session.execute(select(DefinitionVersion.name, DefinitionVersion.version))
    known: dict[str, set[int]] = {}
    for name, version in rows:
        known.setdefault(name, set()).add(version)
    return known


async def add_version(session: AsyncSession, version: DefinitionVersion) -> DefinitionVersion:
    """Store a new version (the caller numbered it; the unique (name, version) catches a race)."""
    session.add(version)
    await session.flush()
    return version
