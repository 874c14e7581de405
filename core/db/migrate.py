"""Apply Alembic migrations programmatically: no alembic.ini, the scripts live in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from core.db.engine import create_engine, display_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision in the package."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (the newest by default)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(_config(sync), revision))
    finally:
        await engine.dispose()


async def current(url: str) -> str | None:
    """The revision the database at `url` is at (None: never migrated)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


class SchemaOutdated(RuntimeError):
    """The database is not at the newest revision; the message says how to migrate it."""


async def require_current_schema(url: str) -> None:
    """Raise `SchemaOutdated` unless the database at `url` is at the newest revision."""
    at = await current(url)
    if at != head():
        state = "has no schema yet" if at is None else f"is at revision {at}, not {head()}"
        raise SchemaOutdated(f"the database {display_url(url)} {state}; run `stepwise db upgrade` first")
