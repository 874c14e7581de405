"""Groups (interaction assignees are users or groups)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.errors import AlreadyExists, UnknownName
from core.db.models import Group


async def list_groups(session: AsyncSession) -> list[Group]:
    """Every group, by name."""
    return list((await session.scalars(select(Group).order_by(Group.name))).all())


async def create_group(session: AsyncSession, name: str) -> Group:
    """A new group; `AlreadyExists` when the name is taken."""
    if await session.scalar(select(Group).where(Group.name == name)) is not None:
        raise AlreadyExists(f"a group named {name!r} already exists")
    group = Group(name=name)
    session.add(group)
    await session.flush()
    return group


async def groups_named(session: AsyncSession, names: Iterable[str], create: bool = False) -> list[Group]:
    """The groups with these names; missing ones are created when `create`, else `UnknownName`."""
    wanted = sorted(set(names))
    if not wanted:
        return []
    found = {g.name: g for g in (await session.scalars(select(Group).where(Group.name.in_(wanted)))).all()}
    missing = [name for name in wanted if name not in found]
    if missing and not create:
        raise UnknownName(f"no group named {', '.join(map(repr, missing))}; create it first")
    for name in missing:
        found[name] = Group(name=name)
        session.add(found[name])
    await session.flush()
    return [found[name] for name in wanted]
